// Host tools over MCP: `/mcp` on the bridge, streamable HTTP through the official SDK, in its
// stateless mode: each POST gets a server built from the calling sample's own tools (the
// token already names the caller, so no session map), and no sample can list or call another's.
// The SDK lists the tools (their zod schemas as JSON Schema); the call handler is ours, so
// that every call (bad arguments and unknown names too) is checked against the sample's
// tool-call limit, recorded as a `tool.call` event and counted. A tool that throws is a tool
// error (`isError: true`) the agent reads and gets past; it never fails the sample.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostTool } from '../tools/define.ts';
import { HARNESS_VERSION } from '../version.ts';
import type { BridgeSession } from './session.ts';

/** Answer one MCP request of `session`'s agent. `body`: the parsed JSON of a POST. */
export async function serveMcp(req: IncomingMessage, res: ServerResponse, session: BridgeSession, body: unknown): Promise<void> {
  // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
  if (req.method !== 'POST') return rpcError(res, 405, -32000, `cagebench bridge: ${req.method} /mcp is not supported; MCP requests are POSTs (stateless streamable HTTP)`, { allow: 'POST' });
  const tools = session.options.tools ?? [];
  const server = new McpServer({ name: 'cagebench', version: HARNESS_VERSION });
  // Registered for tools/list; tools/call is answered by `callTool` below.
  for (const tool of tools) {
    server.registerTool(tool.name, { description: tool.description, inputSchema: tool.parameters }, () => {
      throw new Error('unreachable: tools/call is handled by cagebench');
    });
  }
  server.server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(session, tools, request.params.name, request.params.arguments, extra.signal));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

async function callTool(session: BridgeSession, tools: readonly HostTool[], name: string, args: Record<string, unknown> | undefined, signal: AbortSignal): Promise<CallToolResult> {
  const started = performance.now();
  const given = args ?? {};
  const record = (fields: { ok: boolean; resultBytes: number; error?: string; refused?: true }): void => {
    session.options.onEvent?.({ type: 'tool.call', tool: name, arguments: given, ...fields, durationMs: Math.round(performance.now() - started) });
  };
  const fail = (message: string, refused?: true): CallToolResult => {
    if (!refused) session.toolCallFailed();
    record({ ok: false, resultBytes: Buffer.byteLength(message), error: message, ...(refused ? { refused } : {}) });
    return { content: [{ type: 'text', text: message }], isError: true };
  };

  const limit = session.beginToolCall(name);
  if (limit) {
    // As over a model limit: the agent is told, and the sample ends as an error of kind `limit`.
    session.markLimit(limit);
    return fail(`cagebench: ${limit} for this sample; no more tool calls are allowed`, true);
  }
  const tool = tools.find((t) => t.name === name);
  if (!tool) return fail(`There is no tool named "${name}"; the tools are: ${tools.map((t) => t.name).join(', ')}.`);
  const parsed = await tool.parameters.safeParseAsync(given);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`);
    return fail(`Invalid arguments for tool ${name}: ${issues.join('; ')}`);
  }
  let text: string;
  try {
    const value = await tool.run(parsed.data, { sampleId: session.options.sampleId, taskId: session.options.taskId ?? '', signal });
    text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  } catch (err) {
    return fail(`Tool ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  record({ ok: true, resultBytes: Buffer.byteLength(text) });
  return { content: [{ type: 'text', text }] };
}

function rpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

export { rpcError as mcpError };
