import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { collect, replay, type ModelRequest, type ModelResponse, type StreamEvent, type Usage } from '../canonical.ts';
import { createSseParser, formatSse } from '../sse.ts';
import { WireError, type SseEvent } from '../wire.ts';
import type { GeminiPart } from './gemini-common.ts';
import { geminiInbound } from './gemini-inbound.ts';
import { geminiOutbound, geminiPath } from './gemini-outbound.ts';
import { chunked } from './test-support.ts';

const usage = (u: Partial<Usage>): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, ...u });

const SHELL_ARGS = '{"command":"ls -la /work","description":"List the work directory"}';
const SHELL_INPUT = { command: 'ls -la /work', description: 'List the work directory' };
const PACKED = /^cagebench\.reasoning:[A-Za-z0-9_-]+$/;

const RESPONSES = {
  text: {
    id: 'resp_text',
    model: 'gemini-test',
    content: [{ type: 'text', text: 'Hello from the bridge.' }],
    stopReason: 'end_turn',
    usage: usage({ inputTokens: 12, outputTokens: 5, cacheReadTokens: 3 }),
  },
  tool: {
    id: 'resp_tool',
    model: 'gemini-test',
    content: [{ type: 'tool_call', id: 'toolu_01', name: 'run_shell_command', arguments: SHELL_ARGS }],
    stopReason: 'tool_use',
    usage: usage({ inputTokens: 40, outputTokens: 22 }),
  },
  reasoning: {
    id: 'resp_reasoning',
    model: 'gemini-test',
    content: [
      { type: 'reasoning', text: 'The user wants a listing; the shell tool does that.', signature: 'EqQBCkYIBxgCKkBsig==' },
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_call', id: 'toolu_02', name: 'run_shell_command', arguments: SHELL_ARGS },
    ],
    stopReason: 'tool_use',
    usage: usage({ inputTokens: 100, outputTokens: 60, cacheReadTokens: 80, reasoningTokens: 30 }),
  },
  /** Gemini's own shape: a bare signature, carried by the function call. */
  signature: {
    id: 'resp_signature',
    model: 'gemini-test',
    content: [
      { type: 'reasoning', text: '', signature: 'CiQBjz1rX2Fzc2lnbmF0dXJl' },
      { type: 'tool_call', id: 'toolu_03', name: 'run_shell_command', arguments: '{"command":"pwd"}' },
    ],
    stopReason: 'tool_use',
    usage: usage({ inputTokens: 30, outputTokens: 12, reasoningTokens: 4 }),
  },
  /** A bare signature with no part after it rides on an empty thought part. */
  trailingSignature: {
    id: 'resp_trailing',
    model: 'gemini-test',
    content: [
      { type: 'text', text: 'All done.' },
      { type: 'reasoning', text: '', signature: 'RW5kT2ZUdXJu' },
    ],
    stopReason: 'end_turn',
    usage: usage({ inputTokens: 30, outputTokens: 3 }),
  },
  refusal: {
    id: 'resp_refusal',
    model: 'gemini-test',
    content: [{ type: 'text', text: 'I can not help with that.' }],
    stopReason: 'refusal',
    usage: usage({ inputTokens: 9, outputTokens: 7 }),
  },
  maxTokens: {
    id: 'resp_max',
    model: 'gemini-test',
    content: [{ type: 'text', text: 'The answer begins with a long' }],
    stopReason: 'max_tokens',
    usage: usage({ inputTokens: 9, outputTokens: 16 }),
  },
} satisfies Record<string, ModelResponse>;

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** SSE bytes fed to the parser in small, uneven pieces. */
function sseEvents(bytes: string): SseEvent[] {
  const parse = createSseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += 7) events.push(...parse(bytes.slice(i, i + 7)));
  return events;
}

const dataOf = (events: readonly SseEvent[]): unknown[] => events.map((e) => JSON.parse(e.data) as unknown);

// ---------------------------------------------------------------------------------------------

