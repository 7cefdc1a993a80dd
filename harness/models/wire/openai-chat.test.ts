import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, type ModelRequest, type ModelResponse } from '../canonical.ts';
import { UpstreamError } from '../provider.ts';
import { WireError } from '../wire.ts';
import { chatStreamOptions, openaiChatInbound } from './openai-chat-inbound.ts';
import { openaiChatOutbound } from './openai-chat-outbound.ts';
import { pieces, roundTrip, startWireServer, throughTheWire, USAGE, type WireServer } from './openai-test-support.ts';

const text = (t: string, stopReason: ModelResponse['stopReason'] = 'end_turn'): ModelResponse => ({
  id: 'chatcmpl-1',
  model: 'gpt-test',
  content: [{ type: 'text', text: t }],
  stopReason,
  usage: USAGE,
});

const toolCalls: ModelResponse = {
  id: 'chatcmpl-2',
  model: 'gpt-test',
  content: [
    { type: 'text', text: 'Let me look.' },
    { type: 'tool_call', id: 'call_a', name: 'bash', arguments: '{"command":"ls -la /tmp && echo done"}' },
    { type: 'tool_call', id: 'call_b', name: 'read', arguments: '{"path":"/etc/hostname","limit":200}' },
  ],
  stopReason: 'tool_use',
  usage: USAGE,
};

