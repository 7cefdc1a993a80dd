import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, type ModelRequest, type ModelResponse, type StreamEvent } from '../canonical.ts';
import { UpstreamError } from '../provider.ts';
import { WireError } from '../wire.ts';
import { flatToolName, type ReasoningDeltaWithEncrypted } from './openai-responses-common.ts';
import { createOpenaiResponsesInbound } from './openai-responses-inbound.ts';
import { openaiResponsesOutbound } from './openai-responses-outbound.ts';
import { pieces, roundTrip, startWireServer, throughTheWire, USAGE, type WireServer } from './openai-test-support.ts';

const text = (t: string, stopReason: ModelResponse['stopReason'] = 'end_turn'): ModelResponse => ({
  id: 'resp_1',
  model: 'gpt-test',
  content: [{ type: 'text', text: t }],
  stopReason,
  usage: USAGE,
});

const toolCalls: ModelResponse = {
  id: 'resp_2',
  model: 'gpt-test',
  content: [
    { type: 'reasoning', text: 'I should list the files first.' },
    { type: 'text', text: 'Let me look.' },
    { type: 'tool_call', id: 'call_a', name: 'exec_command', arguments: '{"cmd":"ls -la /tmp && echo done"}' },
    { type: 'tool_call', id: 'call_b', name: 'multi_agent_v1__wait_agent', arguments: '{"ids":["agent-1"],"timeout_ms":1000}' },
  ],
  stopReason: 'tool_use',
  usage: USAGE,
};

const schema = (props: Record<string, unknown>) => ({ type: 'object', properties: props, additionalProperties: false });

/** What Codex 0.169 sends, trimmed: developer prompt as a message, namespace and hosted tools, history with reasoning. */
const codexBody = {
  model: 'gpt-test',
  input: [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context>cwd=/w</environment_context>' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'fix the bug' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' }] },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Plan: look.' }], encrypted_content: 'gAAAA-opaque' },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Looking.' }] },
    { type: 'function_call', call_id: 'call_1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
    { type: 'function_call', call_id: 'call_2', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{"message":"hi"}' },
    { type: 'function_call_output', call_id: 'call_1', output: 'a.txt' },
    { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'agent-1 started' }] },
    { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'x' } },
  ],
  tools: [
    { type: 'function', name: 'exec_command', description: 'Runs a command', strict: false, parameters: schema({ cmd: { type: 'string' } }) },
    {
      type: 'namespace',
      name: 'multi_agent_v1',
      description: 'Sub-agents.',
      tools: [
        { type: 'function', name: 'spawn_agent', description: 'Spawn an agent.', parameters: schema({ message: { type: 'string' } }) },
        { type: 'function', name: 'wait_agent', parameters: schema({ ids: { type: 'array' } }) },
      ],
    },
    { type: 'web_search', external_web_access: false },
  ],
  tool_choice: 'auto',
  parallel_tool_calls: true,
  reasoning: { effort: 'medium', summary: 'auto' },
  store: false,
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: 'thread-1',
  text: { verbosity: 'low' },
  client_metadata: { originator: 'codex_exec' },
  metadata: { a: 'b' },
};

/** `pieces`, plus the encrypted content of each reasoning part on a last empty reasoning delta. */
async function* withEncrypted(response: ModelResponse): AsyncGenerator<StreamEvent> {
  const encrypted = response.content.map((p) => (p.type === 'reasoning' ? p.encrypted : undefined));
  for await (const e of pieces(response)) {
    const enc = e.type === 'block_end' ? encrypted[e.index] : undefined;
    if (enc) {
      const delta: ReasoningDeltaWithEncrypted = { type: 'reasoning_delta', index: e.type === 'block_end' ? e.index : 0, text: '', encrypted: enc };
      yield delta;
    }
    yield e;
  }
}

