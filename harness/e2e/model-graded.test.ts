// A model-graded suite end to end, on real Docker: the oracle answers, scripted grader models
// (mock provider) judge. Each sample's grader gives another verdict, so the scores differ (1,
// 0.5, 0, a majority); a grader that never answers in the format ends its sample as a scored
// error while the others score; a later turn's grader is asked about that turn; grader use is
// accounted apart from the agent's; the grader's prompt and reply are in events.jsonl. Then
// `rescore` grades the saved run again.
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { rescore } from '../commands/rescore.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

const grader = (name: string): string => `mock/${join(FIXTURES, 'graders', `${name}.yaml`)}`;

const SUITE = [
  'name: graded',
  'environment: { image: "cagebench/sandbox:bookworm", workdir: /workspace, network: none }',
  'samples:',
  // The run's --grader-model grades it; the grader also sees a file and the workdir's diff.
  '  - id: correct',
  '    instruction: Review loop.py and write your review to review.md.',
  '    files: { loop.py: "for i in range(len(xs) + 1): print(xs[i])\\n" }',
  '    solution: [ "echo \'range goes one past the end\' > review.md", "echo Reviewed: off by one." ]',
  '    scorer: { type: model_graded, rubric: "Names the off-by-one error.", input: [answer, { file: review.md }, diff] }',
  '  - id: partial',
  '    instruction: Explain the bug and propose a fix.',
  '    solution: echo "The loop runs one step too far."',
  `    scorer: { type: model_graded, rubric: "Explains and fixes it.", model: "${grader('partial')}", partial_credit: true }`,
  '  - id: incorrect',
  '    instruction: Which line is wrong?',
  '    solution: echo "Line 7."',
  `    scorer: { type: model_graded, rubric: "Line 1 is wrong.", model: "${grader('incorrect')}" }`,
  // Two of three graders say C (one only after being asked again).
  '  - id: majority',
  '    instruction: Is the design sound?',
  '    solution: echo "Mostly, but the cache is unbounded."',
  `    scorer: { type: model_graded, rubric: "Spots the unbounded cache.", graders: ["${grader('correct')}", "${grader('incorrect')}", "${grader('late')}"] }`,
  '  - id: garbage',
  '    instruction: Review it.',
  '    solution: echo "LGTM."',
  `    scorer: { type: model_graded, rubric: "Any review.", model: "${grader('garbage')}" }`,
  // A later turn's grader is asked about that turn's prompt.
  '  - id: turns',
  '    instruction: Write notes.txt.',
  '    solution: echo draft > notes.txt',
  '    scorer: { type: file, path: notes.txt, contains: draft }',
  '    turns:',
  '      - prompt: Now summarise the notes in one line.',
  `        solution: 'echo "Notes: a draft."'`,
  '        scorer: { type: model_graded, rubric: "A one-line summary." }',
].join('\n');

