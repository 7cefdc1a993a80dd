// Shards end to end, through the real CLI and real Docker, as a CI matrix uses them: the
// bundled smoke suites (13 tasks) run whole and as 3 shards side by side, and `cagebench
// merge` joins the shards into a run whose summary equals the whole run's in everything but
// ids and times; its JUnit and CTRF hold every sample once; a missing or doubled shard is
// refused; an empty shard is an empty run that exits 0; resume keeps a shard a shard.
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validate } from 'ctrf';
import { describe, expect, it } from 'vitest';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import type { Comparison } from '../compare/compare.ts';
import { EXIT_FAIL_UNDER, EXIT_OK, EXIT_USAGE } from '../exit-codes.ts';
import type { RunRecord, SummaryRecord } from '../log/schema.ts';
import { readJson } from '../log/writer.ts';
import { cli, leftovers, outDir, results, summary, SUITES } from './support.ts';

const SUITE = [join(SUITES, 'smoke'), join(SUITES, 'smoke.yaml')];
const TASKS = 13;

async function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return cli(args).exited;
}

/**
 * What a merged summary must share with the whole run's: everything but ids, times, the shard,
 * and what depends on the machine's state rather than the samples (infra retries, images built).
 */
function comparable(s: SummaryRecord | undefined): Partial<SummaryRecord> {
  const { runId: _id, timings: _t, shard: _s, retries: _r, images: _i, ...rest } = s ?? ({} as SummaryRecord);
  return rest;
}

/** The whole run and its 3 shards, the shards side by side like the jobs of a matrix. */
async function wholeAndShards(name: string, args: readonly string[], expected: number) {
  const out = await outDir();
  const whole = testRunId(`${name}-whole`);
  const shards = [1, 2, 3].map((i) => testRunId(`${name}-shard${i}`));
  const runs = await Promise.all([
    runCli(['run', ...SUITE, ...args, '--out', out, '--run-id', whole, '--concurrency', '4']),
    ...shards.map((runId, i) => runCli(['run', ...SUITE, ...args, '--out', out, '--run-id', runId, '--concurrency', '2', '--shard', `${i + 1}/3`])),
  ]);
  for (const done of runs) expect(done.code, done.stderr).toBe(expected);
  for (const runId of [whole, ...shards]) expect(await leftovers(runId)).toBe(0);
  return { out, whole: join(out, whole), shards: shards.map((s) => join(out, s)), logs: runs.slice(1) };
}

