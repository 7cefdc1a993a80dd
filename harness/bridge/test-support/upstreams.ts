// Local upstream servers that speak the real OpenAI and Anthropic wire formats, written out
// by hand (not produced by our own converters), for the bridge's tests; streaming or whole,
// as the request's `stream` asks. The reply depends on
// the last user text: "TOOL" asks for a tool call (arguments streamed in pieces), "REFUSE"
// a refusal, anything else "Hello world". Failures can be queued: a status (with an optional
// Retry-After) or a dropped connection, consumed one per request before a normal answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A status (with an optional Retry-After), a dropped connection, or a stream cut after its first event. */
export type Failure = { readonly status: number; readonly retryAfter?: string } | { readonly drop: true } | { readonly cutAfterFirstEvent: true };

export interface Upstream extends AsyncDisposable {
  readonly url: string;
  /** Bodies received, in order. */
  readonly requests: Record<string, unknown>[];
  readonly failures: Failure[];
  close(): Promise<void>;
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = (body.messages ?? body.input ?? []) as { role?: string; content?: unknown }[];
  const user = [...(Array.isArray(messages) ? messages : [])].reverse().find((m) => m.role === 'user');
  const content = user?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c: { text?: string; type?: string }) => (c.type === 'text' || c.type === 'input_text' ? c.text ?? '' : '')).join('');
  return typeof body.input === 'string' ? body.input : '';
}

async function start(handler: (body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const requests: Record<string, unknown>[] = [];
  const failures: Failure[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      requests.push(body);
      const failure = failures.shift();
      if (failure && 'drop' in failure) return void req.socket.destroy();
      if (failure && 'cutAfterFirstEvent' in failure) {
        // Answer normally, but let only the first event out before the connection dies.
        const write = res.write.bind(res);
        let events = 0;
        res.write = ((chunk: string) => {
          if (events++ > 0) return false; // the rest is never sent
          setTimeout(() => req.socket.destroy(), 50); // after the first event has left
          return write(chunk);
        }) as typeof res.write;
        res.end = (() => res) as typeof res.end;
        return handler(body, req, res);
      }
      if (failure) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
        return void res.writeHead(failure.status, headers).end(JSON.stringify({ type: 'error', error: { type: failure.status === 529 ? 'overloaded_error' : 'rate_limit_error', message: `injected ${failure.status}` } }));
      }
      handler(body, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, failures, close, [Symbol.asyncDispose]: close };
}

const sse = (res: ServerResponse, lines: string[]): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const l of lines) res.write(l);
  res.end();
};

/** What a test may change in an upstream's plain answer. */
export interface UpstreamOptions {
  /** The text of a plain answer (not TOOL or REFUSE). @default 'Hello world' */
  readonly reply?: string;
}

/** A plain answer's text in two streamed pieces, as a real model streams it. */
function pieces(reply: string | undefined): [string, string] {
  if (reply === undefined) return ['Hello', ' world'];
  const half = Math.ceil(reply.length / 2);
  return [reply.slice(0, half), reply.slice(half)];
}

