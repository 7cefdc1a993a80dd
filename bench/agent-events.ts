// Where one sample's agent phase went, read from its result.json timings and events.jsonl:
// model time (the bridge's model.call latencies), tool time (paired tool events, per agent's
// way of reporting them) and the rest, the agent's own overhead. Pure: no files, no clocks.

/** One line of events.jsonl. */
export interface EventLine {
  /** ISO time the harness wrote the event. */
  readonly t: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The result.json timings this needs. */
export interface SampleTimings {
  readonly durationMs: number;
  readonly environmentMs: number;
  readonly agentMs: number;
  readonly verifierMs: number;
}

/**
 * Where a sample's tool time came from:
 * - `oracle commands`: the oracle's `agent.command.end` durations (its solution's execs);
 * - `tool_call/tool_result`: `agent.tool_call` to the `agent.tool_result` with the same id
 *   (claude_code, codex_cli, gemini_cli), by the events' harness timestamps;
 * - `agent.tool status`: OpenCode's `agent.tool` events, first pending/running to
 *   completed/error of one callId, by the events' timestamps;
 * - `opencode state.time`: OpenCode's own `part.state.time.{start,end}` of each tool part in
 *   its JSON output (agent/opencode-attempt-N.jsonl), for calls whose events came only as
 *   `completed` (its `run --format json` prints a tool part once, when it is done);
 * - `codex rollout`: Codex's own session record (agent/codex-session/sessions/…/rollout-*.jsonl),
 *   from a `function_call` line to the `function_call_output` line of the same call_id, by the
 *   lines' timestamps. Used for codex_cli instead of its events: `codex exec --json` prints a
 *   command's `item.started` only when the command is done, just before `item.completed`
 *   (0 to 16 ms apart in 12 samples, against 62 to 167 ms in the rollout);
 * - `none`: no tool call could be paired: overhead is then agent phase − model time.
 */
export type ToolSource = 'oracle commands' | 'tool_call/tool_result' | 'agent.tool status' | 'opencode state.time' | 'codex rollout' | 'none';

/** Epoch milliseconds. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface SampleTimes {
  readonly wallMs: number;
  readonly environmentMs: number;
  readonly agentMs: number;
  readonly verifierMs: number;
  /** The agent CLI's own process(es), `agent.command.end` durations; absent for the oracle. */
  readonly cliMs?: number;
  readonly modelMs: number;
  readonly modelCalls: number;
  /** Sum of the paired tool spans (the oracle: its commands); absent when none could be paired. */
  readonly toolMs?: number;
  readonly toolCalls: number;
  /** Tool calls whose start or end was not found: not in toolMs. */
  readonly unpairedTools: number;
  readonly toolSources: readonly ToolSource[];
  /** Time counted both as model time and as tool time (their spans overlap). */
  readonly overlapMs: number;
  /** agentMs − modelMs − (toolMs ?? 0). */
  readonly overheadMs: number;
  /** From the first `agent.command` (the CLI's exec is about to start) to the start of the first model call. */
  readonly startupMs?: number;
  /** From the end of the last model call to the last `agent.command.end` (the CLI's process has exited). */
  readonly exitMs?: number;
}

export interface SampleInput {
  /** The agent's name; `oracle` has no model, and its commands are its tool time. */
  readonly agent: string;
  readonly timings: SampleTimings;
  readonly events: readonly EventLine[];
  /** The agent's raw JSON-lines transcripts (agent/*-attempt-N.jsonl), read for OpenCode's own tool times. */
  readonly transcripts?: readonly string[];
  /** The agent's own session files (JSON lines under agent/*-session/), read for Codex's rollout. */
  readonly sessionFiles?: readonly string[];
}

const STARTED = new Set(['pending', 'running']);
const ENDED = new Set(['completed', 'error']);

