// `cagebench sandbox run` and `cagebench sandbox cleanup`: start one sandbox, run one
// command in it with output streamed, remove it. The CLI is a thin layer over these.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  connectEngine,
  createDockerProvider,
  DEFAULT_SANDBOX_IMAGE,
  sweep,
  type ImageSource,
  type NetworkMode,
  type SandboxLimits,
  type SweepReport,
} from '../../sandboxes/index.ts';
import { ConfigError } from '../errors.ts';

export interface SandboxRunOptions {
  readonly command: readonly string[];
  /** Labels the sandbox (cagebench.run). @default a new id */
  readonly runId?: string;
  /** @default cagebench/sandbox:bookworm */
  readonly image?: string;
  /** Build from this Dockerfile context directory instead of using an image. */
  readonly dockerfile?: string;
  /** @default 'none' */
  readonly network?: NetworkMode;
  /** Host TCP port for `model-only`. */
  readonly endpointPort?: number;
  readonly limits?: SandboxLimits;
  readonly env?: Readonly<Record<string, string>>;
  readonly workdir?: string;
  readonly user?: string;
  readonly timeoutMs?: number;
  readonly stdin?: Readable;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface SandboxRunResult {
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly runId: string;
}

export async function sandboxRun(options: SandboxRunOptions): Promise<SandboxRunResult> {
  if (options.command.length === 0) throw new ConfigError('sandbox run: give the command to run after "--", e.g. cagebench sandbox run -- uname -a');
  if (options.image && options.dockerfile) throw new ConfigError('sandbox run: use either --image or --dockerfile, not both');
  if (options.network === 'model-only' && options.endpointPort === undefined) {
    throw new ConfigError('sandbox run: --network model-only needs --endpoint PORT (the host TCP port the sandbox may reach)');
  }
  const source: ImageSource = options.dockerfile ? { dockerfile: options.dockerfile } : { image: options.image ?? DEFAULT_SANDBOX_IMAGE };
  const runId = options.runId ?? `sandbox-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  await using provider = await createDockerProvider();
  await using sandbox = await provider.start({
    source,
    runId,
    sampleId: 'cli',
    network: options.network ?? 'none',
    endpointPort: options.endpointPort,
    limits: options.limits,
    env: options.env,
    workdir: options.workdir,
  }, {
    onBuildLog: (line) => options.stderr.write(`build | ${line}\n`),
  });
  const result = await sandbox.exec(options.command, {
    user: options.user,
    stdin: options.stdin,
    timeoutMs: options.timeoutMs,
    maxOutputBytes: 1024 * 1024,
    onOutput: (chunk, stream) => (stream === 'stdout' ? options.stdout : options.stderr).write(chunk),
  });
  if (result.timedOut) options.stderr.write(`cagebench: the command was killed after ${options.timeoutMs} ms\n`);
  return { exitCode: result.exitCode, timedOut: result.timedOut, runId };
}

export async function sandboxCleanup(options: { runId?: string } = {}): Promise<SweepReport> {
  const engine = await connectEngine();
  return sweep(engine, options);
}
