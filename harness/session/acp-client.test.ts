// The ACP client against a scripted agent in the same process (the SDK's own agent app,
// joined by two in-memory streams): what its updates become as events, how permission
// requests are answered, and what cancel, a deaf agent and a closed connection do to a turn.
import { describe, expect, it } from 'vitest';
import * as acp from '@agentclientprotocol/sdk';
import type { AgentEvent } from '../../agents/index.ts';
import { connectAcp, type AcpClient, type PermissionAnswer } from './acp-client.ts';
import { allowOnceOption, gateRequest, rejectOption } from './acp-permission.ts';

type Ctx = acp.AgentContext;

/** Three options as Claude's adapter offers them: the always one first. */
const OPTIONS: acp.PermissionOption[] = [
  { optionId: 'allow-with-updates', name: 'Always', kind: 'allow_always' },
  { optionId: 'allow-once', name: 'Yes', kind: 'allow_once' },
  { optionId: 'reject', name: 'No', kind: 'reject_once' },
];

interface Script {
  /** What the agent does with a prompt; resolves with its stop reason. */
  prompt(text: string, client: Ctx, sessionId: string, cancelled: Promise<void>): Promise<acp.StopReason>;
}

function pair(script: Script): { stream: acp.Stream; modes: string[] } {
  const toAgent = new TransformStream<acp.AnyMessage, acp.AnyMessage>();
  const toClient = new TransformStream<acp.AnyMessage, acp.AnyMessage>();
  const modes: string[] = [];
  let cancel: () => void = () => undefined;
  acp
    .agent({ name: 'scripted' })
    .onRequest(acp.methods.agent.initialize, () => ({ protocolVersion: acp.PROTOCOL_VERSION, agentCapabilities: { loadSession: false }, agentInfo: { name: 'scripted', version: '0' } }))
    .onRequest(acp.methods.agent.session.new, () => ({ sessionId: 's-1', modes: { currentModeId: 'auto', availableModes: [{ id: 'default', name: 'Ask' }, { id: 'auto', name: 'Auto' }] } }))
    .onRequest(acp.methods.agent.session.setMode, ({ params }) => {
      modes.push(params.modeId);
      return {};
    })
    .onNotification(acp.methods.agent.session.cancel, () => cancel())
    .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
      const cancelled = new Promise<void>((resolve) => (cancel = resolve));
      const text = params.prompt.map((b) => (b.type === 'text' ? b.text : '')).join('');
      return { stopReason: await script.prompt(text, client, params.sessionId, cancelled) };
    })
    .connect({ readable: toAgent.readable, writable: toClient.writable });
  return { stream: { readable: toClient.readable, writable: toAgent.writable }, modes };
}

const update = (client: Ctx, sessionId: string, u: acp.SessionUpdate): Promise<void> => client.notify(acp.methods.client.session.update, { sessionId, update: u });
const say = (client: Ctx, sessionId: string, text: string, messageId?: string): Promise<void> =>
  update(client, sessionId, { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text }, ...(messageId ? { messageId } : {}) });

async function open(script: Script, decide?: (r: acp.RequestPermissionRequest) => PermissionAnswer | Promise<PermissionAnswer>): Promise<{ client: AcpClient; events: AgentEvent[]; modes: string[] }> {
  const { stream, modes } = pair(script);
  const events: AgentEvent[] = [];
  const client = connectAcp(stream, { emit: (e) => events.push(e), ...(decide ? { decide } : {}) });
  await client.open({ cwd: '/work', mode: 'default' });
  return { client, events, modes };
}

