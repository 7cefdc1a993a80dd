// The progress reporters with an explicit TTY decision: plain lines for logs and CI, a
// redrawn window on a terminal; both end with the summary table.
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import type { ResultRecord, SummaryRecord } from '../../harness/index.ts';
import { fit } from './fit.ts';
import { resultLine, summaryTable } from './format.ts';
import { createReporter, isInteractive } from './index.ts';

function stream(isTTY: boolean): PassThrough & { isTTY: boolean; columns: number; text: () => string } {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text: () => string };
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  s.isTTY = isTTY;
  s.columns = 100;
  s.text = () => text;
  return s;
}

function result(id: string, outcome: ResultRecord['outcome'], score?: number): ResultRecord {
  return {
    version: 1,
    sampleId: id,
    taskId: id.split('__')[0]!,
    suite: 's',
    epoch: 1,
    agent: 'oracle',
    outcome,
    score,
    attempts: [],
    error: outcome === 'error' ? { kind: 'infra', code: 'CB_X', message: 'engine went away\nmore' } : undefined,
    retries: 0,
    retriedErrors: [],
    timings: { startedAt: '', endedAt: '', durationMs: 1234, environmentMs: 0, agentMs: 0, verifierMs: 0 },
  };
}

const summary: SummaryRecord = {
  version: 1,
  runId: 'r1',
  status: 'completed',
  agent: 'oracle',
  counts: { pass: 1, fail: 0, error: 1, total: 2 },
  pending: 0,
  errorsByKind: { infra: 1 },
  score: { mean: 1, stderr: 0, n: 1 },
  passAtK: { 1: 1 },
  passesByAttempt: { 1: 1 },
  perTask: {},
  retries: 0,
  timings: { startedAt: '', endedAt: '', durationMs: 65_000 },
};

function drive(reporter: ReturnType<typeof createReporter>): void {
  reporter.onRunStart?.({ runId: 'r1', runDir: '/runs/r1', agent: 'oracle', tasks: 2, total: 2, alreadyDone: 0 });
  reporter.onSampleStart?.({ id: 'a__e1', taskId: 'a', epoch: 1 });
  reporter.onSampleEnd?.(result('a__e1', 'pass', 1));
  reporter.onSampleEnd?.(result('b__e1', 'error'));
  reporter.onRunEnd?.(summary, { runDir: '/runs/r1', exitCode: 1, reasons: ['1 error(s), more than --max-errors 0'] });
}

