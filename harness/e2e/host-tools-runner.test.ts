// Host tools through run(), with no agent CLI: a stand-in agent that speaks MCP with curl from
// inside a model-only sandbox, to the address and with the token the runner gave it. Proves the
// network path, the per-sample token, a task's tools on top of the run's, `mcp_servers.cagebench`
// for every headless adapter, the tool-call limit, and what result.json and run.json record.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withTaskOptions, type AgentAdapter, type AttemptContext, type CommonAgentOptions } from '../../agents/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { defineTool, resume, run, type RunRecord } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

const alwaysFails = defineTool({ name: 'always_fails', description: 'Fails', parameters: z.object({}), run: () => Promise.reject(new Error('broken on purpose')) });
const echo = defineTool({ name: 'echo', description: 'Echo a text', parameters: z.object({ text: z.string() }), run: ({ text }) => text });

/** One JSON-RPC POST to the sample's MCP endpoint from inside the sandbox; the parsed reply. */
async function rpc(ctx: AttemptContext, id: number, method: string, params: unknown): Promise<{ result?: { tools?: { name: string }[]; content?: { text: string }[]; isError?: boolean } }> {
  const mcp = ctx.model!.hostTools!;
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
  const r = await ctx.sandbox.exec(['curl', '-sS', '--max-time', '20', '-H', 'content-type: application/json', '-H', 'accept: application/json, text/event-stream', '-H', `authorization: ${mcp.headers!.Authorization}`, '--data', body, mcp.url]);
  if (r.exitCode !== 0) throw new Error(`curl exited ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as never;
}

/** Lists its tools, then calls them as its task says, as an agent CLI would over MCP. */
const mcpAgent: AgentAdapter = {
  name: 'mcp-curl',
  needsModel: true,
  async run(ctx) {
    // What every headless adapter writes into its agent's config.
    ctx.emit({ type: 'test.mcp_servers', servers: withTaskOptions<CommonAgentOptions>({}, ctx).mcp_servers });
    await rpc(ctx, 1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } });
    const listed = await rpc(ctx, 2, 'tools/list', {});
    ctx.emit({ type: 'test.tools', names: listed.result!.tools!.map((t) => t.name) });
    const call = (id: number, name: string, args: unknown) => rpc(ctx, id, 'tools/call', { name, arguments: args });
    let answer = '';
    if (ctx.task.id === 'secret') {
      await call(3, 'always_fails', {});
      answer = (await call(4, 'secret_value', { key: 'alpha' })).result!.content![0]!.text;
    } else {
      for (let i = 0; i < 4; i++) answer = (await call(3 + i, 'echo', { text: `hi ${i}` })).result!.content![0]!.text;
    }
    await ctx.sandbox.exec(['sh', '-c', 'printf %s "$1" > out.txt', 'sh', answer], { cwd: ctx.task.environment.workdir });
    return { timedOut: false, exitCode: 0, finalMessage: answer };
  },
};

describe('host tools in a run', () => {
  it('serves each sample its tools over MCP from inside a model-only sandbox, counts the calls and ends a sample over the limit', async () => {
    const runId = testRunId('host-tools');
    const outcome = await run({ paths: [join(FIXTURES, 'host-tools-runner', 'suite.yaml')], agent: mcpAgent, model: 'mock/echo', tools: [alwaysFails, echo], toolLimit: 3, maxErrors: 1, out: await outDir(), runId });
    const [greedy, secret] = await results(outcome.runDir);

    // The task's own tool on top of the run's, reached with the sample's token: its value passes the scorer.
    expect(secret).toMatchObject({ taskId: 'secret', outcome: 'pass', toolCalls: { count: 2, errors: 1, byTool: { always_fails: 1, secret_value: 1 } } });
    const events = await sampleEvents(outcome.runDir, secret!.sampleId);
    expect(events.find((e) => e.type === 'test.tools')!.names).toEqual(['always_fails', 'echo', 'secret_value']);
    expect(events.find((e) => e.type === 'sandbox.start')).toMatchObject({ network: 'model-only' });
    const servers = events.find((e) => e.type === 'test.mcp_servers')!.servers as Record<string, { url: string; headers: Record<string, string> }>;
    expect(Object.keys(servers)).toEqual(['cagebench']);
    expect(servers.cagebench!.url).toMatch(/^http:\/\/[^/]+:\d+\/mcp$/);
    expect(servers.cagebench!.headers.Authorization).toMatch(/^Bearer cb-/);
    const calls = events.filter((e) => e.type === 'tool.call');
    expect(calls).toEqual([
      expect.objectContaining({ tool: 'always_fails', arguments: {}, ok: false, error: expect.stringContaining('broken on purpose'), durationMs: expect.any(Number) }),
      expect.objectContaining({ tool: 'secret_value', arguments: { key: 'alpha' }, ok: true, resultBytes: 20, durationMs: expect.any(Number) }),
    ]);

    // The run's tools only; the fourth call is refused and the sample ends as a limit error.
    expect((await sampleEvents(outcome.runDir, greedy!.sampleId)).find((e) => e.type === 'test.tools')!.names).toEqual(['always_fails', 'echo']);
    expect(greedy).toMatchObject({
      taskId: 'greedy',
      outcome: 'error',
      error: { kind: 'limit', code: 'CB_LIMIT', message: expect.stringMatching(/tool-call limit of 3 reached; the agent was refused further tool calls/) },
      toolCalls: { count: 3, errors: 0, byTool: { echo: 3 }, refused: 1 },
    });

    // run.json: tools given in code must be handed to resume again; their names are recorded.
    const record = JSON.parse(await readFile(join(outcome.runDir, 'run.json'), 'utf8')) as RunRecord;
    expect(record.config.inline).toContain('tools');
    expect(record.toolNames).toEqual(['always_fails', 'echo']);
    await expect(resume(outcome.runDir)).rejects.toThrow(/started with tools given in code.*resume\(dir, \{ tools \}\)/);
    // Handed them again, it loads them (and the task's file) and finds nothing left to run.
    expect((await resume(outcome.runDir, { agent: mcpAgent, tools: [alwaysFails, echo] })).summary.counts).toMatchObject({ pass: 1, error: 1 });
    expect(await leftovers(runId)).toBe(0);
  }, 120_000);
});
