// Host tools over MCP, through a started bridge with the official MCP client: listing,
// calling, tool errors (a throw, bad arguments) that leave the bridge serving, one sample's
// token against another's tools, an unknown token, the tool-call limit, and the events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createProviders } from '../models/providers/index.ts';
import { defineTool, type HostTool } from '../tools/define.ts';
import { createBridge, type Bridge, type BridgeSession } from './index.ts';

let bridge: Bridge;
beforeAll(async () => {
  bridge = await createBridge({ retryRefusals: 0, providers: createProviders({}) });
});
afterAll(async () => bridge?.close());

const add = defineTool({
  name: 'add',
  description: 'Add two numbers',
  parameters: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }, ctx) => ({ sum: a + b, sample: ctx.sampleId, task: ctx.taskId }),
});
const boom = defineTool({
  name: 'boom',
  description: 'Always fails',
  parameters: z.object({}),
  run: () => {
    throw new Error('the disk is on fire');
  },
});
const secret = defineTool({ name: 'secret', description: 'Only sample B has it', parameters: z.object({}), run: () => 'B-only' });

function open(tools: readonly HostTool[], extra: { toolCalls?: number } = {}): { session: BridgeSession; events: { type: string; [k: string]: unknown }[] } {
  const events: { type: string; [k: string]: unknown }[] = [];
  const session = bridge.open({ sampleId: `s-${Math.random().toString(36).slice(2)}`, taskId: 'hello', model: 'mock/echo', tools, limits: extra, onEvent: (e) => events.push(e) });
  return { session, events };
}

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

const text = (result: Awaited<ReturnType<Client['callTool']>>): string => (result.content as { type: string; text: string }[]).map((c) => c.text).join('');

describe('host tools over MCP', () => {
  it('lists the tools with their JSON Schema and calls one', async () => {
    const { session, events } = open([add, boom]);
    const client = await connect(session.token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['add', 'boom']);
    expect(tools[0]!.description).toBe('Add two numbers');
    expect(tools[0]!.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(text(result))).toEqual({ sum: 5, sample: session.options.sampleId, task: 'hello' });
    const call = events.find((e) => e.type === 'tool.call')!;
    expect(call).toMatchObject({ tool: 'add', arguments: { a: 2, b: 3 }, ok: true, resultBytes: Buffer.byteLength(text(result)) });
    expect(call.durationMs).toBeTypeOf('number');
    expect(session.totals.toolCalls).toEqual({ count: 1, errors: 0, byTool: { add: 1 } });
    await client.close();
  });

  it('turns a throwing tool and bad arguments into tool errors, and keeps serving', async () => {
    const { session, events } = open([add, boom]);
    const client = await connect(session.token);
    const thrown = await client.callTool({ name: 'boom', arguments: {} });
    expect(thrown.isError).toBe(true);
    expect(text(thrown)).toContain('the disk is on fire');
    const bad = await client.callTool({ name: 'add', arguments: { a: 'two', b: 3 } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/Invalid arguments for tool add: a: .*number/i);
    const good = await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } });
    expect(JSON.parse(text(good)).sum).toBe(2);
    expect(events.filter((e) => e.type === 'tool.call').map((e) => [e.tool, e.ok])).toEqual([['boom', false], ['add', false], ['add', true]]);
    expect(events.find((e) => e.tool === 'boom')!.error).toContain('the disk is on fire');
    expect(session.totals.toolCalls).toEqual({ count: 3, errors: 2, byTool: { boom: 1, add: 2 } });
    expect(session.totals.limitExceeded).toBeUndefined();
    await client.close();
  });

  it("gives each token its own sample's tools only", async () => {
    const a = open([add]);
    const b = open([secret]);
    const client = await connect(a.session.token);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['add']);
    const stolen = await client.callTool({ name: 'secret', arguments: {} });
    expect(stolen.isError).toBe(true);
    expect(text(stolen)).not.toContain('B-only');
    expect(b.events).toEqual([]);
    await client.close();
  });

  it('answers an unknown token with 401 and a sample without tools with 404', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } };
    const post = (token: string): Promise<Response> =>
      fetch(`${bridge.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(init) });
    expect((await post('cb-not-a-token')).status).toBe(401);
    await expect(connect('cb-not-a-token')).rejects.toThrow();
    const none = open([]);
    expect((await post(none.session.token)).status).toBe(404);
    const live = open([add]);
    const ok = await post(live.session.token);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe('cagebench');
  });

  it('refuses calls over the tool-call limit and marks the sample for a limit error', async () => {
    const { session, events } = open([add], { toolCalls: 2 });
    const client = await connect(session.token);
    for (let i = 0; i < 2; i++) expect((await client.callTool({ name: 'add', arguments: { a: i, b: 1 } })).isError).toBeFalsy();
    const refused = await client.callTool({ name: 'add', arguments: { a: 9, b: 9 } });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('tool-call limit of 2 reached');
    expect(session.totals.limitExceeded).toBe('tool-call limit of 2 reached');
    expect(session.totals.toolCalls).toEqual({ count: 2, errors: 0, byTool: { add: 2 }, refused: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'tool.call', tool: 'add', ok: false, refused: true });
    await client.close();
  });

  it('holds calls made in parallel to the limit too', async () => {
    const slow = defineTool({ name: 'slow', description: 'Takes a while', parameters: z.object({}), run: () => new Promise<string>((done) => setTimeout(() => done('done'), 100)) });
    const { session } = open([slow], { toolCalls: 2 });
    const client = await connect(session.token);
    const all = await Promise.all([0, 1, 2, 3].map(() => client.callTool({ name: 'slow', arguments: {} })));
    expect(all.filter((r) => !r.isError).length).toBe(2);
    expect(session.totals.toolCalls).toEqual({ count: 2, errors: 0, byTool: { slow: 2 }, refused: 2 });
    await client.close();
  });
});