export function sampleTimes(input: SampleInput): SampleTimes {
  const { timings, events } = input;
  const at = (e: EventLine): number => Date.parse(e.t);
  const modelSpans: Span[] = [];
  for (const e of events) {
    if (e.type !== 'model.call' || typeof e.latencyMs !== 'number') continue;
    modelSpans.push({ start: at(e) - e.latencyMs, end: at(e) });
  }
  const commandMs = events.filter((e) => e.type === 'agent.command.end' && typeof e.durationMs === 'number').reduce((s, e) => s + (e.durationMs as number), 0);
  const oracle = input.agent === 'oracle';
  const rollout = input.agent === 'codex_cli' ? codexToolSpans(input.sessionFiles ?? []) : undefined;
  const tools = oracle ? oracleTools(events) : rollout?.spans.length ? rollout : agentTools(events, input.transcripts ?? []);
  const modelMs = sum(modelSpans);
  const firstCommand = events.find((e) => e.type === 'agent.command');
  const lastEnd = [...events].reverse().find((e) => e.type === 'agent.command.end');
  const firstModel = Math.min(...modelSpans.map((s) => s.start));
  const lastModel = Math.max(...modelSpans.map((s) => s.end));
  const toolMs = tools.spans.length ? sum(tools.spans) : undefined;
  return {
    wallMs: timings.durationMs,
    environmentMs: timings.environmentMs,
    agentMs: timings.agentMs,
    verifierMs: timings.verifierMs,
    ...(oracle ? {} : { cliMs: commandMs }),
    modelMs,
    modelCalls: modelSpans.length,
    ...(toolMs === undefined ? {} : { toolMs }),
    toolCalls: tools.spans.length + tools.unpaired,
    unpairedTools: tools.unpaired,
    toolSources: tools.sources.length ? tools.sources : ['none'],
    overlapMs: overlap(modelSpans, tools.spans),
    overheadMs: timings.agentMs - modelMs - (toolMs ?? 0),
    ...(!oracle && firstCommand && modelSpans.length ? { startupMs: firstModel - at(firstCommand) } : {}),
    ...(!oracle && lastEnd && modelSpans.length ? { exitMs: at(lastEnd) - lastModel } : {}),
  };
}

interface Tools {
  readonly spans: Span[];
  unpaired: number;
  readonly sources: ToolSource[];
}

/** The oracle's solution commands: `agent.command.end` carries each one's duration. */
function oracleTools(events: readonly EventLine[]): Tools {
  const spans: Span[] = [];
  for (const e of events) {
    if (e.type !== 'agent.command.end' || typeof e.durationMs !== 'number') continue;
    spans.push({ start: Date.parse(e.t) - e.durationMs, end: Date.parse(e.t) });
  }
  return { spans, unpaired: 0, sources: spans.length ? ['oracle commands'] : [] };
}

function agentTools(events: readonly EventLine[], transcripts: readonly string[]): Tools {
  const tools: Tools = { spans: [], unpaired: 0, sources: [] };
  const use = (source: ToolSource): void => {
    if (!tools.sources.includes(source)) tools.sources.push(source);
  };
  // A call id can repeat across attempts (a resumed session), so ids are scoped per attempt.
  const key = (e: EventLine, id: unknown): string => `${String(e.attempt ?? '')}|${String(id)}`;
  const calls = new Map<string, number>();
  const statusStarts = new Map<string, number>();
  const statusEndsAlone: string[] = [];
  for (const e of events) {
    const t = Date.parse(e.t);
    if (e.type === 'agent.tool_call') {
      if (!calls.has(key(e, e.id))) calls.set(key(e, e.id), t);
    } else if (e.type === 'agent.tool_result') {
      const start = calls.get(key(e, e.id));
      if (start === undefined) {
        tools.unpaired++;
        continue;
      }
      calls.delete(key(e, e.id));
      tools.spans.push({ start, end: t });
      use('tool_call/tool_result');
    } else if (e.type === 'agent.tool' && typeof e.status === 'string') {
      const k = key(e, e.callId);
      if (STARTED.has(e.status)) {
        if (!statusStarts.has(k)) statusStarts.set(k, t);
      } else if (ENDED.has(e.status)) {
        const start = statusStarts.get(k);
        if (start === undefined) {
          statusEndsAlone.push(String(e.callId));
          continue;
        }
        statusStarts.delete(k);
        tools.spans.push({ start, end: t });
        use('agent.tool status');
      }
    }
  }
  // Calls that never got a result (the agent was stopped mid-tool).
  tools.unpaired += calls.size + statusStarts.size;
  if (statusEndsAlone.length) {
    const own = openCodeToolSpans(transcripts);
    for (const id of statusEndsAlone) {
      const span = own.get(id);
      if (!span) {
        tools.unpaired++;
        continue;
      }
      own.delete(id);
      tools.spans.push(span);
      use('opencode state.time');
    }
  }
  return tools;
}