describe('acp client', () => {
  it('maps a turn: text deltas and whole messages, a tool call and its result; the last message is the final one', async () => {
    let asked: acp.RequestPermissionResponse | undefined;
    const { client, events, modes } = await open({
      async prompt(_text, c, id) {
        await say(c, id, 'Let me ', 'm1');
        await say(c, id, 'look.', 'm1');
        await update(c, id, { sessionUpdate: 'tool_call', toolCallId: 't-1', title: 'ls', kind: 'execute', status: 'pending', rawInput: { command: 'ls' } });
        asked = await c.request(acp.methods.client.session.requestPermission, { sessionId: id, toolCall: { toolCallId: 't-1' }, options: OPTIONS });
        await update(c, id, { sessionUpdate: 'tool_call_update', toolCallId: 't-1', status: 'completed', rawOutput: 'a.txt' });
        await update(c, id, { sessionUpdate: 'plan', entries: [{ content: 'step', priority: 'high', status: 'completed' }] });
        await say(c, id, 'Found ', 'm2');
        await say(c, id, 'a.txt.', 'm2');
        return 'end_turn';
      },
    });
    expect(modes).toEqual(['default']);
    const turnEvents: AgentEvent[] = [];
    const turn = await client.prompt('list', { timeoutMs: 10_000, emit: (e) => turnEvents.push(e) });
    expect(turn).toEqual({ stopReason: 'end_turn', finalMessage: 'Found a.txt.', timedOut: false });
    // Never allow_always: the policy stays the authority.
    expect(asked).toEqual({ outcome: { outcome: 'selected', optionId: 'allow-once' } });
    expect(turnEvents.map((e) => e.type)).toEqual([
      'agent.text',
      'agent.text',
      'agent.message',
      'agent.tool_call',
      'agent.permission',
      'agent.tool_result',
      'agent.plan',
      'agent.text',
      'agent.text',
      'agent.message',
      'agent.stop',
    ]);
    expect(turnEvents.find((e) => e.type === 'agent.tool_result')).toMatchObject({ id: 't-1', isError: false, output: 'a.txt' });
    expect(events.map((e) => e.type)).toEqual(['agent.init', 'agent.session', 'agent.mode']);
    client.close();
  });

  it('a refusal is the option that lets the turn go on; a tool seen first in its permission request is reported as called', async () => {
    let asked: acp.RequestPermissionResponse | undefined;
    const { client } = await open(
      {
        async prompt(_t, c, id) {
          asked = await c.request(acp.methods.client.session.requestPermission, { sessionId: id, toolCall: { toolCallId: 't-2', title: 'rm x', kind: 'execute' }, options: OPTIONS });
          return 'end_turn';
        },
      },
      () => 'reject',
    );
    const seen: AgentEvent[] = [];
    await client.prompt('go', { timeoutMs: 10_000, emit: (e) => seen.push(e) });
    expect(asked).toEqual({ outcome: { outcome: 'selected', optionId: 'reject' } });
    expect(seen[0]).toMatchObject({ type: 'agent.tool_call', id: 't-2', kind: 'execute' });
    client.close();
  });

  it('cancel: session/cancel goes out, a request still waiting for its decision is answered cancelled, the turn ends cancelled, the next one works', async () => {
    let asked: Promise<acp.RequestPermissionResponse> | undefined;
    const { client } = await open(
      {
        async prompt(text, c, id, cancelled) {
          if (text === 'again') {
            await say(c, id, 'ok');
            return 'end_turn';
          }
          asked = c.request(acp.methods.client.session.requestPermission, { sessionId: id, toolCall: { toolCallId: 't-3', kind: 'execute', rawInput: { command: 'sleep 600' } }, options: OPTIONS });
          await cancelled;
          return 'cancelled';
        },
      },
      // A person who never answers.
      () => new Promise<PermissionAnswer>(() => undefined),
    );
    const abort = new AbortController();
    const seen: AgentEvent[] = [];
    const turn = client.prompt('long', { timeoutMs: 10_000, signal: abort.signal, emit: (e) => seen.push(e) });
    while (!asked) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    expect(await asked).toEqual({ outcome: { outcome: 'cancelled' } });
    expect(await turn).toEqual({ stopReason: 'cancelled', finalMessage: '', timedOut: false });
    expect(seen.map((e) => e.type)).toEqual(['agent.tool_call', 'agent.cancel', 'agent.permission', 'agent.stop']);
    expect(await client.prompt('again', { timeoutMs: 10_000, emit: () => undefined })).toMatchObject({ stopReason: 'end_turn', finalMessage: 'ok' });
    client.close();
  });

  it('a timeout cancels the turn and says so; an agent that ignores the cancel is given up on after the grace', async () => {
    const { client } = await open({ prompt: () => new Promise<acp.StopReason>(() => undefined) });
    const turn = await client.prompt('hang', { timeoutMs: 50, cancelGraceMs: 100, emit: () => undefined });
    expect(turn).toEqual({ stopReason: 'cancelled', finalMessage: '', timedOut: true, abandoned: true });
    client.close();
  });

  it('a connection that closes during a turn ends it with an error, not a hang', async () => {
    const { client } = await open({ prompt: () => new Promise<acp.StopReason>(() => undefined) });
    const turn = client.prompt('hang', { timeoutMs: 60_000, emit: () => undefined });
    setTimeout(() => client.close(), 20);
    await expect(turn).rejects.toThrow(/closed|ACP/);
  });
});

describe('acp permission options and requests', () => {
  it("picks each adapter's allow_once, never allow_always; Codex's decline over its turn-ending cancel", () => {
    const opt = (optionId: string, kind: acp.PermissionOption['kind']): acp.PermissionOption => ({ optionId, name: optionId, kind });
    expect(allowOnceOption([opt('proceed_always', 'allow_always'), opt('proceed_once', 'allow_once'), opt('cancel', 'reject_once')])).toBe('proceed_once');
    expect(allowOnceOption([opt('always', 'allow_always'), opt('reject', 'reject_once')])).toBeUndefined();
    expect(rejectOption([opt('allow_once', 'allow_once'), opt('cancel', 'reject_once'), opt('decline', 'reject_once')])).toBe('decline');
    expect(rejectOption([opt('once', 'allow_once'), opt('reject', 'reject_once')])).toBe('reject');
  });

  it('names the tool and command the gate decides on', () => {
    const req = (toolCall: acp.ToolCallUpdate): acp.RequestPermissionRequest => ({ sessionId: 's', toolCall, options: [] });
    expect(gateRequest(req({ toolCallId: 'a', kind: 'execute', rawInput: { command: 'rm -rf x' }, _meta: { claudeCode: { toolName: 'Bash' } } }))).toMatchObject({ tool: 'bash', command: 'rm -rf x' });
    expect(gateRequest(req({ toolCallId: 'b', kind: 'edit', _meta: { claudeCode: { toolName: 'Write' } } }))).toMatchObject({ tool: 'write' });
    expect(gateRequest(req({ toolCallId: 'c', kind: 'execute', rawInput: { command: ['bash', '-lc', 'git push'] } }))).toMatchObject({ tool: 'bash', command: 'git push' });
    // Gemini CLI: no input, the command is the title.
    expect(gateRequest(req({ toolCallId: 'd', kind: 'execute', title: 'rm notes.txt' }))).toMatchObject({ tool: 'bash', command: 'rm notes.txt' });
    expect(gateRequest(req({ toolCallId: 'e', kind: 'fetch', title: 'https://x' }))).toMatchObject({ tool: 'fetch' });
  });
});