describe('openai-responses inbound, through the official SDK', () => {
  const inbound = createOpenaiResponsesInbound();
  let server: WireServer;
  let client: OpenAI;
  const answers: ModelResponse[] = [];
  beforeAll(async () => {
    server = await startWireServer(inbound, { answer: () => answers.shift() ?? text('nothing queued'), events: withEncrypted });
    client = new OpenAI({ apiKey: 'x', baseURL: server.baseURL, maxRetries: 0 });
  });
  afterAll(() => server.close());

  it('parses what Codex sends: developer prompt, history with reasoning and namespaced calls, namespace tools flattened, hosted tools dropped', async () => {
    answers.push(text('ok'));
    await client.responses.create(codexBody as never);
    const { request } = server.calls.at(-1)!;
    expect(request).toEqual({
      model: 'gpt-test',
      system: 'You are Codex.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<environment_context>cwd=/w</environment_context>' }] },
        { role: 'user', content: [{ type: 'text', text: 'fix the bug' }, { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'Plan: look.', encrypted: 'gAAAA-opaque' },
            { type: 'text', text: 'Looking.' },
            { type: 'tool_call', id: 'call_1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
            { type: 'tool_call', id: 'call_2', name: 'multi_agent_v1__spawn_agent', arguments: '{"message":"hi"}' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', callId: 'call_1', name: 'exec_command', content: [{ type: 'text', text: 'a.txt' }] },
            { type: 'tool_result', callId: 'call_2', name: 'multi_agent_v1__spawn_agent', content: [{ type: 'text', text: 'agent-1 started' }] },
          ],
        },
      ],
      tools: [
        { name: 'exec_command', description: 'Runs a command', parameters: schema({ cmd: { type: 'string' } }) },
        { name: 'multi_agent_v1__spawn_agent', description: 'Spawn an agent.', parameters: schema({ message: { type: 'string' } }) },
        { name: 'multi_agent_v1__wait_agent', description: 'Sub-agents.', parameters: schema({ ids: { type: 'array' } }) },
      ],
      toolChoice: { type: 'auto' },
      config: { reasoning: { effort: 'medium' } },
      stream: false,
      dropped: ['input[9]: hosted tool item "web_search_call" dropped', 'tools[2]: hosted tool web_search is not supported'],
    });
  });

  it('answers whole: a response object with message, reasoning and function_call items (namespace split back), usage', async () => {
    answers.push(toolCalls);
    const response = await client.responses.create({ ...codexBody, stream: false } as never as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(response).toMatchObject({ id: 'resp_2', object: 'response', status: 'completed', model: 'gpt-test', incomplete_details: null, error: null });
    expect(response.output.map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call']);
    expect(response.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'I should list the files first.' }] });
    expect(response.output_text).toBe('Let me look.');
    expect(response.output[2]).toMatchObject({ type: 'function_call', call_id: 'call_a', name: 'exec_command', arguments: '{"cmd":"ls -la /tmp && echo done"}' });
    expect(response.output[2]).not.toHaveProperty('namespace');
    expect(response.output[3]).toMatchObject({ type: 'function_call', call_id: 'call_b', name: 'wait_agent', namespace: 'multi_agent_v1' });
    expect(response.usage).toEqual({
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 12 },
      total_tokens: 150,
    });
  });

  it('streams the real event sequence with consecutive sequence numbers', async () => {
    answers.push(text('Hello there, from the bridge.'));
    const events = [];
    for await (const e of await client.responses.create({ model: 'gpt-test', input: 'hi', stream: true })) events.push(e);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1)!;
    expect(completed.type === 'response.completed' && completed.response.usage?.total_tokens).toBe(150);
    expect(server.calls.at(-1)!.request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });

  it('responses.stream().finalResponse() reassembles reasoning, text and tool calls, with usage', async () => {
    answers.push({ ...toolCalls, content: [{ type: 'reasoning', text: 'I should list the files first.', encrypted: 'enc-xyz' }, ...toolCalls.content.slice(1)] });
    const stream = client.responses.stream({ ...codexBody } as never as OpenAI.Responses.ResponseCreateParamsStreaming);
    const types: string[] = [];
    let argumentDeltas = 0;
    stream.on('event', (e) => {
      types.push(e.type);
      if (e.type === 'response.function_call_arguments.delta') argumentDeltas++;
    });
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('Let me look.');
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'I should list the files first.' }], encrypted_content: 'enc-xyz' });
    const calls = final.output.filter((o) => o.type === 'function_call');
    expect(calls.map((c) => [c.name, c.namespace, JSON.parse(c.arguments) as unknown])).toEqual([
      ['exec_command', undefined, { cmd: 'ls -la /tmp && echo done' }],
      ['wait_agent', 'multi_agent_v1', { ids: ['agent-1'], timeout_ms: 1000 }],
    ]);
    expect(final.usage?.output_tokens_details.reasoning_tokens).toBe(12);
    expect(argumentDeltas).toBeGreaterThanOrEqual(6);
    expect(types).toEqual(expect.arrayContaining(['response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.reasoning_summary_text.done', 'response.function_call_arguments.done']));
    // Codex reads finished items from output_item.done: the encrypted reasoning must be there.
  });

  it('streams max_tokens as response.incomplete, and a refusal as refusal parts in the final response', async () => {
    answers.push(text('cut off', 'max_tokens'));
    const incomplete = await client.responses.stream({ model: 'gpt-test', input: 'x' }).finalResponse();
    expect(incomplete).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    answers.push(text('I cannot help with that.', 'refusal'));
    const refused = await client.responses.stream({ model: 'gpt-test', input: 'x' }).finalResponse();
    expect(refused.output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] });
    answers.push(text('No.', 'refusal'));
    const whole = await client.responses.create({ model: 'gpt-test', input: 'x' });
    expect(whole.output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'No.' }] });
  });

  it('answers a malformed request with a 400 in the OpenAI error shape, naming the field', async () => {
    const err = await client.responses.create({ model: 'gpt-test', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(/input\[0\]\.call_id must be a non-empty string \(got nothing\)/);
  });
});

