// A started Docker sandbox: exec, files through tar archives, platform detection, and an
// idempotent stop that removes the container, its anonymous volumes and its network.
import type { Readable } from 'node:stream';
import { lstat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import type { ExecOptions, ExecResult, FileToWrite, Platform, Sandbox, SandboxEndpoint, SandboxProcess, SandboxSpec, SpawnOptions } from '../sandbox.ts';
import { SandboxError, engineMessage, engineStatus } from '../errors.ts';
import { packEntries, type PackEntry } from '../../archives/index.ts';
import { extractTo, packFile, packPath, pathEntries, readSingleFile } from './archive.ts';
import type { Container, Engine } from './client.ts';
import { execInContainer } from './exec.ts';
import { spawnInContainer } from './exec-stream.ts';
import type { SampleNetwork } from './model-only.ts';

export class DockerSandbox implements Sandbox {
  private stopping: Promise<void> | undefined;
  private platformInfo: Promise<Platform> | undefined;
  readonly endpoint?: SandboxEndpoint;

  constructor(
    private readonly engine: Engine,
    private readonly container: Container,
    readonly spec: SandboxSpec,
    readonly image: string,
    private readonly network: SampleNetwork | undefined,
    /** Called once stop() is over; `removed` false when the container could not be removed. */
    private readonly onStopped: (removed: boolean) => void,
    endpoint?: SandboxEndpoint,
  ) {
    const reach = network?.endpoint ?? endpoint;
    if (reach) this.endpoint = reach;
  }

  get id(): string {
    return this.container.id;
  }

  async exec(cmd: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.assertLive();
    return execInContainer(this.engine.docker, this.container, cmd, options).catch(
      (err: unknown) => this.rethrow(err, `exec ${JSON.stringify(cmd)}`),
    );
  }

  async spawn(argv: readonly string[], options: SpawnOptions = {}): Promise<SandboxProcess> {
    this.assertLive();
    return spawnInContainer(this.engine.docker, this.container, argv, options).catch(
      (err: unknown) => this.rethrow(err, `spawn ${JSON.stringify(argv)}`),
    );
  }

  /** `docker commit`, paused so the agent's state is caught whole. */
  async snapshot(repo: string, tag: string): Promise<string> {
    this.assertLive();
    await this.container.commit({ repo, tag, pause: true }).catch((err: unknown) => this.rethrow(err, `commit to ${repo}:${tag}`));
    return `${repo}:${tag}`;
  }

  async readFile(path: string): Promise<Buffer> {
    const archive = await this.archiveOf(path);
    return readSingleFile(archive, `${path} in sandbox ${this.shortId}`);
  }

  async writeFile(path: string, content: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
    const abs = this.absolute(path, 'writeFile');
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    await this.put(packFile(abs.slice(1), bytes, options.mode), `writeFile ${abs}`);
  }

  async upload(hostPath: string, target: string): Promise<void> {
    const abs = this.absolute(target, 'upload');
    await this.put(packPath(hostPath, await this.uploadPrefix(hostPath, abs)), `upload ${hostPath} -> ${abs}`);
  }

  /** One archive, one request: each entry as writeFile or upload would write it. */
  async writeFiles(files: readonly FileToWrite[]): Promise<void> {
    // Paths and host paths are checked before anything is sent.
    const parts = await Promise.all(
      files.map(async (f) => {
        const abs = this.absolute(f.path, 'writeFiles');
        return 'hostDir' in f ? { hostDir: f.hostDir, prefix: await this.uploadPrefix(f.hostDir, abs) } : { entry: { name: abs.slice(1), mode: f.mode ?? 0o644, content: typeof f.content === 'string' ? Buffer.from(f.content) : f.content } };
      }),
    );
    const entries = async function* (): AsyncGenerator<PackEntry> {
      for (const part of parts) {
        if (part.entry) yield part.entry;
        else yield* pathEntries(part.hostDir!, part.prefix!);
      }
    };
    await this.put(packEntries(entries()), `writeFiles ${files.map((f) => f.path).join(', ')}`);
  }

  /** Where upload() puts a host path's entries: a directory's contents at `abs`, a file under its own name in `abs`. */
  private async uploadPrefix(hostPath: string, abs: string): Promise<string> {
    const st = await lstat(hostPath).catch((cause: unknown) => {
      throw new SandboxError('CB_PATH_NOT_FOUND', `upload: host path ${hostPath} cannot be read: ${engineMessage(cause)}`, { cause });
    });
    return st.isDirectory() ? abs.slice(1) : posix.join(abs.slice(1), basename(hostPath));
  }

  async download(path: string, hostDir: string): Promise<void> {
    const archive = await this.archiveOf(path);
    await extractTo(archive, hostDir, { stripTopDir: true, where: `${path} in sandbox ${this.shortId}` });
  }

  platform(): Promise<Platform> {
    this.platformInfo ??= this.exec('uname -m; ls /lib/ld-musl-* 2>/dev/null || true').then((r) => {
      const [machine = '', ...rest] = r.stdout.trim().split('\n');
      const musl = rest.some((l) => l.includes('ld-musl'));
      const arch = machine === 'x86_64' || machine === 'amd64' ? 'x64' : machine === 'aarch64' || machine === 'arm64' ? 'arm64' : undefined;
      if (!arch) throw new SandboxError('CB_SANDBOX_FAILED', `Sandbox ${this.shortId} runs on an unsupported machine type "${machine}"`);
      return `linux-${arch}${musl ? '-musl' : ''}` as Platform;
    });
    return this.platformInfo;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      let removed = false;
      try {
        await this.container.remove({ force: true, v: true }).catch((err: unknown) => {
          if (engineStatus(err) !== 404 && !/already in progress/.test(engineMessage(err))) throw err;
        });
        removed = true;
        await this.network?.release();
      } finally {
        this.onStopped(removed);
      }
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private get shortId(): string {
    return this.container.id.slice(0, 12);
  }

  private assertLive(): void {
    if (this.stopping) throw new SandboxError('CB_SANDBOX_STOPPED', `Sandbox ${this.shortId} (${this.spec.sampleId}) was stopped; start a new one.`);
  }

  private absolute(path: string, op: string): string {
    if (!path.startsWith('/')) throw new SandboxError('CB_BAD_SPEC', `${op}: sandbox path must be absolute (got "${path}")`);
    return posix.normalize(path);
  }

  private async archiveOf(path: string): Promise<Readable> {
    this.assertLive();
    const abs = this.absolute(path, 'read');
    try {
      return (await this.container.getArchive({ path: abs })) as unknown as Readable;
    } catch (err) {
      if (engineStatus(err) === 404) {
        throw new SandboxError('CB_PATH_NOT_FOUND', `${abs} does not exist in sandbox ${this.shortId} (${this.spec.sampleId})`, { cause: err });
      }
      return this.rethrow(err, `read ${abs}`);
    }
  }

  private async put(archive: Readable, what: string): Promise<void> {
    this.assertLive();
    // A packing error (an escaping link, an unreadable file) must abort the upload, not
    // leave the request waiting for bytes that will never come.
    const abort = new AbortController();
    let packError: unknown;
    archive.once('error', (err) => {
      packError = err;
      abort.abort(err);
    });
    try {
      await this.container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: '/', abortSignal: abort.signal });
    } catch (err) {
      throw packError ?? this.wrap(err, what);
    }
    if (packError) throw packError;
  }

  private wrap(err: unknown, what: string): unknown {
    if (err instanceof SandboxError) return err;
    const status = engineStatus(err);
    if (status === 404 || status === 409) {
      return new SandboxError('CB_SANDBOX_STOPPED', `${what}: sandbox ${this.shortId} is gone or not running (${engineMessage(err)})`, { cause: err });
    }
    return new SandboxError('CB_SANDBOX_FAILED', `${what} in sandbox ${this.shortId} failed: ${engineMessage(err)}`, { cause: err });
  }

  private rethrow(err: unknown, what: string): never {
    throw this.wrap(err, what);
  }
}
