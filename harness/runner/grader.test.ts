// Grader calls as a run makes them: the model_graded scorer through the run's providers, with
// scripted mock graders and with local servers speaking the OpenAI and Anthropic wire formats
// (usage and cost recorded, upstream retries logged), and the check before a run starts.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Sandbox } from '../../sandboxes/index.ts';
import { createScorer, ScoreError } from '../../scorers/index.ts';
import type { ModelGradedSpec, Task } from '../../tasks/index.ts';
import { anthropicUpstream, openaiUpstream } from '../bridge/test-support/upstreams.ts';
import { createProviders } from '../models/providers/index.ts';
import type { ModelUsageRecord } from '../log/schema.ts';
import { createGraderClient, graderProblems, needsGrader, sampleGrader, type GraderClient } from './grader.ts';
import { addUsage } from '../log/usage.ts';
import { checkGraders } from './validate.ts';

const FIXTURES = fileURLToPath(new URL('../e2e/fixtures/graders/', import.meta.url));
const mock = (name: string): string => `mock/${FIXTURES}${name}.yaml`;
const noSleep = async (): Promise<void> => undefined;

/** Score one answer with `spec` through `client`, as trial.ts does: events and grader usage collected. */
async function grade(client: GraderClient, spec: Omit<ModelGradedSpec, 'type'>) {
  const full: ModelGradedSpec = { type: 'model_graded', ...spec };
  const events: { type: string; [k: string]: unknown }[] = [];
  let usage: ModelUsageRecord | undefined;
  const emit = (type: string, fields: Readonly<Record<string, unknown>>): void => void events.push({ type, ...fields });
  const grader = sampleGrader(client, { sampleId: 's1', emit, onUsage: (u) => (usage = addUsage(usage, u)) });
  const run = createScorer(full)({ sandbox: {} as Sandbox, spec: full, timeoutMs: 1000, outputDir: '/nonexistent', question: 'Find the bug.', answer: 'Off by one in the loop.', grader, emit });
  const score = await run.catch((err: unknown) => err);
  return { score, events, usage };
}

describe('grader calls through the mock provider', () => {
  const client = createGraderClient();

  it('scores from a scripted grader and counts its tokens', async () => {
    const { score, events, usage } = await grade(client, { rubric: 'Names the off-by-one.', model: mock('correct') });
    expect(score).toEqual({ value: 1, passed: true, explanation: 'grade C: The answer names the off-by-one error.' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'grader.call', model: mock('correct'), try: 1, verdict: 'C', answer: 'GRADE: C\nEXPLANATION: The answer names the off-by-one error.', costUsd: 0 });
    expect(events[0]!.prompt).toContain('Off by one in the loop.');
    expect(usage).toMatchObject({ requests: 1, costUsd: 0 });
    expect(usage!.inputTokens).toBeGreaterThan(0);
    expect((events[0]!.usage as { inputTokens: number }).inputTokens).toBe(usage!.inputTokens);
  });

  it('asks again after an unreadable reply; the grader sees its reply and the correction', async () => {
    const { score, events, usage } = await grade(client, { rubric: 'r', model: mock('late') });
    expect(score).toMatchObject({ value: 1, passed: true });
    expect(events.map((e) => [e.try, e.verdict ?? e.invalid])).toEqual([
      [1, 'no "GRADE: C|P|I" line'],
      [2, 'C'],
    ]);
    expect(usage!.requests).toBe(2);
  });

  it('ends in CB_GRADER_INVALID when a grader never gives a verdict, with every raw reply logged', async () => {
    const { score, events, usage } = await grade(client, { rubric: 'r', model: mock('garbage') });
    expect(score).toBeInstanceOf(ScoreError);
    expect(score).toMatchObject({ code: 'CB_GRADER_INVALID', kind: 'task' });
    expect(events.map((e) => [e.try, e.answer, e.retrying])).toEqual([
      [1, 'What a lovely review! I would give it a solid B+.', true],
      [2, 'What a lovely review! I would give it a solid B+.', true],
      [3, 'What a lovely review! I would give it a solid B+.', false],
    ]);
    expect(usage!.requests).toBe(3); // what it cost is counted all the same
  });

  it('takes the majority of three scripted graders, partial credit on', async () => {
    const { score } = await grade(client, { rubric: 'r', graders: [mock('partial'), mock('incorrect'), mock('partial')], partialCredit: true });
    expect(score).toMatchObject({ value: 0.5, passed: false });
  });
});

