// The Sandbox contract every provider implements. A SandboxSpec describes what to start;
// a started Sandbox can exec and move files; stop() is idempotent and also runs through
// `await using` (Symbol.asyncDispose).
import type { Readable, Writable } from 'node:stream';

export type Platform = 'linux-x64' | 'linux-arm64' | 'linux-x64-musl' | 'linux-arm64-musl';

/**
 * - `none`: no network at all.
 * - `bridge`: the engine's default bridge (outside world reachable).
 * - `model-only`: exactly one TCP endpoint on the host (`SandboxSpec.endpoint`) and nothing else.
 */
export type NetworkMode = 'none' | 'bridge' | 'model-only';

/**
 * Where the environment comes from: an existing image, or a Dockerfile context directory, or
 * both (the image when the engine has it, else the Dockerfile's build).
 */
export type ImageSource = { readonly image: string; readonly dockerfile?: string } | { readonly dockerfile: string };

export interface BindMount {
  /** Absolute host path. */
  readonly source: string;
  /** Absolute path inside the sandbox. Always mounted read-only. */
  readonly target: string;
}

/**
 * A directory of this machine shipped to the engine once and mounted read-only in every
 * sandbox that names it (agent builds on a remote engine): the per-engine cache of what a
 * bind mount gives a local one. It outlives runs and is never swept with a run's resources.
 */
export interface SandboxVolume {
  /**
   * The volume's name on the engine (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`): one name must always mean
   * the same contents, so name it from a digest of `source`. Filled once per engine; a fill a
   * killed process left half done is never used.
   */
  readonly name: string;
  /** Absolute host directory it is filled from (its files, modes and in-tree symlinks). */
  readonly source: string;
  /** Absolute path inside the sandbox. Always mounted read-only. */
  readonly target: string;
}

export interface SandboxLimits {
  /** CPU cores (fractions allowed). */
  readonly cpus?: number;
  readonly memoryMb?: number;
  readonly pids?: number;
}

export interface SandboxSpec {
  readonly source: ImageSource;
  readonly runId: string;
  readonly sampleId: string;
  /** @default 'none' */
  readonly network?: NetworkMode;
  /**
   * The host TCP port the sandbox must reach: required for `model-only` (the only thing it
   * reaches); with `bridge`, reached through the default bridge's gateway.
   */
  readonly endpointPort?: number;
  readonly limits?: SandboxLimits;
  readonly mounts?: readonly BindMount[];
  /** Named volumes, filled from this machine once per engine; needs `capabilities.volumes`. */
  readonly volumes?: readonly SandboxVolume[];
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory for exec calls that do not name one. @default the image's */
  readonly workdir?: string;
  /** Image build timeout when `source` is a Dockerfile. @default 600_000 */
  readonly buildTimeoutMs?: number;
  /**
   * The container runtime (`runsc` for gVisor, `crun`…), one of `capabilities.runtimes`;
   * anything else is refused before the sandbox is created. @default the engine's
   */
  readonly runtime?: string;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly user?: string;
  readonly stdin?: string | Uint8Array | Readable;
  /**
   * End the command (and everything it started) after this long: SIGTERM to the whole tree,
   * so it can save its state, then SIGKILL to what is left after `killGraceMs`.
   */
  readonly timeoutMs?: number;
  /** Between the timeout's SIGTERM and its SIGKILL. @default 5000 */
  readonly killGraceMs?: number;
  /** Per stream; beyond it the middle is dropped and a marker says how much. @default 10 MiB */
  readonly maxOutputBytes?: number;
  /** Abort to end the command as a timeout would (SIGTERM to its tree, SIGKILL after the grace); the result says `cancelled`. */
  readonly signal?: AbortSignal;
  /** Called with output as it arrives (decoded UTF-8, whole characters). */
  readonly onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

/** A non-zero exit is a result, not an error. */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Ended because `signal` was aborted. */
  readonly cancelled?: boolean;
  /**
   * Set when a timeout made the harness signal the command: `SIGTERM` when the tree ended
   * within the grace, `SIGKILL` when something outlived it.
   */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
  readonly truncated: boolean;
  readonly durationMs: number;
}

/** How to start a long-lived process whose stdin stays open (`spawn`). */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly user?: string;
  /** Between `kill()`'s SIGTERM and its SIGKILL. @default 5000 */
  readonly killGraceMs?: number;
}

/** How a spawned process ended. */
export interface SpawnExit {
  readonly exitCode: number;
  /** Set when `kill()` signalled it: `SIGTERM` (gone within the grace) or `SIGKILL`. */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
}

/**
 * A process running in the sandbox with its three streams open (no TTY: stdout and stderr
 * apart), for a protocol spoken over stdio. Ending stdin closes the process's stdin.
 */
export interface SandboxProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once the process has exited and its output streams have ended; never rejects. */
  readonly exited: Promise<SpawnExit>;
  /** End it and everything it started (SIGTERM to the tree, SIGKILL after the grace); resolves as `exited` does. Idempotent. */
  kill(): Promise<SpawnExit>;
}

/**
 * One entry of `Sandbox.writeFiles`: bytes written as `writeFile` writes them, or a host
 * directory copied as `upload(hostDir, path)` copies it.
 */