describe('openai-responses request parsing', () => {
  const parse = (body: unknown) => createOpenaiResponsesInbound().parseRequest(body, {});
  it.each([
    [{ input: 'hi' }, /^model must be a non-empty string/],
    [{ model: 'm', input: 42 }, /^input must be an array \(got 42\)$/],
    [{ model: 'm', input: [{ foo: 1 }] }, /^input\[0\]\.type must be an item type/],
    [{ model: 'm', input: [{ role: 'robot', content: 'x' }] }, /^input\[0\]\.role must be one of user, assistant, system, developer \(got "robot"\)$/],
    [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_video' }] }] }, /^input\[0\]\.content\[0\]\.type must be one of input_text/],
    [{ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: 7 }] }, /^input\[0\]\.output must be an array \(got 7\)$/],
    [{ model: 'm', input: [{ type: 'reasoning', summary: [{ type: 'summary_text' }] }] }, /^input\[0\]\.summary\[0\]\.text must be a string/],
    [{ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, /^input\[0\]: item_reference is not supported/],
    [{ model: 'm', input: 'x', previous_response_id: 'resp_9' }, /^previous_response_id is not supported: the bridge keeps no responses/],
    [{ model: 'm', input: 'x', tools: [{ name: 'f' }] }, /^tools\[0\]\.type must be a tool type/],
    [{ model: 'm', input: 'x', tools: [{ type: 'function', parameters: {} }] }, /^tools\[0\]\.name must be a non-empty string/],
    [{ model: 'm', input: 'x', tools: [{ type: 'namespace', name: 'ns' }] }, /^tools\[0\]\.tools must be an array/],
    [{ model: 'm', input: 'x', tool_choice: 'always' }, /^tool_choice must be one of/],
    [{ model: 'm', input: 'x', reasoning: { effort: 'max' } }, /^reasoning\.effort must be one of/],
    [{ model: 'm', input: 'x', max_output_tokens: -1 }, /^max_output_tokens must be a number >= 1/],
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

  it('takes instructions, tool_choice by name (namespaced too), max_output_tokens, and notes a structured output format', () => {
    const request = parse({
      model: 'm',
      instructions: 'Be kind.',
      input: [{ role: 'system', content: 'And brief.' }, { role: 'user', content: 'hi' }],
      tool_choice: { type: 'function', name: 'spawn_agent', namespace: 'multi_agent_v1' },
      max_output_tokens: 64,
      temperature: 1,
      text: { format: { type: 'json_schema', name: 'x', schema: {} } },
      stream: true,
    });
    expect(request.system).toBe('Be kind.\n\nAnd brief.');
    expect(request.toolChoice).toEqual({ type: 'tool', name: 'multi_agent_v1__spawn_agent' });
    expect(request.config).toEqual({ maxTokens: 64, temperature: 1 });
    expect(request.stream).toBe(true);
    expect(request.dropped).toEqual(['text.format: json_schema is not enforced']);
  });

  it("flattens namespaced names as Codex does (stray underscores at the join trimmed)", () => {
    expect(flatToolName('multi_agent_v1', 'spawn_agent')).toBe('multi_agent_v1__spawn_agent');
    expect(flatToolName('mcp__calendar__', '__create_event')).toBe('mcp__calendar__create_event');
  });

  it('splits only names it flattened itself: a plain tool with __ stays plain', () => {
    const inbound = createOpenaiResponsesInbound();
    inbound.parseRequest({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'mcp__plain__tool' }, { type: 'namespace', name: 'mcp__srv__', tools: [{ type: 'function', name: 'go' }] }] }, {});
    expect(inbound.namespaceOf('mcp__plain__tool')).toBeUndefined();
    expect(inbound.namespaceOf('mcp__srv__go')).toEqual({ namespace: 'mcp__srv__', name: 'go' });
    const rendered = inbound.renderResponse({ ...text(''), content: [{ type: 'tool_call', id: 'c', name: 'mcp__srv__go', arguments: '{}' }, { type: 'tool_call', id: 'd', name: 'mcp__plain__tool', arguments: '{}' }], stopReason: 'tool_use' }) as { output: object[] };
    expect(rendered.output).toMatchObject([{ name: 'go', namespace: 'mcp__srv__' }, { name: 'mcp__plain__tool' }]);
    expect(rendered.output[1]).not.toHaveProperty('namespace');
  });

  it('renders errors in the OpenAI shape', () => {
    expect(createOpenaiResponsesInbound().renderError(404, 'no such model')).toEqual({ error: { message: 'no such model', type: 'not_found_error', param: null, code: null } });
  });
});