describe('grader calls to servers speaking the real wire formats', () => {
  const prices = { 'grader-': { input: 1, output: 2 } };

  it('openai/<model>: Chat Completions, with usage and cost from the price table', async () => {
    await using up = await openaiUpstream({ reply: 'GRADE: C\nEXPLANATION: fine' });
    const client = createGraderClient({ providers: createProviders({ openai: { baseURL: `${up.url}/v1`, apiKey: 'sk-test' } }), prices });
    const { score, events, usage } = await grade(client, { rubric: 'r', model: 'openai/grader-1' });
    expect(score).toMatchObject({ value: 1, explanation: 'grade C: fine' });
    // 11 prompt tokens (4 of them cached, priced at the input rate as no cache rate is set), 7 completion tokens.
    expect(usage).toEqual({ requests: 1, inputTokens: 11, outputTokens: 7, cacheReadTokens: 4, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: (11 * 1 + 7 * 2) / 1e6 });
    expect(events[0]).toMatchObject({ usage: { inputTokens: 11, outputTokens: 7 }, costUsd: (11 + 14) / 1e6 });
    const body = up.requests[0] as { model: string; messages: { role: string; content: unknown }[] };
    expect(body.model).toBe('grader-1');
    expect(body.messages[0]).toMatchObject({ role: 'system' });
    expect(JSON.stringify(body.messages[1])).toContain('Off by one in the loop.');
  });

  it('anthropic/<model>: the Messages API, retried through a 503 as the bridge retries', async () => {
    await using up = await anthropicUpstream({ reply: 'GRADE: I\nEXPLANATION: wrong line' });
    up.failures.push({ status: 503 });
    const client = createGraderClient({ providers: createProviders({ anthropic: { baseURL: up.url, apiKey: 'sk-ant-test' } }), prices, sleep: noSleep });
    const { score, events, usage } = await grade(client, { rubric: 'r', model: 'anthropic/grader-2' });
    expect(score).toMatchObject({ value: 0, passed: false, explanation: 'grade I: wrong line' });
    expect(events.map((e) => e.type)).toEqual(['grader.retry', 'grader.call']);
    expect(events[0]).toMatchObject({ model: 'anthropic/grader-2', status: 503, retry: 1 });
    expect(up.requests).toHaveLength(2);
    // 7 uncached input + 4 cache reads, 7 output.
    expect(usage).toEqual({ requests: 1, inputTokens: 11, outputTokens: 7, cacheReadTokens: 4, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: (11 * 1 + 7 * 2) / 1e6 });
    expect((up.requests[0] as { system?: string }).system).toContain('GRADE: <one letter>');
  });
});

describe('grader calls that fail', () => {
  it('a call that can never work (a missing mock script, a 401) is not infra: the agent is not run again', async () => {
    const { score } = await grade(createGraderClient(), { rubric: 'r', model: 'mock//nonexistent/grader.yaml' });
    expect(score).toBeInstanceOf(ScoreError);
    expect(score).toMatchObject({ code: 'CB_GRADER_FAILED', kind: 'task' });
    expect((score as Error).message).toMatch(/^grader model mock\/\/nonexistent\/grader\.yaml: mock script "\/nonexistent\/grader\.yaml" not found/);

    await using up = await openaiUpstream({ reply: 'GRADE: C' });
    up.failures.push({ status: 401 });
    const client = createGraderClient({ providers: createProviders({ openai: { baseURL: `${up.url}/v1`, apiKey: 'wrong' } }) });
    expect((await grade(client, { rubric: 'r', model: 'openai/g' })).score).toMatchObject({ code: 'CB_GRADER_FAILED', kind: 'task' });
    expect(up.requests).toHaveLength(1); // a 401 is not retried
  });

  it('an upstream still failing after the retries is infra: the sample may run again', async () => {
    await using up = await openaiUpstream({ reply: 'GRADE: C' });
    for (let i = 0; i < 6; i++) up.failures.push({ status: 503 });
    const client = createGraderClient({ providers: createProviders({ openai: { baseURL: `${up.url}/v1`, apiKey: 'k' } }), sleep: noSleep });
    const { score, events } = await grade(client, { rubric: 'r', model: 'openai/g' });
    expect(score).toMatchObject({ code: 'CB_SCORER_FAILED', kind: 'infra' });
    expect(events.filter((e) => e.type === 'grader.retry')).toHaveLength(5);
    expect(up.requests).toHaveLength(6);
  });
});

describe('grader models checked before a run', () => {
  const task = (scorer: Task['scorer'], id = 't1'): Task => ({ id, origin: `/suite.yaml`, scorer }) as unknown as Task;

  it('asks for --grader-model when a model_graded scorer names no model', () => {
    const tasks = [task({ type: 'model_graded', rubric: 'r' }), task({ type: 'command', command: 'true' }, 't2')];
    expect(needsGrader(tasks)).toBe(true);
    expect(needsGrader([tasks[1]!])).toBe(false);
    expect(graderProblems(tasks, undefined)).toEqual(['t1 (/suite.yaml): its model_graded scorer names no grader model, and the run has no --grader-model']);
    expect(graderProblems(tasks, 'mock/x')).toEqual([]);
    expect(() => checkGraders(tasks, { graderModel: undefined })).toThrow(/Give the run --grader-model provider\/model/);
    // A run's own scorer replaces the task's: no grader is needed then.
    expect(() => checkGraders(tasks, { graderModel: undefined, scorer: () => true })).not.toThrow();
  });

  it('sees a Harbor task\'s model_graded extra scorers', () => {
    const harbor = { id: 'h1', origin: '/harbor/h1', scorer: { type: 'verifier', testsDir: '/harbor/h1/tests' }, extraScorers: [{ name: 'review', spec: { type: 'model_graded', rubric: 'r' } }] } as unknown as Task;
    expect(needsGrader([harbor])).toBe(true);
    expect(graderProblems([harbor], undefined)).toEqual(['h1 (/harbor/h1): its model_graded scorer names no grader model, and the run has no --grader-model']);
    expect(() => checkGraders([harbor], { graderModel: undefined })).toThrow(/Give the run --grader-model provider\/model/);
    expect(() => checkGraders([harbor], { graderModel: 'mock/x' })).not.toThrow();
  });

  it('names a grader model whose provider is unknown', () => {
    expect(graderProblems([task({ type: 'model_graded', rubric: 'r', graders: ['openai/a', 'gemini/b'] })], undefined)).toEqual([
      't1 (/suite.yaml): grader model gemini/b: no provider "gemini" (known: openai, anthropic, mock)',
    ]);
  });
});