describe('model_graded scorer', () => {
  it('scores from scripted graders, a malformed grader answer is a scored error, grader use stays apart; rescore grades again', async () => {
    const dir = await outDir();
    const suite = join(dir, 'graded.yaml');
    await writeFile(suite, `${SUITE}\n`);
    const runId = testRunId('graded');
    const outcome = await run({ paths: [suite], agent: 'oracle', graderModel: grader('correct'), out: dir, runId, concurrency: 6, maxErrors: 5 });
    const byId = Object.fromEntries((await results(outcome.runDir)).map((r) => [r.taskId, r]));

    expect(Object.fromEntries(Object.entries(byId).map(([id, r]) => [id, [r.outcome, r.score ?? null]]))).toEqual({
      correct: ['pass', 1],
      partial: ['fail', 0.5],
      incorrect: ['fail', 0],
      majority: ['pass', 1],
      garbage: ['error', null],
      turns: ['pass', 1],
    });
    expect(byId.garbage!.error).toMatchObject({ kind: 'task', code: 'CB_GRADER_INVALID' });
    expect(byId.garbage!.error!.message).toContain('no valid verdict');
    expect(byId.garbage!.retries).toBe(0); // not infra: the agent is not run again
    expect(byId.majority!.attempts[0]!.explanation).toContain('grade C by majority of 3 verdict(s) from 3 grader(s)');

    // The oracle uses no model: all model use here is the graders', and it is kept apart.
    for (const r of Object.values(byId)) {
      expect(r.usage).toBeUndefined();
      expect(r.graderUsage!.inputTokens).toBeGreaterThan(0);
    }
    expect(byId.majority!.graderUsage!.requests).toBe(4); // late.yaml was asked twice
    expect(byId.garbage!.graderUsage!.requests).toBe(3);
    expect(outcome.summary.usage).toBeUndefined();
    expect(outcome.summary.graderUsage!.requests).toBe(1 + 1 + 1 + 4 + 3 + 1);
    expect(outcome.summary.counts).toMatchObject({ pass: 3, fail: 2, error: 1 });
    const turn = (await sampleEvents(outcome.runDir, byId.turns!.sampleId)).find((e) => e.type === 'grader.call');
    expect(turn).toMatchObject({ turn: 2, verdict: 'C' });
    expect(turn!.prompt).toContain('[Task given to the agent]\nNow summarise the notes in one line.');
    expect(turn!.prompt).toContain('Notes: a draft.');

    // The grader's whole prompt and reply are in the log.
    const calls = (await sampleEvents(outcome.runDir, byId.correct!.sampleId)).filter((e) => e.type === 'grader.call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ model: grader('correct'), verdict: 'C', answer: 'GRADE: C\nEXPLANATION: The answer names the off-by-one error.', attempt: 1 });
    for (const part of ['Review loop.py', 'Reviewed: off by one.', 'File review.md:\nrange goes one past the end', '+++ b/review.md', 'Names the off-by-one error.']) {
      expect(calls[0]!.prompt).toContain(part);
    }
    const garbage = (await sampleEvents(outcome.runDir, byId.garbage!.sampleId)).filter((e) => e.type === 'grader.call');
    expect(garbage.map((e) => [e.try, e.answer, e.invalid])).toEqual([1, 2, 3].map((n) => [n, 'What a lovely review! I would give it a solid B+.', 'no "GRADE: C|P|I" line']));
    expect(await leftovers(runId)).toBe(0);

    // Rescore restores each workdir and asks the graders again: the same scores, new grader use.
    const again = await rescore(outcome.runDir, { runId: testRunId('graded-rescore'), concurrency: 4 });
    expect(again.notRescored.map((n) => n.sampleId).sort()).toEqual([byId.garbage!.sampleId, byId.turns!.sampleId]);
    expect(again.samples.map((s) => [s.sampleId.split('__')[0], s.after.score])).toEqual([
      ['correct', 1],
      ['incorrect', 0],
      ['majority', 1],
      ['partial', 0.5],
    ]);
    expect(again.summary.graderUsage!.requests).toBe(1 + 1 + 4 + 1);
    const regraded = (await sampleEvents(again.runDir, byId.correct!.sampleId)).find((e) => e.type === 'grader.call');
    expect(regraded!.prompt).toBe(calls[0]!.prompt);
  }, 300_000);

  // A Harbor task keeps its verifier's verdict; an extra scorer in [[metadata.cagebench.scorers]] adds its value.
  it('runs a Harbor task\'s extra model_graded scorer after test.sh; its malformed grader answer is an error', async () => {
    const dir = await outDir();
    const suiteDir = join(dir, 'harbor');
    const task = async (id: string, graderName: string): Promise<void> => {
      const root = join(suiteDir, id);
      await mkdir(join(root, 'tests'), { recursive: true });
      await mkdir(join(root, 'solution'), { recursive: true });
      await writeFile(
        join(root, 'task.toml'),
        [
          '[environment]',
          'docker_image = "cagebench/sandbox:bookworm"',
          'network_mode = "no-network"',
          'workdir = "/workspace"',
          '[[metadata.cagebench.scorers]]',
          'name = "review"',
          'type = "model_graded"',
          'rubric = "Explains the bug."',
          `model = "${grader(graderName)}"`,
          'partial_credit = true',
          '',
        ].join('\n'),
      );
      await writeFile(join(root, 'instruction.md'), 'Explain the bug.\n');
      await writeFile(join(root, 'tests', 'test.sh'), '#!/bin/bash\nmkdir -p /logs/verifier && echo 1 > /logs/verifier/reward.txt\n');
      await writeFile(join(root, 'solution', 'solve.sh'), '#!/bin/bash\necho "The loop runs one step too far."\n');
    };
    await task('graded', 'partial');
    await task('garbled', 'garbage');
    const runId = testRunId('harbor-extra');
    const outcome = await run({ paths: [suiteDir], agent: 'oracle', out: dir, runId, concurrency: 2, maxErrors: 5 });
    const byId = Object.fromEntries((await results(outcome.runDir)).map((r) => [r.taskId, r]));

    expect(byId.graded).toMatchObject({ outcome: 'pass', score: 1, values: { reward: 1, review: 0.5 } });
    expect(byId.graded!.attempts[0]!.explanation).toContain('review: ');
    expect(byId.graded!.graderUsage!.requests).toBe(1);
    const calls = (await sampleEvents(outcome.runDir, byId.graded!.sampleId)).filter((e) => e.type === 'grader.call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ verdict: 'P' });
    expect(calls[0]!.prompt).toContain('Explain the bug.');

    expect(byId.garbled!.outcome).toBe('error');
    expect(byId.garbled!.error).toMatchObject({ code: 'CB_GRADER_INVALID' });
    expect(await leftovers(runId)).toBe(0);

    // Rescore runs the extra scorer again.
    const again = await rescore(outcome.runDir, { runId: testRunId('harbor-extra-rescore'), concurrency: 2 });
    expect(again.samples.map((x) => [x.sampleId, x.after.outcome])).toEqual([[byId.graded!.sampleId, 'pass']]);
    const regraded = (await results(again.runDir)).find((r) => r.taskId === 'graded');
    expect(regraded).toMatchObject({ outcome: 'pass', values: { reward: 1, review: 0.5 } });
    expect(regraded!.graderUsage!.requests).toBe(1);
  }, 120_000);
});