export type FileToWrite =
  | { readonly path: string; readonly content: string | Uint8Array; readonly mode?: number }
  | { readonly path: string; readonly hostDir: string };

/** The one endpoint a `model-only` sandbox can reach, as the sandbox addresses it. */
export interface SandboxEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface Sandbox extends AsyncDisposable {
  readonly id: string;
  readonly spec: SandboxSpec;
  /** The image it runs: the spec's, or the tag of the build made for it. */
  readonly image: string;
  /** Set when the spec names an endpoint port (`model-only`, or `bridge` with one). */
  readonly endpoint?: SandboxEndpoint;
  /** The engine it runs on, when its provider has several (a pool): named in the sample's result. */
  readonly runsOn?: string;
  /** An argv runs as is; a string runs through `/bin/sh -c`. */
  exec(cmd: string | readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Start an argv with stdin open and its output streamed, held until it exits or is killed
   * (an agent spoken to over stdio). Optional: a provider that cannot hold a process open
   * leaves it out, and what needs it (the acp session driver) says so.
   */
  spawn?(argv: readonly string[], options?: SpawnOptions): Promise<SandboxProcess>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, content: string | Uint8Array, options?: { mode?: number }): Promise<void>;
  /**
   * Write several entries in one transfer, in order (a later one wins), each as `writeFile` or
   * `upload` would. Optional: without it, callers write them one by one.
   */
  writeFiles?(files: readonly FileToWrite[]): Promise<void>;
  /** Copy a host file or directory to `target` (its contents land under `target`). */
  upload(hostPath: string, target: string): Promise<void>;
  /** Copy a sandbox path into the host directory `hostDir` (streamed). */
  download(path: string, hostDir: string): Promise<void>;
  platform(): Promise<Platform>;
  /**
   * Keep the sandbox's filesystem as an image `repo:tag` that a later `start` can name as its
   * source (a saved session). Optional: a provider that cannot keep one leaves it out.
   */
  snapshot?(repo: string, tag: string): Promise<string>;
  /** Remove the sandbox and what was created for it. Idempotent. */
  stop(): Promise<void>;
}

/** How to report on a start; not part of what is started. */
export interface StartOptions {
  /** Lines of the image build's log, when the start has to build. */
  readonly onBuildLog?: (line: string) => void;
}

/** A machine type sandboxes run on, as in `Platform`. */
export type Architecture = 'x64' | 'arm64';

/**
 * What a provider can do, declared up front: the runner rejects a task asking for more
 * before the run starts (never running it with a weaker policy), and the conformance suite
 * (`sandboxes/contract.ts`) tests exactly what is declared.
 */
export interface ProviderCapabilities {
  /** `SandboxSpec.mounts` work: the engine sees this machine's files (a local engine). */
  readonly bindMounts: boolean;
  /** `SandboxSpec.volumes` work: a directory is shipped to the engine once and mounted read-only from then on. */
  readonly volumes: boolean;
  /** The network modes `start` honours. */
  readonly networks: readonly NetworkMode[];
  /** Machine types its sandboxes run on (images run on the engine's own). */
  readonly architectures: readonly Architecture[];
  /** Container runtimes the engine offers (`runc`, `runsc` for gVisor, `crun`…). */
  readonly runtimes: readonly string[];
  /** It builds images from a Dockerfile (`ImageSource.dockerfile`, `prepareImage`). */
  readonly prebuild: boolean;
  /** Which of `SandboxSpec.limits` it enforces. */
  readonly limits: { readonly cpus: boolean; readonly memory: boolean; readonly pids: boolean };
}

/** How to make an image ready before starting sandboxes from it. */
export interface PrepareImageOptions {
  /** @default 600_000 */
  readonly buildTimeoutMs?: number;
  readonly onBuildLog?: (line: string) => void;
}

export interface SandboxProvider {
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** Where its sandboxes run, for messages: `the Docker engine at unix:///var/run/docker.sock`. */
  readonly location: string;
  start(spec: SandboxSpec, options?: StartOptions): Promise<Sandbox>;
  /**
   * Make the source's image ready (build a Dockerfile, once; check an image exists) and
   * return its reference, so many samples of one task do not each build it. Optional: a
   * provider without it prepares on `start`.
   */
  prepareImage?(source: ImageSource, options?: PrepareImageOptions): Promise<string>;
  /**
   * The image as a `docker save` tar stream, and loading one: a pool copies an image a member
   * lacks from one that has it (no registry needed). Optional; both or neither.
   */
  saveImage?(ref: string): Promise<Readable>;
  loadImage?(tar: Readable): Promise<void>;
  /**
   * Whether the backend answers now, on a fresh connection; never throws. The runner's
   * circuit breaker pauses new samples while it is false. Optional: absent means always up.
   */
  ping?(timeoutMs?: number): Promise<boolean>;
  /** Remove what could not be removed while the backend was away (call once it answers again). */
  reap?(): Promise<void>;
  /** Remove what a killed process left behind for this run id (`resume` calls it first). */
  sweep?(runId: string): Promise<void>;
  /** Release shared resources (relays, networks) of this provider. Idempotent. */
  close(): Promise<void>;
}
