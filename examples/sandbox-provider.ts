// The SandboxProvider interface, as a skeleton: a provider that delegates to the Docker one and
// logs every command with its duration. A provider for another backend (a VM, a remote
// service) implements the same members: start(spec) gives a started Sandbox, which can exec,
// move files and stop; a non-zero exit is an ExecResult, and a command that could not run at
// all throws. It declares its capabilities; run({ ... }, { provider }) takes any provider, and
// this example drives one by hand.
//
//   npx tsx --tsconfig examples/tsconfig.json examples/sandbox-provider.ts
//
// Needs a Docker engine and the image cagebench/sandbox:bookworm (scripts/setup.sh builds it).
import { randomBytes } from 'node:crypto';
import {
  createDockerProvider,
  installExitHandlers,
  type ExecOptions,
  type ExecResult,
  type Platform,
  type Sandbox,
  type SandboxProvider,
  type SandboxSpec,
  type StartOptions,
} from 'cagebench';

installExitHandlers();

class LoggingProvider implements SandboxProvider {
  readonly name = 'logging-docker';
  constructor(
    private readonly inner: SandboxProvider,
    private readonly log: (line: string) => void,
  ) {}

  /** What this backend can do (networks, bind mounts, limits...): tasks needing more are refused before a run. */
  get capabilities(): SandboxProvider['capabilities'] {
    return this.inner.capabilities;
  }
  /** Where sandboxes run, for messages. */
  get location(): string {
    return this.inner.location;
  }

  async start(spec: SandboxSpec, options?: StartOptions): Promise<Sandbox> {
    const sandbox = await this.inner.start(spec, options);
    this.log(`started ${sandbox.id.slice(0, 12)} for run ${spec.runId} from ${sandbox.image} (network ${spec.network ?? 'none'})`);
    return new LoggingSandbox(sandbox, this.log);
  }

  /** Shared resources (Docker's relays and networks); idempotent. */
  close(): Promise<void> {
    return this.inner.close();
  }
}

class LoggingSandbox implements Sandbox {
  constructor(
    private readonly inner: Sandbox,
    private readonly log: (line: string) => void,
  ) {}

  get id(): string {
    return this.inner.id;
  }
  get spec(): SandboxSpec {
    return this.inner.spec;
  }
  get image(): string {
    return this.inner.image;
  }
  get endpoint(): Sandbox['endpoint'] {
    return this.inner.endpoint;
  }

  async exec(cmd: string | readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const result = await this.inner.exec(cmd, options);
    this.log(`exec ${JSON.stringify(cmd)} → exit ${result.exitCode} in ${result.durationMs} ms`);
    return result;
  }
  readFile(path: string): Promise<Buffer> {
    return this.inner.readFile(path);
  }
  writeFile(path: string, content: string | Uint8Array, options?: { mode?: number }): Promise<void> {
    return this.inner.writeFile(path, content, options);
  }
  upload(hostPath: string, target: string): Promise<void> {
    return this.inner.upload(hostPath, target);
  }
  download(path: string, hostDir: string): Promise<void> {
    return this.inner.download(path, hostDir);
  }
  platform(): Promise<Platform> {
    return this.inner.platform();
  }
  /** Idempotent: the runner calls it in a `finally`, and `await using` calls it too. */
  async stop(): Promise<void> {
    await this.inner.stop();
    this.log(`stopped ${this.inner.id.slice(0, 12)}`);
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

const provider = new LoggingProvider(await createDockerProvider(), (line) => console.log(`[provider] ${line}`));
try {
  // Every sandbox carries its run and sample ids as labels: `cagebench sandbox cleanup` finds leftovers by them.
  await using sandbox = await provider.start({
    source: { image: 'cagebench/sandbox:bookworm' },
    runId: `example-${randomBytes(3).toString('hex')}`,
    sampleId: 'sandbox-provider',
    network: 'none',
    limits: { cpus: 1, memoryMb: 256 },
    workdir: '/tmp',
  });
  await sandbox.writeFile('/tmp/hello.txt', 'hello from the host\n');
  const cat = await sandbox.exec('cat hello.txt');
  console.log(`read back: ${cat.stdout.trim()}`);
  const failed = await sandbox.exec(['sh', '-c', 'exit 3']);
  console.log(`a failing command is a result: exit ${failed.exitCode}`);
  console.log(`platform: ${await sandbox.platform()}`);
} finally {
  await provider.close();
}
