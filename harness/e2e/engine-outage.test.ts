// Engine outages through the real CLI, against a second dockerd this file starts and stops
// (the machine's own engine is shared with other tests and is never touched):
// - stopped mid-run and back within --engine-grace: the run waits (one line says so), starts
//   nothing new meanwhile, runs the samples the outage broke again, and ends all scored, exit 0;
// - gone longer than the grace: the run ends `interrupted`, exit 75 (EXIT_ENGINE_LOST, "try
//   again later"), says to resume, and `cagebench resume` finishes every sample once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LABEL_RUN } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';
import { cli, outDir, results, summary, waitFor, type CliProcess } from './support.ts';

/** The documented exit code of a run whose engine did not come back in time (EX_TEMPFAIL). */
const EXIT_ENGINE_LOST = 75;
const TASKS = ['outage-1', 'outage-2', 'outage-3'];
const EPOCHS = 2;
const SAMPLES = TASKS.flatMap((t) => Array.from({ length: EPOCHS }, (_, i) => `${t}__e${i + 1}`)).sort();
/** The oracle's solution sleeps this long, so an outage lands while samples are live. */
const SOLVE_SLEEP_SEC = 4;
/** The line saying the run waits for the engine. */
const WAITING = /engine.*\bwait|\bwait.*engine/i;

let engine: SecondEngine;
const dirs: string[] = [];