describe('progress', () => {
  it('is interactive only on a TTY outside CI', () => {
    expect(isInteractive(stream(true) as unknown as NodeJS.WriteStream, {})).toBe(true);
    expect(isInteractive(stream(true) as unknown as NodeJS.WriteStream, { CI: 'true' })).toBe(false);
    expect(isInteractive(stream(false) as unknown as NodeJS.WriteStream, {})).toBe(false);
  });

  it('without a TTY: one plain line per finished sample, no escape codes, then the table', () => {
    const out = stream(false);
    drive(createReporter({ stream: out as unknown as NodeJS.WriteStream, tableStream: out, isTTY: false }));
    const text = out.text();
    expect(text).not.toContain('\x1b[');
    expect(text).toContain('[1/2] PASS  a__e1 score 1.00 1.2s');
    expect(text).toContain('[2/2] ERROR infra b__e1 1.2s: engine went away');
    expect(text).toMatch(/pass \/ fail \/ error\s+1 \/ 0 \/ 1/);
    expect(text).toMatch(/mean score\s+1\.000 ± 0\.000 \(n=1, errors excluded\)/);
    expect(text).toContain('cagebench: 1 error(s), more than --max-errors 0');
  });

  it('on a TTY: a live block with bar, counts and ETA, redrawn in place, cleared at the end', () => {
    const out = stream(true);
    drive(createReporter({ stream: out as unknown as NodeJS.WriteStream, tableStream: out, isTTY: true }));
    const text = out.text();
    expect(text).toMatch(/█+░*\s+\d\/2\s+pass \d\s+fail \d\s+error \d\s+elapsed \S+\s+eta \S+/);
    expect(text).toContain('\x1b[2A\x1b[0J'); // the two-line block is erased before each redraw
    expect(text).toContain('[1/2] PASS  a__e1');
    expect(text.trimEnd().endsWith('cagebench: 1 error(s), more than --max-errors 0')).toBe(true);
  });

  it('a pass after incorrect attempts says which attempt passed, in the line and in the table', () => {
    const line = resultLine({ ...result('a__e1', 'pass', 1), passedAttempt: 2, attempts: [{ attempt: 1, passed: false, agent: { timedOut: false, durationMs: 1 } }, { attempt: 2, passed: true, agent: { timedOut: false, durationMs: 1 } }] }, 1, 1);
    expect(line).toContain('a__e1 score 1.00 (on attempt 2)');
    expect(summaryTable({ ...summary, passesByAttempt: { 1: 3, 2: 1 } }, '/runs/r1')).toMatch(/passes by attempt +#1 3  #2 1/);
    expect(summaryTable(summary, '/runs/r1')).not.toContain('passes by attempt');
  });

  it('shows the graders\' model use apart from the agent\'s', () => {
    const use = (requests: number, costUsd: number) => ({ requests, inputTokens: 100 * requests, outputTokens: 10 * requests, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd });
    const table = summaryTable({ ...summary, usage: use(4, 0.02), graderUsage: use(2, 0.001) }, '/runs/r1');
    expect(table).toMatch(/model use +4 call\(s\), 400 in \/ 40 out tokens \(0 cached\), \$0\.0200/);
    expect(table).toMatch(/grader use +2 call\(s\), 200 in \/ 20 out tokens, \$0\.0010/);
    expect(summaryTable(summary, '/runs/r1')).not.toContain('grader use');
  });

  it('counts host tool calls, their failures and refusals, by tool', () => {
    const table = summaryTable({ ...summary, toolCalls: { count: 5, errors: 1, refused: 2, byTool: { lookup: 1, secret_value: 4 } } }, '/runs/r1');
    expect(table).toMatch(/host tool calls +5 \(1 failed, 2 refused over the limit\): secret_value 4, lookup 1/);
    expect(summaryTable(summary, '/runs/r1')).not.toContain('host tool calls');
  });

  it('on a terminal narrower than the live block: every redrawn line fits, so a redraw erases all of it (issue 12)', () => {
    const out = stream(true);
    out.columns = 30;
    const reporter = createReporter({ stream: out as unknown as NodeJS.WriteStream, tableStream: undefined, isTTY: true });
    reporter.onRunStart?.({ runId: 'r1', runDir: '/runs/r1', agent: 'oracle', tasks: 2, total: 2, alreadyDone: 0 });
    reporter.onSampleStart?.({ id: 'a-task-with-a-long-name__e1', taskId: 'a-task-with-a-long-name', epoch: 1 });
    reporter.onSampleStart?.({ id: 'another-long-task-name__e1', taskId: 'another-long-task-name', epoch: 1 });
    reporter.onSampleEnd?.(result('a-task-with-a-long-name__e1', 'pass', 1));
    reporter.onRunEnd?.(summary, { runDir: '/runs/r1', exitCode: 0, reasons: [] });
    // Each live block ends where the next erase (two rows up) begins; its lines start with a space.
    const chunks = out.text().split('\x1b[2A\x1b[0J');
    expect(chunks.length).toBeGreaterThan(2);
    const blocks = chunks.slice(0, -1).map((chunk) => chunk.split('\n').filter((l) => l.startsWith(' ')));
    for (const block of blocks) {
      expect(block).toHaveLength(2);
      for (const line of block) expect(Array.from(line).length).toBeLessThan(30);
    }
    expect(blocks.flat().some((l) => l.endsWith('…'))).toBe(true);
    expect(blocks.flat().some((l) => /^ 1\/2 {2}pass 1/.test(l))).toBe(true); // the bar gave way to the counts
  });

  it('fit cuts a line to a width with an ellipsis, by characters', () => {
    expect(fit('abcdef', 6)).toBe('abcdef');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('██████', 3)).toBe('██…');
    expect(fit('abc', 0)).toBe('');
  });
});

describe('a task error on the terminal', () => {
  it("shows a failed build's log tail under the result line once per task, in both reporters", () => {
    const broken = (id: string): ResultRecord => ({
      ...result(id, 'error'),
      error: { kind: 'task', code: 'CB_IMAGE_BUILD_FAILED', message: `Task t: the image did not build\n${Array.from({ length: 30 }, (_, i) => `log ${i + 1}`).join('\n')}` },
    });
    for (const tty of [false, true]) {
      const out = stream(tty);
      const reporter = createReporter({ stream: out as unknown as NodeJS.WriteStream, tableStream: out, isTTY: tty });
      reporter.onRunStart?.({ runId: 'r1', runDir: '/runs/r1', agent: 'oracle', tasks: 1, total: 2, alreadyDone: 0 });
      reporter.onSampleEnd?.(broken('t__e1'));
      reporter.onSampleEnd?.(broken('t__e2'));
      reporter.onRunEnd?.(summary, { runDir: '/runs/r1', exitCode: 4, reasons: [] });
      const text = out.text();
      expect(text).toContain('ERROR task t__e1');
      expect(text).toContain('    log 30');
      expect(text).toContain('    log 11'); // the last 20 lines
      expect(text).not.toContain('    log 10\n');
      expect(text.split('    log 30').length - 1).toBe(1); // the second sample does not repeat it
    }
  });
});