describe('openai-responses round trips', () => {
  // An inbound that has seen Codex's tools, so the namespaced call splits and joins back.
  const inbound = createOpenaiResponsesInbound();
  inbound.parseRequest(codexBody, {});
  const cases: [string, ModelResponse][] = [
    ['text', text('Hello, world. This is a longer answer.')],
    ['reasoning, text and tool calls (one namespaced)', toolCalls],
    ['a refusal', text('I will not do that.', 'refusal')],
    ['max_tokens', text('cut off mid', 'max_tokens')],
    ['an error stop', text('partial', 'error')],
  ];

  it.each(cases)('%s: stream render -> SSE -> stream parse -> collect', async (_, response) => {
    expect(await roundTrip(response, inbound, openaiResponsesOutbound)).toEqual(response);
  });

  it.each([...cases, ['encrypted reasoning', { ...toolCalls, content: [{ type: 'reasoning', text: 'hmm', encrypted: 'enc-1' }, ...toolCalls.content.slice(1)] } as ModelResponse]])(
    '%s: renderResponse -> parseResponse',
    (_, response) => {
      expect(openaiResponsesOutbound.parseResponse(JSON.parse(JSON.stringify(inbound.renderResponse(response))))).toEqual(response);
    },
  );

  it('carries encrypted reasoning through a stream on the reasoning delta, and collect() keeps it', async () => {
    const response: ModelResponse = { ...toolCalls, content: [{ type: 'reasoning', text: 'hmm', encrypted: 'enc-1' }, { type: 'text', text: 'ok' }], stopReason: 'end_turn' };
    const events: StreamEvent[] = [];
    for await (const e of throughTheWire(withEncrypted(response), inbound, openaiResponsesOutbound)) events.push(e);
    expect(events).toContainEqual({ type: 'reasoning_delta', index: 0, text: '', encrypted: 'enc-1' });
    expect((await collect((async function* () { yield* events; })())).content[0]).toEqual({ type: 'reasoning', text: 'hmm', encrypted: 'enc-1' });
  });

  it('buildRequest -> parseRequest keeps the request', () => {
    const request: ModelRequest = {
      model: 'upstream-model',
      system: 'You are terse.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', mediaType: 'image/jpeg', data: '/9j/4AAQ' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'Check.', encrypted: 'enc-2' },
            { type: 'text', text: 'Looking.' },
            { type: 'tool_call', id: 'c1', name: 'bash', arguments: '{"command":"ls"}' },
            { type: 'tool_call', id: 'c2', name: 'screenshot', arguments: '{}' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', callId: 'c1', name: 'bash', content: [{ type: 'text', text: 'a b' }] },
            { type: 'tool_result', callId: 'c2', name: 'screenshot', content: [{ type: 'text', text: 'here' }, { type: 'image', url: 'https://example.com/s.png' }] },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'and?' }] },
      ],
      tools: [{ name: 'bash', description: 'shell', parameters: { type: 'object', properties: { command: { type: 'string' } } } }],
      toolChoice: { type: 'tool', name: 'bash' },
      config: { maxTokens: 100, temperature: 0, topP: 1, reasoning: { effort: 'high' } },
      stream: true,
    };
    const body = openaiResponsesOutbound.buildRequest({ ...request, model: 'agent-model' }, 'upstream-model');
    expect(body).toMatchObject({ store: false, include: ['reasoning.encrypted_content'], reasoning: { effort: 'high', summary: 'auto' }, instructions: 'You are terse.' });
    expect(createOpenaiResponsesInbound().parseRequest(JSON.parse(JSON.stringify(body)), {})).toEqual(request);
  });
});