/** POST /v1/chat/completions, streaming as OpenAI does (role chunk, deltas, finish, usage, [DONE]). */
export function openaiUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  return start((body, _req, res) => {
    const said = lastUserText(body);
    const chunk = (delta: unknown, finish: string | null = null): string =>
      `data: ${JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1700000000, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const usageBody = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 4 } };
    const usage = `data: ${JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1700000000, model: body.model, choices: [], usage: usageBody })}\n\n`;
    if (body.stream !== true) {
      const message = said.includes('TOOL')
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_up1', type: 'function', function: { name: 'bash', arguments: '{"command": "ls -la"}' } }] }
        : said.includes('REFUSE')
          ? { role: 'assistant', content: null, refusal: 'I cannot help with that.' }
          : { role: 'assistant', content: options.reply ?? 'Hello world' };
      const finish = said.includes('TOOL') ? 'tool_calls' : said.includes('REFUSE') ? 'content_filter' : 'stop';
      const json = JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion', created: 1700000000, model: body.model, choices: [{ index: 0, message, finish_reason: finish, logprobs: null }], usage: usageBody });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    }
    if (said.includes('TOOL')) {
      return sse(res, [
        chunk({ role: 'assistant', content: null }),
        chunk({ tool_calls: [{ index: 0, id: 'call_up1', type: 'function', function: { name: 'bash', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"comm' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'and": "ls' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: ' -la"}' } }] }),
        chunk({}, 'tool_calls'),
        usage,
        'data: [DONE]\n\n',
      ]);
    }
    if (said.includes('REFUSE')) {
      return sse(res, [chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: 'I cannot help with that.' }), chunk({}, 'content_filter'), usage, 'data: [DONE]\n\n']);
    }
    const [first, second] = pieces(options.reply);
    return sse(res, [chunk({ role: 'assistant', content: '' }), chunk({ content: first }), chunk({ content: second }), chunk({}, 'stop'), usage, 'data: [DONE]\n\n']);
  });
}

/** POST /v1/messages, streaming as Anthropic does (message_start ... ping ... message_stop). */
export function anthropicUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  return start((body, _req, res) => {
    const said = lastUserText(body);
    const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const startMsg = ev('message_start', {
      message: { id: 'msg_up', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 7, cache_read_input_tokens: 4, cache_creation_input_tokens: 0, output_tokens: 1 } },
    });
    if (body.stream !== true) {
      const content = said.includes('TOOL')
        ? [{ type: 'tool_use', id: 'toolu_up1', name: 'bash', input: { command: 'ls -la' } }]
        : [{ type: 'text', text: said.includes('REFUSE') ? 'I cannot help with that.' : options.reply ?? 'Hello world' }];
      const stop = said.includes('TOOL') ? 'tool_use' : said.includes('REFUSE') ? 'refusal' : 'end_turn';
      const json = JSON.stringify({ id: 'msg_up', type: 'message', role: 'assistant', model: body.model, content, stop_reason: stop, stop_sequence: null, usage: { input_tokens: 7, cache_read_input_tokens: 4, cache_creation_input_tokens: 0, output_tokens: 7 } });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    }
    const end = (reason: string): string[] => [
      ev('message_delta', { delta: { stop_reason: reason, stop_sequence: null }, usage: { output_tokens: 7 } }),
      ev('message_stop', {}),
    ];
    if (said.includes('TOOL')) {
      return sse(res, [
        startMsg,
        ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_up1', name: 'bash', input: {} } }),
        ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"comm' } }),
        ev('ping', {}),
        ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: 'and": "ls' } }),
        ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: ' -la"}' } }),
        ev('content_block_stop', { index: 0 }),
        ...end('tool_use'),
      ]);
    }
    const text = said.includes('REFUSE') ? 'I cannot help with that.' : null;
    const [first, second] = pieces(options.reply);
    return sse(res, [
      startMsg,
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ...(text ? [ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })] : [
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: first } }),
        ev('ping', {}),
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: second } }),
      ]),
      ev('content_block_stop', { index: 0 }),
      ...end(text ? 'refusal' : 'end_turn'),
    ]);
  });
}

/** POST /v1/responses, streaming the Responses API's event sequence (or a whole response). */
export function openaiResponsesUpstream(): Promise<Upstream> {
  return start((body, _req, res) => {
    const said = lastUserText(body);
    const usage = { input_tokens: 11, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 };
    const tool = said.includes('TOOL');
    const item = tool
      ? { type: 'function_call', id: 'fc_up1', call_id: 'call_up1', name: 'bash', arguments: '{"command": "ls -la"}', status: 'completed' }
      : { type: 'message', id: 'msg_up1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello world', annotations: [] }] };
    const response = (status: string, output: unknown[]) => ({ id: 'resp_up', object: 'response', created_at: 1700000000, model: body.model, status, output, usage: status === 'completed' ? usage : null });
    if (body.stream !== true) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response('completed', [item])));
    let n = 0;
    const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...data })}\n\n`;
    const lines = [ev('response.created', { response: response('in_progress', []) }), ev('response.in_progress', { response: response('in_progress', []) })];
    if (tool) {
      lines.push(
        ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } }),
        ev('response.function_call_arguments.delta', { output_index: 0, item_id: 'fc_up1', delta: '{"comm' }),
        ev('response.function_call_arguments.delta', { output_index: 0, item_id: 'fc_up1', delta: 'and": "ls' }),
        ev('response.function_call_arguments.delta', { output_index: 0, item_id: 'fc_up1', delta: ' -la"}' }),
        ev('response.function_call_arguments.done', { output_index: 0, item_id: 'fc_up1', arguments: '{"command": "ls -la"}' }),
        ev('response.output_item.done', { output_index: 0, item }),
      );
    } else {
      const part = { type: 'output_text', text: '', annotations: [] };
      lines.push(
        ev('response.output_item.added', { output_index: 0, item: { ...item, content: [], status: 'in_progress' } }),
        ev('response.content_part.added', { output_index: 0, item_id: 'msg_up1', content_index: 0, part }),
        ev('response.output_text.delta', { output_index: 0, item_id: 'msg_up1', content_index: 0, delta: 'Hello' }),
        ev('response.output_text.delta', { output_index: 0, item_id: 'msg_up1', content_index: 0, delta: ' world' }),
        ev('response.output_text.done', { output_index: 0, item_id: 'msg_up1', content_index: 0, text: 'Hello world' }),
        ev('response.content_part.done', { output_index: 0, item_id: 'msg_up1', content_index: 0, part: { ...part, text: 'Hello world' } }),
        ev('response.output_item.done', { output_index: 0, item }),
      );
    }
    lines.push(ev('response.completed', { response: response('completed', [item]) }));
    sse(res, lines);
  });
}
