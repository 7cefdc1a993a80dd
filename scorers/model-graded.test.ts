// The model-graded scorer with a fake grader: verdict parsing (line and JSON forms, garbage),
// retries of unreadable replies, majority of several graders, partial credit off and on.
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../sandboxes/index.ts';
import type { ModelGradedSpec } from '../tasks/index.ts';
import { createScorer, ScoreError, type GradeRequest, type Grader, type ScoreContext } from './index.ts';
import { gradeValue, majority, parseVerdict } from './verdict.ts';

describe('parseVerdict', () => {
  it.each([
    ['GRADE: C\nEXPLANATION: all there', 'C', 'all there'],
    ['GRADE: P\nEXPLANATION: half of it', 'P', 'half of it'],
    ['GRADE: I\nEXPLANATION: wrong', 'I', 'wrong'],
    ['grade: c\nexplanation: fine', 'C', 'fine'],
    ['The review is thorough.\n**GRADE:** C', 'C', 'The review is thorough.'],
    ['{"grade": "p", "explanation": "some of it"}', 'P', 'some of it'],
    ['```json\n{"grade": "I", "explanation": "no"}\n```', 'I', 'no'],
    ['GRADE: C\nGRADE: C\nEXPLANATION: said twice', 'C', 'said twice'],
  ])('reads %j', (text, grade, explanation) => {
    expect(parseVerdict(text)).toEqual({ grade, explanation });
  });

  it.each([
    ['Looks good to me!', 'no "GRADE: C|P|I" line'],
    ['GRADE: Correct', '"Correct" is not a grade (C, P or I)'],
    ['GRADE: C\nGRADE: I', 'several grades given (C, I)'],
    ['GRADE: C because it works', 'no "GRADE: C|P|I" line'],
    ['{"grade": "B"}', 'the JSON reply\'s "grade" is "B", not C, P or I'],
    ['{"verdict": "C"}', 'the JSON reply\'s "grade" is missing, not C, P or I'],
    ['', 'no "GRADE: C|P|I" line'],
  ])('refuses %j', (text, invalid) => {
    expect(parseVerdict(text)).toEqual({ invalid });
  });

  it('values grades, with and without partial credit', () => {
    expect([gradeValue('C', false), gradeValue('P', false), gradeValue('I', false)]).toEqual([1, 0, 0]);
    expect([gradeValue('C', true), gradeValue('P', true), gradeValue('I', true)]).toEqual([1, 0.5, 0]);
  });

  it('takes the majority, a tie going to the lower grade', () => {
    expect(majority(['C', 'C', 'I'], false)).toBe('C');
    expect(majority(['C', 'I'], false)).toBe('I');
    expect(majority(['C', 'P', 'P'], true)).toBe('P');
    expect(majority(['C', 'P', 'P'], false)).toBe('I'); // P counts as I without partial credit
    expect(majority(['C', 'P'], true)).toBe('P');
  });
});

/** A grader answering from a script per model: each call takes the model's next reply (the last repeats). */
function fakeGrader(replies: Record<string, string[]>, defaultModel?: string): Grader & { requests: GradeRequest[] } {
  const requests: GradeRequest[] = [];
  const calls = new Map<string, number>();
  return {
    requests,
    defaultModel,
    async grade(request) {
      requests.push(request);
      const n = calls.get(request.model) ?? 0;
      calls.set(request.model, n + 1);
      const script = replies[request.model] ?? ['GRADE: I'];
      return { text: script[Math.min(n, script.length - 1)]!, usage: { inputTokens: 10, outputTokens: 3 }, costUsd: 0.001, latencyMs: 5 };
    },
  };
}

const files: Record<string, string> = { '/work/review.md': 'The patch leaks a file handle.' };
const sandbox = {
  spec: { workdir: '/work' },
  exec: async (cmd: string[]) => ({ exitCode: cmd[2]! in files ? 0 : 1, stdout: '', stderr: '', timedOut: false, durationMs: 1 }),
  readFile: async (path: string) => Buffer.from(files[path]!),
} as unknown as Sandbox;

async function grade(spec: Omit<ModelGradedSpec, 'type'>, grader: Grader, ctx: Partial<ScoreContext> = {}) {
  const full: ModelGradedSpec = { type: 'model_graded', ...spec };
  const events: { type: string; fields: Readonly<Record<string, unknown>> }[] = [];
  const score = await createScorer(full)({
    sandbox,
    spec: full,
    workdir: '/work',
    timeoutMs: 1000,
    outputDir: '/nonexistent',
    question: 'Review the patch.',
    answer: 'It leaks a handle.',
    grader,
    emit: (type, fields) => events.push({ type, fields }),
    ...ctx,
  });
  return { score, events };
}

async function gradeError(spec: Omit<ModelGradedSpec, 'type'>, grader: Grader | undefined, ctx: Partial<ScoreContext> = {}): Promise<ScoreError> {
  const err = await grade(spec, grader!, { grader, ...ctx }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScoreError);
  return err as ScoreError;
}