describe('openai-responses stream parsing (upstream)', () => {
  const feed = (events: object[]) => {
    const parse = openaiResponsesOutbound.createStreamParser();
    return events.flatMap((e) => parse({ event: (e as { type: string }).type, data: JSON.stringify(e) }));
  };
  const response = (extra: object = {}) => ({ id: 'r', model: 'm', status: 'completed', output: [], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 }, ...extra });

  it('joins several summary parts with a blank line, ignores events it does not know, and takes items sent only whole', () => {
    const events = feed([
      { type: 'response.created', response: response({ status: 'in_progress' }) },
      { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning', id: 'rs', summary: [] } },
      { type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } },
      { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'One.' },
      { type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 1, part: { type: 'summary_text', text: '' } },
      { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 1, delta: 'Two.' },
      { type: 'response.output_item.done', output_index: 0, item: { type: 'reasoning', id: 'rs', summary: [] } },
      { type: 'response.web_search_call.searching', output_index: 1 },
      { type: 'keepalive' },
      { type: 'response.output_item.added', output_index: 1, item: { type: 'message', id: 'm', role: 'assistant', content: [] } },
      { type: 'response.output_item.done', output_index: 1, item: { type: 'message', id: 'm', role: 'assistant', content: [{ type: 'output_text', text: 'Whole.' }] } },
      { type: 'response.completed', response: response() },
    ]);
    expect(events).toEqual([
      { type: 'start', id: 'r', model: 'm' },
      { type: 'block_start', index: 0, block: { type: 'reasoning' } },
      { type: 'reasoning_delta', index: 0, text: 'One.' },
      { type: 'reasoning_delta', index: 0, text: '\n\n' },
      { type: 'reasoning_delta', index: 0, text: 'Two.' },
      { type: 'block_end', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'text' } },
      { type: 'text_delta', index: 1, text: 'Whole.' },
      { type: 'block_end', index: 1 },
      { type: 'stop', stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } },
    ]);
  });

  it('takes a namespaced function call and flattens its name', () => {
    const events = feed([
      { type: 'response.created', response: response() },
      { type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', call_id: 'c', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '' } },
      { type: 'response.output_item.done', output_index: 0, item: { type: 'function_call', call_id: 'c', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{"m":1}' } },
      { type: 'response.completed', response: response() },
    ]);
    expect(events).toContainEqual({ type: 'block_start', index: 0, block: { type: 'tool_call', id: 'c', name: 'multi_agent_v1__spawn_agent' } });
    expect(events).toContainEqual({ type: 'tool_arguments_delta', index: 0, json: '{"m":1}' });
    expect(events.at(-1)).toMatchObject({ stopReason: 'tool_use' });
  });

  it('turns an error event into an UpstreamError, and a broken event into a 502', () => {
    expect(() => feed([{ type: 'error', code: 'server_error', message: 'boom', sequence_number: 1 }])).toThrow(UpstreamError);
    const parse = openaiResponsesOutbound.createStreamParser();
    expect(() => parse({ data: '{nope' })).toThrow(expect.objectContaining({ status: 502 }) as Error);
    expect(() => feed([{ type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', call_id: 'c', name: '' } }])).toThrow(/openai-responses stream: item\.name must be a non-empty string/);
  });
});