const TOOLS = [
  { type: 'function' as const, function: { name: 'bash', description: 'Run a command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } } },
  { type: 'function' as const, function: { name: 'read', parameters: { type: 'object', properties: { path: { type: 'string' } } } } },
];

describe('openai-chat inbound, through the official SDK', () => {
  let server: WireServer;
  let client: OpenAI;
  const answers: ModelResponse[] = [];
  beforeAll(async () => {
    server = await startWireServer(openaiChatInbound, {
      answer: () => answers.shift() ?? text('nothing queued'),
      renderer: (body) => openaiChatInbound.createStreamRenderer(body),
    });
    client = new OpenAI({ apiKey: 'x', baseURL: server.baseURL, maxRetries: 0 });
  });
  afterAll(() => server.close());

  it('answers text whole, with finish_reason and usage', async () => {
    answers.push(text('Hello there'));
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Hello there', refusal: null });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({
      prompt_tokens: 120,
      completion_tokens: 30,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 12 },
    });
    expect(server.calls.at(-1)!.request).toEqual({
      model: 'gpt-test',
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      tools: [],
      config: {},
      stream: false,
    });
  });

  it('answers tool calls whole, finish_reason tool_calls', async () => {
    answers.push(toolCalls);
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'look around' }], tools: TOOLS });
    const { message, finish_reason } = completion.choices[0]!;
    expect(finish_reason).toBe('tool_calls');
    expect(message.content).toBe('Let me look.');
    expect(message.tool_calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'bash', arguments: '{"command":"ls -la /tmp && echo done"}' } },
      { id: 'call_b', type: 'function', function: { name: 'read', arguments: '{"path":"/etc/hostname","limit":200}' } },
    ]);
  });

  it('streams text and tool calls in chunks (role first, arguments in pieces), a usage chunk when asked, then [DONE]', async () => {
    answers.push(toolCalls);
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'go' }], tools: TOOLS, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-2')).toBe(true);
    const content = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    expect(content).toBe('Let me look.');
    const args: string[] = [];
    const names: string[] = [];
    let argumentChunks = 0;
    for (const c of chunks) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        if (tc.function?.name) names[tc.index] = tc.function.name;
        if (tc.function?.arguments) {
          args[tc.index] = (args[tc.index] ?? '') + tc.function.arguments;
          argumentChunks++;
        }
      }
    }
    expect(names).toEqual(['bash', 'read']);
    expect(args.map((a) => JSON.parse(a) as unknown)).toEqual([{ command: 'ls -la /tmp && echo done' }, { path: '/etc/hostname', limit: 200 }]);
    expect(argumentChunks).toBeGreaterThanOrEqual(6);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish!.choices[0]!.finish_reason).toBe('tool_calls');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 });
  });

  it('sends no usage chunk when the request did not ask for one', async () => {
    answers.push(text('plain'));
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'go' }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it("the SDK's stream helper assembles the final completion", async () => {
    answers.push(toolCalls);
    const runner = client.chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'go' }], tools: TOOLS, stream_options: { include_usage: true } });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(final.choices[0]!.message.tool_calls!.map((t) => t.type === 'function' && JSON.parse(t.function.arguments))).toEqual([{ command: 'ls -la /tmp && echo done' }, { path: '/etc/hostname', limit: 200 }]);
    expect(final.usage?.total_tokens).toBe(150);
  });

  it('renders a refusal (whole: refusal field; streamed: content_filter) and max_tokens as length', async () => {
    answers.push(text('I cannot help with that.', 'refusal'));
    const whole = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    expect(whole.choices[0]!.message).toMatchObject({ content: null, refusal: 'I cannot help with that.' });
    expect(whole.choices[0]!.finish_reason).toBe('content_filter');
    answers.push(text('truncated', 'max_tokens'));
    const chunks = [];
    for await (const c of await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }], stream: true })) chunks.push(c);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
  });

  it('parses what the SDK sends: developer/system, images, assistant tool calls, tool results, and the generation settings', async () => {
    answers.push(text('ok'));
    await client.chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'developer', content: 'Rule one.' },
        { role: 'system', content: [{ type: 'text', text: 'Rule two.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }, { id: 'call_2', type: 'function', function: { name: 'read', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a.txt\nb.txt' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'empty' }] },
        { role: 'user', content: 'thanks' },
      ],
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'bash' } },
      max_completion_tokens: 500,
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
      reasoning_effort: 'low',
      parallel_tool_calls: false,
      user: 'someone',
      seed: 7,
    });
    const { request } = server.calls.at(-1)!;
    expect(request.system).toBe('Rule one.\n\nRule two.');
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
          { type: 'image', url: 'https://example.com/cat.jpg' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'tool_call', id: 'call_1', name: 'bash', arguments: '{"command":"ls"}' },
          { type: 'tool_call', id: 'call_2', name: 'read', arguments: '{}' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', callId: 'call_1', name: 'bash', content: [{ type: 'text', text: 'a.txt\nb.txt' }] },
          { type: 'tool_result', callId: 'call_2', name: 'read', content: [{ type: 'text', text: 'empty' }] },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
    ]);
    expect(request.tools).toEqual([
      { name: 'bash', description: 'Run a command', parameters: TOOLS[0]!.function.parameters },
      { name: 'read', parameters: TOOLS[1]!.function.parameters },
    ]);
    expect(request.toolChoice).toEqual({ type: 'tool', name: 'bash' });
    expect(request.config).toEqual({ maxTokens: 500, temperature: 0.2, topP: 0.9, stop: ['END'], reasoning: { effort: 'low' } });
    expect(request.dropped).toEqual(['seed: not supported, ignored']);
  });

  it('answers a malformed request with a 400 in the OpenAI error shape, naming the field', async () => {
    const err = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }, { role: 'robot', content: 'beep' } as never] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/messages\[1\]\.role must be one of system, developer, user, assistant, tool \(got "robot"\)/);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).type).toBe('invalid_request_error');
  });
});

