import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseUrls, createBridge } from '../bridge/index.ts';
import { openaiUpstream } from '../bridge/test-support/upstreams.ts';
import { newInput, OutputRecorder, TRANSCRIPT_TEXT_LIMIT } from '../bridge/transcript.ts';
import { createProviders } from '../models/providers/index.ts';
import { replay, type Message, type ModelRequest } from '../models/canonical.ts';
import type { EventRecord, ModelTranscriptRecord } from './schema.ts';
import { buildTrajectory, checkTrajectory, writeTrajectory, type AtifTrajectory } from './trajectory.ts';

const INSTRUCTION = 'Create /app/hello.txt containing "Hello, world".';
const usage = (input: number, output: number, cached = 0) => ({ inputTokens: input, outputTokens: output, cacheReadTokens: cached, cacheWriteTokens: 0, reasoningTokens: 0 });

let clock = Date.parse('2026-05-01T10:00:00.000Z');
function event(type: string, fields: Record<string, unknown> = {}): EventRecord {
  clock += 1000;
  return { t: new Date(clock).toISOString(), type, ...fields };
}
function call(transcript: ModelTranscriptRecord | undefined, fields: Record<string, unknown> = {}): EventRecord {
  return event('model.call', { api: 'anthropic', route: 'anthropic/claude-x', stream: true, stopReason: 'end_turn', usage: usage(100, 20), costUsd: 0.001, latencyMs: 500, retries: 0, refusalRetries: 0, ...(transcript ? { transcript } : {}), ...fields });
}
const meta = { instruction: INSTRUCTION, sampleId: 'hello__e1', agent: { name: 'claude_code', version: 'stable' }, model: 'anthropic/claude-x' };

/** Two parallel tool calls, one answered with an error; then a call whose result never came back. */
function singleAttempt(): EventRecord[] {
  return [
    event('sample.start', { sampleId: 'hello__e1' }),
    event('agent.start', { attempt: 1, agent: 'claude_code' }),
    event('agent.init', { attempt: 1, sessionId: 'sess-1', version: '2.1.0' }),
    call(
      {
        input: { system: 'You are a coding agent.', user: [`<system-reminder>cwd /app</system-reminder>\n${INSTRUCTION}`] },
        output: {
          text: 'Let me look first.',
          reasoning: 'Two commands at once.',
          toolCalls: [
            { id: 'toolu_1', name: 'Bash', arguments: { command: 'ls /app' } },
            { id: 'toolu_2', name: 'Bash', arguments: { command: 'cat /nope' } },
          ],
        },
      },
      { stopReason: 'tool_use', usage: usage(1000, 50, 800), costUsd: 0.002 },
    ),
    call(
      {
        input: { toolResults: [{ callId: 'toolu_1', content: 'README.md' }, { callId: 'toolu_2', content: 'cat: /nope: No such file', isError: true }], context: ['<system-reminder>todo list empty</system-reminder>'] },
        output: { toolCalls: [{ id: 'toolu_3', name: 'Write', arguments: { file_path: '/app/hello.txt', content: 'Hello, world' } }] },
      },
      { stopReason: 'tool_use', usage: usage(1200, 40, 1000), costUsd: 0.003 },
    ),
    event('agent.end', { attempt: 1, exitCode: 0 }),
  ];
}

