import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestId, validate } from 'ctrf';
import { afterAll, describe, expect, it } from 'vitest';
import { armFromRun } from '../../compare/arm.ts';
import { compareArms } from '../../compare/compare.ts';
import { readRunDir } from '../../log/reader.ts';
import { toCtrf } from './ctrf.ts';
import { reportIdOf, uuidV5 } from './ids.ts';
import { fakeView, uniform, writeFakeRun } from './test-support.ts';

function valid(report: unknown): void {
  const result = validate(report);
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
  // What a consumer reads back from the file.
  expect(validate(JSON.parse(JSON.stringify(report))).valid).toBe(true);
}

const temp: string[] = [];
afterAll(async () => {
  await Promise.all(temp.map((d) => rm(d, { recursive: true, force: true })));
});

describe('toCtrf', () => {
  it('is a valid CTRF report with one test per sample: pass, fail, error (other + rawStatus) and pending', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cb-ctrf-'));
    temp.push(out);
    const dir = await writeFakeRun(out, { runId: 'r1', model: 'anthropic/claude-x', tasks: { a: [1, 0, 'e'], b: [1, 't', null] } });
    const report = toCtrf(await readRunDir(dir), undefined, { env: { GITHUB_ACTIONS: 'true', GITHUB_SHA: 'abc', GITHUB_REPOSITORY: 'o/r', GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '7', GITHUB_RUN_NUMBER: '3' } });
    valid(report);
    expect(report.results.summary).toMatchObject({ tests: 6, passed: 2, failed: 1, skipped: 0, pending: 1, other: 2, suites: 1 });
    expect(report.results.tests.map((t) => t.name)).toEqual(['a__e1', 'a__e2', 'a__e3', 'b__e1', 'b__e2', 'b__e3']);
    const byName = new Map(report.results.tests.map((t) => [t.name, t]));
    expect(byName.get('a__e1')).toMatchObject({ status: 'passed', duration: 45000, suite: ['a'], labels: { task: 'a', epoch: 1, agent: 'claude_code', model: 'anthropic/claude-x' }, extra: { score: 1, outcome: 'pass', tokens: 1200, cost_usd: 0.012, trajectory: 'samples/a__e1/agent/trajectory.json' } });
    expect(byName.get('a__e2')).toMatchObject({ status: 'failed', message: expect.stringMatching(/^score 0: test_a failed/) });
    expect(byName.get('a__e3')).toMatchObject({ status: 'other', rawStatus: 'error', message: 'infra: the Docker engine hung up', extra: { outcome: 'error', error_kind: 'infra' } });
    expect(byName.get('a__e3')!.extra.trajectory).toBeUndefined();
    expect(byName.get('b__e2')).toMatchObject({ status: 'other', rawStatus: 'error', message: 'timeout: the agent ran past 600 s' });
    expect(byName.get('b__e3')).toMatchObject({ status: 'pending', duration: 0 });
    expect(report.results.environment).toMatchObject({ commit: 'abc', buildUrl: 'https://github.com/o/r/actions/runs/7', buildNumber: 3 });
    expect(report).toMatchObject({ reportFormat: 'CTRF', reportId: reportIdOf('r1'), runId: 'r1', generatedBy: expect.stringMatching(/^cagebench \d/) });
    expect(report.baseline).toBeUndefined();
    expect(report.insights).toBeUndefined();
  });

  it('with a comparison: the baseline and the pass-rate change at the root, the verdict and Δ in extra, per-task insights', () => {
    const base = fakeView({ runId: 'base-1', tasks: uniform(12, [1, 1, 1]) });
    const cand = fakeView({ runId: 'cand-1', tasks: { ...uniform(12, [1, 1, 1]), t0000: [0, 0, 0], t0001: [0, 0, 0], t0002: [0, 0, 0], t0003: [0, 0, 0] } });
    const c = compareArms(armFromRun(base), armFromRun(cand));
    expect(c.verdict).toBe('FAIL');
    const report = toCtrf(cand, c);
    valid(report);
    expect(report.baseline).toMatchObject({ reportId: reportIdOf('base-1'), source: '/runs/base-1', extra: { runId: 'base-1' } });
    expect(report.insights!.passRate.baseline).toBe(1);
    expect(report.insights!.passRate.current).toBeCloseTo(8 / 12, 12);
    expect(report.insights!.passRate.change).toBeCloseTo(-4 / 12, 12);
    expect(report.extra.comparison).toMatchObject({ verdict: 'FAIL', pairs: 12, delta: { mean: expect.closeTo(-1 / 3, 12) }, newlyBroken: ['t0000', 't0001', 't0002', 't0003'] });
    expect(report.results.tests.find((t) => t.name === 't0000__e1')!.insights).toEqual({ passRate: { current: 0, baseline: 1, change: -1 } });
  });

  it('an unknown field would be refused by the schema (additionalProperties: false), so extras stay in extra', () => {
    const report = toCtrf(fakeView({ runId: 'r2', tasks: { a: [1] } }));
    valid(report);
    expect(validate({ ...report, score: 1 }).valid).toBe(false);
    const [test] = report.results.tests;
    expect(validate({ ...report, results: { ...report.results, tests: [{ ...test, score: 1 }] } }).valid).toBe(false);
  });

  it('ids: UUID v5 as the ctrf reference derives testId', () => {
    expect(uuidV5('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const report = toCtrf(fakeView({ runId: 'r3', tasks: { a: [1] } }));
    const t = report.results.tests[0]!;
    expect(t.testId).toBe(generateTestId({ name: t.name, suite: [...t.suite], filePath: t.filePath }));
  });
});