beforeAll(async () => {
  engine = await startSecondEngine();
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  expect(await engine?.residue()).toEqual([]);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Harbor tasks whose oracle takes SOLVE_SLEEP_SEC and whose verifier checks what it wrote. */
async function writeTasks(): Promise<{ tasks: string; out: string }> {
  const out = await outDir();
  dirs.push(out);
  const tasks = join(out, 'tasks');
  for (const id of TASKS) {
    const files: Record<string, string> = {
      'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = 120.0\n[verifier]\ntimeout_sec = 60.0\n[environment]\nallow_internet = false\n',
      'instruction.md': 'Write the word done into /app/out.txt.\n',
      'environment/Dockerfile': 'FROM debian:bookworm-slim\nWORKDIR /app\n',
      'solution/solve.sh': `#!/bin/bash\nsleep ${SOLVE_SLEEP_SEC}\necho done > /app/out.txt\n`,
      'tests/test.sh': '#!/bin/bash\n[ "$(cat /app/out.txt 2>/dev/null)" = done ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    };
    for (const [path, text] of Object.entries(files)) {
      const file = join(tasks, id, path);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    }
  }
  return { tasks, out };
}

function runCli(args: readonly string[]): CliProcess {
  return cli(args, { DOCKER_HOST: engine.host });
}

async function readEvents(runDir: string, sampleId: string): Promise<{ t: string; type: string }[]> {
  const text = await readFile(join(runDir, 'samples', sampleId, 'events.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: string; type: string });
}

/** Samples with a directory but no result.json: live right now. */
async function liveSamples(runDir: string): Promise<string[]> {
  const ids = await readdir(join(runDir, 'samples')).catch(() => [] as string[]);
  return ids.filter((id) => !existsSync(join(runDir, 'samples', id, 'result.json')));
}

async function agentStarted(runDir: string): Promise<boolean> {
  for (const id of await liveSamples(runDir)) if ((await readEvents(runDir, id)).some((e) => e.type === 'agent.start')) return true;
  return false;
}

/** Containers and networks of this run left in the second engine. */
async function leftovers(runId: string): Promise<number> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] });
  return (await engine.docker.listContainers({ all: true, filters })).length + (await engine.docker.listNetworks({ filters })).length;
}

/** waitFor, failing at once with the CLI's output should it exit first (a refused flag, a crash). */
async function waitWhileRunning(proc: CliProcess, check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  let exit: { code: number | null; stderr: string } | undefined;
  void proc.exited.then((e) => (exit = e));
  await waitFor(
    async () => {
      if (exit) throw new Error(`cagebench exited ${exit.code} before ${what}:\n${exit.stderr}`);
      return check();
    },
    what,
    timeoutMs,
  );
}

/** When `pattern` first shows on the process's stderr (polled), or undefined once it exits. */
async function seenOnStderr(proc: CliProcess, pattern: RegExp): Promise<number | undefined> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (!exited) {
    if (pattern.test(proc.output().stderr)) return Date.now();
    await new Promise((r) => setTimeout(r, 100));
  }
  return pattern.test(proc.output().stderr) ? Date.now() : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('engine outage', () => {
  it('back within --engine-grace: the run waits, starts nothing meanwhile, reruns what the outage broke, and ends all scored, exit 0', async () => {
    await engine.start();
    const { tasks, out } = await writeTasks();
    const runId = testRunId('outage-back');
    const runDir = join(out, runId);
    const proc = runCli(['run', tasks, '--agent', 'oracle', '--epochs', String(EPOCHS), '--concurrency', '3', '--engine-grace', '60', '--out', out, '--run-id', runId]);

    // Stop it while oracles are mid-solution; keep it gone ~10 s.
    await waitWhileRunning(proc, () => agentStarted(runDir), 'an oracle started', 90_000);
    await sleep(1_500);
    const hit = await liveSamples(runDir);
    const downAt = Date.now();
    const noticed = seenOnStderr(proc, WAITING);
    await engine.stop();
    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    const restartAt = Date.now(); // gone for sure until here
    await engine.start();

    const exit = await proc.exited;
    const noticedAt = await noticed;
    const context = `exit ${exit.code}\nstderr:\n${exit.stderr}`;
    expect(hit.length, 'samples live when the engine stopped').toBeGreaterThan(0);
    expect(exit.code, context).toBe(0);
    // One line says the run is waiting for the engine.
    expect(exit.stderr.split('\n').filter((l) => WAITING.test(l)), context).toHaveLength(1);
    expect(noticedAt, context).toBeDefined();

    expect(await summary(runDir)).toMatchObject({ status: 'completed', pending: 0, retries: 0, counts: { pass: SAMPLES.length, fail: 0, error: 0, total: SAMPLES.length } });
    const done = await results(runDir);
    expect(done.map((r) => r.sampleId)).toEqual(SAMPLES);
    for (const r of done) expect(r.outcome, `${r.sampleId}: ${r.error?.message ?? ''}`).toBe('pass');
    // The samples the outage broke ran again (their sandboxes died with the engine).
    for (const id of hit) expect(done.find((r) => r.sampleId === id)?.outcome).toBe('pass');

    // No sample tried the engine once the run knew it was gone: the ones that began after the
    // waiting line never met an error, and nothing started a sandbox before the engine was back.
    for (const id of SAMPLES) {
      const events = await readEvents(runDir, id);
      const began = Date.parse(events.find((e) => e.type === 'sample.start')?.t ?? '');
      if (began > noticedAt!) expect(events.filter((e) => e.type === 'sample.error'), id).toEqual([]);
      for (const e of events.filter((e) => e.type === 'sandbox.start')) {
        const t = Date.parse(e.t);
        expect(t > noticedAt! && t < restartAt, `${id}: sandbox.start at ${e.t} while the engine was gone`).toBe(false);
      }
    }
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('gone longer than --engine-grace: the run ends interrupted, exit 75, and resume finishes every sample once the engine is back', async () => {
    await engine.start();
    const { tasks, out } = await writeTasks();
    const runId = testRunId('outage-lost');
    const runDir = join(out, runId);
    const proc = runCli(['run', tasks, '--agent', 'oracle', '--epochs', String(EPOCHS), '--concurrency', '2', '--engine-grace', '5', '--out', out, '--run-id', runId]);

    // Some samples done, some live, some not begun when it goes.
    await waitWhileRunning(proc, async () => (await results(runDir)).length >= 1 && (await agentStarted(runDir)), 'a first result and a live oracle', 120_000);
    const downAt = Date.now();
    const stopped = engine.stop();
    const exit = await proc.exited;
    const exitedAfterMs = Date.now() - downAt;
    await stopped;
    const context = `exit ${exit.code} after ${exitedAfterMs} ms\nstderr:\n${exit.stderr}`;

    expect(exit.code, context).toBe(EXIT_ENGINE_LOST);
    expect(exit.stderr, context).toContain(`cagebench resume ${runDir}`);
    expect(exit.stderr.split('\n').filter((l) => WAITING.test(l)), context).toHaveLength(1);
    // The grace, a probe or two and the teardown: not a hang on the dead engine.
    expect(exitedAfterMs, context).toBeLessThan(60_000);
    const before = await results(runDir);
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThan(SAMPLES.length);
    // What finished stays scored; what the outage cut off is pending, not an error.
    for (const r of before) expect(r.outcome, r.sampleId).toBe('pass');
    expect(await summary(runDir)).toMatchObject({
      status: 'interrupted',
      interruptedBy: 'engine',
      pending: SAMPLES.length - before.length,
      counts: { pass: before.length, fail: 0, error: 0 },
    });
    const mtimes = new Map(await Promise.all(before.map(async (r) => [r.sampleId, (await stat(join(runDir, 'samples', r.sampleId, 'result.json'))).mtimeMs] as const)));

    await engine.start();
    const resumed = await runCli(['resume', runDir]).exited;
    const resumeContext = `exit ${resumed.code}\nstderr:\n${resumed.stderr}`;
    expect(resumed.code, resumeContext).toBe(0);
    expect(await summary(runDir)).toMatchObject({ status: 'completed', pending: 0, counts: { pass: SAMPLES.length, fail: 0, error: 0, total: SAMPLES.length } });
    const after = await results(runDir);
    expect(after.map((r) => r.sampleId)).toEqual(SAMPLES);
    for (const r of after) expect(r.outcome, `${r.sampleId}: ${r.error?.message ?? ''}`).toBe('pass');
    // Finished before the outage: left alone by the resume.
    for (const r of before) expect((await stat(join(runDir, 'samples', r.sampleId, 'result.json'))).mtimeMs, r.sampleId).toBe(mtimes.get(r.sampleId));
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