describe('buildTrajectory', () => {
  it('makes the instruction step 1 and one agent step per model call, with tool calls, observations and metrics', () => {
    const t = buildTrajectory({ ...meta, events: singleAttempt() })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t).toMatchObject({ schema_version: 'ATIF-v1.6', session_id: 'sess-1', agent: { name: 'claude_code', version: '2.1.0', model_name: 'anthropic/claude-x' } });
    expect(t.extra).toEqual({ sample_id: 'hello__e1', system_prompt: 'You are a coding agent.' });
    expect(t.steps.map((s) => [s.step_id, s.source])).toEqual([
      [1, 'user'],
      [2, 'agent'],
      [3, 'agent'],
    ]);
    // The agent's wrapping of the instruction is not repeated as a second user step.
    expect(t.steps[0]).toMatchObject({ message: INSTRUCTION, extra: { attempt: 1 } });
    expect(t.steps[1]).toMatchObject({
      message: 'Let me look first.',
      reasoning_content: 'Two commands at once.',
      model_name: 'anthropic/claude-x',
      tool_calls: [
        { tool_call_id: 'toolu_1', function_name: 'Bash', arguments: { command: 'ls /app' } },
        { tool_call_id: 'toolu_2', function_name: 'Bash', arguments: { command: 'cat /nope' } },
      ],
      observation: {
        results: [
          { source_call_id: 'toolu_1', content: 'README.md' },
          { source_call_id: 'toolu_2', content: 'cat: /nope: No such file' },
        ],
      },
      metrics: { prompt_tokens: 1000, completion_tokens: 50, cached_tokens: 800, cost_usd: 0.002 },
      extra: { attempt: 1, stop_reason: 'tool_use', failed_tool_calls: ['toolu_2'] },
    });
    // A call whose result never came back has no observation; text beside results is kept as context.
    expect(t.steps[2]).toMatchObject({ message: '', tool_calls: [{ tool_call_id: 'toolu_3', function_name: 'Write' }], extra: { input_context: ['<system-reminder>todo list empty</system-reminder>'] } });
    expect(t.steps[2]!.observation).toBeUndefined();
    expect(t.final_metrics).toEqual({ total_prompt_tokens: 2200, total_completion_tokens: 90, total_cached_tokens: 1800, total_cost_usd: 0.005, total_steps: 3 });
  });

  it('turns a multi-turn sample\'s later prompts into user steps, tagged with their turn', () => {
    const events = [
      event('agent.start', { turn: 1 }),
      call({ input: { user: [INSTRUCTION] }, output: { text: 'Done.' } }),
      event('agent.start', { turn: 2 }),
      call({ input: { user: ['Now make it say goodbye.'] }, output: { toolCalls: [{ id: 'c1', name: 'shell', arguments: { command: ['bash', '-lc', 'echo bye > /app/hello.txt'] } }] } }),
      call({ input: { toolResults: [{ callId: 'c1', content: '' }] }, output: { text: 'Changed it.' } }),
    ];
    const t = buildTrajectory({ ...meta, agent: { name: 'codex', version: '0.50.0' }, events })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t.agent.version).toBe('0.50.0');
    expect(t.session_id).toBe('hello__e1'); // no session id anywhere: the sample's
    expect(t.steps.map((s) => `${s.source}:${s.message}`)).toEqual([`user:${INSTRUCTION}`, 'agent:Done.', 'user:Now make it say goodbye.', 'agent:', 'agent:Changed it.']);
    expect(t.steps[2]!.extra).toEqual({ turn: 2 });
    expect(t.steps[3]).toMatchObject({ extra: { turn: 2 }, observation: { results: [{ source_call_id: 'c1', content: '' }] } });
    // The user step is timed when its call started, before the agent step that answered it.
    expect(Date.parse(t.steps[2]!.timestamp!)).toBeLessThan(Date.parse(t.steps[3]!.timestamp!));
  });

  it('keeps one trajectory across attempts, with each "incorrect" message as a user step', () => {
    const incorrect = 'Your solution is incorrect. Try again.';
    const events = [
      event('agent.start', { attempt: 1 }),
      event('agent.session', { attempt: 1, sessionId: 'thread-9' }),
      call({ input: { user: [INSTRUCTION] }, output: { text: 'Done.' } }),
      event('score', { attempt: 1, passed: false }),
      event('agent.start', { attempt: 2 }),
      call({ input: { user: [incorrect] }, output: { text: 'Fixed.' } }),
      event('agent.start', { attempt: 3 }),
      call({ input: { user: [incorrect] }, output: { text: 'Fixed again.' } }),
    ];
    const t = buildTrajectory({ ...meta, events })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t.session_id).toBe('thread-9');
    expect(t.steps.map((s) => [s.source, s.extra?.attempt])).toEqual([
      ['user', 1],
      ['agent', 1],
      ['user', 2],
      ['agent', 2],
      ['user', 3],
      ['agent', 3],
    ]);
  });

  it('records failed calls, and builds from the last try only after an infra retry', () => {
    const events = [
      event('agent.start', { attempt: 1 }),
      call({ input: { user: ['stale try'] }, output: { text: 'never mind' } }),
      event('sample.error', { kind: 'infra' }),
      event('sample.retry', { retry: 1 }),
      event('agent.start', { attempt: 1 }),
      call({ input: { user: [INSTRUCTION] }, output: { toolCalls: [{ id: 't1', name: 'bash', arguments: { raw: 'ls -' } }] } }, { stopReason: 'tool_use' }),
      call({ input: { toolResults: [{ callId: 't1', content: 'a\nb' }] }, output: {} }, { stopReason: undefined, usage: undefined, costUsd: undefined, error: { status: 502, message: 'upstream went away' } }),
      // The same input sent again after the error is not recorded twice by the bridge.
      call({ input: {}, output: { text: 'ok' } }, { unpriced: true }),
    ];
    const t = buildTrajectory({ ...meta, events })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t.steps.map((s) => s.message)).toEqual([INSTRUCTION, '', '', 'ok']);
    expect(t.steps[1]!.observation).toEqual({ results: [{ source_call_id: 't1', content: 'a\nb' }] });
    expect(t.steps[2]).toMatchObject({ extra: { attempt: 1, error: { status: 502, message: 'upstream went away' } } });
    expect(t.steps[2]!.metrics).toBeUndefined();
    // An unpriced model's cost is left out, not counted as 0.
    expect(t.steps[3]!.metrics).toEqual({ prompt_tokens: 100, completion_tokens: 20, cached_tokens: 0 });
    expect(t.final_metrics).toMatchObject({ total_prompt_tokens: 200, total_cost_usd: 0.001, total_steps: 4 });
  });

  it('says so when a call has no transcript, and makes nothing for a sample without model calls', () => {
    const t = buildTrajectory({ ...meta, events: [event('agent.start', { attempt: 1 }), call(undefined, { passthrough: true })] })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t.steps[1]!.extra).toMatchObject({ passthrough: true, content: expect.stringContaining('not recorded') });
    expect(buildTrajectory({ ...meta, events: [event('agent.start', { attempt: 1 }), event('agent.end', { attempt: 1 })] })).toBeUndefined();
  });
});