describe('shards and merge, on real runs', () => {
  it('oracle, 2 epochs: 3 shards merged give the whole run’s summary, with every CI surface', async () => {
    const { out, whole, shards, logs } = await wholeAndShards('oracle', ['--agent', 'oracle', '--epochs', '2'], EXIT_OK);

    // Each shard says which it is, runs all epochs of its tasks, and records the split.
    const sizes: number[] = [];
    const seen = new Set<string>();
    for (const [i, dir] of shards.entries()) {
      expect(logs[i]!.stderr).toMatch(new RegExp(`shard ${i + 1}/3: \\d+ of ${TASKS} task\\(s\\)`));
      const record = (await readJson<RunRecord>(join(dir, 'run.json')))!;
      expect(record.config.shard).toBe(`${i + 1}/3`);
      expect(record.shard).toMatchObject({ index: i + 1, count: 3 });
      expect(record.shard!.allTasks).toHaveLength(TASKS);
      expect((await summary(dir))?.shard).toBe(`${i + 1}/3`);
      const rs = await results(dir);
      expect(rs).toHaveLength(record.tasks.length * 2);
      for (const t of record.tasks) {
        expect(seen.has(t.id)).toBe(false);
        seen.add(t.id);
        expect(rs.filter((r) => r.taskId === t.id).map((r) => r.epoch).sort()).toEqual([1, 2]);
      }
      sizes.push(record.tasks.length);
    }
    expect(sizes).toEqual([5, 4, 4]);
    expect(seen.size).toBe(TASKS);

    // Merge, writing every surface, gated against the whole run as the baseline.
    const merged = join(out, 'merged');
    const files = { junit: join(out, 'junit.xml'), ctrf: join(out, 'ctrf.json'), comment: join(out, 'comment.md'), report: join(out, 'report') };
    const done = await runCli([
      'merge', ...[...shards].reverse(), '-o', merged, '--junit', files.junit, '--ctrf', files.ctrf, '--pr-comment', files.comment,
      '--baseline', whole, '--report', files.report,
    ]);
    expect(done.code, done.stdout + done.stderr).toBe(EXIT_OK);
    expect(done.stderr).toContain(`merged 3 shard(s) into ${merged}: 26 sample(s)`);
    expect(done.stdout).toMatch(/^PASS {2}no regression/m);

    const [w, m] = [await summary(whole), await summary(merged)];
    expect(m!.status).toBe('completed');
    expect(m!.shard).toBeUndefined();
    expect(comparable(m)).toEqual(comparable(w));
    expect(m!.counts).toEqual({ pass: 26, fail: 0, error: 0, total: 26 });
    expect(Object.keys(m!.passAtK)).toEqual(['1', '2']);
    expect(Object.keys(m!.perTask)).toEqual(Object.keys(w!.perTask));
    // Times span the shards: from the first start to the last end.
    const starts = await Promise.all(shards.map(async (d) => Date.parse((await summary(d))!.timings.startedAt)));
    const ends = await Promise.all(shards.map(async (d) => Date.parse((await summary(d))!.timings.endedAt)));
    expect(Date.parse(m!.timings.startedAt)).toBeLessThanOrEqual(Math.min(...starts));
    expect(Date.parse(m!.timings.endedAt)).toBe(Math.max(...ends));
    expect(m!.timings.durationMs).toBe(Date.parse(m!.timings.endedAt) - Date.parse(m!.timings.startedAt));

    // run.json: the whole run's tasks in its order, no shard, and where it came from.
    const [wr, mr] = [(await readJson<RunRecord>(join(whole, 'run.json')))!, (await readJson<RunRecord>(join(merged, 'run.json')))!];
    expect(mr.tasks).toEqual(wr.tasks);
    expect(mr.runId).toBe('merged');
    expect(mr.shard).toBeUndefined();
    expect(mr.config.shard).toBeUndefined();
    expect(mr.config.epochs).toBe(2);
    expect(mr.mergedFrom?.shards.map((s) => s.shard)).toEqual(['1/3', '2/3', '3/3']);
    expect(mr.mergedFrom?.shards.map((s) => s.dir)).toEqual(shards);
    expect((await results(merged)).map((r) => r.sampleId)).toEqual((await results(whole)).map((r) => r.sampleId));

    // Every sample once in JUnit and CTRF; the comparison decided the exit code.
    const junit = await readFile(files.junit, 'utf8');
    const names = [...junit.matchAll(/<testcase [^>]*name="([^"]+)"/g)].map((x) => x[1]);
    expect(names).toHaveLength(26);
    expect(new Set(names).size).toBe(26);
    const ctrf = JSON.parse(await readFile(files.ctrf, 'utf8')) as { results: { summary: { tests: number; passed: number }; tests: { name: string }[] } };
    expect(validate(ctrf).valid).toBe(true);
    expect(ctrf.results.summary).toMatchObject({ tests: 26, passed: 26 });
    expect(new Set(ctrf.results.tests.map((t) => t.name)).size).toBe(26);
    expect(await readFile(files.comment, 'utf8')).toMatch(/^<!-- cagebench-compare -->/);
    const comparison = (await readJson<Comparison>(join(merged, 'compare.json')))!;
    expect(comparison).toMatchObject({ verdict: 'PASS', pairs: TASKS });
    expect(await readFile(join(files.report, 'index.html'), 'utf8')).toContain('<html');

    // A missing shard is refused, naming it and the shards given; nothing is written.
    const partialDir = join(out, 'partial');
    const missing = await runCli(['merge', shards[0]!, shards[2]!, '-o', partialDir]);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.stderr).toContain('shard(s) 2/3 missing');
    expect(missing.stderr).toContain(shards[0]!);
    expect(missing.stderr).toContain('--allow-partial');
    expect(await readJson(join(partialDir, 'run.json'))).toBeUndefined();
    // …unless asked: merged with a warning, the missing shard's tasks left out.
    const partial = await runCli(['merge', shards[0]!, shards[2]!, '-o', partialDir, '--allow-partial']);
    expect(partial.code, partial.stderr).toBe(EXIT_OK);
    expect(partial.stderr).toContain('warning: merging 2 of 3 shards (--allow-partial): shard(s) 2/3 missing');
    expect((await summary(partialDir))!.counts.total).toBe((sizes[0]! + sizes[2]!) * 2);
    expect((await readJson<RunRecord>(join(partialDir, 'run.json')))!.mergedFrom?.missing).toEqual(['2/3']);

    // A shard given twice (a copy of its directory) is refused, naming both.
    const copy = join(out, 'shard1-copy');
    await cp(shards[0]!, copy, { recursive: true });
    const twice = await runCli(['merge', shards[0]!, copy, shards[1]!, shards[2]!, '-o', join(out, 'twice')]);
    expect(twice.code).toBe(EXIT_USAGE);
    expect(twice.stderr).toContain(`shard 1/3 in ${shards[0]} and ${copy}`);
    // A run that is not a shard is refused too.
    const notShard = await runCli(['merge', whole, '-o', join(out, 'not-shard')]);
    expect(notShard.code).toBe(EXIT_USAGE);
    expect(notShard.stderr).toContain('is not a shard');

    // resume keeps a shard a shard (here: nothing left to do).
    const resumed = await runCli(['resume', shards[1]!]);
    expect(resumed.code, resumed.stderr).toBe(EXIT_OK);
    expect(resumed.stderr).toContain('shard 2/3: 4 of 13 task(s)');
    expect((await summary(shards[1]!))?.shard).toBe('2/3');
    expect((await summary(shards[1]!))?.counts.total).toBe(8);
  }, 900_000);

  it('nop with --fail-under: the merged summary equals the whole run’s, and merge exits as the run did', async () => {
    const { out, whole, shards } = await wholeAndShards('nop', ['--agent', 'nop', '--fail-under', '0.5'], EXIT_FAIL_UNDER);
    const merged = join(out, 'merged');
    const done = await runCli(['merge', ...shards, '-o', merged, '--json']);
    expect(done.code, done.stderr).toBe(EXIT_FAIL_UNDER);
    expect(done.stderr).toContain('is under --fail-under 0.5');
    const m = JSON.parse(done.stdout) as SummaryRecord;
    expect(m).toEqual(await summary(merged));
    expect(comparable(m)).toEqual(comparable(await summary(whole)));
    expect(m.counts).toMatchObject({ pass: 0, total: TASKS });
  }, 600_000);

  it('a shard dealt no task is an empty run: exit 0, and it says so', async () => {
    const out = await outDir();
    const runId = testRunId('shard-empty');
    const done = await runCli(['run', join(SUITES, 'smoke.yaml'), '--agent', 'oracle', '--limit', '2', '--shard', '3/3', '--fail-under', '1', '--out', out, '--run-id', runId]);
    expect(done.code, done.stderr).toBe(EXIT_OK);
    expect(done.stderr).toContain('shard 3/3 has no tasks (2 task(s) dealt over 3 shards): nothing to run');
    expect((await summary(join(out, runId)))).toMatchObject({ status: 'completed', shard: '3/3', counts: { total: 0 }, pending: 0 });
  }, 120_000);

  it('a bad --shard stops the run before anything is written (exit 2, naming --shard)', async () => {
    const out = await outDir();
    for (const [spec, text] of [['4/3', '--shard "4/3": the shard number must be between 1 and 3'], ['two', '--shard must be i/n with 1 <= i <= n']] as const) {
      const done = await runCli(['run', join(SUITES, 'smoke.yaml'), '--agent', 'oracle', '--shard', spec, '--out', out]);
      expect(done.code).toBe(EXIT_USAGE);
      expect(done.stderr).toContain(text);
    }
  });
});
