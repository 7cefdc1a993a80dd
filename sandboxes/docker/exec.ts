// Runs one command in a running container through the engine's exec API, streaming and
// capping its output. A timeout ends the command and everything it started inside the
// sandbox (SIGTERM, then SIGKILL after a grace; see end-tree.ts): each exec carries a unique
// marker in its environment, inherited by its descendants, and the killer finds them by it.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExecOptions, ExecResult } from '../sandbox.ts';
import { CappedOutput } from '../output-cap.ts';
import type { Container, Dockerode } from './client.ts';
import { endTree, MARKER, type EndSignal } from './end-tree.ts';

const DEFAULT_MAX_OUTPUT_BYTES = 10 * 1024 * 1024;
/** Between SIGTERM and SIGKILL on a timeout. */
const DEFAULT_KILL_GRACE_MS = 5_000;
/** Once the tree is gone, how long to wait for the engine to close the output stream. */
const STREAM_GRACE_MS = 5_000;

export async function execInContainer(
  docker: Dockerode,
  container: Container,
  cmd: string | readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const started = performance.now();
  // Aborted before it began: nothing is started (ending a process not yet visible would race it).
  if (options.signal?.aborted) return { exitCode: 130, stdout: '', stderr: '', timedOut: false, cancelled: true, truncated: false, durationMs: 0 };
  const marker = randomBytes(8).toString('hex');
  // The container's own environment (the spec's) is inherited; these come on top.
  const env = { ...options.env, [MARKER]: marker };
  const hasStdin = options.stdin !== undefined;
  const exec = await container.exec({
    // An argv goes through `exec "$@"` so a missing program is reported like a shell does
    // (exit 127, message on stderr) instead of the runtime's unframed complaint.
    Cmd: typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : ['/bin/sh', '-c', 'exec "$@"', 'sh', ...cmd],
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: hasStdin,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: options.cwd,
    User: options.user,
  });
  const stream = await exec.start({ hijack: true, stdin: hasStdin });

  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const onOutput = options.onOutput;
  const stdout = new CappedOutput(maxBytes, 'stdout', onOutput && ((t) => onOutput(t, 'stdout')));
  const stderr = new CappedOutput(maxBytes, 'stderr', onOutput && ((t) => onOutput(t, 'stderr')));
  docker.modem.demuxStream(stream, sink(stdout), sink(stderr));

  const ended = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });

  if (hasStdin) feedStdin(stream, options.stdin!);

  let timedOut = false;
  let cancelled = false;
  let ending: Promise<EndSignal> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  // A timeout and an abort end the command the same way: SIGTERM to its tree, SIGKILL after the grace.
  const end = (): void => {
    if (ending) return;
    ending = endTree(docker, container, marker, options.user, graceMs);
    // If the engine keeps the stream open anyway, stop waiting for it.
    void ending.finally(() => setTimeout(() => stream.destroy(), STREAM_GRACE_MS).unref());
  };
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      timedOut = true;
      end();
    }, options.timeoutMs);
  }
  const onAbort = (): void => {
    cancelled = true;
    end();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await ended;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  // The main process may end before its stragglers: the result waits for the killer's verdict.
  const signal = ending ? await ending : undefined;

  let exitCode = await exitCodeOf(exec, signal);
  let out = stdout.text();
  let err = stderr.text();
  // When the runtime cannot start the program it writes its complaint unframed (so it
  // lands in stdout) and exits 126; report it as a shell would: stderr, 127 if missing.
  if (exitCode === 126 && out.startsWith('OCI runtime exec failed')) {
    err = out.trim() + '\n' + err;
    out = '';
    if (/not found|no such file/i.test(err)) exitCode = 127;
  }
  return {
    exitCode,
    stdout: out,
    stderr: err,
    timedOut,
    ...(cancelled ? { cancelled } : {}),
    ...(signal ? { signal } : {}),
    truncated: stdout.truncated || stderr.truncated,
    durationMs: Math.round(performance.now() - started),
  };
}

function sink(out: CappedOutput): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk);
      done();
    },
  });
}

function feedStdin(stream: NodeJS.ReadWriteStream, stdin: string | Uint8Array | Readable): void {
  if (stdin instanceof Readable) {
    stdin.pipe(stream as unknown as Writable);
    return;
  }
  stream.end(typeof stdin === 'string' ? Buffer.from(stdin) : stdin);
}

/** The exit code the engine recorded; for a tree ended by `signal` and not recorded, the shell's 128+n. */
export async function exitCodeOf(exec: { inspect(): Promise<{ ExitCode: number | null; Running: boolean }> }, signal: EndSignal): Promise<number> {
  // The stream can end a moment before the engine records the exit.
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await delay(20);
  }
  // What a shell reports for a process ended by that signal.
  return signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : -1;
}