describe('the bridge transcript, fed to the builder', () => {
  const msg = (role: Message['role'], ...content: Message['content']): Message => ({ role, content });
  const request = (messages: Message[], system?: string): ModelRequest => ({ model: 'claude-x', messages, tools: [], config: {}, stream: true, ...(system ? { system } : {}) });

  it('records only what is new in each request, and each response\'s content from its stream', async () => {
    const seen = new Set<string>();
    const first = msg('user', { type: 'text', text: INSTRUCTION });
    const answer = msg('assistant', { type: 'text', text: 'Listing.' }, { type: 'tool_call', id: 'a', name: 'Bash', arguments: '{"command":"ls"}' }, { type: 'tool_call', id: 'b', name: 'Bash', arguments: '{"command":"pwd"}' });
    const results = msg('user', { type: 'tool_result', callId: 'a', content: [{ type: 'text', text: 'x.txt' }] }, { type: 'tool_result', callId: 'b', content: [{ type: 'text', text: '/app' }, { type: 'image', url: 'http://x/y.png' }] });

    expect(newInput(request([first], 'SYSTEM'), seen)).toEqual({ system: 'SYSTEM', user: [INSTRUCTION] });
    const second = request([first, answer, results], 'SYSTEM');
    const secondInput = newInput(second, seen);
    expect(secondInput).toEqual({ toolResults: [{ callId: 'a', content: 'x.txt' }, { callId: 'b', content: '/app\n[image]' }] });
    // The same request again (an agent retrying after an error) adds nothing.
    expect(newInput(second, seen)).toEqual({});

    const recorder = new OutputRecorder();
    for await (const e of replay({ id: 'r', model: 'claude-x', content: answer.content, stopReason: 'tool_use', usage: usage(10, 5) })) recorder.add(e);
    const output = recorder.output();
    expect(output).toEqual({ text: 'Listing.', toolCalls: [{ id: 'a', name: 'Bash', arguments: { command: 'ls' } }, { id: 'b', name: 'Bash', arguments: { command: 'pwd' } }] });

    const events = [
      event('agent.start', { attempt: 1 }),
      call({ input: { system: 'SYSTEM', user: [INSTRUCTION] }, output }),
      call({ input: secondInput, output: { text: 'Done.' } }),
      call({ input: newInput(request([first, answer, results, msg('assistant', { type: 'text', text: 'Done.' }), msg('user', { type: 'text', text: 'Again.' })]), seen), output: { text: 'Done again.' } }),
    ];
    const t = buildTrajectory({ ...meta, events })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t.steps.map((s) => `${s.source}:${s.message}`)).toEqual([`user:${INSTRUCTION}`, 'agent:Listing.', 'agent:Done.', 'user:Again.', 'agent:Done again.']);
    expect(t.steps[1]!.observation).toEqual({ results: [{ source_call_id: 'a', content: 'x.txt' }, { source_call_id: 'b', content: '/app\n[image]' }] });
  });

  it('cuts long texts with a marker and keeps arguments an object', async () => {
    const long = 'y'.repeat(TRANSCRIPT_TEXT_LIMIT + 10);
    const input = newInput(request([msg('user', { type: 'tool_result', callId: 'z', content: [{ type: 'text', text: long }] })]), new Set());
    expect(input.toolResults![0]!.content).toMatch(/\n\[cagebench: truncated, 10 more characters\]$/);
    const recorder = new OutputRecorder();
    recorder.add({ type: 'block_start', index: 0, block: { type: 'tool_call', id: 'q', name: 'Write' } });
    recorder.add({ type: 'tool_arguments_delta', index: 0, json: '{"content":' });
    recorder.add({ type: 'tool_arguments_delta', index: 0, json: JSON.stringify(long) + '}' });
    recorder.add({ type: 'block_start', index: 1, block: { type: 'tool_call', id: 'r', name: 'Bash' } });
    recorder.add({ type: 'tool_arguments_delta', index: 1, json: '{"command": "ls' }); // cut off mid-stream
    const calls = recorder.output().toolCalls!;
    expect(String(calls[0]!.arguments.content)).toMatch(/truncated, 10 more characters\]$/);
    expect(calls[1]!.arguments).toEqual({ raw: '{"command": "ls' });
  });
});

