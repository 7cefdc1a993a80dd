// A process held open in a running container: `docker exec -i` without a TTY, stdin kept
// open for the caller to write, stdout and stderr demultiplexed into two streams as they
// arrive. For protocols spoken over stdio (an ACP agent). Ending stdin half-closes the
// engine's connection, which closes the process's stdin; `kill()` ends the process and
// everything it started the way a timed-out exec is ended (end-tree.ts), found by the
// marker in its environment.
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import type { SandboxProcess, SpawnExit, SpawnOptions } from '../sandbox.ts';
import type { Container, Dockerode } from './client.ts';
import { endTree, MARKER, type EndSignal } from './end-tree.ts';
import { exitCodeOf } from './exec.ts';

/** Between kill()'s SIGTERM and its SIGKILL. */
const DEFAULT_KILL_GRACE_MS = 5_000;
/** Once the tree is gone, how long to wait for the engine to close the stream. */
const STREAM_GRACE_MS = 5_000;

export async function spawnInContainer(docker: Dockerode, container: Container, argv: readonly string[], options: SpawnOptions = {}): Promise<SandboxProcess> {
  const marker = randomBytes(8).toString('hex');
  const env = { ...options.env, [MARKER]: marker };
  const exec = await container.exec({
    // As exec does: a missing program is reported as a shell would (exit 127, stderr).
    Cmd: ['/bin/sh', '-c', 'exec "$@"', 'sh', ...argv],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: options.cwd,
    User: options.user,
  });
  const stream = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream & { destroy(): void; destroyed?: boolean };

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  // Writes after the process is gone fail on the socket; they are dropped here, and the
  // caller learns of the end from `exited`.
  stream.on('error', () => undefined);
  const stdin = new Writable({
    write(chunk: Buffer, _enc, done) {
      if ((stream as { writable?: boolean }).writable === false) return done();
      stream.write(chunk, () => done());
    },
    final(done) {
      // Half-close: the engine closes the process's stdin and keeps its output flowing.
      if ((stream as { writable?: boolean }).writable !== false) stream.end();
      done();
    },
  });

  const streamEnded = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  let ending: Promise<EndSignal> | undefined;
  const exited: Promise<SpawnExit> = streamEnded.then(async () => {
    stdout.end();
    stderr.end();
    const signal = ending ? await ending : undefined;
    const exitCode = await exitCodeOf(exec, signal).catch(() => -1);
    return { exitCode, ...(signal ? { signal } : {}) };
  });

  return {
    stdin,
    stdout,
    stderr,
    exited,
    kill() {
      if (!ending) {
        ending = endTree(docker, container, marker, options.user, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
        // If the engine keeps the stream open anyway, stop waiting for it.
        void ending.finally(() => setTimeout(() => stream.destroy(), STREAM_GRACE_MS).unref());
      }
      return exited;
    },
  };
}
