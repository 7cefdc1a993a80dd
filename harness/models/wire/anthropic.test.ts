import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { collect, replay, type ModelRequest, type ModelResponse, type StreamEvent, type Usage } from '../canonical.ts';
import { createSseParser, formatSse, SSE_KEEPALIVE } from '../sse.ts';
import { WireError, type SseEvent } from '../wire.ts';
import { argumentsToInput } from './anthropic-common.ts';
import { anthropicInbound, renderStreamError } from './anthropic-inbound.ts';
import { anthropicOutbound, DEFAULT_MAX_TOKENS } from './anthropic-outbound.ts';
import { chunked } from './test-support.ts';

const usage = (u: Partial<Usage>): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, ...u });

const BASH_ARGS = '{"command":"ls -la /work","description":"List the work directory"}';

const RESPONSES = {
  text: {
    id: 'msg_text',
    model: 'claude-test',
    content: [{ type: 'text', text: 'Hello from the bridge.' }],
    stopReason: 'end_turn',
    usage: usage({ inputTokens: 17, outputTokens: 5, cacheReadTokens: 3, cacheWriteTokens: 2 }), // 12 uncached on the wire
  },
  tool: {
    id: 'msg_tool',
    model: 'claude-test',
    content: [{ type: 'tool_call', id: 'toolu_01', name: 'Bash', arguments: BASH_ARGS }],
    stopReason: 'tool_use',
    usage: usage({ inputTokens: 40, outputTokens: 22 }),
  },
  reasoning: {
    id: 'msg_reasoning',
    model: 'claude-test',
    content: [
      { type: 'reasoning', text: 'The user wants a listing; the shell tool does that.', signature: 'EqQBCkYIBxgCKkBsig==' },
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_call', id: 'toolu_02', name: 'Bash', arguments: BASH_ARGS },
    ],
    stopReason: 'tool_use',
    usage: usage({ inputTokens: 180, outputTokens: 60, cacheReadTokens: 80, reasoningTokens: 30 }), // 100 uncached on the wire
  },
  refusal: {
    id: 'msg_refusal',
    model: 'claude-test',
    content: [{ type: 'text', text: 'I can not help with that.' }],
    stopReason: 'refusal',
    usage: usage({ inputTokens: 9, outputTokens: 7 }),
  },
  maxTokens: {
    id: 'msg_max',
    model: 'claude-test',
    content: [{ type: 'text', text: 'The answer begins with a long' }],
    stopReason: 'max_tokens',
    usage: usage({ inputTokens: 9, outputTokens: 16 }),
  },
} satisfies Record<string, ModelResponse>;

async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Renders a response as the bytes of an Anthropic stream, with a ping and a keep-alive mixed in. */
async function streamBytes(response: ModelResponse): Promise<string> {
  const render = anthropicInbound.createStreamRenderer();
  const events = (await toArray(chunked(replay(response)))).flatMap(render);
  const [first, ...rest] = events.map(formatSse);
  return [first, formatSse({ event: 'ping', data: '{"type": "ping"}' }), SSE_KEEPALIVE, ...rest].join('');
}

/** Parses stream bytes fed in small, uneven chunks. */
function parseBytes(bytes: string, parser = anthropicOutbound.createStreamParser()): StreamEvent[] {
  const sse = createSseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += 7) events.push(...sse(bytes.slice(i, i + 7)));
  return events.flatMap(parser);
}

// ---------------------------------------------------------------------------------------------

