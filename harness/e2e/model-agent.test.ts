// A run whose agent needs a model: the runner starts the bridge, each sample gets a
// model-only sandbox and its own token, every model call lands in the sample's events, usage
// is counted per sample and per run, and a sample over its limit ends as an error of kind
// `limit`. The agent here is a few lines of curl, standing in for an agent CLI.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { AgentAdapter } from '../../agents/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

/** Asks the model (mock/echo repeats the prompt) for the answer, twice, and writes it to out.txt. */
const curlAgent: AgentAdapter = {
  name: 'curl-agent',
  needsModel: true,
  async run(ctx) {
    const m = ctx.model!;
    const ask = `curl -sS --max-time 20 -H 'content-type: application/json' -H "authorization: Bearer ${m.token}" ` +
      `--data '{"model":"any","messages":[{"role":"user","content":"ok"}]}' ${m.baseUrls.openai}/chat/completions`;
    const first = await ctx.sandbox.exec(ask, { cwd: ctx.task.environment.workdir });
    const second = await ctx.sandbox.exec(ask, { cwd: ctx.task.environment.workdir });
    const answer = (JSON.parse(second.stdout || first.stdout) as { choices?: { message: { content: string } }[] }).choices?.[0]?.message.content ?? '';
    await ctx.sandbox.exec(['sh', '-c', 'printf %s "$1" > out.txt', 'sh', answer], { cwd: ctx.task.environment.workdir });
    return { timedOut: false, exitCode: first.exitCode, finalMessage: answer };
  },
};

describe('an agent that needs a model', () => {
  it('is refused without --model', async () => {
    await expect(run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: curlAgent, out: await outDir() })).rejects.toMatchObject({ kind: 'config', message: /needs a model/ });
  });

  it('reaches the model through the bridge; calls, usage and cost are recorded', async () => {
    const runId = testRunId('model');
    const outcome = await run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: curlAgent, model: 'mock/echo', out: await outDir(), runId });
    const [r] = await results(outcome.runDir);
    expect(r).toMatchObject({ outcome: 'pass', usage: { requests: 2 } });
    expect(r!.usage!.outputTokens).toBeGreaterThan(0);
    const events = await sampleEvents(outcome.runDir, 'write-ok__e1');
    expect(events.filter((e) => e.type === 'model.call').map((e) => e.route)).toEqual(['mock/echo', 'mock/echo']);
    expect(events.find((e) => e.type === 'sandbox.start')).toMatchObject({ network: 'model-only' });
    expect(outcome.summary.usage).toMatchObject({ requests: 2 });
    expect(await leftovers(runId)).toBe(0);
  }, 60_000);

  it("records each attempt's own model use, and the agent's stop reason and token counts", async () => {
    // One call and a wrong answer, then (continued) two calls and the right one.
    const twice: AgentAdapter = {
      name: 'twice',
      needsModel: true,
      async run(ctx) {
        const m = ctx.model!;
        await ctx.sandbox.exec(`curl -sS --max-time 20 -H 'content-type: application/json' -H "authorization: Bearer ${m.token}" --data '{"model":"any","messages":[{"role":"user","content":"ok"}]}' ${m.baseUrls.openai}/chat/completions`);
        await ctx.sandbox.exec('echo wrong > out.txt', { cwd: ctx.task.environment.workdir });
        return { timedOut: false, exitCode: 0, stopReason: 'end_turn', usage: { inputTokens: 7, outputTokens: 3 } };
      },
      async continue(ctx) {
        const r = await curlAgent.run(ctx);
        return { ...r, stopReason: 'success' };
      },
    };
    const outcome = await run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: twice, model: 'mock/echo', attempts: 2, out: await outDir(), runId: testRunId('attempt-usage') });
    const [r] = await results(outcome.runDir);
    expect(r).toMatchObject({ outcome: 'pass', usage: { requests: 3 } });
    const [first, second] = r!.attempts;
    expect(first).toMatchObject({ passed: false, stopReason: 'end_turn', usage: { inputTokens: 7, outputTokens: 3 }, modelUsage: { requests: 1 } });
    expect(second).toMatchObject({ passed: true, stopReason: 'success', modelUsage: { requests: 2 } });
    expect(second!.usage).toBeUndefined();
    for (const key of ['requests', 'inputTokens', 'outputTokens', 'costUsd'] as const) {
      expect(first!.modelUsage![key] + second!.modelUsage![key]).toBeCloseTo(r!.usage![key], 9);
    }
    expect(first!.modelUsage!.outputTokens).toBeGreaterThan(0);
    expect(second!.changes).toMatchObject({ created: [], modified: ['out.txt'], deleted: [] });
  }, 60_000);

  it('ends a sample over its limit as an error of kind limit', async () => {
    const outcome = await run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: curlAgent, model: 'mock/echo', requestLimit: 1, out: await outDir(), runId: testRunId('limit') });
    const [r] = await results(outcome.runDir);
    expect(r).toMatchObject({ outcome: 'error', error: { kind: 'limit', code: 'CB_LIMIT', message: expect.stringMatching(/request limit of 1/) } });
    expect(outcome.summary.errorsByKind).toEqual({ limit: 1 });
    expect(outcome.summary.counts.fail).toBe(0);
  }, 60_000);
});

describe('mock/solve', () => {
  it("runs the sample's reference solution through the agent's shell tool", async () => {
    // A minimal tool-using agent: one model call, run the tool call it gets, report back.
    const toolAgent: AgentAdapter = {
      name: 'tool-agent',
      needsModel: true,
      async run(ctx) {
        const m = ctx.model!;
        const body = JSON.stringify({ model: 'any', messages: [{ role: 'user', content: ctx.task.instruction }], tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }] });
        const r = await ctx.sandbox.exec(['curl', '-sS', '-H', 'content-type: application/json', '-H', `authorization: Bearer ${m.token}`, '--data', body, `${m.baseUrls.openai}/chat/completions`]);
        const call = (JSON.parse(r.stdout) as { choices: { message: { tool_calls?: { function: { arguments: string } }[] } }[] }).choices[0]!.message.tool_calls?.[0];
        if (call) await ctx.sandbox.exec(['bash', '-c', (JSON.parse(call.function.arguments) as { command: string }).command], { cwd: ctx.task.environment.workdir });
        return { timedOut: false, exitCode: 0 };
      },
    };
    const outcome = await run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'make-exec', agent: toolAgent, model: 'mock/solve', out: await outDir(), runId: testRunId('solve') });
    const [r] = await results(outcome.runDir);
    expect(r).toMatchObject({ outcome: 'pass', usage: { requests: 1 } });
  }, 60_000);
});
