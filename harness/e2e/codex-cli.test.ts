// The real Codex CLI (from the cache) solves every smoke task in a model-only sandbox: its
// model calls go through the bridge's Responses route to the scripted `mock/solve` model,
// which runs each task's reference solution through Codex's own `exec_command` tool. Then
// the attempts loop (`codex exec resume`), refusal retries and a model that fails fatally.
import { describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, SUITES } from './support.ts';

type Event = Record<string, unknown>;

async function events(runDir: string, sampleId: string): Promise<Event[]> {
  return (await readFile(join(runDir, 'samples', sampleId, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Event);
}

describe('codex_cli', () => {
  it('solves every smoke task through the bridge with mock/solve', async () => {
    const runId = testRunId('codex');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], agent: 'codex_cli', model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const rs = await results(outcome.runDir);
    expect(rs).toHaveLength(6);
    expect(rs.filter((r) => r.outcome !== 'pass').map((r) => `${r.sampleId}: ${r.outcome} ${r.error?.message ?? r.attempts.at(-1)?.explanation ?? ''}`)).toEqual([]);
    for (const r of rs) expect(r.usage?.requests, r.sampleId).toBeGreaterThanOrEqual(2);

    // The raw --json lines and their events: the thread, the exec_command call and its result,
    // the final message; every model call answered; Codex's own rollout kept.
    const sample = join(outcome.runDir, 'samples', 'hello-file__e1');
    expect(await readdir(join(sample, 'agent'))).toEqual(expect.arrayContaining(['codex-attempt-1.jsonl', 'codex-session']));
    const evs = await events(outcome.runDir, 'hello-file__e1');
    expect(evs.map((e) => e.type)).toEqual(expect.arrayContaining(['agent.session', 'model.call', 'agent.tool_call', 'agent.tool_result', 'agent.message', 'agent.result']));
    expect(evs.find((e) => e.type === 'agent.tool_call')).toMatchObject({ name: 'command_execution', input: { command: expect.stringContaining('hello.txt') } });
    expect(evs.find((e) => e.type === 'agent.tool_result')).toMatchObject({ name: 'command_execution', exitCode: 0, isError: false });
    expect(evs.filter((e) => e.type === 'model.call' && e.error)).toEqual([]);
    expect(evs.find((e) => e.type === 'agent.result')).toMatchObject({ status: 'completed', finalMessage: 'Done: I ran the solution.' });
    // Codex's own count of tokens is the bridge's.
    const [r] = rs.filter((x) => x.sampleId === 'hello-file__e1');
    expect(r!.attempts[0]!.usage).toMatchObject({ inputTokens: r!.usage!.inputTokens, outputTokens: r!.usage!.outputTokens });

    expect(outcome.summary.score.mean).toBe(1);
    expect(await leftovers(runId)).toBe(0);
  }, 600_000);
});

describe('codex_cli attempts', () => {
  const script = join(FIXTURES, 'wrong-then-right.yaml');

  it.each([
    [2, 'pass', [false, true]],
    [1, 'fail', [false]],
  ] as const)('with --attempts %d a wrong first fix then the right one is a %s', async (attempts, outcome, passed) => {
    const runId = testRunId(`codex-attempts-${attempts}`);
    const run1 = await run({ paths: [join(SUITES, 'smoke')], task: 'hello-file', agent: 'codex_cli', model: `mock/${script}`, attempts, out: await outDir(), runId });
    const [r] = await results(run1.runDir);
    expect(r!.outcome).toBe(outcome);
    expect(r!.attempts.map((a) => a.passed)).toEqual(passed);
    if (attempts === 2) {
      expect(await readdir(join(run1.runDir, 'samples', r!.sampleId, 'agent'))).toContain('codex-attempt-2.jsonl');
      // The second attempt resumed the same thread, and its usage is its own, not the thread's total.
      const evs = await events(run1.runDir, r!.sampleId);
      const sessions = evs.filter((e) => e.type === 'agent.session').map((e) => e.sessionId);
      expect(sessions).toHaveLength(2);
      expect(sessions[1]).toBe(sessions[0]);
      expect(evs.filter((e) => e.type === 'agent.command').map((e) => (e.argv as string[]).slice(1, 3))).toEqual([['exec', '--json'], ['exec', 'resume']]);
      for (const a of r!.attempts) expect(a.usage?.inputTokens, `attempt ${a.attempt}`).toBe(a.modelUsage?.inputTokens);
    }
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});

describe('codex_cli and refusals', () => {
  it('a model that refuses twice then answers: the bridge retries the refusals, the sample passes', async () => {
    const script = join(FIXTURES, 'refuse-twice.yaml');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], task: 'hello-file', agent: 'codex_cli', model: `mock/${script}`, out: await outDir(), runId: testRunId('codex-refusals') });
    const [r] = await results(outcome.runDir);
    expect(r!.outcome).toBe('pass');
    const evs = await events(outcome.runDir, r!.sampleId);
    expect(evs.filter((e) => e.type === 'model.refusal_retry')).toHaveLength(2);
    expect(evs.find((e) => e.type === 'model.call')).toMatchObject({ refusalRetries: 2, stopReason: 'tool_use' });
  }, 300_000);
});

describe('codex_cli crashing', () => {
  it('an agent that cannot work (the model fails) is an error of kind agent, and the run goes on', async () => {
    const fatal = join(FIXTURES, 'fatal.yaml');
    const runId = testRunId('codex-crash');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], task: '{hello-file,git-revert}', agent: 'codex_cli', model: `mock/${fatal}`, concurrency: 2, out: await outDir(), runId });
    const all = await results(outcome.runDir);
    expect(all.map((r) => [r.sampleId, r.outcome, r.error?.kind])).toEqual([
      ['git-revert__e1', 'error', 'agent'],
      ['hello-file__e1', 'error', 'agent'],
    ]);
    expect(all[0]!.error!.message).toMatch(/invalid_request_error: .*fatal error on purpose/);
    expect(outcome.summary.counts).toMatchObject({ error: 2, fail: 0 });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
