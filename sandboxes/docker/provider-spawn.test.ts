// spawn: a process held open with stdin, stdout and stderr as streams (what an ACP agent
// is spoken to over), ended by closing stdin or by kill(), which leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { createDockerProvider, type DockerProvider, type Sandbox } from '../index.ts';
import { testRunId } from '../test-support/run-id.ts';

const IMAGE = 'cagebench/sandbox:bookworm';
let provider: DockerProvider;
let sandbox: Sandbox;

beforeAll(async () => {
  provider = await createDockerProvider({ teardownOnExit: false });
  sandbox = await provider.start({ source: { image: IMAGE }, runId: testRunId('spawn'), sampleId: 'spawn' });
});
afterAll(() => provider?.close());

/** Resolves with the stream's text once it holds `want`. */
function readUntil(stream: Readable, want: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (text.includes(want)) {
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
  });
}

describe('spawn', () => {
  it('answers line by line while stdin stays open; stderr apart; ending stdin ends it', async () => {
    const proc = await sandbox.spawn!(['sh', '-c', 'while read -r l; do echo "got $l"; echo "log $l" >&2; done; echo bye; exit 3'], { env: { X: '1' } });
    const errs: string[] = [];
    proc.stderr.on('data', (c: Buffer) => errs.push(c.toString()));
    const first = readUntil(proc.stdout, 'got one\n');
    proc.stdin.write('one\n');
    expect(await first).toBe('got one\n');
    const second = readUntil(proc.stdout, 'got two\n');
    proc.stdin.write('two\n');
    await second;
    const rest = readUntil(proc.stdout, 'bye\n');
    proc.stdin.end();
    await rest;
    expect(await proc.exited).toEqual({ exitCode: 3 });
    expect(errs.join('')).toBe('log one\nlog two\n');
  });

  it('passes env, cwd and user', async () => {
    const proc = await sandbox.spawn!(['sh', '-c', 'echo "$X $(pwd) $(id -un)"'], { env: { X: 'x' }, cwd: '/tmp', user: 'nobody' });
    const out = readUntil(proc.stdout, '\n');
    proc.stdin.end();
    expect((await out).trim()).toBe('x /tmp nobody');
    expect((await proc.exited).exitCode).toBe(0);
  });

  it('kill() ends the process and everything it started', async () => {
    const proc = await sandbox.spawn!(['sh', '-c', 'sleep 401 & setsid sleep 402 & cat'], { killGraceMs: 1000 });
    await new Promise((r) => setTimeout(r, 300));
    const exit = await proc.kill();
    expect(exit.signal).toMatch(/^SIG(TERM|KILL)$/);
    expect(await proc.exited).toEqual(exit);
    const ps = await sandbox.exec('ps -eo args');
    expect(ps.stdout).not.toMatch(/sleep 40[12]|^cat$/m);
  });

  it('a missing program exits 127, as a shell says it', async () => {
    const proc = await sandbox.spawn!(['no-such-program-here']);
    proc.stdin.end();
    expect((await proc.exited).exitCode).toBe(127);
  });
});