describe('gemini over HTTP: a node:http server speaking geminiInbound, called with fetch', () => {
  let server: Server;
  let base: string;
  const seen: { request: ModelRequest; headers: IncomingHttpHeaders; url: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const sendError = (status: number, message: string): void => {
            res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(geminiInbound.renderError(status, message)));
          };
          const path = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec((req.url ?? '').split('?')[0]!);
          if (req.method !== 'POST' || !path) return sendError(404, `no route for ${req.method} ${req.url}`);
          let request: ModelRequest;
          try {
            request = geminiInbound.parseRequest(JSON.parse(Buffer.concat(chunks).toString('utf8')), {
              model: decodeURIComponent(path[1]!),
              stream: path[2] === 'streamGenerateContent',
            });
          } catch (err) {
            return sendError(err instanceof WireError ? err.status : 500, (err as Error).message);
          }
          seen.push({ request, headers: req.headers, url: req.url ?? '' });
          const response = RESPONSES[request.model as keyof typeof RESPONSES] ?? RESPONSES.text;
          if (!request.stream) {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(geminiInbound.renderResponse(response)));
            return;
          }
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const render = geminiInbound.createStreamRenderer();
          for await (const e of chunked(replay(response))) for (const s of render(e)) res.write(formatSse(s));
          res.end();
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = (model: string, stream: boolean, body: unknown): ReturnType<typeof fetch> =>
    fetch(`${base}${geminiPath(model, stream)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'sample-token' },
      body: JSON.stringify(body),
    });
  const ask = { contents: [{ role: 'user', parts: [{ text: 'List the files.' }] }] };

  /** Streams a canned response and parses it back with geminiOutbound. */
  const streamBack = async (model: string): Promise<{ chunks: unknown[]; response: ModelResponse }> => {
    const res = await post(model, true, ask);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseEvents(await res.text());
    expect(events.every((e) => e.event === undefined)).toBe(true);
    const parse = geminiOutbound.createStreamParser();
    return { chunks: dataOf(events), response: await collect(from(events.flatMap(parse))) };
  };

  it('answers :generateContent with a whole GenerateContentResponse', async () => {
    const res = await post('text', false, ask);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      candidates: [{ content: { role: 'model', parts: [{ text: 'Hello from the bridge.' }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 5, totalTokenCount: 17, cachedContentTokenCount: 3 },
      modelVersion: 'gemini-test',
      responseId: 'resp_text',
    });
    expect(seen.at(-1)).toMatchObject({ request: { model: 'text', stream: false }, url: '/v1beta/models/text:generateContent' });
    expect(seen.at(-1)?.headers['x-goog-api-key']).toBe('sample-token');
  });

  it('renders a function call with an args object and its id; STOP, thoughts counted apart', async () => {
    expect(await (await post('tool', false, ask)).json()).toEqual({
      candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'toolu_01', name: 'run_shell_command', args: SHELL_INPUT } }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 40, candidatesTokenCount: 22, totalTokenCount: 62 },
      modelVersion: 'gemini-test',
      responseId: 'resp_tool',
    });
    const reasoning = (await (await post('reasoning', false, ask)).json()) as { candidates: { content: { parts: GeminiPart[] } }[]; usageMetadata: unknown };
    const parts = reasoning.candidates[0]!.content.parts;
    expect(parts).toEqual([
      { text: 'The user wants a listing; the shell tool does that.', thought: true, thoughtSignature: 'EqQBCkYIBxgCKkBsig==' },
      { text: 'Let me look.', thoughtSignature: expect.stringMatching(PACKED) },
      { functionCall: { id: 'toolu_02', name: 'run_shell_command', args: SHELL_INPUT } },
    ]);
    expect(reasoning.usageMetadata).toEqual({ promptTokenCount: 100, candidatesTokenCount: 30, totalTokenCount: 160, cachedContentTokenCount: 80, thoughtsTokenCount: 30 });
    // Gemini's own bare signature sits on the function call, unpacked.
    const bare = (await (await post('signature', false, ask)).json()) as { candidates: { content: { parts: GeminiPart[] } }[] };
    expect(bare.candidates[0]!.content.parts).toEqual([{ functionCall: { id: 'toolu_03', name: 'run_shell_command', args: { command: 'pwd' } }, thoughtSignature: 'CiQBjz1rX2Fzc2lnbmF0dXJl' }]);
  });

  it('maps stop reasons: refusal -> SAFETY, max_tokens -> MAX_TOKENS', async () => {
    const finish = async (model: string): Promise<unknown> => ((await (await post(model, false, ask)).json()) as { candidates: { finishReason: string }[] }).candidates[0]!.finishReason;
    expect(await finish('refusal')).toBe('SAFETY');
    expect(await finish('maxTokens')).toBe('MAX_TOKENS');
  });

  it('streams :streamGenerateContent?alt=sse as whole chunks on data lines; the last has finishReason and usage', async () => {
    const { chunks } = await streamBack('text');
    const meta = { modelVersion: 'gemini-test', responseId: 'resp_text' };
    expect(chunks).toEqual([
      ...['Hello fr', 'om the b', 'ridge.'].map((text) => ({ candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }], ...meta })),
      {
        candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 5, totalTokenCount: 17, cachedContentTokenCount: 3 },
        ...meta,
      },
    ]);
    expect(seen.at(-1)).toMatchObject({ request: { model: 'text', stream: true }, url: '/v1beta/models/text:streamGenerateContent?alt=sse' });
  });

  it('streams a function call as one chunk with the complete args, though its arguments arrived in pieces', async () => {
    const { chunks } = await streamBack('tool');
    expect(chunks).toEqual([
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'toolu_01', name: 'run_shell_command', args: SHELL_INPUT } }] }, index: 0 }], modelVersion: 'gemini-test', responseId: 'resp_tool' },
      {
        candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 40, candidatesTokenCount: 22, totalTokenCount: 62 },
        modelVersion: 'gemini-test',
        responseId: 'resp_tool',
      },
    ]);
  });

  it('streams thoughts as thought parts, the signature on the last, and packs them onto the next text part', async () => {
    const { chunks } = await streamBack('reasoning');
    const parts = (chunks as { candidates: { content: { parts: GeminiPart[] } }[] }[]).map((c) => c.candidates[0]!.content.parts);
    expect(parts).toEqual([
      [{ text: 'The user wants a ', thought: true }],
      [{ text: 'listing; the shel', thought: true }],
      [{ text: 'l tool does that.', thought: true, thoughtSignature: 'EqQBCkYIBxgCKkBsig==' }],
      [{ text: 'Let ', thoughtSignature: expect.stringMatching(PACKED) }],
      [{ text: 'me l' }],
      [{ text: 'ook.' }],
      [{ functionCall: { id: 'toolu_02', name: 'run_shell_command', args: SHELL_INPUT } }],
      [],
    ]);
  });

  describe('round trips through geminiOutbound', () => {
    for (const name of Object.keys(RESPONSES) as (keyof typeof RESPONSES)[]) {
      it(`${name}: stream render -> SSE -> createStreamParser -> collect gives the response back`, async () => {
        expect((await streamBack(name)).response).toEqual(RESPONSES[name]);
      });
      it(`${name}: renderResponse -> parseResponse gives the response back`, async () => {
        expect(geminiOutbound.parseResponse(await (await post(name, false, ask)).json())).toEqual(RESPONSES[name]);
      });
    }

    it('keeps what a thought part cannot show (redacted or encrypted reasoning) in a whole response', async () => {
      const response: ModelResponse = {
        id: 'resp_redacted',
        model: 'gemini-test',
        content: [
          { type: 'reasoning', text: '', encrypted: 'b3BhcXVl', redacted: true },
          { type: 'reasoning', text: 'Summary of thinking.', encrypted: 'ZW5jcnlwdGVk' },
          { type: 'tool_call', id: 'fc_1', name: 'run_shell_command', arguments: '{"command":"ls"}' },
          { type: 'reasoning', text: '', encrypted: 'dHJhaWxpbmc=' },
        ],
        stopReason: 'tool_use',
        usage: usage({ inputTokens: 5, outputTokens: 5 }),
      };
      expect(geminiOutbound.parseResponse(JSON.parse(JSON.stringify(geminiInbound.renderResponse(response))))).toEqual(response);
    });
  });

  it("restores reasoning from Gemini CLI's history, which keeps the signed parts and drops the thought parts", async () => {
    const rendered = (await (await post('reasoning', false, ask)).json()) as { candidates: { content: { role: string; parts: GeminiPart[] } }[] };
    const modelTurn = rendered.candidates[0]!.content;
    const history = { role: 'model', parts: modelTurn.parts.filter((p) => !p.thought) };
    const answer = { role: 'user', parts: [{ functionResponse: { id: 'toolu_02', name: 'run_shell_command', response: { output: 'a.txt' } } }] };
    const res = await post('text', true, { contents: [...ask.contents, history, answer] });
    expect(res.status).toBe(200);
    await res.text();
    expect(seen.at(-1)?.request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'List the files.' }] },
      { role: 'assistant', content: RESPONSES.reasoning.content },
      { role: 'user', content: [{ type: 'tool_result', callId: 'toolu_02', name: 'run_shell_command', content: [{ type: 'text', text: 'a.txt' }] }] },
    ]);
  });

  it('parses a request as Gemini CLI sends it: systemInstruction, OBJECT/STRING schemas, calls without ids, its own response ids', async () => {
    const body = {
      contents: [
        { role: 'user', parts: [{ text: 'This is the Gemini CLI. The date is 2026-11-21.' }] },
        { role: 'user', parts: [{ text: 'List the files, then read them.' }] },
        { role: 'model', parts: [{ text: 'I will list them.' }, { functionCall: { name: 'run_shell_command', args: { command: 'ls' } }, thoughtSignature: 'Q2lRQmp6MXJY' }] },
        { role: 'user', parts: [{ functionResponse: { id: 'run_shell_command-1763726400000-9f2c1ab', name: 'run_shell_command', response: { output: 'a.txt\nb.txt' } } }] },
        {
          role: 'model',
          parts: [{ functionCall: { name: 'read_file', args: { absolute_path: '/work/a.txt' } } }, { functionCall: { name: 'read_file', args: { absolute_path: '/work/b.txt' } } }],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { id: 'read_file-1763726401000-01', name: 'read_file', response: { output: 'A' } } },
            { functionResponse: { id: 'read_file-1763726401000-02', name: 'read_file', response: { error: 'ENOENT: no such file' } } },
          ],
        },
      ],
      systemInstruction: { role: 'user', parts: [{ text: 'You are an interactive CLI agent.' }] },
      tools: [
        {
          functionDeclarations: [
            {
              name: 'run_shell_command',
              description: 'Runs a shell command.',
              parameters: {
                type: 'OBJECT',
                properties: { command: { type: 'STRING', description: 'The command.' }, directory: { type: 'STRING', nullable: true } },
                required: ['command'],
                propertyOrdering: ['command', 'directory'],
              },
            },
            { name: 'read_file', description: 'Reads a file.', parametersJsonSchema: { type: 'object', properties: { absolute_path: { type: 'string' } }, required: ['absolute_path'] } },
            {
              name: 'write_todos',
              parameters: {
                type: 'OBJECT',
                properties: { todos: { type: 'ARRAY', items: { type: 'OBJECT', properties: { status: { type: 'STRING', enum: ['pending', 'done'] }, n: { type: 'INTEGER' } } } } },
              },
            },
          ],
        },
        { googleSearch: {} },
        { codeExecution: {} },
      ],
      generationConfig: { temperature: 0, topP: 1, thinkingConfig: { includeThoughts: true, thinkingBudget: 8192 } },
    };
    const res = await post('gemini-2.5-pro', true, body);
    expect(res.status).toBe(200);
    await res.text();
    const toolResult = (callId: string, name: string, text: string, isError?: boolean): unknown => ({
      type: 'tool_result',
      callId,
      name,
      content: [{ type: 'text', text }],
      ...(isError && { isError }),
    });
    expect(seen.at(-1)?.request).toEqual({
      model: 'gemini-2.5-pro',
      system: 'You are an interactive CLI agent.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'This is the Gemini CLI. The date is 2026-11-21.' }] },
        { role: 'user', content: [{ type: 'text', text: 'List the files, then read them.' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'I will list them.' },
            { type: 'reasoning', text: '', signature: 'Q2lRQmp6MXJY' },
            { type: 'tool_call', id: 'call_0', name: 'run_shell_command', arguments: '{"command":"ls"}' },
          ],
        },
        { role: 'user', content: [toolResult('call_0', 'run_shell_command', 'a.txt\nb.txt')] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_call', id: 'call_1', name: 'read_file', arguments: '{"absolute_path":"/work/a.txt"}' },
            { type: 'tool_call', id: 'call_2', name: 'read_file', arguments: '{"absolute_path":"/work/b.txt"}' },
          ],
        },
        { role: 'user', content: [toolResult('call_1', 'read_file', 'A'), toolResult('call_2', 'read_file', 'ENOENT: no such file', true)] },
      ],
      tools: [
        {
          name: 'run_shell_command',
          description: 'Runs a shell command.',
          parameters: {
            type: 'object',
            properties: { command: { type: 'string', description: 'The command.' }, directory: { type: ['string', 'null'] } },
            required: ['command'],
          },
        },
        { name: 'read_file', description: 'Reads a file.', parameters: { type: 'object', properties: { absolute_path: { type: 'string' } }, required: ['absolute_path'] } },
        {
          name: 'write_todos',
          parameters: {
            type: 'object',
            properties: { todos: { type: 'array', items: { type: 'object', properties: { status: { type: 'string', enum: ['pending', 'done'] }, n: { type: 'integer' } } } } },
          },
        },
      ],
      config: { temperature: 0, topP: 1, reasoning: { budgetTokens: 8192 } },
      stream: true,
      dropped: ['tools[1].googleSearch', 'tools[2].codeExecution'],
    });
  });

  it('buildRequest -> parseRequest over HTTP gives the request back; without ids, ids are re-synthesised consistently', async () => {
    const request: ModelRequest = {
      model: 'gemini-2.5-pro',
      system: 'Be brief.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is in this picture and in /work?' }, { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: '', signature: 'CiQBjz1r' },
            { type: 'tool_call', id: 'toolu_1', name: 'Bash', arguments: '{"command":"ls"}' },
            { type: 'tool_call', id: 'toolu_2', name: 'Bash', arguments: '{"command":"pwd"}' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', callId: 'toolu_1', name: 'Bash', content: [{ type: 'text', text: 'a.txt' }] },
            { type: 'tool_result', callId: 'toolu_2', name: 'Bash', content: [{ type: 'text', text: 'no such directory' }], isError: true },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'A cat, and a.txt.' }] },
      ],
      tools: [{ name: 'Bash', description: 'Run a shell command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
      toolChoice: { type: 'tool', name: 'Bash' },
      config: { maxTokens: 1024, temperature: 0.2, topP: 0.9, stop: ['END'], reasoning: { budgetTokens: 2048 } },
      stream: false,
    };
    const body = geminiOutbound.buildRequest(request, 'gemini-2.5-pro');
    expect(body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'What is in this picture and in /work?' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
        {
          role: 'model',
          parts: [
            { functionCall: { id: 'toolu_1', name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'CiQBjz1r' },
            { functionCall: { id: 'toolu_2', name: 'Bash', args: { command: 'pwd' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { id: 'toolu_1', name: 'Bash', response: { output: 'a.txt' } } },
            { functionResponse: { id: 'toolu_2', name: 'Bash', response: { error: 'no such directory' } } },
          ],
        },
        { role: 'model', parts: [{ text: 'A cat, and a.txt.' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      tools: [{ functionDeclarations: [{ name: 'Bash', description: 'Run a shell command', parametersJsonSchema: request.tools[0]!.parameters }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['Bash'] } },
      generationConfig: { maxOutputTokens: 1024, temperature: 0.2, topP: 0.9, stopSequences: ['END'], thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } },
    });

    const res = await post('gemini-2.5-pro', false, body);
    expect(res.status).toBe(200);
    expect(seen.at(-1)?.request).toEqual(request);

    // A client that sends no ids: calls are numbered in order, responses answer them by name.
    const withoutIds = JSON.parse(JSON.stringify(body), (key, value: unknown) => (key === 'id' ? undefined : value)) as unknown;
    await post('gemini-2.5-pro', false, withoutIds);
    const renamed = JSON.stringify(request).replaceAll('toolu_1', 'call_0').replaceAll('toolu_2', 'call_1');
    expect(seen.at(-1)?.request).toEqual(JSON.parse(renamed));
  });

  it('answers a malformed request with 400 INVALID_ARGUMENT naming the field', async () => {
    const res = await post('text', false, { contents: [{ role: 'system', parts: [{ text: 'hi' }] }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 400, message: 'contents[0].role must be "user" or "model" (got "system")', status: 'INVALID_ARGUMENT' } });
  });
});

// ---------------------------------------------------------------------------------------------

describe('geminiInbound.parseRequest', () => {
  const parse = (body: unknown, context: { model?: string; stream?: boolean } = { model: 'm' }): ModelRequest => geminiInbound.parseRequest(body, context);
  const user = (...parts: unknown[]): unknown => ({ role: 'user', parts });
  const model = (...parts: unknown[]): unknown => ({ role: 'model', parts });
  const withContents = (...contents: unknown[]): unknown => ({ contents });

  it.each([
    ['a body that is not an object', [], /the request body must be a JSON object/],
    ['no contents', {}, /^contents must be a non-empty array \(got nothing\)$/],
    ['empty contents', { contents: [] }, /^contents must be a non-empty array/],
    ['a role Gemini does not know', withContents({ role: 'system', parts: [{ text: 'x' }] }), /^contents\[0\]\.role must be "user" or "model" \(got "system"\)$/],
    ['empty parts', withContents(user()), /^contents\[0\]\.parts must be a non-empty array/],
    ['text that is not a string', withContents(user({ text: 42 })), /^contents\[0\]\.parts\[0\]\.text must be a string \(got 42\)$/],
    ['a part with no data', withContents(user({ foo: 1 })), /^contents\[0\]\.parts\[0\] must have one of text, inlineData, fileData, functionCall, functionResponse \(got keys: foo\)$/],
    ['a function call in a user turn', withContents(user({ functionCall: { name: 'f', args: {} } })), /^contents\[0\]\.parts\[0\]\.functionCall must be in a "model" turn/],
    ['a function response in a model turn', withContents(model({ functionResponse: { name: 'f', response: {} } })), /^contents\[0\]\.parts\[0\]\.functionResponse must be in a "user" turn/],
    ['a function call without a name', withContents(user({ text: 'x' }), model({ functionCall: { args: {} } })), /^contents\[1\]\.parts\[0\]\.functionCall\.name must be a non-empty string \(got nothing\)$/],
    ['args that are not an object', withContents(user({ text: 'x' }), model({ functionCall: { name: 'f', args: '{"a":1}' } })), /^contents\[1\]\.parts\[0\]\.functionCall\.args must be an object/],
    ['a response that is not an object', withContents(user({ functionResponse: { name: 'f', response: 'ok' } })), /^contents\[0\]\.parts\[0\]\.functionResponse\.response must be an object/],
    ['inlineData without a mimeType', withContents(user({ inlineData: { data: 'AAAA' } })), /^contents\[0\]\.parts\[0\]\.inlineData\.mimeType must be a non-empty string/],
    ['a thoughtSignature that is not a string', withContents(user({ text: 'x', thoughtSignature: 1 })), /^contents\[0\]\.parts\[0\]\.thoughtSignature must be a string/],
    ['systemInstruction of the wrong kind', { ...(withContents(user({ text: 'x' })) as object), systemInstruction: 5 }, /^systemInstruction must be a Content object/],
    ['tools that are not an array', { ...(withContents(user({ text: 'x' })) as object), tools: {} }, /^tools must be an array/],
    [
      'an unknown schema type',
      { ...(withContents(user({ text: 'x' })) as object), tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'WHATEVER' } } } }] }] },
      /^tools\[0\]\.functionDeclarations\[0\]\.parameters\.properties\.a\.type must be one of STRING, NUMBER, INTEGER, BOOLEAN, ARRAY, OBJECT, NULL \(got "WHATEVER"\)$/,
    ],
    [
      'parameters and parametersJsonSchema together',
      { ...(withContents(user({ text: 'x' })) as object), tools: [{ functionDeclarations: [{ name: 'f', parameters: {}, parametersJsonSchema: {} }] }] },
      /^tools\[0\]\.functionDeclarations\[0\]: set parameters or parametersJsonSchema, not both$/,
    ],
    ['a declaration without a name', { ...(withContents(user({ text: 'x' })) as object), tools: [{ functionDeclarations: [{}] }] }, /^tools\[0\]\.functionDeclarations\[0\]\.name must be a non-empty string/],
    [
      'an unknown function calling mode',
      { ...(withContents(user({ text: 'x' })) as object), toolConfig: { functionCallingConfig: { mode: 'SOMETIMES' } } },
      /^toolConfig\.functionCallingConfig\.mode must be one of AUTO, ANY, NONE, VALIDATED \(got "SOMETIMES"\)$/,
    ],
    ['a negative maxOutputTokens', { ...(withContents(user({ text: 'x' })) as object), generationConfig: { maxOutputTokens: -1 } }, /^generationConfig\.maxOutputTokens must be a positive integer \(got -1\)$/],
    ['stopSequences that are not strings', { ...(withContents(user({ text: 'x' })) as object), generationConfig: { stopSequences: 'END' } }, /^generationConfig\.stopSequences must be an array of strings/],
    ['an unknown thinking level', { ...(withContents(user({ text: 'x' })) as object), generationConfig: { thinkingConfig: { thinkingLevel: 'ULTRA' } } }, /^generationConfig\.thinkingConfig\.thinkingLevel must be one of MINIMAL, LOW, MEDIUM, HIGH/],
  ])('refuses %s with a WireError 400 naming the field', (_name, body, message) => {
    let error: unknown;
    try {
      parse(body);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).status).toBe(400);
    expect((error as WireError).message).toMatch(message);
  });

  it("reads Gemini's placeholder signatures as none, and drops signatures and thoughts in user turns", () => {
    const request = parse(
      withContents(
        user({ text: 'Go', thoughtSignature: 'c2ln' }, { text: 'musing', thought: true }),
        model({ functionCall: { name: 'a', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }, { text: 'ok', thoughtSignature: 'context_engineering_is_the_way_to_go' }),
      ),
    );
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Go' }] },
      { role: 'assistant', content: [{ type: 'tool_call', id: 'call_0', name: 'a', arguments: '{}' }, { type: 'text', text: 'ok' }] },
    ]);
    expect(request.dropped).toEqual(['contents[0].parts[0].thoughtSignature: a signature in a user turn', 'contents[0].parts[1]: a thought part in a user turn']);
  });

  it('needs the model from the URL', () => {
    expect(() => parse(withContents(user({ text: 'x' })), {})).toThrow(/model is missing: Gemini takes it from the path/);
    expect(parse(withContents(user({ text: 'x' })), { model: 'models/gemini-2.5-flash' }).model).toBe('gemini-2.5-flash');
  });

  it('maps toolConfig to a tool choice', () => {
    const choice = (functionCallingConfig: unknown): Pick<ModelRequest, 'toolChoice' | 'dropped'> => {
      const { toolChoice, dropped } = parse({ ...(withContents(user({ text: 'x' })) as object), toolConfig: { functionCallingConfig } });
      return { toolChoice, dropped };
    };
    expect(choice({ mode: 'AUTO' })).toEqual({ toolChoice: { type: 'auto' } });
    expect(choice({ mode: 'NONE' })).toEqual({ toolChoice: { type: 'none' } });
    expect(choice({ mode: 'ANY' })).toEqual({ toolChoice: { type: 'required' } });
    expect(choice({ mode: 'ANY', allowedFunctionNames: ['read_file'] })).toEqual({ toolChoice: { type: 'tool', name: 'read_file' } });
    expect(choice({ mode: 'ANY', allowedFunctionNames: ['a', 'b'] })).toEqual({
      toolChoice: { type: 'required' },
      dropped: ['toolConfig.functionCallingConfig.allowedFunctionNames (several names: sent as required, any tool)'],
    });
    expect(choice({ mode: 'VALIDATED' })).toEqual({ toolChoice: { type: 'auto' }, dropped: ['toolConfig.functionCallingConfig.mode VALIDATED (sent as auto)'] });
    expect(choice({})).toEqual({});
  });

  it('maps generationConfig and lists what it cannot carry', () => {
    const request = parse({
      ...(withContents(user({ text: 'x' })) as object),
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      generationConfig: {
        maxOutputTokens: 2048,
        temperature: 1,
        topP: 0.95,
        topK: 64,
        stopSequences: ['</done>'],
        candidateCount: 1,
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object' },
        thinkingConfig: { thinkingLevel: 'high', includeThoughts: true },
      },
    });
    expect(request.config).toEqual({ maxTokens: 2048, temperature: 1, topP: 0.95, stop: ['</done>'], reasoning: { effort: 'high' } });
    expect(request.dropped).toEqual(['safetySettings', 'generationConfig.topK', 'generationConfig.responseMimeType', 'generationConfig.responseJsonSchema']);
    const off = parse({ ...(withContents(user({ text: 'x' })) as object), generationConfig: { thinkingConfig: { thinkingBudget: 0 } } });
    expect(off.config).toEqual({ reasoning: { effort: 'minimal' } });
    expect(off.dropped).toEqual(['generationConfig.thinkingConfig.thinkingBudget 0 (thinking off): sent as effort "minimal"']);
    expect(parse({ ...(withContents(user({ text: 'x' })) as object), generationConfig: { thinkingConfig: { thinkingBudget: -1 } } }).config).toEqual({});
  });

  it('reads images (inlineData, fileData), thought parts, multimodal function responses; drops other media', () => {
    const request = parse(
      withContents(
        user({ text: 'Look' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }, { fileData: { mimeType: 'image/png', fileUri: 'https://example.test/a.png' } }, { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } }),
        model({ text: 'Thinking about it', thought: true, thoughtSignature: 'c2ln' }, { functionCall: { name: 'screenshot' } }, { executableCode: { language: 'PYTHON', code: 'print(1)' } }),
        user({ functionResponse: { name: 'screenshot', response: {}, parts: [{ inlineData: { mimeType: 'image/png', data: 'iVBO' } }] } }, { functionResponse: { name: 'orphan', response: { status: 'ok', n: 1 } } }),
      ),
    );
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image', mediaType: 'image/jpeg', data: '/9j/4AAQ' },
          { type: 'image', mediaType: 'image/png', url: 'https://example.test/a.png' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'Thinking about it', signature: 'c2ln' },
          { type: 'tool_call', id: 'call_0', name: 'screenshot', arguments: '{}' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', callId: 'call_0', name: 'screenshot', content: [{ type: 'image', mediaType: 'image/png', data: 'iVBO' }] },
          { type: 'tool_result', callId: 'call_1', name: 'orphan', content: [{ type: 'text', text: '{"status":"ok","n":1}' }] },
        ],
      },
    ]);
    expect(request.dropped).toEqual(['contents[0].parts[3].inlineData (application/pdf: only images are carried)', 'contents[1].parts[2].executableCode']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('geminiOutbound', () => {
  it('geminiPath puts the model and the streaming choice in the path', () => {
    expect(geminiPath('gemini-2.5-pro', false)).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
    expect(geminiPath('models/gemini-2.5-pro', true)).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
  });

  it('buildRequest names tool results after their call, sends effort as thinkingLevel, drops what Gemini cannot verify, signs unsigned calls', () => {
    const body = geminiOutbound.buildRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Go' }, { type: 'image', url: 'data:image/gif;base64,R0lGOD' }] },
          {
            role: 'assistant',
            content: [
              { type: 'reasoning', text: '', encrypted: 'opaque', redacted: true },
              { type: 'reasoning', text: 'Plan: list.', signature: 'sig-a' },
              { type: 'tool_call', id: 't1', name: 'Bash', arguments: 'not json' },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', callId: 't1', content: [{ type: 'text', text: 'done' }, { type: 'image', mediaType: 'image/png', data: 'iVBO' }] }] },
        ],
        tools: [],
        toolChoice: { type: 'required' },
        config: { reasoning: { effort: 'low' } },
        stream: true,
      },
      'gemini-3-pro',
    );
    expect(body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'Go' }, { inlineData: { mimeType: 'image/gif', data: 'R0lGOD' } }] },
        // The call had no signature of its own: Gemini 3 needs one, so the documented placeholder goes.
        { role: 'model', parts: [{ text: 'Plan: list.', thought: true, thoughtSignature: 'sig-a' }, { functionCall: { id: 't1', name: 'Bash', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }] },
        { role: 'user', parts: [{ functionResponse: { id: 't1', name: 'Bash', response: { output: 'done' }, parts: [{ inlineData: { mimeType: 'image/png', data: 'iVBO' } }] } }] },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      generationConfig: { thinkingConfig: { thinkingLevel: 'LOW', includeThoughts: true } },
    });
    expect(() =>
      geminiOutbound.buildRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'tool_result', callId: 'x', content: [] }] }], tools: [], config: {}, stream: false }, 'm'),
    ).toThrow(/the tool result for call "x" has no tool name/);
  });

  it("parseResponse reads Gemini's own shape: thoughts, a signature on the call, no ids, usage split in candidates and thoughts", () => {
    const response = geminiOutbound.parseResponse({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: '**Planning**\nList first.', thought: true },
              { functionCall: { name: 'run_shell_command', args: { command: 'ls' } }, thoughtSignature: 'CiQBjz1r' },
              { functionCall: { name: 'run_shell_command', args: { command: 'pwd' } } },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, totalTokenCount: 150, cachedContentTokenCount: 40, thoughtsTokenCount: 30 },
      modelVersion: 'gemini-2.5-pro',
      responseId: 'abc123',
    });
    expect(response).toEqual({
      id: 'abc123',
      model: 'gemini-2.5-pro',
      content: [
        { type: 'reasoning', text: '**Planning**\nList first.' },
        { type: 'reasoning', text: '', signature: 'CiQBjz1r' },
        { type: 'tool_call', id: 'call_abc123_0', name: 'run_shell_command', arguments: '{"command":"ls"}' },
        { type: 'tool_call', id: 'call_abc123_1', name: 'run_shell_command', arguments: '{"command":"pwd"}' },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 40, cacheWriteTokens: 0, reasoningTokens: 30 },
    });
  });

  it.each([
    ['STOP', 'end_turn'],
    ['MAX_TOKENS', 'max_tokens'],
    ['SAFETY', 'refusal'],
    ['PROHIBITED_CONTENT', 'refusal'],
    ['RECITATION', 'refusal'],
    ['BLOCKLIST', 'refusal'],
    ['SPII', 'refusal'],
    ['MALFORMED_FUNCTION_CALL', 'error'],
    ['OTHER', 'error'],
  ])('finishReason %s -> %s', (finishReason, stopReason) => {
    expect(geminiOutbound.parseResponse({ candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason }] }).stopReason).toBe(stopReason);
  });

  it('a blocked prompt (no candidates, promptFeedback.blockReason) is a refusal, in a whole response and in a stream', async () => {
    const blocked = { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 }, responseId: 'r1' };
    expect(geminiOutbound.parseResponse(blocked)).toEqual({ id: 'r1', model: '', content: [], stopReason: 'refusal', usage: usage({ inputTokens: 7 }) });
    const parse = geminiOutbound.createStreamParser();
    expect(await collect(from(parse({ data: JSON.stringify(blocked) })))).toEqual({ id: 'r1', model: '', content: [], stopReason: 'refusal', usage: usage({ inputTokens: 7 }) });
  });

  it('parseResponse refuses a body that is not a GenerateContentResponse with a 502', () => {
    expect(() => geminiOutbound.parseResponse('nope')).toThrow(WireError);
    expect(() => geminiOutbound.parseResponse({ candidates: {} })).toThrow(/candidates must be an array/);
    let error: unknown;
    try {
      geminiOutbound.parseResponse({ candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WireError);
    expect(error).toMatchObject({ status: 502, message: 'candidates[0].content.parts[0].functionCall.name must be a non-empty string (got nothing)' });
  });

  it('createStreamParser turns a real-looking Gemini stream into canonical events', () => {
    const meta = { modelVersion: 'gemini-2.5-flash', responseId: 'r9' };
    const chunk = (parts: unknown[], extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}): SseEvent => ({
      data: JSON.stringify({ candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }], usageMetadata: { promptTokenCount: 50, totalTokenCount: 50 }, ...meta, ...top }),
    });
    const parse = geminiOutbound.createStreamParser();
    const events = [
      chunk([{ text: '**Looking**', thought: true }]),
      chunk([{ text: ' around.', thought: true }]),
      chunk([{ text: 'Here', thoughtSignature: 'U0lH' }]),
      chunk([{ text: ' it is.' }, { thoughtSignature: 'skip_thought_signature_validator' }]),
      chunk([{ functionCall: { name: 'glob', args: { pattern: '*.ts' } } }]),
      chunk([{ text: '' }], { finishReason: 'STOP' }, { usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 9, thoughtsTokenCount: 4, totalTokenCount: 63 } }),
      chunk([{ text: 'ignored after the finish' }]),
    ].flatMap(parse);
    expect(events).toEqual([
      { type: 'start', id: 'r9', model: 'gemini-2.5-flash' },
      { type: 'block_start', index: 0, block: { type: 'reasoning' } },
      { type: 'reasoning_delta', index: 0, text: '**Looking**' },
      { type: 'reasoning_delta', index: 0, text: ' around.' },
      { type: 'block_end', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'reasoning' } },
      { type: 'reasoning_delta', index: 1, text: '', signature: 'U0lH' },
      { type: 'block_end', index: 1 },
      { type: 'block_start', index: 2, block: { type: 'text' } },
      { type: 'text_delta', index: 2, text: 'Here' },
      { type: 'text_delta', index: 2, text: ' it is.' },
      { type: 'block_end', index: 2 },
      { type: 'block_start', index: 3, block: { type: 'tool_call', id: 'call_r9_0', name: 'glob' } },
      { type: 'tool_arguments_delta', index: 3, json: '{"pattern":"*.ts"}' },
      { type: 'block_end', index: 3 },
      { type: 'stop', stopReason: 'tool_use', usage: usage({ inputTokens: 50, outputTokens: 13, reasoningTokens: 4 }) },
    ]);
  });

  it('createStreamParser: PROHIBITED_CONTENT is a refusal; an {error} chunk after the headers stops with "error"', async () => {
    const refused = geminiOutbound.createStreamParser();
    const partial = [{ data: JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Sure, here' }] } }] }) }, { data: JSON.stringify({ candidates: [{ finishReason: 'PROHIBITED_CONTENT' }] }) }];
    expect((await collect(from(partial.flatMap(refused)))).stopReason).toBe('refusal');

    const failed = geminiOutbound.createStreamParser();
    const render = geminiInbound.createStreamRenderer();
    const events = [
      ...render({ type: 'start', id: 'r2', model: 'm' }),
      ...render({ type: 'block_start', index: 0, block: { type: 'text' } }),
      ...render({ type: 'text_delta', index: 0, text: 'Partial' }),
      { data: JSON.stringify(geminiInbound.renderError(503, 'upstream: overloaded')) },
    ];
    expect(await collect(from(sseEvents(events.map(formatSse).join('')).flatMap(failed)))).toEqual({
      id: 'r2',
      model: 'm',
      content: [{ type: 'text', text: 'Partial' }],
      stopReason: 'error',
      usage: usage({}),
    });
    expect(() => geminiOutbound.createStreamParser()({ data: '{not json' })).toThrow(/a Gemini stream event is not JSON/);
    const bad = { data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }, { functionCall: { name: '' } }] } }] }) };
    expect(() => geminiOutbound.createStreamParser()(bad)).toThrow('candidates[0].content.parts[1].functionCall.name must be a non-empty string (got "")');
  });
});

describe('geminiInbound.renderError', () => {
  it.each([
    [400, 'INVALID_ARGUMENT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
    [429, 'RESOURCE_EXHAUSTED'],
    [500, 'INTERNAL'],
    [502, 'UNAVAILABLE'],
    [503, 'UNAVAILABLE'],
    [504, 'DEADLINE_EXCEEDED'],
    [413, 'FAILED_PRECONDITION'],
    [599, 'INTERNAL'],
  ])('%i -> %s', (status, name) => {
    expect(geminiInbound.renderError(status, 'what went wrong')).toEqual({ error: { code: status, message: 'what went wrong', status: name } });
  });
});
