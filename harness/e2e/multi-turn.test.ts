// Multi-turn samples end to end, real Docker: a suite whose samples script follow-up turns.
// - the oracle runs each sample's solution, then each turn's (none: nothing), and passes with
//   every scored turn recorded; nop fails them, so `tasks check --oracle` finds no problem;
// - claude_code with a scripted model continues its own session turn after turn (the mock's
//   steps run on across turns because each turn resumes the conversation) and passes, every
//   turn scored;
// - a model that does the wrong thing on turn 2 fails the sample (its last scored turn checks
//   the whole file), and the turns' scores show where it went wrong.
import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { checkTasks, run } from '../index.ts';
import type { TurnRecord } from '../log/schema.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

const SUITE = join(FIXTURES, 'multi-turn.yaml');

/** Each turn as [turn, passed] (undefined: not scored). */
const verdicts = (turns: readonly TurnRecord[] | undefined) => turns?.map((t) => [t.turn, t.passed]);

describe('multi-turn samples', () => {
  it('oracle: the sample solution, then each turn solution; every sample passes with its turns scored', async () => {
    const runId = testRunId('multi-turn-oracle');
    const done = await run({ paths: [SUITE], agent: 'oracle', out: await outDir(), runId });
    const all = await results(done.runDir);
    expect(all.map((x) => [x.sampleId, x.outcome, x.error?.message])).toEqual(expect.arrayContaining([['notes__e1', 'pass', undefined], ['notes-kept__e1', 'pass', undefined]]));
    const r = all.find((x) => x.taskId === 'notes')!;
    const k = all.find((x) => x.taskId === 'notes-kept')!;
    expect(r.turns!.map((t) => ({ turn: t.turn, prompt: t.prompt, scored: t.scored, score: t.score, passed: t.passed }))).toEqual([
      { turn: 1, prompt: undefined, scored: true, score: 1, passed: true },
      { turn: 2, prompt: 'Now add the line two.', scored: true, score: 1, passed: true },
      { turn: 3, prompt: 'Replace notes.txt with other.txt holding three.', scored: true, score: 1, passed: true },
    ]);
    expect(r.decidingTurn).toBe(3);
    // One attempt, decided by the last scored turn; each turn's changes are its own.
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]).toMatchObject({ attempt: 1, passed: true, score: 1 });
    expect(r.attempts[0]!.explanation!.split('\n')[0]).toBe('turn 1 passed (1), turn 2 passed (1), turn 3 passed (1)');
    expect(r.passedAttempt).toBe(1);
    expect(r.turns!.map((t) => t.changes)).toMatchObject([
      { created: ['notes.txt'], modified: [], deleted: [] },
      { created: [], modified: ['notes.txt'], deleted: [] },
      { created: ['other.txt'], modified: [], deleted: ['notes.txt'] },
    ]);
    expect((await readdir(join(done.runDir, 'samples', r.sampleId, 'agent'))).sort()).toEqual(['oracle-attempt-1.txt', 'oracle-attempt-2.txt', 'oracle-attempt-3.txt']);

    // A turn without a scorer is played, not scored; a turn without a solution runs nothing under the oracle.
    expect(verdicts(k.turns)).toEqual([[1, true], [2, true], [3, undefined], [4, true]]);
    expect(k.turns![2]).toMatchObject({ scored: false, changes: { created: [], modified: [], deleted: [] } });
    expect(k.turns![2]).not.toHaveProperty('score');
    expect(k.decidingTurn).toBe(4);
    const events = await sampleEvents(done.runDir, k.sampleId);
    expect(events.filter((e) => e.type === 'turn.start').map((e) => e.turn)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.type === 'score').map((e) => e.turn)).toEqual([1, 2, 4]);
    expect(events.filter((e) => e.type === 'turn.fresh_run').map((e) => e.turn)).toEqual([2, 3, 4]);
    expect(done.summary.counts).toMatchObject({ pass: 2, fail: 0, error: 0 });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('tasks check --oracle validates a multi-turn suite: the oracle passes, nop fails', async () => {
    const checked = await checkTasks([SUITE], { oracle: true, out: await outDir() });
    expect(checked.problems).toEqual([]);
    const nop = await results(checked.runs[1]!.runDir);
    expect(nop.map((r) => [r.sampleId, r.outcome, verdicts(r.turns)])).toEqual(
      expect.arrayContaining([
        ['notes__e1', 'fail', [[1, false], [2, false], [3, false]]],
        ['notes-kept__e1', 'fail', [[1, false], [2, false], [3, undefined], [4, false]]],
      ]),
    );
    expect(nop).toHaveLength(2);
  }, 300_000);

  it('claude_code continues its session turn after turn and passes, every turn scored', async () => {
    const runId = testRunId('multi-turn-claude');
    const done = await run({ paths: [SUITE], task: 'notes', agent: 'claude_code', model: `mock/${join(FIXTURES, 'three-turns.yaml')}`, out: await outDir(), runId });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message).toBe('pass');
    expect(verdicts(r!.turns)).toEqual([[1, true], [2, true], [3, true]]);
    expect(r!.turns!.map((t) => t.agent.finalMessage)).toEqual(['created notes.txt', 'modified notes.txt', 'replaced notes.txt with other.txt']);
    // Each turn resumed the first turn's session, and the bridge counted each turn's calls apart.
    const sessionId = r!.turns![0]!.agent.sessionId;
    expect(sessionId).toEqual(expect.any(String));
    expect(r!.turns!.map((t) => t.agent.sessionId)).toEqual([sessionId, sessionId, sessionId]);
    for (const t of r!.turns!) expect(t.modelUsage?.requests, `turn ${t.turn}`).toBeGreaterThanOrEqual(2);
    expect(r!.attempts[0]!.modelUsage?.requests).toBe(r!.turns!.reduce((n, t) => n + t.modelUsage!.requests, 0));
    expect(await readdir(join(done.runDir, 'samples', r!.sampleId, 'agent'))).toEqual(expect.arrayContaining(['claude-attempt-1.jsonl', 'claude-attempt-2.jsonl', 'claude-attempt-3.jsonl']));
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('a model that does the wrong thing on turn 2 fails the sample, and the turn scores show which turn failed', async () => {
    const runId = testRunId('multi-turn-wrong');
    const done = await run({ paths: [SUITE], task: 'notes-kept', agent: 'claude_code', model: `mock/${join(FIXTURES, 'multi-turn-wrong.yaml')}`, offline: true, out: await outDir(), runId });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message).toBe('fail');
    expect(verdicts(r!.turns)).toEqual([[1, true], [2, false], [3, undefined], [4, false]]);
    expect(r!.turns!.map((t) => t.score)).toEqual([1, 0, undefined, 0]);
    expect(r!.turns![2]!.agent.finalMessage).toBe('notes.txt has the lines one and 2');
    expect(r!.decidingTurn).toBe(4);
    expect(r!.score).toBe(0);
    expect(r!.passedAttempt).toBeUndefined();
    expect(r!.attempts[0]!.explanation!.split('\n')[0]).toBe('turn 1 passed (1), turn 2 failed (0), turn 4 failed (0)');
    expect(done.summary.counts).toMatchObject({ pass: 0, fail: 1 });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
