// The real Gemini CLI bundle (from the cache, run by the cached Node: the sandbox image has
// none) solves every smoke task in a model-only sandbox, its model calls going through the
// bridge to the scripted `mock/solve`, which runs each task's reference solution through
// Gemini CLI's own run_shell_command tool. Then the attempts loop (the same session resumed),
// refusals the bridge absorbs, and a model that fails for good.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, SUITES } from './support.ts';

type Event = Record<string, unknown>;

async function events(runDir: string, sampleId: string): Promise<Event[]> {
  return (await readFile(join(runDir, 'samples', sampleId, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Event);
}

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
    const es = await events(outcome.runDir, 'hello-file__e1');
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

describe('gemini_cli attempts', () => {
  const script = join(import.meta.dirname, 'fixtures', 'wrong-then-right.yaml');

  it.each([
    [2, 'pass', [false, true]],
    [1, 'fail', [false]],
  ] as const)('with --attempts %d a wrong first fix then the right one is a %s', async (attempts, outcome, passed) => {
    const runId = testRunId(`gemini-attempts-${attempts}`);
    const run1 = await run({ paths: [join(SUITES, 'smoke')], task: 'hello-file', agent: 'gemini_cli', model: `mock/${script}`, attempts, out: await outDir(), runId });
    const [r] = await results(run1.runDir);
    expect(r!.outcome).toBe(outcome);
    expect(r!.attempts.map((a) => a.passed)).toEqual(passed);
    if (attempts === 2) {
      expect(await readdir(join(run1.runDir, 'samples', r!.sampleId, 'agent'))).toContain('gemini-attempt-2.jsonl');
      // The second attempt resumed the first one's session.
      const inits = (await events(run1.runDir, r!.sampleId)).filter((e) => e.type === 'agent.init');
      expect(inits).toHaveLength(2);
      expect(inits[1]!.sessionId).toBe(inits[0]!.sessionId);
      const commands = (await events(run1.runDir, r!.sampleId)).filter((e) => e.type === 'agent.command');
      expect(commands[1]!.argv).toEqual(expect.arrayContaining(['--resume', inits[0]!.sessionId]));
      expect(r!.attempts.map((a) => a.agent.sessionId)).toEqual([inits[0]!.sessionId, inits[0]!.sessionId]);
      // Gemini CLI's stats are per invocation: each attempt's own, as the bridge counted them.
      for (const a of r!.attempts) expect(a.usage?.outputTokens, `attempt ${a.attempt}`).toBe(a.modelUsage?.outputTokens);
    }
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});

describe('gemini_cli and refusals', () => {
  it('a model that refuses twice then answers: the bridge retries the refusals, the sample passes', async () => {
    const script = join(import.meta.dirname, 'fixtures', 'refuse-twice.yaml');
    const runId = testRunId('gemini-refusals');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], task: 'hello-file', agent: 'gemini_cli', model: `mock/${script}`, out: await outDir(), runId });
    const [r] = await results(outcome.runDir);
    expect(r!.outcome).toBe('pass');
    const es = await events(outcome.runDir, r!.sampleId);
    expect(es.filter((e) => e.type === 'model.refusal_retry')).toHaveLength(2);
    expect(es.find((e) => e.type === 'model.call')).toMatchObject({ refusalRetries: 2, stopReason: 'tool_use' });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});

describe('gemini_cli crashing', () => {
  it('an agent that cannot work (the model fails) is an error of kind agent, and the run goes on', async () => {
    const fatal = join(import.meta.dirname, 'fixtures', 'fatal.yaml');
    const runId = testRunId('gemini-crash');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], task: '{hello-file,git-revert}', agent: 'gemini_cli', model: `mock/${fatal}`, concurrency: 2, out: await outDir(), runId });
    const all = await results(outcome.runDir);
    expect(all.map((r) => [r.sampleId, r.outcome, r.error?.kind])).toEqual([
      ['git-revert__e1', 'error', 'agent'],
      ['hello-file__e1', 'error', 'agent'],
    ]);
    expect(all[0]!.error!.message).toMatch(/API status 400.*fatal error on purpose/);
    expect(outcome.summary.counts).toMatchObject({ error: 2, fail: 0 });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});

describe('gemini_cli options', () => {
  it('system prompt (GEMINI.md), a denied tool, a skill and an MCP server are in its model requests', async () => {
    const marker = 'cagebench-system-marker-7f3a';
    const runId = testRunId('gemini-options');
    const server = await readFile(join(FIXTURES, 'mcp-probe.py'), 'utf8');
    const done = await run({
      paths: [join(SUITES, 'smoke')],
      task: 'hello-file',
      agent: 'gemini_cli',
      agentOptions: {
        system_prompt: `Follow the house rules (${marker}).`,
        disallowed_tools: ['web_fetch'],
        skills: [join(FIXTURES, 'skills', 'cagebench-probe')],
        mcp_servers: { probe: { command: 'python3', args: ['-c', server] } },
      },
      model: 'mock/solve',
      logModelBodies: true,
      out: await outDir(),
      runId,
    });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message).toBe('pass');
    const es = await events(done.runDir, r!.sampleId);
    type Body = { systemInstruction?: unknown; tools?: { functionDeclarations?: { name: string }[] }[] };
    const body = es.find((e) => e.type === 'model.call')!.requestBody as Body;
    const tools = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []).map((f) => f.name);
    expect(tools).toContain('run_shell_command');
    expect(tools).not.toContain('web_fetch');
    expect(tools.some((t) => t.includes('probe_echo'))).toBe(true);
    const system = JSON.stringify(body.systemInstruction);
    expect(system).toContain(marker);
    expect(system).toContain('cagebench-probe');
    // No deprecation warning (tools.exclude) and no unknown settings.
    const stderr = es.filter((e) => e.type === 'agent.output' && e.stream === 'stderr').map((e) => String(e.text)).join('');
    expect(stderr).not.toMatch(/deprecated|unknown|invalid/i);
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});

describe('gemini_cli runtimes', () => {
  it("runs on the image's Node when it has one >= 20, and runs a gemini found on the image's PATH (--agent-version auto) as itself", async () => {
    const runId = testRunId('gemini-runtimes');
    const done = await run({ paths: [join(FIXTURES, 'gemini-in-image.yaml')], agent: 'gemini_cli', agentVersion: 'auto', model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const [hasGemini, hasNode] = await results(done.runDir);
    for (const r of [hasGemini, hasNode]) expect(r!.outcome, `${r!.sampleId}: ${r!.error?.message ?? ''}`).toBe('pass');
    const command = async (sampleId: string) => (await events(done.runDir, sampleId)).find((e) => e.type === 'agent.command')!.argv as string[];
    expect((await command(hasNode!.sampleId)).slice(0, 2)).toEqual(['/usr/local/bin/node', '/opt/cagebench/agents/gemini_cli/bundle/gemini.js']);
    expect((await command(hasGemini!.sampleId)).slice(0, 2)).toEqual(['/usr/local/bin/gemini', '-p']);
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