describe('openai-chat request parsing', () => {
  const parse = (body: unknown) => openaiChatInbound.parseRequest(body, {});
  const user = [{ role: 'user', content: 'hi' }];
  it.each([
    [{ messages: user }, /^model must be a non-empty string \(got nothing\)$/],
    [{ model: 'm' }, /^messages must be an array \(got nothing\)$/],
    [{ model: 'm', messages: [] }, /^messages must be a non-empty array/],
    [{ model: 'm', messages: ['hi'] }, /^messages\[0\] must be an object \(got "hi"\)$/],
    [{ model: 'm', messages: [{ role: 'tool', content: 'x' }] }, /^messages\[0\]\.tool_call_id must be a non-empty string/],
    [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }, /^messages\[0\]\.content\[0\]\.type must be one of text, image_url/],
    [{ model: 'm', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { arguments: '{}' } }] }] }, /^messages\[0\]\.tool_calls\[0\]\.function\.name must be/],
    [{ model: 'm', messages: user, tools: [{ type: 'function', function: {} }] }, /^tools\[0\]\.function\.name must be a non-empty string/],
    [{ model: 'm', messages: user, tools: [{ type: 'retrieval' }] }, /^tools\[0\]\.type must be "function" \(got "retrieval"\)$/],
    [{ model: 'm', messages: user, tool_choice: 'sometimes' }, /^tool_choice must be one of/],
    [{ model: 'm', messages: user, max_tokens: 0 }, /^max_tokens must be a number >= 1 \(got 0\)$/],
    [{ model: 'm', messages: user, stop: [1] }, /^stop\[0\] must be a string/],
    [{ model: 'm', messages: user, reasoning_effort: 'max' }, /^reasoning_effort must be one of none, minimal, low, medium, high, xhigh/],
    [{ model: 'm', messages: user, stream: 'yes' }, /^stream must be true or false/],
  ])('rejects %j', (body, message) => {
    let caught: unknown;
    try {
      parse(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WireError);
    expect((caught as WireError).status).toBe(400);
    expect((caught as WireError).message).toMatch(message);
  });

  it('takes max_tokens, a stop array, the stream flag from the context, and notes what it drops', () => {
    const request = openaiChatInbound.parseRequest(
      {
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }, { role: 'system', content: 'late' }],
        max_tokens: 10,
        stop: ['x', 'y'],
        n: 2,
        response_format: { type: 'json_object' },
        tools: [{ type: 'custom', custom: { name: 'patch' } }],
        reasoning_effort: 'xhigh',
      },
      { stream: true },
    );
    expect(request.stream).toBe(true);
    expect(request.config).toEqual({ maxTokens: 10, stop: ['x', 'y'], reasoning: { effort: 'high' } });
    expect(request.system).toBe('late');
    expect(request.dropped).toEqual([
      'messages[0].content[1]: input_audio parts are not supported',
      'messages[1]: a system message after the conversation started was moved into the system prompt',
      'tools[0]: custom (free-form) tools are not supported',
      'reasoning_effort: "xhigh" sent as "high"',
      'n: 2 choices asked; one is generated',
      'response_format: json_object is not enforced',
    ]);
  });

  it('reads assistant refusals and reasoning_content from history', () => {
    const request = parse({ model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, refusal: 'No.', reasoning_content: 'thinking' }] });
    expect(request.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'reasoning', text: 'thinking' }, { type: 'text', text: 'No.' }] });
  });

  it('renders errors in the OpenAI shape', () => {
    expect(openaiChatInbound.renderError(400, 'bad')).toEqual({ error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } });
    expect(openaiChatInbound.renderError(429, 'slow down')).toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
    expect(openaiChatInbound.renderError(502, 'upstream')).toMatchObject({ error: { type: 'server_error' } });
  });
});