/**
 * OpenCode's own timing of each tool call, from its `run --format json` lines:
 * `{"type":"tool_use","part":{"callID":...,"state":{"status":"completed","time":{"start":ms,"end":ms}}}}`.
 */
export function openCodeToolSpans(transcripts: readonly string[]): Map<string, Span> {
  const spans = new Map<string, Span>();
  for (const text of transcripts) {
    for (const line of text.split('\n')) {
      if (!line.includes('"tool_use"')) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      const m = message as { type?: unknown; part?: { callID?: unknown; state?: { time?: { start?: unknown; end?: unknown } } } };
      const time = m.part?.state?.time;
      if (m.type !== 'tool_use' || typeof m.part?.callID !== 'string' || typeof time?.start !== 'number' || typeof time.end !== 'number') continue;
      spans.set(m.part.callID, { start: time.start, end: time.end });
    }
  }
  return spans;
}

const CODEX_CALLS = new Set(['function_call', 'custom_tool_call', 'local_shell_call']);
const CODEX_OUTPUTS = new Set(['function_call_output', 'custom_tool_call_output']);

/**
 * Codex's tool calls from its rollout files: `{"timestamp":ISO,"type":"response_item","payload":
 * {"type":"function_call","call_id":...}}` to the `function_call_output` of that call_id. A call
 * id seen in several files (a resumed thread's copies) is counted once.
 */
export function codexToolSpans(files: readonly string[]): Tools {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const text of files) {
    for (const line of text.split('\n')) {
      if (!line.includes('"response_item"')) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      const m = message as { timestamp?: unknown; type?: unknown; payload?: { type?: unknown; call_id?: unknown } };
      const kind = m.payload?.type;
      const id = m.payload?.call_id;
      if (m.type !== 'response_item' || typeof m.timestamp !== 'string' || typeof id !== 'string' || typeof kind !== 'string') continue;
      const t = Date.parse(m.timestamp);
      if (CODEX_CALLS.has(kind) && !starts.has(id)) starts.set(id, t);
      if (CODEX_OUTPUTS.has(kind) && !ends.has(id)) ends.set(id, t);
    }
  }
  const tools: Tools = { spans: [], unpaired: 0, sources: [] };
  for (const [id, start] of starts) {
    const end = ends.get(id);
    if (end === undefined) tools.unpaired++;
    else tools.spans.push({ start, end });
  }
  tools.unpaired += [...ends.keys()].filter((id) => !starts.has(id)).length;
  if (tools.spans.length) tools.sources.push('codex rollout');
  return tools;
}

function sum(spans: readonly Span[]): number {
  return spans.reduce((s, x) => s + Math.max(0, x.end - x.start), 0);
}

/** Disjoint, sorted. */
function union(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Length of the time covered by both sets of spans. */
export function overlap(a: readonly Span[], b: readonly Span[]): number {
  const x = union(a);
  const y = union(b);
  let total = 0;
  for (let i = 0, j = 0; i < x.length && j < y.length; ) {
    total += Math.max(0, Math.min(x[i]!.end, y[j]!.end) - Math.max(x[i]!.start, y[j]!.start));
    if (x[i]!.end < y[j]!.end) i++;
    else j++;
  }
  return total;
}
