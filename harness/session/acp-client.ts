// The client side of one ACP connection, spoken with the official SDK over any message
// stream (the agent's stdio in a sandbox, or an in-memory pair in tests): initialize,
// open the session (new, or the agent's own resume/load of an earlier one), and run prompt
// turns, each reported as events (session/update mapped to agent.* events) and settled with
// its stop reason and final message. A cancel (the turn's signal) or a timeout sends
// session/cancel and answers every permission request that comes after it `cancelled`, as
// the protocol requires; a connection that closes ends the live turn with an error instead of a hang.
import * as acp from '@agentclientprotocol/sdk';
import { AgentError, type AgentEvent } from '../../agents/index.ts';
import { allowOnceOption, rejectOption } from './acp-permission.ts';

export interface AcpClientOptions {
  /** Events outside any turn (the session's start, a permission asked between turns). */
  readonly emit: (event: AgentEvent) => void;
  /**
   * What to answer a permission request: approve (an `allow_once` option), reject (the option
   * that lets the turn go on) or cancel. @default approve
   */
  readonly decide?: (request: acp.RequestPermissionRequest) => PermissionAnswer | Promise<PermissionAnswer>;
}

export interface AcpOpenOptions {
  readonly cwd: string;
  readonly mcpServers?: readonly acp.McpServer[];
  readonly meta?: acp.NewSessionRequest['_meta'];
  /** An earlier session of this agent to continue (its own resume, else load, else a new one). */
  readonly resume?: string;
  /** The mode to put the session in (session/set_mode), when the agent offers it. */
  readonly mode?: string;
}

export type PermissionAnswer = 'approve' | 'reject' | 'cancel';

export interface AcpPromptOptions {
  readonly signal?: AbortSignal;
  /** Called once when the turn is cancelled or times out (before session/cancel goes out). */
  readonly onCancel?: () => void;
  readonly timeoutMs: number;
  /** After session/cancel, how long the agent has to end the turn. @default 30_000 */
  readonly cancelGraceMs?: number;
  readonly emit: (event: AgentEvent) => void;
}

export interface AcpTurn {
  readonly stopReason: string;
  readonly finalMessage: string;
  readonly timedOut: boolean;
  /** The agent did not end the turn after session/cancel: the connection is no longer usable. */
  readonly abandoned?: boolean;
}

export interface AcpClient {
  readonly sessionId: string | undefined;
  readonly agentInfo: acp.InitializeResponse['agentInfo'] | undefined;
  /** Aborted when the connection closes. */
  readonly signal: AbortSignal;
  open(options: AcpOpenOptions): Promise<string>;
  prompt(text: string, options: AcpPromptOptions): Promise<AcpTurn>;
  close(): void;
}

const CLIENT_INFO = { name: 'cagebench', version: '1' };
const DEFAULT_CANCEL_GRACE_MS = 30_000;
/** Streamed command output kept per tool call, for its result event. */
const MAX_TOOL_OUTPUT = 64 * 1024;

/** What one turn has seen so far: the message being streamed, and the last complete one. */
class TurnState {
  private text = '';
  private messageId: string | undefined;
  finalMessage = '';

  constructor(private readonly emit: (event: AgentEvent) => void) {}

  chunk(text: string, messageId: string | undefined): void {
    if (messageId !== this.messageId && this.text) this.flush();
    this.messageId = messageId;
    this.text += text;
    this.emit({ type: 'agent.text', text, ...(messageId ? { messageId } : {}) });
  }

  /** The message streamed so far, as one event; it is the turn's final message unless another follows. */
  flush(): void {
    if (!this.text) return;
    this.finalMessage = this.text;
    this.emit({ type: 'agent.message', text: this.text });
    this.text = '';
    this.messageId = undefined;
  }
}

