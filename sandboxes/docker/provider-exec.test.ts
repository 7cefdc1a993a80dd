// Docker-specific exec behaviour; what every provider must do is in sandboxes/contract.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider, type DockerProvider, type Sandbox } from '../index.ts';
import { testRunId } from '../test-support/run-id.ts';

const IMAGE = 'cagebench/sandbox:bookworm';
let provider: DockerProvider;
let sandbox: Sandbox;

beforeAll(async () => {
  provider = await createDockerProvider({ teardownOnExit: false });
  sandbox = await provider.start({ source: { image: IMAGE }, runId: testRunId('exec'), sampleId: 'exec', env: { FROM_SPEC: 'spec' } });
});
afterAll(() => provider?.close());

describe('exec', () => {
  it('passes env (spec env, exec env over it), cwd and user', async () => {
    const r = await sandbox.exec('echo "$FROM_SPEC $FROM_EXEC $(pwd) $(id -un)"', {
      env: { FROM_EXEC: 'exec' },
      cwd: '/tmp',
      user: 'nobody',
    });
    expect(r.stdout.trim()).toBe('spec exec /tmp nobody');
    const over = await sandbox.exec('echo $FROM_SPEC', { env: { FROM_SPEC: 'override' } });
    expect(over.stdout.trim()).toBe('override');
  });

  it('a timeout kills the command and everything it started, in the sandbox', async () => {
    const r = await sandbox.exec('sleep 301 & setsid sleep 302 & sleep 303; echo never', { timeoutMs: 700 });
    expect(r.timedOut).toBe(true);
    expect(r.stdout).not.toContain('never');
    expect(r.durationMs).toBeLessThan(10_000);
    // Not just the wait: no process of that command is left, even the one that left the session.
    const ps = await sandbox.exec('ps -eo args');
    expect(ps.stdout).not.toMatch(/sleep 30[123]/);
  });

  it('streams output as it comes, before the command ends', async () => {
    const seen: { chunk: string; stream: string; at: number }[] = [];
    const started = Date.now();
    const r = await sandbox.exec('echo first; sleep 1; echo second >&2', {
      onOutput: (chunk, stream) => seen.push({ chunk, stream, at: Date.now() - started }),
    });
    expect(r.exitCode).toBe(0);
    const first = seen.find((s) => s.chunk.includes('first'));
    const second = seen.find((s) => s.chunk.includes('second'));
    expect(first?.stream).toBe('stdout');
    expect(second?.stream).toBe('stderr');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(800);
  });

  it('a missing command is exit 127 with a message on stderr, shell or not', async () => {
    const viaShell = await sandbox.exec('no-such-command-xyz');
    expect(viaShell.exitCode).toBe(127);
    expect(viaShell.stderr).toContain('no-such-command-xyz');
    const argv = await sandbox.exec(['no-such-command-xyz']);
    expect(argv.exitCode).toBe(127);
    expect(argv.stdout).toBe('');
    expect(argv.stderr).toMatch(/no-such-command-xyz.*not found/);
    const notExecutable = await sandbox.exec(['/etc/hostname']);
    expect(notExecutable.exitCode).toBe(126);
    expect(notExecutable.stderr).toMatch(/Permission denied/);
  });

  it('reports the platform', async () => {
    expect(await sandbox.platform()).toMatch(/^linux-(x64|arm64)(-musl)?$/);
  });
});
