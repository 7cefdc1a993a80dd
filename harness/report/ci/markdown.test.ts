import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { armFromRun } from '../../compare/arm.ts';
import { compareArms, type Comparison } from '../../compare/compare.ts';
import type { RunView } from '../../log/reader.ts';
import { PR_COMMENT_LIMIT, PR_COMMENT_MARKER, prComment } from './pr-comment.ts';
import { appendStepSummary, STEP_SUMMARY_LIMIT, stepSummary } from './step-summary.ts';
import { fakeView, uniform, type Cell } from './test-support.ts';

/** A big comparison: `n` tasks × 5 epochs, a third regressed, a sixth improved. */
function big(n: number, prefix = 't'): { view: RunView; comparison: Comparison } {
  const base: Record<string, readonly Cell[]> = {};
  const cand: Record<string, readonly Cell[]> = {};
  for (const [i, id] of Object.keys(uniform(n, [], prefix)).entries()) {
    base[id] = i % 6 === 5 ? [0, 0, 1, 0, 0] : [1, 1, 1, 1, 0];
    cand[id] = i % 3 === 0 ? [0, 1, 0, 0, 0] : i % 6 === 5 ? [1, 1, 1, 1, 1] : [1, 1, 1, 1, 0];
  }
  const b = fakeView({ runId: 'base', tasks: base });
  const view = fakeView({ runId: 'cand', tasks: cand, model: 'anthropic/claude-x' });
  return { view, comparison: compareArms(armFromRun(b), armFromRun(view)) };
}

