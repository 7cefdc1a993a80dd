// Ends a timed-out exec and everything it started: SIGTERM to the whole tree, then SIGKILL
// to whatever is still there after a grace, so an agent can save its session on the way out.
// The tree is found by the marker each exec carries in its environment (descendants inherit
// it, even those that left the process group or session). A process's environ is readable
// only by its own uid (root lacks CAP_SYS_PTRACE in a default container), so one killer runs
// as root and one as the exec's user; each signals only processes of its own uid, so no
// process gets its TERM twice.
import { Writable } from 'node:stream';
import type { Container, Dockerode } from './client.ts';

export const MARKER = 'CAGEBENCH_EXEC';

/** Which signal ended the tree; `undefined` when nothing was left to signal (or the container is gone). */
export type EndSignal = 'SIGTERM' | 'SIGKILL' | undefined;

/**
 * The killer, as a POSIX sh script for any image (needs only tr, grep, sleep and /proc).
 * Prints NONE (nothing found), SIGTERM (all gone within the grace) or SIGKILL.
 * The TERM goes out once: a trap handler's own children must not be signalled again.
 * Time is read from /proc/uptime in centiseconds (`1${frac} - 100` keeps `07` from being octal).
 */
export function killerScript(marker: string, graceMs: number): string {
  const graceCs = Math.max(0, Math.ceil(graceMs / 10));
  return [
    `M='${MARKER}=${marker}'`,
    `marked() { for p in /proc/[0-9]*; do [ -O "$p" ] || continue; tr '\\0' '\\n' < "$p/environ" 2>/dev/null | grep -qxF "$M" && echo "\${p#/proc/}"; done; }`,
    `now() { read -r up _ < /proc/uptime; echo $(( \${up%.*} * 100 + 1\${up#*.} - 100 )); }`,
    `if [ "$1" = user ] && [ "$(id -u 2>/dev/null)" = 0 ]; then echo NONE; exit 0; fi`, // the root killer covers root
    `pids=$(marked); [ -n "$pids" ] || { echo NONE; exit 0; }`,
    `kill -TERM $pids 2>/dev/null`,
    `end=$(( $(now) + ${graceCs} ))`,
    `while [ -n "$(marked)" ]; do`,
    `  if [ "$(now)" -ge "$end" ]; then`,
    // Three rounds: a process forking at the moment of the first round leaves a child to catch.
    `    for r in 1 2 3; do pids=$(marked); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null; done`,
    `    echo SIGKILL; exit 0`,
    `  fi`,
    `  sleep 0.05 2>/dev/null || sleep 1`,
    `done`,
    `echo SIGTERM`,
  ].join('\n');
}

/**
 * TERM the marked tree, KILL what outlives `graceMs`, and say which signal ended it. `user`
 * is the exec's (undefined: the image's USER). Never throws: a container that is gone has
 * nothing left to end.
 */
export async function endTree(docker: Dockerode, container: Container, marker: string, user: string | undefined, graceMs: number): Promise<EndSignal> {
  const script = killerScript(marker, graceMs);
  const said = await Promise.all([runKiller(docker, container, script, 'root', '0', graceMs), runKiller(docker, container, script, 'user', user, graceMs)]);
  if (said.includes('SIGKILL')) return 'SIGKILL';
  if (said.includes('SIGTERM')) return 'SIGTERM';
  return undefined;
}

/** Beyond the grace, how long a killer may take (scanning /proc, the engine's exec round trips). */
const KILLER_SLACK_MS = 30_000;

async function runKiller(docker: Dockerode, container: Container, script: string, role: 'root' | 'user', user: string | undefined, graceMs: number): Promise<EndSignal> {
  try {
    const killer = await container.exec({
      Cmd: ['/bin/sh', '-c', script, 'killer', role],
      AttachStdout: true,
      AttachStderr: true,
      ...(user === undefined ? {} : { User: user }),
    });
    const stream = await killer.start({ hijack: true, stdin: false });
    let out = '';
    const collect = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString('utf8');
        done();
      },
    });
    docker.modem.demuxStream(stream, collect, new Writable({ write: (_c, _e, done) => done() }));
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
      // An engine that stops answering must not hold the exec's result forever.
      setTimeout(() => {
        stream.destroy();
        resolve();
      }, graceMs + KILLER_SLACK_MS).unref();
    });
    const word = out.trim().split('\n').pop();
    return word === 'SIGTERM' || word === 'SIGKILL' ? word : undefined;
  } catch {
    // The container may already be gone; the exec's own stream then ends on its own.
    return undefined;
  }
}