describe('anthropic inbound, against the official SDK', () => {
  let server: Server;
  let client: Anthropic;
  const seen: ModelRequest[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          let request: ModelRequest;
          try {
            request = anthropicInbound.parseRequest(JSON.parse(Buffer.concat(chunks).toString('utf8')), {});
          } catch (err) {
            const status = err instanceof WireError ? err.status : 500;
            res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(anthropicInbound.renderError(status, (err as Error).message)));
            return;
          }
          seen.push(request);
          if (request.model === 'overloaded-midstream') {
            const render = anthropicInbound.createStreamRenderer();
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            for (const e of render({ type: 'start', id: 'msg_x', model: 'm' })) res.write(formatSse(e));
            res.end(formatSse(renderStreamError(529, 'Overloaded')));
            return;
          }
          const response = RESPONSES[request.model as keyof typeof RESPONSES];
          if (!response) {
            res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(anthropicInbound.renderError(404, `model: ${request.model}`)));
          } else if (!request.stream) {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(anthropicInbound.renderResponse(response)));
          } else {
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            const render = anthropicInbound.createStreamRenderer();
            for await (const e of chunked(replay(response))) for (const s of render(e)) res.write(formatSse(s));
            res.end();
          }
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = new Anthropic({ apiKey: 'x', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const ask = { max_tokens: 1024, messages: [{ role: 'user' as const, content: 'List the files.' }] };

  it('answers a non-streaming call: thinking with its signature, text, tool_use input, stop_reason and usage', async () => {
    const message = await client.messages.create({ ...ask, model: 'reasoning' });
    expect(message).toMatchObject({
      id: 'msg_reasoning',
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: 60, cache_read_input_tokens: 80, cache_creation_input_tokens: 0, output_tokens_details: { thinking_tokens: 30 } },
    });
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'The user wants a listing; the shell tool does that.', signature: 'EqQBCkYIBxgCKkBsig==' },
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'toolu_02', name: 'Bash', input: JSON.parse(BASH_ARGS) },
    ]);
  });

  it('streams: the tool input arrives in several input_json_delta chunks and finalMessage() assembles it all', async () => {
    const stream = client.messages.stream({ ...ask, model: 'reasoning' });
    const raw: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) raw.push(event);
    const final = await stream.finalMessage();

    const deltas = raw.flatMap((e) => (e.type === 'content_block_delta' ? [e.delta] : []));
    const json = deltas.flatMap((d) => (d.type === 'input_json_delta' ? [d.partial_json] : []));
    expect(json.length).toBeGreaterThanOrEqual(3);
    expect(json.join('')).toBe(BASH_ARGS);
    expect(deltas.filter((d) => d.type === 'thinking_delta').length).toBeGreaterThanOrEqual(3);
    expect(deltas.filter((d) => d.type === 'signature_delta')).toEqual([{ type: 'signature_delta', signature: 'EqQBCkYIBxgCKkBsig==' }]);
    expect(raw.map((e) => e.type)).toEqual([
      'message_start',
      ...['content_block_start', ...Array<string>(4).fill('content_block_delta'), 'content_block_stop'], // thinking: 3 text + signature
      ...['content_block_start', ...Array<string>(3).fill('content_block_delta'), 'content_block_stop'],
      ...['content_block_start', ...Array<string>(3).fill('content_block_delta'), 'content_block_stop'],
      'message_delta',
      'message_stop',
    ]);

    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'The user wants a listing; the shell tool does that.', signature: 'EqQBCkYIBxgCKkBsig==' },
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'toolu_02', name: 'Bash', input: JSON.parse(BASH_ARGS) },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 100, output_tokens: 60, cache_read_input_tokens: 80, cache_creation_input_tokens: 0 });
    expect(seen.at(-1)?.stream).toBe(true);
  });

  it('streams plain text with cache usage', async () => {
    const final = await client.messages.stream({ ...ask, model: 'text' }).finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from the bridge.' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 5, cache_read_input_tokens: 3, cache_creation_input_tokens: 2 });
  });

  it('parses what the SDK sends: system blocks with cache_control, tools incl. a server tool, images, tool_result, thinking', async () => {
    const params = {
      model: 'text',
      max_tokens: 32000,
      system: [
        { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.330' },
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
      ],
      thinking: { type: 'enabled', budget_tokens: 31999, display: 'summarized' },
      metadata: { user_id: '{"session":"abc"}' },
      context_management: { edits: [{ type: 'clear_thinking_20251015' }] },
      stop_sequences: ['</done>'],
      tools: [
        { name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] }, cache_control: { type: 'ephemeral' } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
        { name: 'Read', input_schema: { type: 'object', properties: { path: { type: 'string' } } } },
      ],
      tool_choice: { type: 'auto' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture and this directory?', cache_control: { type: 'ephemeral' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should list.', signature: 'sig-1' },
            { type: 'redacted_thinking', data: 'opaque-data' },
            { type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } },
            { type: 'tool_use', id: 'toolu_02', name: 'Read', input: { path: 'a.png' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_01', content: 'a.png\nb.txt' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_02',
              is_error: true,
              content: [
                { type: 'text', text: 'too large, here is a thumbnail' },
                { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
              ],
            },
          ],
        },
      ],
    };
    // Streaming, as Claude Code does (the SDK refuses a non-streaming call with this max_tokens).
    await client.messages.stream(params as unknown as Anthropic.MessageStreamParams).finalMessage();
    expect(seen.at(-1)).toEqual({
      model: 'text',
      system: 'x-anthropic-billing-header: cc_version=2.1.330\n\nYou are Claude Code.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture and this directory?' },
            { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
            { type: 'image', url: 'https://example.com/cat.png' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'I should list.', signature: 'sig-1' },
            { type: 'reasoning', text: '', encrypted: 'opaque-data', redacted: true },
            { type: 'tool_call', id: 'toolu_01', name: 'Bash', arguments: '{"command":"ls"}' },
            { type: 'tool_call', id: 'toolu_02', name: 'Read', arguments: '{"path":"a.png"}' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', callId: 'toolu_01', content: [{ type: 'text', text: 'a.png\nb.txt' }] },
            {
              type: 'tool_result',
              callId: 'toolu_02',
              isError: true,
              content: [
                { type: 'text', text: 'too large, here is a thumbnail' },
                { type: 'image', mediaType: 'image/jpeg', data: '/9j/4AAQ' },
              ],
            },
          ],
        },
      ],
      tools: [
        { name: 'Bash', description: 'Run a command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
        { name: 'Read', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
      ],
      toolChoice: { type: 'auto' },
      config: { maxTokens: 32000, stop: ['</done>'], reasoning: { budgetTokens: 31999 } },
      stream: true,
      dropped: ['tools[1]: server tool web_search_20250305 "web_search"', 'context_management'],
    } satisfies ModelRequest);
  });

  it('a malformed request reaches the SDK as a 400 invalid_request_error naming the field', async () => {
    const bad = { model: 'text', max_tokens: 10, messages: [{ content: 'hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const err = await client.messages.create(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages[0].role must be "user" or "assistant" (got nothing)' },
    });
  });

  it('an error event in the middle of a stream reaches the SDK as an overloaded_error', async () => {
    const err = await client.messages
      .stream({ ...ask, model: 'overloaded-midstream' })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });
});