describe('openai-chat round trips', () => {
  const cases: [string, ModelResponse][] = [
    ['text', text('Hello, world. This is a longer answer.')],
    ['tool calls', toolCalls],
    ['a refusal', text('I will not do that.', 'refusal')],
    ['max_tokens', text('cut off mid', 'max_tokens')],
    ['reasoning (as reasoning_content)', { ...text('42'), content: [{ type: 'reasoning', text: 'Six times seven.' }, { type: 'text', text: '42' }] }],
  ];

  it.each(cases)('%s: stream render -> SSE -> stream parse -> collect', async (_, response) => {
    expect(await roundTrip(response, openaiChatInbound, openaiChatOutbound)).toEqual(response);
  });

  it.each(cases)('%s: renderResponse -> parseResponse', (_, response) => {
    expect(openaiChatOutbound.parseResponse(JSON.parse(JSON.stringify(openaiChatInbound.renderResponse(response))))).toEqual(response);
  });

  it('the stream round trip holds without a usage chunk too (stop waits for [DONE])', async () => {
    const events = throughTheWire(pieces(toolCalls), openaiChatInbound, openaiChatOutbound, openaiChatInbound.createStreamRenderer({ stream_options: { include_usage: false } }));
    expect(await collect(events)).toEqual({ ...toolCalls, usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } });
  });

  it('buildRequest -> parseRequest keeps the request', () => {
    const request: ModelRequest = {
      model: 'upstream-model',
      system: 'You are terse.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', mediaType: 'image/jpeg', data: '/9j/4AAQ' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Looking.' }, { type: 'tool_call', id: 'c1', name: 'bash', arguments: '{"command":"ls"}' }] },
        { role: 'user', content: [{ type: 'tool_result', callId: 'c1', name: 'bash', content: [{ type: 'text', text: 'a b' }] }] },
        { role: 'user', content: [{ type: 'text', text: 'and?' }] },
      ],
      tools: [{ name: 'bash', description: 'shell', parameters: { type: 'object', properties: { command: { type: 'string' } } } }],
      toolChoice: { type: 'required' },
      config: { maxTokens: 100, temperature: 0, topP: 1, stop: ['##'], reasoning: { effort: 'medium' } },
      stream: true,
    };
    const body = openaiChatOutbound.buildRequest({ ...request, model: 'agent-model' }, 'upstream-model');
    expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true }, max_completion_tokens: 100 });
    expect(openaiChatInbound.parseRequest(JSON.parse(JSON.stringify(body)), {})).toEqual(request);
  });

  it('a thinking budget becomes the nearest effort', () => {
    const base: ModelRequest = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }], tools: [], config: { reasoning: { budgetTokens: 10_000 } }, stream: false };
    expect(openaiChatOutbound.buildRequest(base, 'm')).toMatchObject({ reasoning_effort: 'medium' });
  });
});

describe('openai-chat stream parsing (upstream)', () => {
  const feed = (datas: string[]) => {
    const parse = openaiChatOutbound.createStreamParser();
    return datas.flatMap((data) => parse({ data }));
  };
  const chunk = (choices: unknown[], extra: object = {}) => JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices, ...extra });

  it('handles chunks without choices, usage in a trailing chunk, [DONE], and nothing after', () => {
    const events = feed([
      chunk([{ index: 0, delta: { role: 'assistant' }, finish_reason: null }]),
      chunk([]),
      chunk([{ index: 0, delta: { content: 'hi' }, finish_reason: null }]),
      chunk([{ index: 0, delta: {}, finish_reason: 'stop' }], { usage: null }),
      chunk([], { usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }),
      '[DONE]',
      chunk([{ index: 0, delta: { content: 'late' }, finish_reason: null }]),
    ]);
    expect(events).toEqual([
      { type: 'start', id: 'x', model: 'm' },
      { type: 'block_start', index: 0, block: { type: 'text' } },
      { type: 'text_delta', index: 0, text: 'hi' },
      { type: 'block_end', index: 0 },
      { type: 'stop', stopReason: 'end_turn', usage: { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  it('takes a tool call whose arguments arrive whole with the first chunk, and a finish_reason of stop with tool calls', () => {
    const events = feed([chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'stop' }]), '[DONE]']);
    expect(events.at(-1)).toMatchObject({ type: 'stop', stopReason: 'tool_use' });
    expect(events).toContainEqual({ type: 'tool_arguments_delta', index: 0, json: '{"a":1}' });
  });

  it('turns an error chunk into an UpstreamError and a broken chunk into a 502', () => {
    expect(() => feed([JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })])).toThrow(UpstreamError);
    expect(() => feed(['{not json'])).toThrow(expect.objectContaining({ status: 502 }) as Error);
  });

  it('rejects a response body without choices as a 502', () => {
    expect(() => openaiChatOutbound.parseResponse({ id: 'x' })).toThrow(/openai-chat response: choices must be an array/);
  });
});