const temp: string[] = [];
afterAll(async () => {
  await Promise.all(temp.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the sticky comment', () => {
  it('small: marker once, verdict with emoji, Δ with CI and N × K, base x/K → cand y/K, pass@k and pass^k, usage, full tables in <details>, report link', () => {
    const base = fakeView({ runId: 'b1', tasks: uniform(12, [1, 1, 1]) });
    const view = fakeView({ runId: 'c1', tasks: { ...uniform(12, [1, 1, 1]), t0000: [0, 0, 0], t0001: [0, 0, 0], t0002: [0, 0, 0], t0003: [0, 1, 0], t0004: [1, 'e', 1] } });
    const comparison = compareArms(armFromRun(base), armFromRun(view));
    const body = prComment({ view, comparison, reportUrl: 'https://example.test/artifacts/42' });
    expect(body.startsWith(`${PR_COMMENT_MARKER}\n`)).toBe(true);
    expect(body.split(PR_COMMENT_MARKER)).toHaveLength(2);
    expect(body).toContain('## ❌ cagebench: FAIL');
    expect(body).toMatch(/\*\*Δ −30\.6 pts\*\* \(95% CI \[−59\.8, −1\.4\]\) · mean 100\.0% → 69\.4% · \*\*12 tasks × 3 epochs\*\*/);
    expect(body).toContain('| `t0000` | 3/3 | 0/3 | −100.0 |');
    expect(body).toContain('| `t0003` | 3/3 | 1/3 | −66.7 |');
    expect(body).toContain('| k | pass@k | Δ pts | pass^k | Δ pts | tasks |');
    expect(body).toContain('| cost per sample | $0.0120 | $0.0120 | +0% |');
    expect(body).toContain('<details><summary>All regressed tasks (4)</summary>');
    expect(body).toContain('🔴 **3 newly broken**');
    expect(body).toContain('[Open the HTML report](https://example.test/artifacts/42)');
    expect(body).not.toContain('Trimmed');
  });

  it('5,000 tasks: under 60,000 characters, the marker once, trimmed full tables and a note saying so', () => {
    const { view, comparison } = big(5000);
    expect(comparison.tasks.filter((t) => t.diff < 0).length).toBeGreaterThan(1000);
    const body = prComment({ view, comparison });
    expect(body.length).toBeLessThanOrEqual(PR_COMMENT_LIMIT);
    expect(body.length).toBeGreaterThan(PR_COMMENT_LIMIT * 0.8);
    expect(body.split(PR_COMMENT_MARKER)).toHaveLength(2);
    expect(body).toContain('### Top regressions');
    expect(body).toMatch(/Trimmed to stay under the 60,000-character comment limit: the full tables show their first \d+ rows/);
    expect(body).toMatch(/… \d+ more row\(s\) left out\./);
    // <details> stay balanced after trimming.
    expect((body.match(/<details>/g) ?? []).length).toBe((body.match(/<\/details>/g) ?? []).length);
  });

  it('a tiny limit gives up the full tables, then the top lists, and never goes over', () => {
    const { view, comparison } = big(300);
    const bodies = [20_000, 3_000, 2_000, 1_200, 600].map((max) => {
      const body = prComment({ view, comparison }, max);
      expect(body.length).toBeLessThanOrEqual(max);
      expect(body.startsWith(PR_COMMENT_MARKER)).toBe(true);
      return body;
    });
    expect(bodies[0]).toMatch(/the full tables show their first \d+ rows/);
    expect(bodies.some((b) => b.includes('the full tables are left out'))).toBe(true);
    expect(bodies.at(-1)).toContain('Cut to stay under the 600-character comment limit');
  });
});

describe('the job summary', () => {
  it('5,000 tasks fit in 1 MiB whole; longer task ids are trimmed under it with a note', () => {
    const { view, comparison } = big(5000);
    const text = stepSummary({ view, comparison });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    expect(text).toContain('## ❌ cagebench: FAIL');
    const long = big(5000, `${'very-long-task-name-'.repeat(12)}`);
    const trimmed = stepSummary(long);
    expect(Buffer.byteLength(trimmed)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    expect(Buffer.byteLength(trimmed)).toBeGreaterThan(STEP_SUMMARY_LIMIT * 0.9);
    expect(trimmed).toContain("Trimmed to stay under GitHub's 1 MiB job summary limit");
  });

  it('without a comparison: the run, its outcome counts and score, and the samples that did not pass', () => {
    const view = fakeView({ runId: 'solo', tasks: { a: [1, 0], b: ['e', null] } });
    const text = stepSummary({ view });
    expect(text).toContain('## cagebench run `solo`');
    expect(text).toContain('| Pass | Fail | Error | Pending | Mean score |');
    expect(text).toContain('| 1 | 1 | 1 (infra 1) | 1 | 0.500 ± 0.010 |');
    expect(text).toContain('<details><summary>Samples that did not pass (2)</summary>');
    expect(text).toContain('| `b__e1` | error (infra) | — | infra: the Docker engine hung up |');
    expect(text).toContain('test\\_a failed'.replace('\\_', '_'));
    expect(text).toContain('&lt;&amp;&gt;');
  });

  it('host tool calls: a line with their count, failures and tools when samples made any, none otherwise', () => {
    const view = fakeView({ runId: 'tools', tasks: { a: [1, 0], b: [1] } });
    expect(stepSummary({ view })).not.toContain('Host tool calls');
    const [a1, a2, b1] = view.results;
    const withTools: RunView = {
      ...view,
      results: [
        { ...a1!, toolCalls: { count: 3, errors: 1, byTool: { secret_value: 2, lookup: 1 } } },
        { ...a2!, toolCalls: { count: 0, errors: 0, byTool: {} } },
        { ...b1!, toolCalls: { count: 2, errors: 0, byTool: { secret_value: 2 }, refused: 1 } },
      ],
    };
    expect(stepSummary({ view: withTools })).toContain('Host tool calls: **5** (1 failed, 1 refused over the limit) in 2 sample(s) · `secret_value` 4, `lookup` 1\n');
  });

  it('appends, never overwrites, and counts what the file already holds against the limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-summary-'));
    temp.push(dir);
    const file = join(dir, 'summary.md');
    await writeFile(file, '# earlier step\n' + 'x'.repeat(STEP_SUMMARY_LIMIT - 200_000));
    const { view, comparison } = big(5000);
    await appendStepSummary(file, { view, comparison });
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('# earlier step\n')).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    expect(text).toContain('Trimmed');
  });
});
