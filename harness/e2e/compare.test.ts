// The regression gate end to end: real runs of the bundled smoke suites (Harbor directories
// and the YAML suite, 13 tasks), through the real CLI and its exit codes. Two oracle runs
// pass; Claude Code driven by a scripted model that sabotages about half of the tasks fails,
// in one step with `run --baseline`, and again with `compare` against a saved baseline file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validate } from 'ctrf';
import { describe, expect, it } from 'vitest';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import type { Comparison } from '../compare/compare.ts';
import { EXIT_FAIL_UNDER, EXIT_OK } from '../exit-codes.ts';
import { cli, FIXTURES, leftovers, outDir, SUITES } from './support.ts';

const SUITE = [join(SUITES, 'smoke'), join(SUITES, 'smoke.yaml')];

async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return cli(args, env).exited;
}

describe('compare, on real runs', () => {
  it('two oracle runs PASS; a sabotaged solution FAILs with exit 1, in one step and from a saved baseline', async () => {
    const out = await outDir();
    const [a, b] = [testRunId('cmp-oracle-a'), testRunId('cmp-oracle-b')];
    for (const runId of [a, b]) {
      const done = await runCli(['run', ...SUITE, '--agent', 'oracle', '--out', out, '--run-id', runId, '--concurrency', '4']);
      expect(done.code, done.stderr).toBe(EXIT_OK);
    }

    const same = await runCli(['compare', join(out, a), join(out, b)]);
    expect(same.code, same.stdout + same.stderr).toBe(EXIT_OK);
    expect(same.stdout).toMatch(/^PASS {2}no regression/);
    expect(same.stdout).toContain('Δ +0.0 pts, 95% CI [+0.0, +0.0] (paired t over 13 tasks × 1 epoch)');

    // The baseline file a repository would commit.
    const baseline = join(out, 'baseline.json');
    const saved = await runCli(['baseline', 'save', join(out, a), '-o', baseline]);
    expect(saved.code, saved.stderr).toBe(EXIT_OK);
    expect(saved.stdout).toContain('13 tasks, 13 samples');
    expect((await readFile(baseline, 'utf8')).length).toBeLessThan(8_000);

    // One step, as CI runs it: the candidate run compared with the baseline as it finishes.
    const sabotaged = testRunId('cmp-sabotage');
    // …writing every CI surface, as inside GitHub Actions.
    const files = { ctrf: join(out, 'ctrf.json'), junit: join(out, 'junit.xml'), comment: join(out, 'comment.md'), summary: join(out, 'step-summary.md') };
    const cand = await runCli(
      [
        'run', ...SUITE, '--agent', 'claude_code', '--model', `mock/${join(FIXTURES, 'mock-sabotage.yaml')}`,
        '--out', out, '--run-id', sabotaged, '--concurrency', '4', '--baseline', baseline,
        '--ctrf', files.ctrf, '--junit', files.junit, '--pr-comment', files.comment,
      ],
      { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: files.summary },
    );
    expect(cand.code, cand.stdout + cand.stderr).toBe(EXIT_FAIL_UNDER);
    expect(cand.stdout).toMatch(/^FAIL {2}the candidate is worse/m);
    const comparison = JSON.parse(await readFile(join(out, sabotaged, 'compare.json'), 'utf8')) as Comparison;
    expect(comparison.verdict).toBe('FAIL');
    expect(comparison.pairs).toBe(13);
    expect(comparison.base.kind).toBe('baseline');
    // About half broke, each K/K → 0/K, and the text names them the same way.
    expect(comparison.newlyBroken.length).toBeGreaterThanOrEqual(4);
    expect(comparison.newlyBroken.length).toBeLessThanOrEqual(9);
    expect(comparison.delta!.ci[1]).toBeLessThan(0);
    for (const t of comparison.newlyBroken) expect(cand.stdout).toContain(`${t.taskId}  base 1/1 → cand 0/1  (−100.0 pts)`);
    expect(comparison.cand.tokens).toBeGreaterThan(0);

    // CTRF validates against the reference schema; an error-free run has no `other`.
    const ctrf = JSON.parse(await readFile(files.ctrf, 'utf8')) as { results: { summary: { tests: number; failed: number }; tests: { name: string }[] } };
    expect(validate(ctrf).valid).toBe(true);
    expect(ctrf.results.summary).toMatchObject({ tests: 13, failed: comparison.newlyBroken.length });
    expect(new Set(ctrf.results.tests.map((t) => t.name)).size).toBe(13);
    const junit = await readFile(files.junit, 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(13);
    expect(junit.match(/<failure /g)).toHaveLength(comparison.newlyBroken.length);
    const comment = await readFile(files.comment, 'utf8');
    expect(comment).toMatch(/^<!-- cagebench-compare -->/);
    expect(comment.length).toBeLessThan(60_000);
    const stepSummary = await readFile(files.summary, 'utf8');
    expect(Buffer.byteLength(stepSummary)).toBeLessThan(1024 * 1024);
    expect(stepSummary).toContain('FAIL');
    // One ::error per regressed task (at most 10), on its task.toml.
    const errors = cand.stdout.split('\n').filter((line) => line.startsWith('::error '));
    expect(errors).toHaveLength(comparison.newlyBroken.length);
    for (const line of errors) expect(line).toMatch(/^::error file=[^,]+(task\.toml|smoke\.yaml),/);

    // The same verdict from the two run directories, and as JSON.
    const again = await runCli(['compare', baseline, join(out, sabotaged), '--json']);
    expect(again.code).toBe(EXIT_FAIL_UNDER);
    expect((JSON.parse(again.stdout) as Comparison).delta!.mean).toBeCloseTo(comparison.delta!.mean, 12);

    for (const runId of [a, b, sabotaged]) expect(await leftovers(runId)).toBe(0);
  }, 600_000);

  it('a baseline that cannot be read stops the run before anything runs (exit 2)', async () => {
    const out = await outDir();
    const bad = await runCli(['run', join(SUITES, 'smoke.yaml'), '--agent', 'oracle', '--out', out, '--baseline', join(out, 'missing.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('missing.json does not exist: give a run directory or a baseline file');
  });
});
