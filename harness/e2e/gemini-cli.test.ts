// The real Gemini CLI bundle (from the cache, run by the cached Node: the sandbox image has
// none) solves every smoke task in a model-only sandbox, its model calls going through the
// bridge to the scripted `mock/solve`, which runs each task's reference solution through
// Gemini CLI's own run_shell_command tool. Then the attempts loop (the same session resumed),
// refusals the bridge absorbs, and a model that fails for good.
import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents, SUITES } from './support.ts';

describe('gemini_cli', () => {
  it('solves every smoke task through the bridge with mock/solve', async () => {
    const runId = testRunId('gemini');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], agent: 'gemini_cli', model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const all = await results(outcome.runDir);
    expect(all).toHaveLength(6);
    expect(all.filter((r) => r.outcome !== 'pass').map((r) => `${r.sampleId}: ${r.outcome} ${r.error?.message ?? r.attempts.at(-1)?.explanation ?? ''}`)).toEqual([]);
    for (const r of all) expect(r.usage!.requests, r.sampleId).toBeGreaterThanOrEqual(2);

    // The raw stream-json, its parsed events and Gemini CLI's own chat files are kept per sample.
    const sample = join(outcome.runDir, 'samples', 'hello-file__e1');
    const agentFiles = await readdir(join(sample, 'agent'));
    expect(agentFiles).toEqual(expect.arrayContaining(['gemini-attempt-1.jsonl', 'gemini-session']));
    const es = await sampleEvents(outcome.runDir, 'hello-file__e1');
    expect(es.map((e) => e.type)).toEqual(expect.arrayContaining(['agent.init', 'model.call', 'agent.tool_call', 'agent.tool_result', 'agent.message', 'agent.result']));
    expect(es.find((e) => e.type === 'agent.init')).toMatchObject({ sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/), model: 'solve' });
    expect(es.find((e) => e.type === 'agent.tool_call')).toMatchObject({ name: 'run_shell_command' });
    expect(es.find((e) => e.type === 'agent.tool_result')).toMatchObject({ isError: false });
    expect(es.findLast((e) => e.type === 'agent.message')).toMatchObject({ text: 'Done: I ran the solution.' });
    expect(es.find((e) => e.type === 'agent.result')).toMatchObject({ status: 'success' });
    // Only the pinned model, only streamed calls: no router classifier, no other endpoint.
    const calls = es.filter((e) => e.type === 'model.call');
    expect(calls.filter((e) => e.error)).toEqual([]);
    expect(new Set(calls.map((e) => `${String(e.requestedModel)} ${String(e.stream)}`))).toEqual(new Set(['solve true']));
    // Nothing on stderr about connections it could not make (Clearcut, update checks).
    const stderr = es.filter((e) => e.type === 'agent.output' && e.stream === 'stderr').map((e) => String(e.text)).join('');
    expect(stderr).not.toMatch(/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|play\.googleapis|fetch failed/i);

    expect(outcome.summary.score.mean).toBe(1);
    expect(await leftovers(runId)).toBe(0);
  }, 900_000);
});

describe('gemini_cli runtimes', () => {
  it("runs on the image's Node when it has one >= 20, and runs a gemini found on the image's PATH (--agent-version auto) as itself", async () => {
    const runId = testRunId('gemini-runtimes');
    const done = await run({ paths: [join(FIXTURES, 'gemini-in-image.yaml')], agent: 'gemini_cli', agentVersion: 'auto', model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const [hasGemini, hasNode] = await results(done.runDir);
    for (const r of [hasGemini, hasNode]) expect(r!.outcome, `${r!.sampleId}: ${r!.error?.message ?? ''}`).toBe('pass');
    const command = async (sampleId: string) => (await sampleEvents(done.runDir, sampleId)).find((e) => e.type === 'agent.command')!.argv as string[];
    expect((await command(hasNode!.sampleId)).slice(0, 2)).toEqual(['/usr/local/bin/node', '/opt/cagebench/agents/gemini_cli/bundle/gemini.js']);
    expect((await command(hasGemini!.sampleId)).slice(0, 2)).toEqual(['/usr/local/bin/gemini', '-p']);
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