// ---------------------------------------------------------------------------------------------

describe('anthropic round trips: inbound rendering -> outbound parsing', () => {
  for (const [name, response] of Object.entries(RESPONSES)) {
    it(`stream: ${name}`, async () => {
      const events = parseBytes(await streamBytes(response));
      expect(events[0]).toEqual({ type: 'start', id: response.id, model: response.model });
      expect(events.at(-1)?.type).toBe('stop');
      expect(await collect(from(events))).toEqual(response);
    });

    it(`whole response: ${name}`, () => {
      const wire: unknown = JSON.parse(JSON.stringify(anthropicInbound.renderResponse(response)));
      expect(anthropicOutbound.parseResponse(wire)).toEqual(response);
    });
  }

  it('redacted thinking keeps its data through a whole response', () => {
    const response: ModelResponse = {
      ...RESPONSES.text,
      content: [{ type: 'reasoning', text: '', encrypted: 'EmwKAhgBEgy3va3pzix', redacted: true }, ...RESPONSES.text.content],
    };
    const wire = anthropicInbound.renderResponse(response) as { content: unknown[] };
    expect(wire.content[0]).toEqual({ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' });
    expect(anthropicOutbound.parseResponse(wire)).toEqual(response);
  });

  it('tool arguments that are not a JSON object travel as {"_raw": text} and come back as the same text', () => {
    const broken = '{"command": "ls -la'; // cut off mid-string
    const response: ModelResponse = { ...RESPONSES.tool, content: [{ type: 'tool_call', id: 'toolu_9', name: 'Bash', arguments: broken }] };
    const wire = anthropicInbound.renderResponse(response) as { content: unknown[] };
    expect(wire.content[0]).toEqual({ type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { _raw: broken } });
    expect(anthropicOutbound.parseResponse(wire)).toEqual(response);
    // ... and when the agent sends that block back in its history.
    const request = anthropicInbound.parseRequest({ model: 'm', messages: [{ role: 'assistant', content: [wire.content[0]] }] }, {});
    expect(request.messages[0]?.content[0]).toEqual({ type: 'tool_call', id: 'toolu_9', name: 'Bash', arguments: broken });
    expect(argumentsToInput('')).toEqual({});
    expect(argumentsToInput('[1,2]')).toEqual({ _raw: '[1,2]' });
  });

  it('the stream parser skips redacted thinking and server tool blocks, renumbering the rest', async () => {
    const wire = [
      { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-up', content: [], stop_reason: null, usage: { input_tokens: 50, output_tokens: 1, cache_read_input_tokens: 10 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'opaque' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '', citations: null } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Found it.' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 33, output_tokens_details: { thinking_tokens: 12 } } },
      { type: 'message_stop' },
    ];
    const parser = anthropicOutbound.createStreamParser();
    const events = wire.flatMap((data) => parser({ event: data.type, data: JSON.stringify(data) }));
    expect(events.filter((e) => e.type === 'block_start')).toEqual([{ type: 'block_start', index: 0, block: { type: 'text' } }]);
    expect(await collect(from(events))).toEqual({
      id: 'msg_1',
      model: 'claude-up',
      content: [{ type: 'text', text: 'Found it.' }],
      stopReason: 'end_turn',
      usage: usage({ inputTokens: 60, outputTokens: 33, cacheReadTokens: 10, reasoningTokens: 12 }), // 50 uncached + 10 cached
    });
  });

  it('the stream renderer closes open blocks at stop and starts a message if no start came', () => {
    const render = anthropicInbound.createStreamRenderer();
    const events = [
      ...render({ type: 'block_start', index: 0, block: { type: 'text' } }),
      ...render({ type: 'text_delta', index: 0, text: 'hi' }),
      ...render({ type: 'stop', stopReason: 'error', usage: usage({ outputTokens: 1 }) }),
    ];
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    for (const e of events) expect(JSON.parse(e.data)).toMatchObject({ type: e.event });
    expect(JSON.parse(events[4]!.data)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 0, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('anthropic requests: buildRequest -> parseRequest', () => {
  const thinkingRequest: ModelRequest = {
    model: 'agent-model',
    system: 'You are a careful engineer.',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Fix the failing test; screenshot attached.' },
          { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
          { type: 'image', url: 'https://example.com/ci.png' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'Run the tests first.', signature: 'sig-abc' },
          { type: 'reasoning', text: '', encrypted: 'redacted-data', redacted: true },
          { type: 'text', text: 'Running the tests.' },
          { type: 'tool_call', id: 'toolu_1', name: 'Bash', arguments: '{"command":"npm test"}' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', callId: 'toolu_1', isError: true, content: [{ type: 'text', text: '1 failing' }, { type: 'image', mediaType: 'image/png', data: 'AAAA' }] },
          { type: 'text', text: 'Keep going.' },
        ],
      },
    ],
    tools: [
      { name: 'Bash', description: 'Run a shell command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
      { name: 'Read', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
    ],
    toolChoice: { type: 'tool', name: 'Bash' },
    config: { maxTokens: 8192, stop: ['END'], reasoning: { budgetTokens: 2048 } },
    stream: true,
  };

  it('a request with thinking, images, tool calls and results comes back the same', () => {
    const body = anthropicOutbound.buildRequest(thinkingRequest, 'claude-upstream');
    expect(body).toMatchObject({ model: 'claude-upstream', max_tokens: 8192, thinking: { type: 'enabled', budget_tokens: 2048 }, tool_choice: { type: 'tool', name: 'Bash' }, stream: true });
    expect(anthropicInbound.parseRequest(JSON.parse(JSON.stringify(body)), {})).toEqual({ ...thinkingRequest, model: 'claude-upstream' });
  });

  it.each([
    [{ type: 'auto' }, { type: 'auto' }],
    [{ type: 'required' }, { type: 'any' }],
    [{ type: 'none' }, { type: 'none' }],
  ] as const)('tool choice %j is sent as %j and comes back', (toolChoice, wire) => {
    const request: ModelRequest = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      tools: [{ name: 'Read', parameters: { type: 'object', properties: {} } }],
      toolChoice,
      config: { maxTokens: 100, temperature: 0.3, topP: 0.9 },
      stream: false,
    };
    const body = anthropicOutbound.buildRequest(request, 'm') as { tool_choice: unknown };
    expect(body.tool_choice).toEqual(wire);
    expect(anthropicInbound.parseRequest(body, {})).toEqual(request);
  });

  it('merges consecutive tool results into one user turn with the results first, and applies the API rules', () => {
    const request: ModelRequest = {
      model: 'gpt-style',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'summary from another provider', encrypted: 'openai-blob' },
            { type: 'text', text: '' },
            { type: 'tool_call', id: 'call_1', name: 'Read', arguments: '{"path":"a"}' },
            { type: 'tool_call', id: 'call_2', name: 'Read', arguments: '{"path":"b"}' },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', callId: 'call_1', content: [{ type: 'text', text: 'A' }] }] },
        { role: 'user', content: [{ type: 'text', text: 'also b:' }, { type: 'tool_result', callId: 'call_2', content: [] }] },
      ],
      tools: [],
      toolChoice: { type: 'required' },
      config: { temperature: 0.2, topP: 0.5, reasoning: { budgetTokens: 1024 } },
      stream: false,
    };
    expect(anthropicOutbound.buildRequest(request, 'claude-up')).toEqual({
      model: 'claude-up',
      max_tokens: 1024 + DEFAULT_MAX_TOKENS,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'Read', input: { path: 'a' } },
            { type: 'tool_use', id: 'call_2', name: 'Read', input: { path: 'b' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'A' }] },
            { type: 'tool_result', tool_use_id: 'call_2' },
            { type: 'text', text: 'also b:' },
          ],
        },
      ],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      stream: false,
    });
    const plain = anthropicOutbound.buildRequest({ ...request, config: {} }, 'claude-up') as { max_tokens: number };
    expect(plain.max_tokens).toBe(DEFAULT_MAX_TOKENS);
  });

  it('lists what it drops and ignores metadata and service_tier', () => {
    const request = anthropicInbound.parseRequest(
      {
        model: 'm',
        max_tokens: 10,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }, { type: 'text', text: 'hi' }] },
        ],
        thinking: { type: 'adaptive' },
        output_config: { effort: 'max', format: { type: 'json_schema', schema: {} } },
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        top_k: 5,
        metadata: { user_id: 'u' },
        service_tier: 'auto',
        some_future_field: true,
      },
      { stream: true },
    );
    expect(request.system).toBe('Be brief.');
    expect(request.stream).toBe(true);
    expect(request.config.reasoning).toEqual({ effort: 'high' });
    expect(request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(request.dropped).toEqual([
      'messages[0]: system message moved into the system prompt',
      'messages[1].content[0]: document block',
      'tool_choice.disable_parallel_tool_use',
      'thinking: adaptive',
      'output_config.effort: "max" sent as "high"',
      'output_config.format',
      'top_k',
      'some_future_field',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('anthropic errors', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [529, 'overloaded_error'],
    [422, 'invalid_request_error'],
    [502, 'api_error'],
  ])('status %i renders as %s', (status, type) => {
    expect(anthropicInbound.renderError(status, 'what happened')).toEqual({ type: 'error', error: { type, message: 'what happened' } });
  });

  it.each<[string, unknown, RegExp]>([
    ['a body that is not an object', [], /^the request body must be a JSON object \(got an array\)$/],
    ['no messages array', { model: 'm', max_tokens: 1 }, /^messages must be an array \(got nothing\)$/],
    ['a message without a role', { model: 'm', messages: [{ content: 'hi' }] }, /^messages\[0\]\.role must be "user" or "assistant"/],
    ['content that is a number', { model: 'm', messages: [{ role: 'user', content: 42 }] }, /^messages\[0\]\.content must be a string or an array of content blocks \(got 42\)$/],
    ['a block without a type', { model: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }, /^messages\[0\]\.content\[0\] must be a content block with a "type"/],
    ['a tool_use without an id', { model: 'm', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: [{ type: 'tool_use', name: 'x', input: {} }] }] }, /^messages\[1\]\.content\[0\]\.id must be a string/],
    ['a tool_result without a tool_use_id', { model: 'm', messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, /^messages\[0\]\.content\[0\]\.tool_use_id must be a string/],
    ['an image with a bad source', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'ftp' } }] }] }, /^messages\[0\]\.content\[0\]\.source\.type must be/],
    ['a tool without input_schema', { model: 'm', messages: [], tools: [{ name: 'x' }] }, /^tools\[0\]\.input_schema must be a JSON Schema object/],
    ['a system block that is not text', { model: 'm', messages: [], system: [{ type: 'image' }] }, /^system\[0\] must be a text block/],
    ['thinking without a budget', { model: 'm', messages: [], thinking: { type: 'enabled' } }, /^thinking\.budget_tokens must be a positive integer/],
    ['max_tokens that is not a number', { model: 'm', messages: [], max_tokens: 'many' }, /^max_tokens must be a positive integer \(got "many"\)$/],
    ['an unknown tool_choice', { model: 'm', messages: [], tool_choice: { type: 'maybe' } }, /^tool_choice\.type must be/],
    ['no model', { messages: [] }, /^model must be a model name/],
  ])('%s is a WireError 400 naming the field', (_, body, message) => {
    let caught: unknown;
    try {
      anthropicInbound.parseRequest(body, {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WireError);
    expect((caught as WireError).status).toBe(400);
    expect((caught as WireError).message).toMatch(message);
  });

  it.each([
    ['overloaded_error', 529],
    ['rate_limit_error', 429],
    ['api_error', 500],
    ['authentication_error', 401],
    ['something_new', 500],
  ])('a stream error event of type %s is a WireError %i', (type, status) => {
    const parser = anthropicOutbound.createStreamParser();
    parser({ event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'msg_1', model: 'm', usage: { input_tokens: 1, output_tokens: 0 } } }) });
    const error = { event: 'error', data: JSON.stringify({ type: 'error', error: { type, message: 'try later' } }) };
    expect(() => parser(error)).toThrow(WireError);
    expect(() => parser(error)).toThrow(expect.objectContaining({ status, message: `Anthropic stream: ${type}: try later` }));
  });

  it('an error body given to parseResponse is a WireError with its status; data that is not JSON is a 502', () => {
    expect(() => anthropicOutbound.parseResponse({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } })).toThrow(
      expect.objectContaining({ name: 'WireError', status: 429 }),
    );
    expect(() => anthropicOutbound.createStreamParser()({ event: 'content_block_delta', data: '{oops' })).toThrow(expect.objectContaining({ status: 502 }));
  });

  it('renderStreamError is the SSE error event Anthropic sends', () => {
    expect(renderStreamError(429, 'slow down')).toEqual({ event: 'error', data: '{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}' });
  });
});