export function connectAcp(stream: acp.Stream, options: AcpClientOptions): AcpClient {
  const decide = options.decide ?? ((): PermissionAnswer => 'approve');
  /** Permission requests not yet answered: a cancel answers them all `cancelled`. */
  const undecided = new Set<() => void>();
  let turn: { state: TurnState; emit: (event: AgentEvent) => void; cancelled: boolean } | undefined;
  /** Updates of a replayed history (session/load) are the past, not this turn's. */
  let replaying = false;
  let sessionId: string | undefined;
  let agentInfo: acp.InitializeResponse['agentInfo'] | undefined;
  let capabilities: acp.AgentCapabilities = {};
  const emit = (event: AgentEvent): void => (turn ? turn.emit(event) : options.emit(event));

  /**
   * Command output some adapters stream in `_meta` instead of content (Codex:
   * `terminal_output_delta`, `terminal_exit`), kept per tool call for its result event.
   */
  const terminals = new Map<string, { text: string; exitCode?: number }>();
  const terminalOutput = (id: string, meta: Record<string, unknown> | null | undefined): { text: string; exitCode?: number } | undefined => {
    const delta = (meta?.terminal_output_delta as { data?: unknown } | undefined)?.data;
    const exit = (meta?.terminal_exit as { exit_code?: unknown } | undefined)?.exit_code;
    if (typeof delta !== 'string' && typeof exit !== 'number') return terminals.get(id);
    const held = terminals.get(id) ?? { text: '' };
    if (typeof delta === 'string' && held.text.length < MAX_TOOL_OUTPUT) held.text += delta.slice(0, MAX_TOOL_OUTPUT - held.text.length);
    if (typeof exit === 'number') held.exitCode = exit;
    terminals.set(id, held);
    return held;
  };

  /**
   * A tool call's first sight, as one `agent.tool_call` event: its `tool_call` update, or for
   * an adapter that asks first (Gemini CLI) or only updates, the permission request or update.
   */
  const called = new Set<string>();
  const toolCall = (call: acp.ToolCall | acp.ToolCallUpdate): void => {
    if (called.has(call.toolCallId)) return;
    called.add(call.toolCallId);
    emit({ type: 'agent.tool_call', id: call.toolCallId, ...defined({ title: call.title, kind: call.kind ?? 'other', status: call.status ?? 'pending', name: (call as { name?: unknown }).name, input: call.rawInput, locations: call.locations }) });
  };

  const onUpdate = (n: acp.SessionNotification): void => {
    if (replaying || (sessionId && n.sessionId !== sessionId)) return;
    const u = n.update;
    const state = turn?.state;
    if (u.sessionUpdate !== 'agent_message_chunk') state?.flush();
    switch (u.sessionUpdate) {
      case 'agent_message_chunk':
        if (u.content.type === 'text') {
          if (state) state.chunk(u.content.text, u.messageId ?? undefined);
          else emit({ type: 'agent.text', text: u.content.text });
        }
        return;
      case 'agent_thought_chunk':
        if (u.content.type === 'text') emit({ type: 'agent.thought', text: u.content.text });
        return;
      case 'user_message_chunk':
        return;
      case 'tool_call':
        terminalOutput(u.toolCallId, u._meta);
        toolCall(u);
        return;
      case 'tool_call_update': {
        toolCall(u);
        const streamed = terminalOutput(u.toolCallId, u._meta);
        const done = u.status === 'completed' || u.status === 'failed';
        // An update that only carries a piece of terminal output is not worth an event of its own.
        if (!done && streamed && u.status == null && u.rawOutput == null && u.title == null) return;
        if (done) terminals.delete(u.toolCallId);
        emit({
          type: done ? 'agent.tool_result' : 'agent.tool_update',
          id: u.toolCallId,
          ...defined({ status: u.status, title: u.title, kind: u.kind, input: u.rawInput }),
          ...(done ? { isError: u.status === 'failed', ...defined({ output: u.rawOutput ?? contentText(u.content) ?? streamed?.text, exitCode: streamed?.exitCode }) } : defined({ output: u.rawOutput })),
        });
        return;
      }
      case 'plan':
        emit({ type: 'agent.plan', entries: u.entries });
        return;
      case 'usage_update':
        emit({ type: 'agent.usage', used: u.used, size: u.size, ...defined({ cost: u.cost }) });
        return;
      default:
        emit({ type: 'agent.update', kind: u.sessionUpdate });
    }
  };

  const onPermission = async (request: acp.RequestPermissionRequest): Promise<acp.RequestPermissionResponse> => {
    toolCall(request.toolCall);
    const asked = { id: request.toolCall.toolCallId, ...defined({ title: request.toolCall.title, kind: request.toolCall.kind, input: request.toolCall.rawInput }), options: request.options.map((o) => `${o.optionId}:${o.kind}`) };
    const cancelled = (by: string): acp.RequestPermissionResponse => {
      emit({ type: 'agent.permission', ...asked, outcome: 'cancelled', by });
      return { outcome: { outcome: 'cancelled' } };
    };
    // A turn being cancelled answers every request `cancelled`, as the protocol requires.
    if (turn?.cancelled) return cancelled('cancel');
    let onCancel: () => void = () => undefined;
    const stopped = new Promise<'stopped'>((resolve) => {
      onCancel = () => resolve('stopped');
      undecided.add(onCancel);
    });
    try {
      const answer = await Promise.race([Promise.resolve(decide(request)), stopped]);
      if (answer === 'stopped' || turn?.cancelled) return cancelled('cancel');
      const optionId = answer === 'approve' ? allowOnceOption(request.options) : answer === 'reject' ? rejectOption(request.options) : undefined;
      if (optionId === undefined) return cancelled(answer);
      emit({ type: 'agent.permission', ...asked, outcome: optionId, by: answer });
      return { outcome: { outcome: 'selected', optionId } };
    } finally {
      undecided.delete(onCancel);
    }
  };

  const app = acp
    .client({ name: CLIENT_INFO.name })
    .onRequest(acp.methods.client.session.requestPermission, ({ params }) => onPermission(params))
    .onNotification(acp.methods.client.session.update, ({ params }) => onUpdate(params));
  const connection = app.connect(stream);
  const agent = connection.agent;
  let initialized: Promise<void> | undefined;

  const handshake = async (): Promise<void> => {
    // No fs or terminal capabilities: the agent works in its own sandbox with its own tools.
    const res = await agent.request(acp.methods.agent.initialize, { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {}, clientInfo: { ...CLIENT_INFO } });
    agentInfo = res.agentInfo;
    capabilities = res.agentCapabilities ?? {};
    options.emit({ type: 'agent.init', protocolVersion: res.protocolVersion, ...defined({ agent: res.agentInfo, authMethods: res.authMethods?.map((m) => m.id) }), loadSession: capabilities.loadSession ?? false, resume: Boolean(capabilities.sessionCapabilities?.resume) });
  };
  const initialize = (): Promise<void> => (initialized ??= handshake());

  /** The agent's own continuation of an earlier session: resume (no replay), else load (replayed, not reported); undefined when it cannot. */
  const reopen = async (base: acp.NewSessionRequest, earlier: string): Promise<{ sessionId: string; modes?: acp.SessionModeState | null } | undefined> => {
    const how = capabilities.sessionCapabilities?.resume ? 'resume' : capabilities.loadSession ? 'load' : undefined;
    if (!how) {
      options.emit({ type: 'agent.session', resumeFailed: earlier, error: 'the agent can neither resume nor load a session' });
      return undefined;
    }
    try {
      let res: acp.ResumeSessionResponse | acp.LoadSessionResponse;
      if (how === 'resume') res = await agent.request(acp.methods.agent.session.resume, { ...base, sessionId: earlier });
      else {
        replaying = true;
        res = await agent.request(acp.methods.agent.session.load, { ...base, sessionId: earlier }).finally(() => (replaying = false));
      }
      options.emit({ type: 'agent.session', sessionId: earlier, resumed: how, ...defined({ mode: res.modes?.currentModeId }) });
      return { sessionId: earlier, modes: res.modes ?? null };
    } catch (err) {
      options.emit({ type: 'agent.session', resumeFailed: earlier, how, error: errorText(err) });
      return undefined;
    }
  };

  const created = async (base: acp.NewSessionRequest): Promise<{ sessionId: string; modes?: acp.SessionModeState | null }> => {
    const res = await agent.request(acp.methods.agent.session.new, base);
    options.emit({ type: 'agent.session', sessionId: res.sessionId, ...defined({ modes: res.modes?.availableModes.map((m) => m.id), mode: res.modes?.currentModeId }) });
    return { sessionId: res.sessionId, modes: res.modes ?? null };
  };

  const setMode = async (id: string, modeId: string, modes: acp.SessionModeState | null | undefined): Promise<void> => {
    if (modes?.currentModeId === modeId) return;
    if (modes && !modes.availableModes.some((m) => m.id === modeId)) {
      options.emit({ type: 'agent.mode', mode: modes.currentModeId, wanted: modeId, error: 'not offered' });
      return;
    }
    try {
      await agent.request(acp.methods.agent.session.setMode, { sessionId: id, modeId });
      options.emit({ type: 'agent.mode', mode: modeId });
    } catch (err) {
      options.emit({ type: 'agent.mode', wanted: modeId, error: errorText(err) });
    }
  };

  return {
    get sessionId() {
      return sessionId;
    },
    get agentInfo() {
      return agentInfo;
    },
    signal: connection.signal,
    async open(open) {
      await initialize();
      const base: acp.NewSessionRequest = { cwd: open.cwd, mcpServers: [...(open.mcpServers ?? [])], ...(open.meta ? { _meta: open.meta } : {}) };
      const opened = (open.resume && (await reopen(base, open.resume))) || (await created(base));
      sessionId = opened.sessionId;
      if (open.mode) await setMode(opened.sessionId, open.mode, opened.modes);
      return opened.sessionId;
    },
    async prompt(text, run) {
      if (!sessionId) throw new Error('prompt before open');
      if (turn) throw new Error('one prompt at a time');
      const id = sessionId;
      const state = new TurnState(run.emit);
      const live = { state, emit: run.emit, cancelled: false };
      turn = live;
      let timedOut = false;
      let stop: (why: 'cancel' | 'timeout') => void = () => undefined;
      const stopped = new Promise<'abandoned'>((resolve) => {
        stop = (why) => {
          if (live.cancelled) return;
          live.cancelled = true;
          timedOut = why === 'timeout';
          run.emit({ type: 'agent.cancel', reason: why });
          run.onCancel?.();
          for (const answer of undecided) answer();
          void agent.notify(acp.methods.agent.session.cancel, { sessionId: id }).catch(() => undefined);
          setTimeout(() => resolve('abandoned'), run.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS).unref();
        };
      });
      const onAbort = (): void => stop('cancel');
      let onClose: (() => void) | undefined;
      const timer = setTimeout(() => stop('timeout'), run.timeoutMs);
      if (run.signal?.aborted) onAbort();
      else run.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const request = agent.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: 'text', text }] });
        request.catch(() => undefined);
        const closed = new Promise<never>((_, reject) => {
          onClose = (): void => reject(new AgentError('CB_AGENT_FAILED', 'The ACP connection closed during the turn.'));
          if (connection.signal.aborted) onClose();
          else connection.signal.addEventListener('abort', onClose, { once: true });
        });
        closed.catch(() => undefined);
        const outcome = await Promise.race([request, stopped, closed]);
        state.flush();
        if (outcome === 'abandoned') {
          run.emit({ type: 'agent.stop', stopReason: 'cancelled', abandoned: true });
          return { stopReason: 'cancelled', finalMessage: state.finalMessage, timedOut, abandoned: true };
        }
        const stopReason = outcome.stopReason;
        run.emit({ type: 'agent.stop', stopReason, ...defined({ usage: (outcome as { usage?: unknown }).usage }) });
        return { stopReason, finalMessage: state.finalMessage, timedOut };
      } catch (err) {
        state.flush();
        if (err instanceof AgentError) throw err;
        throw new AgentError('CB_AGENT_FAILED', `The ACP agent failed the turn: ${errorText(err)}`, { cause: err });
      } finally {
        clearTimeout(timer);
        run.signal?.removeEventListener('abort', onAbort);
        if (onClose) connection.signal.removeEventListener('abort', onClose);
        turn = undefined;
      }
    },
    close() {
      connection.close();
    },
  };
}

/** An error's message, with the details a JSON-RPC error carries (`data.details`, as Gemini CLI sends them). */
export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const details = (err as { data?: { details?: unknown } } | null)?.data?.details;
  return typeof details === 'string' && !message.includes(details) ? `${message}: ${details}` : message;
}

/** The fields that are set (ACP leaves unchanged ones out, or null). */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));
}

/** A tool call's content as text, for its result event. */
function contentText(content: acp.ToolCallContent[] | null | undefined): string | undefined {
  if (!content?.length) return undefined;
  const parts = content.map((c) => {
    if (c.type === 'content') return c.content.type === 'text' ? c.content.text : `[${c.content.type}]`;
    if (c.type === 'diff') return `[diff ${c.path}]`;
    return `[terminal ${c.terminalId}]`;
  });
  return parts.join('\n');
}