describe('a live bridge', () => {
  it('records transcripts for pass-through calls (streaming or not) and translated ones', async () => {
    await using upstream = await openaiUpstream();
    await using bridge = await createBridge({ retryRefusals: 0, providers: createProviders({ openai: { apiKey: 'k', baseURL: `${upstream.url}/v1` } }) });
    const calls: { type: string; [k: string]: unknown }[] = [];
    const session = bridge.open({ sampleId: 's', model: 'openai/gpt-up', onEvent: (e) => void calls.push(e) });
    const post = async (url: string, body: unknown): Promise<void> => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}`, 'x-api-key': session.token }, body: JSON.stringify(body) });
      await res.text();
      expect(res.status).toBe(200);
    };
    const chat = `${baseUrls(bridge.url).openai}/chat/completions`;
    const first = [{ role: 'system', content: 'SYS' }, { role: 'user', content: 'run a TOOL please' }];
    await post(chat, { model: 'gpt-5', messages: first, stream: true, stream_options: { include_usage: true } });
    const answered = [...first, { role: 'assistant', content: null, tool_calls: [{ id: 'call_up1', type: 'function', function: { name: 'bash', arguments: '{"command": "ls -la"}' } }] }, { role: 'tool', tool_call_id: 'call_up1', content: 'file.txt' }];
    await post(chat, { model: 'gpt-5', messages: answered, stream: false });
    await post(`${baseUrls(bridge.url).anthropic}/v1/messages`, { model: 'claude-x', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] });

    const models = calls.filter((e) => e.type === 'model.call');
    expect(models.map((e) => [e.passthrough, e.stream])).toEqual([
      [true, true],
      [true, false],
      [undefined, true],
    ]);
    const toolCall = { id: 'call_up1', name: 'bash', arguments: { command: 'ls -la' } };
    expect(models[0]!.transcript).toEqual({ input: { system: 'SYS', user: ['run a TOOL please'] }, output: { toolCalls: [toolCall] } });
    expect(models[1]!.transcript).toEqual({ input: { toolResults: [{ callId: 'call_up1', content: 'file.txt' }] }, output: { toolCalls: [toolCall] } });
    expect(models[2]!.transcript).toEqual({ input: { user: ['hi'] }, output: { text: 'Hello world' } });

    const t = buildTrajectory({ ...meta, instruction: 'run a TOOL please', events: models.map((e) => event(e.type, e)) })!;
    expect(checkTrajectory(t)).toEqual([]);
    expect(t.steps[1]).toMatchObject({ tool_calls: [{ tool_call_id: 'call_up1' }], observation: { results: [{ source_call_id: 'call_up1', content: 'file.txt' }] }, metrics: { prompt_tokens: 11, cached_tokens: 4 }, extra: { passthrough: true } });
    expect(t.steps.map((s) => s.source)).toEqual(['user', 'agent', 'agent', 'user', 'agent']);
  });
});

describe('checkTrajectory', () => {
  const valid = (): AtifTrajectory => buildTrajectory({ ...meta, events: singleAttempt() })!;
  const broken = (change: (t: Record<string, unknown> & { steps: Record<string, unknown>[] }) => void): string[] => {
    const t = structuredClone(valid()) as unknown as Record<string, unknown> & { steps: Record<string, unknown>[] };
    change(t);
    return checkTrajectory(t);
  };

  it('accepts a valid trajectory and refuses what is not one', () => {
    expect(checkTrajectory(valid())).toEqual([]);
    expect(checkTrajectory('nope')).toEqual(['trajectory: not a JSON object']);
    expect(checkTrajectory({})).toEqual(expect.arrayContaining([expect.stringMatching(/^schema_version/), expect.stringMatching(/^session_id/), expect.stringMatching(/^agent/), expect.stringMatching(/^steps/)]));
  });

  it('finds each broken rule', () => {
    expect(broken((t) => void (t.steps[1]!.step_id = 3))).toEqual([expect.stringMatching(/^steps\[1\]\.step_id: must be 2/)]);
    expect(broken((t) => void (t.steps[0]!.source = 'tool'))).toEqual([expect.stringMatching(/^steps\[0\]\.source/)]);
    expect(broken((t) => void (t.steps[0]!.model_name = 'm'))).toEqual([expect.stringMatching(/^steps\[0\]\.model_name: only an agent step/)]);
    expect(broken((t) => void (t.steps[0]!.tool_calls = [])), 'an empty list is still a tool_calls field').toEqual([expect.stringMatching(/^steps\[0\]\.tool_calls: only an agent step/)]);
    expect(broken((t) => void ((t.steps[1]!.observation as { results: { source_call_id: string }[] }).results[0]!.source_call_id = 'toolu_3'))).toEqual([expect.stringMatching(/toolu_3" matches no tool_call_id of this step/)]);
    expect(broken((t) => void ((t.steps[1]!.tool_calls as Record<string, unknown>[])[0]!.arguments = 'ls'))).toEqual([expect.stringMatching(/arguments: required \(an object\)/)]);
    expect(broken((t) => void (t.steps[1]!.timestamp = 'yesterday'))).toEqual([expect.stringMatching(/timestamp: must be an ISO 8601 time/)]);
    expect(broken((t) => void (t.steps[1]!.message = [{ type: 'video' }]))).toEqual([expect.stringMatching(/message\[0\]\.type/)]);
    expect(broken((t) => void ((t.steps[1]!.metrics as Record<string, number>).completion_tokens = -1))).toEqual(
      expect.arrayContaining([expect.stringMatching(/completion_tokens: must be a non-negative integer/), expect.stringMatching(/^final_metrics\.total_completion_tokens: 90 but the steps' completion_tokens add up to 40/)]),
    );
    expect(broken((t) => void ((t.final_metrics as Record<string, number>).total_steps = 2))).toEqual(['final_metrics.total_steps: 2 but there are 3 steps']);
    expect(broken((t) => void ((t.final_metrics as Record<string, number>).total_cost_usd = 1))).toEqual([expect.stringMatching(/^final_metrics\.total_cost_usd: 1 but/)]);
    expect(broken((t) => void delete t.session_id)).toEqual(['session_id: required (a non-empty string) before ATIF-v1.7']);
    expect(broken((t) => void (t.agent = { name: 'x' }))).toEqual(['agent.version: required (a non-empty string)']);
    expect(broken((t) => void (t.steps[1]!.llm_call_count = 1)), 'a v1.7 field in a v1.6 trajectory').toEqual(['steps[1]: unknown field "llm_call_count"']);
    expect(
      broken((t) => {
        t.schema_version = 'ATIF-v1.7';
        delete t.session_id;
        t.steps[1]!.llm_call_count = 1;
      }),
    ).toEqual([]);
  });
});

describe('writeTrajectory', () => {
  it('writes agent/trajectory.json from events.jsonl, and nothing without model calls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-trajectory-'));
    try {
      await mkdir(join(dir, 'agent'));
      await writeFile(join(dir, 'events.jsonl'), singleAttempt().map((e) => `${JSON.stringify(e)}\n`).join(''));
      expect(await writeTrajectory(dir, meta)).toBe(true);
      const written = JSON.parse(await readFile(join(dir, 'agent', 'trajectory.json'), 'utf8')) as unknown;
      expect(checkTrajectory(written)).toEqual([]);
      expect(written).toMatchObject({ schema_version: 'ATIF-v1.6', session_id: 'sess-1', final_metrics: { total_steps: 3 } });

      const empty = join(dir, 'empty');
      await mkdir(empty);
      await writeFile(join(empty, 'events.jsonl'), `${JSON.stringify(event('sample.start'))}\n`);
      expect(await writeTrajectory(empty, meta)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
