// The behaviours every model agent must have, run once per agent with the real binary from
// the cache, real Docker and the bridge with scripted mock models:
// - attempts: a wrong fix, then the right one after the incorrect-attempt message, is a pass
//   on attempt 2 (the same session resumed) with --attempts 2 and a fail with --attempts 1;
// - refusals: a model that refuses twice then answers passes, both retries recorded;
// - crashes: a model that fails fatally makes each sample an error of kind agent, and the run
//   goes on to the next sample.
// The first test of each agent may download its build; the later ones run offline, which
// works only because the cache kept it (one download per agent version, reused).
import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents, SUITES } from './support.ts';

/** Each agent, and the stem of its transcripts under agent/. */
const AGENTS = [
  { agent: 'claude_code', transcript: 'claude' },
  { agent: 'codex_cli', transcript: 'codex' },
  { agent: 'gemini_cli', transcript: 'gemini' },
  { agent: 'opencode', transcript: 'opencode' },
] as const;

describe.each(AGENTS)('$agent', ({ agent, transcript }) => {
  it.each([
    [2, 'pass', [false, true]],
    [1, 'fail', [false]],
  ] as const)('attempts: with --attempts %d a wrong fix then the right one is a %s', async (attempts, outcome, passed) => {
    const runId = testRunId(`${agent}-attempts-${attempts}`);
    const done = await run({ paths: [join(SUITES, 'smoke')], task: 'hello-file', agent, model: `mock/${join(FIXTURES, 'wrong-then-right.yaml')}`, attempts, out: await outDir(), runId });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message).toBe(outcome);
    expect(r!.attempts.map((a) => a.passed)).toEqual(passed);
    expect(r!.passedAttempt).toBe(outcome === 'pass' ? 2 : undefined);
    expect(done.summary.passesByAttempt).toEqual(outcome === 'pass' ? { 2: 1 } : {});
    if (attempts === 2) {
      expect(await readdir(join(done.runDir, 'samples', r!.sampleId, 'agent'))).toEqual(expect.arrayContaining([`${transcript}-attempt-1.jsonl`, `${transcript}-attempt-2.jsonl`]));
      // The second attempt continued the first one's session.
      const starts = (await sampleEvents(done.runDir, r!.sampleId)).filter((e) => e.type === 'agent.command');
      expect(starts).toHaveLength(2);
      const [first, second] = r!.attempts;
      expect(first!.agent.sessionId).toEqual(expect.any(String));
      expect(second!.agent.sessionId).toBe(first!.agent.sessionId);
      // Each attempt's usage is its own (Codex reports the thread's total: differenced), as the bridge counted it.
      for (const a of r!.attempts) {
        expect(a.modelUsage?.requests, `attempt ${a.attempt}`).toBeGreaterThanOrEqual(1);
        if (a.usage?.outputTokens !== undefined) expect(a.usage.outputTokens, `attempt ${a.attempt} output tokens`).toBe(a.modelUsage?.outputTokens);
      }
    }
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('refusals: a model that refuses twice then answers passes, both refusal retries recorded', async () => {
    const done = await run({ paths: [join(SUITES, 'smoke')], task: 'hello-file', agent, model: `mock/${join(FIXTURES, 'refuse-twice.yaml')}`, offline: true, out: await outDir(), runId: testRunId(`${agent}-refusals`) });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message).toBe('pass');
    const all = await sampleEvents(done.runDir, r!.sampleId);
    expect(all.filter((e) => e.type === 'model.refusal_retry')).toHaveLength(2);
    expect(all.find((e) => e.type === 'model.call')).toMatchObject({ refusalRetries: 2 });
  }, 300_000);

  it('crashes: a model that fails fatally is an error of kind agent for each sample, and the run goes on', async () => {
    const runId = testRunId(`${agent}-crash`);
    const done = await run({ paths: [join(SUITES, 'smoke')], task: '{hello-file,git-revert}', agent, model: `mock/${join(FIXTURES, 'fatal.yaml')}`, offline: true, out: await outDir(), runId });
    const all = await results(done.runDir);
    expect(all.map((r) => [r.sampleId, r.outcome, r.error?.kind])).toEqual([
      ['git-revert__e1', 'error', 'agent'],
      ['hello-file__e1', 'error', 'agent'],
    ]);
    expect(all[0]!.error!.message).toMatch(/fatal error on purpose/);
    expect(done.summary.counts).toMatchObject({ error: 2, fail: 0 });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
