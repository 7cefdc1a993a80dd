// A timeout ends the command gracefully: SIGTERM to the whole tree, SIGKILL after the grace.
// On the plain slim image (no procps), as root and as a user without a home.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider, type DockerProvider, type Sandbox } from '../index.ts';
import { testRunId } from '../test-support/run-id.ts';

const IMAGE = 'debian:bookworm-slim';
let provider: DockerProvider;
let sandbox: Sandbox;

beforeAll(async () => {
  provider = await createDockerProvider({ teardownOnExit: false });
  sandbox = await provider.start({ source: { image: IMAGE }, runId: testRunId('exec-timeout'), sampleId: 'exec-timeout' });
});
afterAll(() => provider?.close());

/** Command lines of the sandbox's processes (no `ps` on the slim image). */
async function processes(): Promise<string> {
  const r = await sandbox.exec(`for p in /proc/[0-9]*; do tr '\\0' ' ' < "$p/cmdline" 2>/dev/null; echo; done`, { user: 'root' });
  return r.stdout;
}

describe('exec timeout', () => {
  for (const user of ['root', 'nobody']) {
    it(`a command that traps TERM gets to save its state, as ${user}`, async () => {
      const file = `/tmp/saved-${user}`;
      // The trap itself starts a child (sleep): it must not be signalled again.
      const r = await sandbox.exec(`trap 'sleep 0.3; echo saved > ${file}; exit 3' TERM; sleep 300 & wait`, { user, timeoutMs: 500, killGraceMs: 4000 });
      expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: 3 });
      expect(r.durationMs).toBeLessThan(4000);
      expect((await sandbox.readFile(file)).toString()).toBe('saved\n');
    });
  }

  it('a command that ignores TERM is killed after the grace, and the result says SIGKILL', async () => {
    const r = await sandbox.exec("trap '' TERM; sleep 320", { user: 'nobody', timeoutMs: 300, killGraceMs: 1500 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: 137 });
    expect(r.durationMs).toBeGreaterThanOrEqual(1700);
    expect(r.durationMs).toBeLessThan(8000);
    expect(await processes()).not.toContain('sleep 320');
  });

  it('children are ended too: those that left the session, and those that ignore TERM', async () => {
    const r = await sandbox.exec(
      `sh -c "trap '' TERM; sleep 331" & setsid sleep 332 & (sleep 333 &) ; sleep 334; echo never`,
      { user: 'nobody', timeoutMs: 500, killGraceMs: 1000 },
    );
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(r.stdout).not.toContain('never');
    expect(await processes()).not.toMatch(/sleep 33[1-4]/);
  });

  it('a tree that all ends on TERM reports SIGTERM, with the signal exit code', async () => {
    const r = await sandbox.exec('setsid sleep 341 & sleep 342', { timeoutMs: 300 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: 143 });
    expect(await processes()).not.toMatch(/sleep 34[12]/);
  });

  it('a command that finishes in time is not signalled', async () => {
    const r = await sandbox.exec('echo ok', { timeoutMs: 5000 });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.signal).toBeUndefined();
  });
});

describe('exec cancelled by its signal', () => {
  it('an abort ends the command tree like a timeout: TERM first, the result says cancelled, nothing left', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 400);
    const r = await sandbox.exec("trap 'echo bye; exit 4' TERM; sleep 330 & wait", { user: 'nobody', signal: abort.signal, killGraceMs: 3000 });
    expect(r).toMatchObject({ cancelled: true, timedOut: false, signal: 'SIGTERM', exitCode: 4 });
    expect(r.stdout).toContain('bye');
    expect(await processes()).not.toContain('sleep 330');
    // Already aborted: the command is not started at all.
    const done = new AbortController();
    done.abort();
    const at = await sandbox.exec('touch /tmp/never-ran', { signal: done.signal });
    expect(at).toMatchObject({ cancelled: true, exitCode: 130 });
    expect((await sandbox.exec('test -e /tmp/never-ran')).exitCode).toBe(1);
  });
});