describe('model_graded scorer', () => {
  it('scores C as 1, and the grader sees the question, the answer and the rubric', async () => {
    const grader = fakeGrader({ 'mock/g': ['GRADE: C\nEXPLANATION: names the leak'] });
    const { score, events } = await grade({ rubric: 'Must name the leaked handle.', model: 'mock/g' }, grader);
    expect(score).toEqual({ value: 1, passed: true, explanation: 'grade C: names the leak' });
    const prompt = grader.requests[0]!.messages[0]!.text;
    expect(prompt).toContain('Review the patch.');
    expect(prompt).toContain('It leaks a handle.');
    expect(prompt).toContain('Must name the leaked handle.');
    expect(grader.requests[0]!.system).toContain('GRADE: <one letter>');
    expect(events).toEqual([
      {
        type: 'grader.call',
        fields: expect.objectContaining({ grader: 1, model: 'mock/g', try: 1, prompt, answer: 'GRADE: C\nEXPLANATION: names the leak', verdict: 'C', usage: { inputTokens: 10, outputTokens: 3 }, costUsd: 0.001, latencyMs: 5 }),
      },
    ]);
  });

  it('scores P as 0.5 with partial credit and as 0 without', async () => {
    const grader = fakeGrader({ 'mock/g': ['GRADE: P\nEXPLANATION: half'] });
    expect((await grade({ rubric: 'r', model: 'mock/g', partialCredit: true }, grader)).score).toEqual({ value: 0.5, passed: false, explanation: 'grade P: half' });
    expect((await grade({ rubric: 'r', model: 'mock/g' }, grader)).score).toEqual({ value: 0, passed: false, explanation: 'grade I (P counts as I without partial_credit): half' });
    expect(grader.requests[0]!.system).toContain('P (partially correct)');
    expect(grader.requests[1]!.system).not.toContain('P (partially correct)');
  });

  it('uses the run default model when the spec names none', async () => {
    const grader = fakeGrader({ 'mock/default': ['GRADE: I\nEXPLANATION: no'] }, 'mock/default');
    expect((await grade({ rubric: 'r' }, grader)).score).toMatchObject({ value: 0, passed: false, explanation: 'grade I: no' });
  });

  it('retries an unreadable reply with a correction, then reads the verdict', async () => {
    const grader = fakeGrader({ 'mock/g': ['Looks fine to me.', 'GRADE: C\nEXPLANATION: ok'] });
    const { score, events } = await grade({ rubric: 'r', model: 'mock/g' }, grader);
    expect(score.value).toBe(1);
    expect(events.map((e) => [e.fields.try, e.fields.verdict ?? e.fields.invalid, e.fields.retrying])).toEqual([
      [1, 'no "GRADE: C|P|I" line', true],
      [2, 'C', undefined],
    ]);
    // The retry holds the rejected reply and says what was wrong.
    expect(grader.requests[1]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(grader.requests[1]!.messages[2]!.text).toContain('could not be read (no "GRADE: C|P|I" line)');
  });

  it('ends as a CB_GRADER_INVALID error (not infra, not a 0) when the replies stay unreadable', async () => {
    const grader = fakeGrader({ 'mock/g': ['I think it is good.'] });
    const err = await gradeError({ rubric: 'r', model: 'mock/g' }, grader);
    expect(err.code).toBe('CB_GRADER_INVALID');
    expect(err.kind).toBe('task');
    expect(err.message).toContain('no valid verdict (no "GRADE: C|P|I" line)');
    expect(grader.requests).toHaveLength(3);
  });

  it('takes the majority of several graders, leaving out one that gave no verdict', async () => {
    const grader = fakeGrader({ 'mock/a': ['GRADE: C'], 'mock/b': ['GRADE: I\nEXPLANATION: misses it'], 'mock/c': ['GRADE: C'], 'mock/d': ['garbage'] });
    const { score } = await grade({ rubric: 'r', graders: ['mock/a', 'mock/b', 'mock/c', 'mock/d'] }, grader);
    expect(score.value).toBe(1);
    expect(score.explanation).toBe(
      [
        'grade C by majority of 3 verdict(s) from 4 grader(s)',
        'grader 1 (mock/a): C',
        'grader 2 (mock/b): I (misses it)',
        'grader 3 (mock/c): C',
        'grader 4 (mock/d): no valid verdict (no "GRADE: C|P|I" line)',
      ].join('\n'),
    );
  });

  it('calls one model several times for a count of graders; a tie scores the lower grade', async () => {
    const grader = fakeGrader({ 'mock/g': ['GRADE: C', 'GRADE: I'] });
    const { score } = await grade({ rubric: 'r', model: 'mock/g', graders: 2 }, grader);
    expect(grader.requests).toHaveLength(2);
    expect(score.value).toBe(0);
  });

  it('shows the grader the files and the diff the spec selects, in a template of its own', async () => {
    const grader = fakeGrader({ 'mock/g': ['GRADE: C'] });
    const template = 'Q: {question}\nFILES: {files}\nDIFF: {diff}\nR: {rubric}';
    await grade({ rubric: 'r', model: 'mock/g', template, input: [{ file: 'review.md' }, { file: 'absent.md' }, 'diff'] }, grader, { diff: '--- a/x\n+++ b/x\n' });
    expect(grader.requests[0]!.messages[0]!.text).toBe(
      'Q: Review the patch.\nFILES: File review.md:\nThe patch leaks a file handle.\n\nFile absent.md:\n(missing: /work/absent.md is not a file)\nDIFF: --- a/x\n+++ b/x\n\nR: r',
    );
  });

  it('is a clear error without a grader, without a model, or with an unknown placeholder', async () => {
    expect((await gradeError({ rubric: 'r', model: 'mock/g' }, undefined)).message).toContain('no grader model is available here');
    expect((await gradeError({ rubric: 'r' }, fakeGrader({}))).message).toContain('--grader-model');
    expect(() => createScorer({ type: 'model_graded', rubric: 'r', template: '{question} {answr}' })).toThrow(/holds \{answr\}/);
  });
});
