// Agent options reach the real binaries: for each agent, one run with a system prompt, a
// disallowed tool, a skill and an MCP server (a small stdio server run with the sandbox's
// python3), checked in the first model request the agent sends through the bridge.
import { describe, expect, it } from 'vitest';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents, SUITES } from './support.ts';

const MARKER = 'cagebench-system-marker-7f3a';

/** Per agent: a tool it has that can be turned off, how its MCP tool is named, and where its debug output lands under agent/. */
const AGENTS = [
  { agent: 'claude_code', disallowed: 'WebFetch', mcpTool: 'mcp__probe__probe_echo', debugLog: 'claude-session/debug' },
  { agent: 'codex_cli', disallowed: 'view_image', mcpTool: 'probe', debugLog: 'codex-attempt-1.stderr.txt' },
  { agent: 'gemini_cli', disallowed: 'web_fetch', mcpTool: 'probe_echo', debugLog: 'gemini-attempt-1.stderr.txt' },
  { agent: 'opencode', disallowed: 'webfetch', mcpTool: 'probe_probe_echo', debugLog: 'opencode-attempt-1.stderr.txt' },
] as const;

/** Bytes under a file or directory. */
async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  const sizes = await Promise.all((await readdir(path)).map((f) => sizeOf(join(path, f))));
  return sizes.reduce((a, b) => a + b, 0);
}

describe.each(AGENTS)('$agent options', ({ agent, disallowed, mcpTool, debugLog }) => {
  it('system prompt, disallowed tools, skills and MCP servers are in its model requests', async () => {
    const runId = testRunId(`${agent}-options`);
    const server = await readFile(join(FIXTURES, 'mcp-probe.py'), 'utf8');
    const done = await run({
      paths: [join(SUITES, 'smoke')],
      task: 'hello-file',
      agent,
      agentOptions: {
        system_prompt: `Follow the house rules (${MARKER}).`,
        disallowed_tools: [disallowed],
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
    const events = await sampleEvents(done.runDir, r!.sampleId);
    // Tool names as each wire API declares them: Anthropic and Responses `name`, Chat
    // Completions `function.name`, Gemini `functionDeclarations[].name`.
    type Tool = { name?: string; function?: { name?: string }; functionDeclarations?: { name: string }[] };
    type Body = { tools?: Tool[] };
    const names = (tools: readonly Tool[]) => tools.flatMap((t) => (t.functionDeclarations ? t.functionDeclarations.map((f) => f.name) : [t.name ?? t.function?.name]));
    const first = events.find((e) => e.type === 'model.call' && names((e.requestBody as Body | undefined)?.tools ?? []).length > 0);
    expect(first, 'a model call that declares tools').toBeDefined();
    const tools = names((first!.requestBody as Body).tools!);
    expect(tools).not.toContain(disallowed);
    // The MCP tool is declared, or (Claude Code) named in the list of tools it defers.
    const text = JSON.stringify(first!.requestBody);
    expect(text).toContain(mcpTool);
    expect(text).toContain(MARKER);
    expect(text).toContain('cagebench-probe');
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('user and env: it runs as nobody, with the extra variable in its tools\' environment', async () => {
    const runId = testRunId(`${agent}-as-user`);
    const done = await run({
      paths: [join(FIXTURES, 'as-user.yaml')],
      task: 'write-as-user',
      agent,
      agentOptions: { user: 'nobody', env: { CAGEBENCH_PROBE: 'from-agent-options' } },
      model: 'mock/solve',
      out: await outDir(),
      runId,
    });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message ?? r!.attempts[0]?.explanation).toBe('pass');
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('cwd and debug: it starts in the directory given, and its debug output is kept', async () => {
    const runId = testRunId(`${agent}-cwd-debug`);
    const done = await run({ paths: [join(FIXTURES, 'as-user.yaml')], task: 'where-it-runs', agent, agentOptions: { cwd: '/tmp', debug: true }, model: 'mock/solve', out: await outDir(), runId });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message ?? r!.attempts[0]?.explanation).toBe('pass');
    expect(await sizeOf(join(done.runDir, 'samples', r!.sampleId, 'agent', debugLog)), `debug output in agent/${debugLog}`).toBeGreaterThan(100);
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
