// Teardown when the process is told to stop: a child process holding live sandboxes (and a
// model-only network with its relay) gets SIGINT or SIGTERM; afterwards nothing is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectEngine, sweep, type Engine } from './index.ts';
import { LABEL_RUN } from './labels.ts';
import { testRunId } from './test-support/run-id.ts';

const fixture = fileURLToPath(new URL('./test-support/hold-sandboxes.ts', import.meta.url));
let engine: Engine;
const runIds: string[] = [];

beforeAll(async () => {
  engine = await connectEngine();
});
afterAll(async () => {
  for (const runId of runIds) await sweep(engine, { runId }); // only matters if a test failed
});

async function leftovers(runId: string): Promise<number> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] });
  const containers = await engine.docker.listContainers({ all: true, filters });
  const networks = await engine.docker.listNetworks({ filters });
  return containers.length + networks.length;
}

async function startFixture(runId: string, mode = 'hold') {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, runId, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  await Promise.race([
    new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve())),
    exited.then((r) => Promise.reject(new Error(`fixture exited early (${r.code}): ${r.stderr}`))),
  ]);
  return { child, exited };
}

describe.each(['SIGINT', 'SIGTERM'] as const)('on %s', (signal) => {
  it('removes every live sandbox, network and relay, then dies of the signal', async () => {
    const runId = testRunId(`teardown-${signal.toLowerCase()}`);
    runIds.push(runId);
    const { child, exited } = await startFixture(runId);
    expect(await leftovers(runId)).toBe(5); // 3 sandboxes, 1 relay, 1 network
    child.kill(signal);
    const result = await exited;
    expect(result.signal).toBe(signal);
    expect(await leftovers(runId)).toBe(0);
  });
});

describe('on an uncaught exception', () => {
  it('removes every live sandbox before exiting with code 1', async () => {
    const runId = testRunId('teardown-crash');
    runIds.push(runId);
    const { exited } = await startFixture(runId, 'crash');
    const result = await exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('fixture crashed on purpose');
    expect(await leftovers(runId)).toBe(0);
  });
});

describe('a library installs nothing process-wide', () => {
  it('creating a provider adds no signal or crash handlers; installExitHandlers does, once', async () => {
    const { createDockerProvider, installExitHandlers } = await import('./index.ts');
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection'] as const;
    const count = () => events.map((e) => process.listenerCount(e));
    const before = count();
    const provider = await createDockerProvider({ engine });
    expect(count()).toEqual(before);
    await provider[Symbol.asyncDispose]();
    // In a child, where adding handlers is harmless: the CLI's path.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${fileURLToPath(new URL('./index.ts', import.meta.url))}').then((m) => { m.installExitHandlers(); m.installExitHandlers(); console.log(['SIGINT','SIGTERM','uncaughtException'].map((e) => process.listenerCount(e)).join(',')); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    expect(out.trim()).toBe('1,1,1');
    void installExitHandlers;
  });
});
