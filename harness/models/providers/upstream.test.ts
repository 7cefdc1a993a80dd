// The HTTP providers against a local server: where the request goes and what it carries,
// how a failed call becomes an UpstreamError, abort, and a streamed answer read as events.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelRequest, StreamEvent } from '../canonical.ts';
import { UpstreamError, type ModelProvider } from '../provider.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { createOpenAIProvider } from './openai.ts';

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

interface Server extends AsyncDisposable {
  readonly url: string;
  readonly received: Received[];
}

/** A node:http server on port 0 that records each request, then lets `answer` reply. */
async function serve(answer: (res: ServerResponse, req: IncomingMessage) => void): Promise<Server> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: JSON.parse(text || '{}') as Record<string, unknown> });
      answer(res, req);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const json = (res: ServerResponse): void => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

/** Writes the SSE text in 7-byte pieces, so events and lines arrive split. */
function sseInPieces(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (let i = 0; i < text.length; i += 7) res.write(text.slice(i, i + 7));
  res.end();
}

const request: ModelRequest = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [], config: { maxTokens: 10 }, stream: true };

async function drain(provider: ModelProvider, signal = new AbortController().signal): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of provider.stream({ request, model: 'up-model', signal })) events.push(event);
  return events;
}

/** The UpstreamError the promise rejects with (a resolved value fails the instanceof check). */
async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('requests', () => {
  it.each(['', '/'])('anthropic posts to <base>/v1/messages with its key and version (base ending %j)', async (tail) => {
    await using up = await serve(json);
    const provider = createAnthropicProvider({ apiKey: 'k-ant', baseURL: `${up.url}${tail}` });
    const response = await provider.passthrough!.send({ model: 'claude', max_tokens: 5 }, new AbortController().signal);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe('{"ok":true}');
    expect(up.received).toHaveLength(1);
    expect(up.received[0]).toMatchObject({ method: 'POST', path: '/v1/messages', body: { model: 'claude', max_tokens: 5 } });
    expect(up.received[0]!.headers).toMatchObject({ 'x-api-key': 'k-ant', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
    expect(up.received[0]!.headers.authorization).toBeUndefined();
  });

  it.each([
    ['chat', '', '/v1/chat/completions'],
    ['chat', '/', '/v1/chat/completions'],
    ['responses', '', '/v1/responses'],
    ['responses', '/', '/v1/responses'],
  ] as const)('openai %s, base ending %j: posts to %s with a bearer key', async (api, tail, path) => {
    await using up = await serve(json);
    const provider = createOpenAIProvider({ apiKey: 'k-oai', baseURL: `${up.url}/v1${tail}`, api });
    const response = await provider.passthrough!.send({ model: 'gpt' }, new AbortController().signal);
    expect(response.status).toBe(200);
    expect(up.received[0]).toMatchObject({ method: 'POST', path, body: { model: 'gpt' } });
    expect(up.received[0]!.headers).toMatchObject({ authorization: 'Bearer k-oai', 'content-type': 'application/json' });
    expect(up.received[0]!.headers['x-api-key']).toBeUndefined();
  });

  it('takes the base URL and key from the environment when not given, else no-key', async () => {
    await using up = await serve(json);
    vi.stubEnv('ANTHROPIC_BASE_URL', up.url);
    vi.stubEnv('ANTHROPIC_API_KEY', 'env-ant');
    vi.stubEnv('OPENAI_BASE_URL', `${up.url}/v1`);
    vi.stubEnv('OPENAI_API_KEY', undefined);
    await createAnthropicProvider().passthrough!.send({}, new AbortController().signal);
    await createOpenAIProvider().passthrough!.send({}, new AbortController().signal);
    expect(up.received.map((r) => [r.path, r.headers['x-api-key'] ?? r.headers.authorization])).toEqual([
      ['/v1/messages', 'env-ant'],
      ['/v1/chat/completions', 'Bearer no-key'],
    ]);
  });
});

describe('failures', () => {
  it.each([
    ['anthropic', (url: string) => createAnthropicProvider({ baseURL: url })],
    ['openai', (url: string) => createOpenAIProvider({ baseURL: `${url}/v1` })],
  ] as const)('%s: a 429 with Retry-After is an UpstreamError with the status, the wait and the body', async (name, create) => {
    const body = JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    await using up = await serve((res) => void res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' }).end(body));
    const err = await rejection(create(up.url).passthrough!.send({}, new AbortController().signal));
    expect(err).toMatchObject({ status: 429, message: `${name}: 429 slow down`, options: { retryAfterMs: 3000, body } });
    // The streaming path fails the same way, before any event.
    const streamed = await rejection(drain(create(up.url)));
    expect(streamed).toMatchObject({ status: 429, options: { retryAfterMs: 3000 } });
  });

  it('a refused connection is status 0', async () => {
    const up = await serve(json);
    const url = up.url;
    await up[Symbol.asyncDispose](); // nothing listens there now
    const err = await rejection(createOpenAIProvider({ baseURL: `${url}/v1` }).passthrough!.send({}, new AbortController().signal));
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/^openai: connection failed: .*ECONNREFUSED/);
    expect((await rejection(drain(createAnthropicProvider({ baseURL: url })))).status).toBe(0);
  });

  it('an abort before the answer ends the call at once, as status 0', async () => {
    await using up = await serve(() => undefined); // never answers
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 30);
    const started = Date.now();
    const err = await rejection(createAnthropicProvider({ baseURL: up.url }).passthrough!.send({}, abort.signal));
    expect(err).toMatchObject({ status: 0, message: 'anthropic: the request was aborted' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an abort in the middle of a stream ends it, as status 0', async () => {
    await using up = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'up-model', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] })}\n\n`);
      // and then nothing more
    });
    const abort = new AbortController();
    const seen: StreamEvent[] = [];
    const run = (async () => {
      for await (const event of createOpenAIProvider({ baseURL: `${up.url}/v1` }).stream({ request, model: 'up-model', signal: abort.signal })) {
        seen.push(event);
        if (event.type === 'text_delta') abort.abort();
      }
    })();
    expect((await rejection(run)).status).toBe(0);
    expect(seen.map((e) => e.type)).toContain('text_delta');
  });
});

describe('streams', () => {
  it('anthropic: named SSE events, split anywhere, become canonical events', async () => {
    const ev = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const text = [
      ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'up-model', content: [], usage: { input_tokens: 7, output_tokens: 1 } } }),
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ev('ping', {}),
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' world' } }),
      ev('content_block_stop', { index: 0 }),
      ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }),
      ev('message_stop', {}),
    ].join('');
    await using up = await serve((res) => sseInPieces(res, text));
    const events = await drain(createAnthropicProvider({ baseURL: up.url }));
    expect(up.received[0]!.body).toMatchObject({ model: 'up-model', stream: true });
    expect(events.filter((e) => e.type === 'text_delta').map((e) => (e as { text: string }).text).join('')).toBe('Hello world');
    expect(events[0]).toMatchObject({ type: 'start', id: 'msg_1' });
    expect(events.at(-1)).toMatchObject({ type: 'stop', stopReason: 'end_turn', usage: { inputTokens: 7, outputTokens: 5 } });
  });

  it('openai chat: data-only SSE chunks become canonical events', async () => {
    const chunk = (delta: unknown, finish: string | null = null, usage?: unknown): string =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'up-model', choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
    const text = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ content: ' world' }), chunk({}, 'stop'), chunk({}, null, { prompt_tokens: 3, completion_tokens: 2 }), 'data: [DONE]\n\n'].join('');
    await using up = await serve((res) => sseInPieces(res, text));
    const events = await drain(createOpenAIProvider({ baseURL: `${up.url}/v1` }));
    expect(up.received[0]).toMatchObject({ path: '/v1/chat/completions', body: { model: 'up-model', stream: true } });
    expect(events.filter((e) => e.type === 'text_delta').map((e) => (e as { text: string }).text).join('')).toBe('Hello world');
    expect(events.filter((e) => e.type === 'stop')).toEqual([expect.objectContaining({ stopReason: 'end_turn', usage: expect.objectContaining({ inputTokens: 3, outputTokens: 2 }) })]);
  });

  it('anthropic: an error event in the stream is an UpstreamError with its status', async () => {
    const text = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'busy' } })}\n\n`;
    await using up = await serve((res) => sseInPieces(res, text));
    const err = await rejection(drain(createAnthropicProvider({ baseURL: up.url })));
    expect(err.status).toBe(529);
    expect(err.message).toMatch(/^anthropic: .*busy/);
  });
});
