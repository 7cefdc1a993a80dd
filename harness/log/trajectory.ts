// A sample's trajectory in Harbor's ATIF (Agent Trajectory Interchange Format, v1.6), built
// from the bridge's `model.call` events (each carries a compact transcript of its call), so
// one writer covers every agent: the task's instruction, then one agent step per model call,
// its tool calls answered by the results the agent sent in a later call, and user steps for
// the prompts a session continued with. Also a checker for the RFC's rules, and the writer
// that puts `agent/trajectory.json` beside a sample's events.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventRecord, ModelTranscriptRecord } from './schema.ts';
import { writeJsonAtomic } from './writer.ts';

export const ATIF_VERSION = 'ATIF-v1.6';

export interface AtifToolCall {
  readonly tool_call_id: string;
  readonly function_name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface AtifObservationResult {
  readonly source_call_id?: string;
  readonly content?: string;
}

export interface AtifMetrics {
  /** Every prompt token, cached ones included. */
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly cached_tokens?: number;
  readonly cost_usd?: number;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface AtifStep {
  readonly step_id: number;
  readonly timestamp?: string;
  readonly source: 'system' | 'user' | 'agent';
  readonly message: string;
  readonly model_name?: string;
  readonly reasoning_content?: string;
  readonly tool_calls?: readonly AtifToolCall[];
  readonly observation?: { readonly results: readonly AtifObservationResult[] };
  readonly metrics?: AtifMetrics;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface AtifFinalMetrics {
  readonly total_prompt_tokens: number;
  readonly total_completion_tokens: number;
  readonly total_cached_tokens: number;
  readonly total_cost_usd: number;
  readonly total_steps: number;
}

export interface AtifTrajectory {
  readonly schema_version: typeof ATIF_VERSION;
  readonly session_id: string;
  readonly agent: { readonly name: string; readonly version: string; readonly model_name?: string };
  readonly steps: readonly AtifStep[];
  readonly final_metrics: AtifFinalMetrics;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface TrajectoryInput {
  /** The sample's events.jsonl records, in order. */
  readonly events: readonly EventRecord[];
  readonly instruction: string;
  readonly sampleId: string;
  /** The agent's name; its version when known (a version the agent reports itself wins). */
  readonly agent: { readonly name: string; readonly version?: string };
  /** The run's `provider/model`. */
  readonly model?: string;
  /** The agent's own session id, when the result knows it (else read from the events, else the sample id). */
  readonly sessionId?: string;
}

/** Events that start a sample's try over: only the last try's events make its trajectory. */
const RESTARTS = new Set(['sample.retry', 'sample.rerun']);

/** The sample's trajectory, or undefined when it made no model call. */
export function buildTrajectory(input: TrajectoryInput): AtifTrajectory | undefined {
  const start = input.events.findLastIndex((e) => RESTARTS.has(e.type)) + 1;
  const events = input.events.slice(start);
  if (!events.some((e) => e.type === 'model.call')) return undefined;
  const reported = events.find((e) => (e.type === 'agent.init' || e.type === 'agent.session') && typeof e.sessionId === 'string');
  const version = events.find((e) => e.type === 'agent.init' && typeof e.version === 'string')?.version as string | undefined;

  type Step = { -readonly [K in keyof AtifStep]: AtifStep[K] } & { results?: AtifObservationResult[] };
  const steps: Step[] = [];
  const push = (step: Omit<Step, 'step_id'>): Step => {
    const full = { step_id: steps.length + 1, ...step } as Step;
    steps.push(full);
    return full;
  };
  const firstStart = events.find((e) => e.type === 'agent.start') ?? events[0]!;
  push({ source: 'user', message: input.instruction, timestamp: firstStart.t, ...tagOf(firstStart) });

  /** Which agent step made each tool call, for the results later calls carry. */
  const callers = new Map<string, Step>();
  const failedCalls = new Map<Step, string[]>();
  const instruction = normalize(input.instruction).slice(0, 1000);
  let tag: Record<string, number> = {};
  let system: string | undefined;
  for (const e of events) {
    if (e.type === 'agent.start') tag = tagOf(e).extra ?? {};
    if (e.type !== 'model.call') continue;
    const transcript = e.transcript as ModelTranscriptRecord | undefined;
    const startedAt = typeof e.latencyMs === 'number' ? new Date(Date.parse(e.t) - e.latencyMs).toISOString() : e.t;
    system ??= transcript?.input.system;
    for (const r of transcript?.input.toolResults ?? []) {
      const caller = callers.get(r.callId);
      if (!caller || caller.results?.some((x) => x.source_call_id === r.callId)) continue;
      (caller.results ??= []).push({ source_call_id: r.callId, content: r.content });
      if (r.isError) failedCalls.set(caller, [...(failedCalls.get(caller) ?? []), r.callId]);
    }
    for (const text of transcript?.input.user ?? []) {
      // The agent's own wrapping of the task's instruction is step 1, already there.
      if (instruction && normalize(text).includes(instruction)) continue;
      push({ source: 'user', message: text, timestamp: startedAt, ...(Object.keys(tag).length ? { extra: { ...tag } } : {}) });
    }
    const out = transcript?.output;
    const toolCalls = (out?.toolCalls ?? []).map((c) => ({ tool_call_id: c.id, function_name: c.name, arguments: c.arguments }));
    const extra = {
      ...tag,
      ...(typeof e.stopReason === 'string' ? { stop_reason: e.stopReason } : {}),
      ...(e.error ? { error: e.error } : {}),
      ...(e.passthrough ? { passthrough: true } : {}),
      ...(transcript ? {} : { content: 'not recorded: this model call has no transcript in events.jsonl' }),
      ...(transcript?.note ? { content: transcript.note } : {}),
      ...(transcript?.input.context?.length ? { input_context: transcript.input.context } : {}),
    };
    const step = push({
      source: 'agent',
      timestamp: e.t,
      message: out?.text ?? '',
      model_name: typeof e.route === 'string' ? e.route : input.model,
      ...(out?.reasoning ? { reasoning_content: out.reasoning } : {}),
      ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      ...metricsOf(e),
      ...(Object.keys(extra).length ? { extra } : {}),
    });
    for (const c of toolCalls) callers.set(c.tool_call_id, step);
  }

  const finished: AtifStep[] = steps.map((original) => {
    const { results, ...step } = original;
    const failed = failedCalls.get(original);
    return {
      ...step,
      ...(results?.length ? { observation: { results } } : {}),
      ...(failed ? { extra: { ...step.extra, failed_tool_calls: failed } } : {}),
    };
  });
  return {
    schema_version: ATIF_VERSION,
    session_id: input.sessionId ?? (reported?.sessionId as string | undefined) ?? input.sampleId,
    agent: { name: input.agent.name, version: version ?? input.agent.version ?? 'unknown', ...(input.model ? { model_name: input.model } : {}) },
    steps: finished,
    final_metrics: finalMetrics(finished),
    extra: { sample_id: input.sampleId, ...(system === undefined ? {} : { system_prompt: system }) },
  };
}

function tagOf(e: EventRecord): { extra?: Record<string, number> } {
  const tag = Object.fromEntries((['attempt', 'turn'] as const).flatMap((k) => (typeof e[k] === 'number' ? [[k, e[k]]] : [])));
  return Object.keys(tag).length ? { extra: tag } : {};
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function metricsOf(e: EventRecord): { metrics?: AtifMetrics } {
  const usage = e.usage as { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; reasoningTokens: number } | undefined;
  if (!usage) return {};
  const extra = {
    ...(usage.cacheWriteTokens ? { cache_write_tokens: usage.cacheWriteTokens } : {}),
    ...(usage.reasoningTokens ? { reasoning_tokens: usage.reasoningTokens } : {}),
  };
  return {
    metrics: {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      cached_tokens: usage.cacheReadTokens,
      // An unpriced model's cost is unknown, not zero.
      ...(typeof e.costUsd === 'number' && !e.unpriced ? { cost_usd: e.costUsd } : {}),
      ...(Object.keys(extra).length ? { extra } : {}),
    },
  };
}

function finalMetrics(steps: readonly AtifStep[]): AtifFinalMetrics {
  const sum = (f: (m: AtifMetrics) => number | undefined): number => steps.reduce((n, s) => n + (s.metrics ? (f(s.metrics) ?? 0) : 0), 0);
  return {
    total_prompt_tokens: sum((m) => m.prompt_tokens),
    total_completion_tokens: sum((m) => m.completion_tokens),
    total_cached_tokens: sum((m) => m.cached_tokens),
    total_cost_usd: Math.round(sum((m) => m.cost_usd) * 1e9) / 1e9,
    total_steps: steps.length,
  };
}

/**
 * Write `<sampleDir>/agent/trajectory.json` from the sample's events.jsonl, when it made model
 * calls. Returns whether a trajectory was written.
 */
export async function writeTrajectory(sampleDir: string, meta: Omit<TrajectoryInput, 'events'>): Promise<boolean> {
  const text = await readFile(join(sampleDir, 'events.jsonl'), 'utf8');
  const events = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EventRecord);
  const trajectory = buildTrajectory({ ...meta, events });
  if (!trajectory) return false;
  await writeJsonAtomic(join(sampleDir, 'agent', 'trajectory.json'), trajectory);
  return true;
}

// The RFC's rules, for any ATIF-v1.x trajectory (fields v1.7 added are refused before v1.7).
const FIELDS = {
  root: ['schema_version', 'session_id', 'agent', 'steps', 'notes', 'final_metrics', 'continued_trajectory_ref', 'extra'],
  agent: ['name', 'version', 'model_name', 'tool_definitions', 'extra'],
  step: ['step_id', 'timestamp', 'source', 'model_name', 'reasoning_effort', 'message', 'reasoning_content', 'tool_calls', 'observation', 'metrics', 'extra'],
  toolCall: ['tool_call_id', 'function_name', 'arguments'],
  observation: ['results'],
  result: ['source_call_id', 'content', 'subagent_trajectory_ref'],
  metrics: ['prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd', 'prompt_token_ids', 'completion_token_ids', 'logprobs', 'extra'],
  finalMetrics: ['total_prompt_tokens', 'total_completion_tokens', 'total_cached_tokens', 'total_cost_usd', 'total_steps', 'extra'],
} as const;
const V17_FIELDS: Partial<Record<keyof typeof FIELDS, readonly string[]>> = {
  root: ['trajectory_id', 'subagent_trajectories'],
  step: ['llm_call_count', 'is_copied_context'],
  toolCall: ['extra'],
  result: ['extra'],
};
/** Fields only a step whose source is `agent` may carry. */
const AGENT_ONLY = ['model_name', 'reasoning_effort', 'reasoning_content', 'tool_calls', 'metrics'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

/**
 * Every way `value` breaks the ATIF RFC's rules, as `path: problem` lines (none: it is valid):
 * required fields and their types, no unknown fields, step ids 1..n in order, a known source,
 * agent-only fields on agent steps only, observation results answering a tool call of their
 * own step, non-negative metrics, and final metrics that agree with the steps.
 */
export function checkTrajectory(value: unknown): string[] {
  const problems: string[] = [];
  const problem = (path: string, what: string): void => void problems.push(`${path}: ${what}`);
  if (!isObject(value)) return ['trajectory: not a JSON object'];
  const version = typeof value.schema_version === 'string' ? /^ATIF-v1\.(\d+)$/.exec(value.schema_version) : null;
  if (!version) problem('schema_version', `must be "ATIF-v1.<n>" (got ${JSON.stringify(value.schema_version)})`);
  const minor = version ? Number(version[1]) : 6;
  const known = (kind: keyof typeof FIELDS, object: Json, path: string): void => {
    const allowed = new Set<string>([...FIELDS[kind], ...(minor >= 7 ? (V17_FIELDS[kind] ?? []) : [])]);
    for (const key of Object.keys(object)) if (!allowed.has(key)) problem(path, `unknown field "${key}"`);
  };
  const optional = (object: Json, key: string, path: string, check: (v: unknown) => boolean, what: string): void => {
    if (object[key] !== undefined && object[key] !== null && !check(object[key])) problem(`${path}.${key}`, `must be ${what}`);
  };
  const isString = (v: unknown): boolean => typeof v === 'string';
  known('root', value, 'trajectory');
  if (minor < 7 && (typeof value.session_id !== 'string' || value.session_id === '')) problem('session_id', 'required (a non-empty string) before ATIF-v1.7');
  optional(value, 'session_id', 'trajectory', isString, 'a string');
  optional(value, 'notes', 'trajectory', isString, 'a string');
  optional(value, 'extra', 'trajectory', isObject, 'an object');

  if (!isObject(value.agent)) problem('agent', 'required (an object)');
  else {
    known('agent', value.agent, 'agent');
    for (const key of ['name', 'version']) if (typeof value.agent[key] !== 'string' || value.agent[key] === '') problem(`agent.${key}`, 'required (a non-empty string)');
    optional(value.agent, 'model_name', 'agent', isString, 'a string');
    optional(value.agent, 'tool_definitions', 'agent', Array.isArray, 'an array');
    optional(value.agent, 'extra', 'agent', isObject, 'an object');
  }

  const steps = Array.isArray(value.steps) ? value.steps : undefined;
  if (!steps || steps.length === 0) problem('steps', 'required (a non-empty array)');
  const sums = { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cost_usd: 0 };
  for (const [i, step] of (steps ?? []).entries()) {
    const path = `steps[${i}]`;
    if (!isObject(step)) {
      problem(path, 'not an object');
      continue;
    }
    known('step', step, path);
    if (step.step_id !== i + 1) problem(`${path}.step_id`, `must be ${i + 1} (ids run 1..n in order; got ${JSON.stringify(step.step_id)})`);
    if (step.source !== 'system' && step.source !== 'user' && step.source !== 'agent') problem(`${path}.source`, `must be system, user or agent (got ${JSON.stringify(step.source)})`);
    if (step.message === undefined) problem(`${path}.message`, 'required');
    else if (typeof step.message !== 'string') checkContentParts(step.message, `${path}.message`, problem);
    optional(step, 'timestamp', path, (v) => typeof v === 'string' && ISO_8601.test(v) && !Number.isNaN(Date.parse(v)), 'an ISO 8601 time');
    optional(step, 'model_name', path, isString, 'a string');
    optional(step, 'reasoning_content', path, isString, 'a string');
    optional(step, 'reasoning_effort', path, (v) => typeof v === 'string' || typeof v === 'number', 'a string or a number');
    optional(step, 'extra', path, isObject, 'an object');
    if (step.source !== 'agent') for (const key of AGENT_ONLY) if (step[key] !== undefined && step[key] !== null) problem(`${path}.${key}`, `only an agent step may have it (source is ${JSON.stringify(step.source)})`);

    const callIds = new Set<string>();
    if (step.tool_calls !== undefined && step.tool_calls !== null) {
      if (!Array.isArray(step.tool_calls)) problem(`${path}.tool_calls`, 'must be an array');
      for (const [j, call] of (Array.isArray(step.tool_calls) ? step.tool_calls : []).entries()) {
        const at = `${path}.tool_calls[${j}]`;
        if (!isObject(call)) {
          problem(at, 'not an object');
          continue;
        }
        known('toolCall', call, at);
        for (const key of ['tool_call_id', 'function_name']) if (typeof call[key] !== 'string' || call[key] === '') problem(`${at}.${key}`, 'required (a non-empty string)');
        if (!isObject(call.arguments)) problem(`${at}.arguments`, 'required (an object)');
        if (typeof call.tool_call_id === 'string') {
          if (callIds.has(call.tool_call_id)) problem(`${at}.tool_call_id`, `"${call.tool_call_id}" appears twice in the step`);
          callIds.add(call.tool_call_id);
        }
      }
    }
    if (step.observation !== undefined && step.observation !== null) {
      const at = `${path}.observation`;
      if (!isObject(step.observation) || !Array.isArray(step.observation.results)) problem(at, 'must be an object with a results array');
      else {
        known('observation', step.observation, at);
        for (const [j, result] of step.observation.results.entries()) {
          const rat = `${at}.results[${j}]`;
          if (!isObject(result)) {
            problem(rat, 'not an object');
            continue;
          }
          known('result', result, rat);
          const source = result.source_call_id;
          if (source !== undefined && source !== null && (typeof source !== 'string' || !callIds.has(source))) problem(`${rat}.source_call_id`, `${JSON.stringify(source)} matches no tool_call_id of this step`);
          if (result.content !== undefined && result.content !== null && typeof result.content !== 'string') checkContentParts(result.content, `${rat}.content`, problem);
        }
      }
    }
    if (step.metrics !== undefined && step.metrics !== null) {
      const at = `${path}.metrics`;
      if (!isObject(step.metrics)) problem(at, 'must be an object');
      else {
        known('metrics', step.metrics, at);
        for (const key of ['prompt_tokens', 'completion_tokens', 'cached_tokens'] as const) {
          optional(step.metrics, key, at, isCount, 'a non-negative integer');
          if (isCount(step.metrics[key])) sums[key] += step.metrics[key] as number;
        }
        optional(step.metrics, 'cost_usd', at, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a non-negative number');
        if (typeof step.metrics.cost_usd === 'number') sums.cost_usd += step.metrics.cost_usd;
        const { prompt_tokens: prompt, cached_tokens: cached } = step.metrics;
        if (isCount(prompt) && isCount(cached) && (cached as number) > (prompt as number)) problem(`${at}.cached_tokens`, `more than prompt_tokens (${String(prompt)}), which include them`);
        for (const key of ['prompt_token_ids', 'completion_token_ids', 'logprobs']) optional(step.metrics, key, at, Array.isArray, 'an array');
        optional(step.metrics, 'extra', at, isObject, 'an object');
      }
    }
  }

  if (value.final_metrics !== undefined && value.final_metrics !== null) {
    const final = value.final_metrics;
    if (!isObject(final)) problem('final_metrics', 'must be an object');
    else {
      known('finalMetrics', final, 'final_metrics');
      for (const key of ['total_prompt_tokens', 'total_completion_tokens', 'total_cached_tokens', 'total_steps']) optional(final, key, 'final_metrics', isCount, 'a non-negative integer');
      optional(final, 'total_cost_usd', 'final_metrics', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a non-negative number');
      if (steps && isCount(final.total_steps) && final.total_steps !== steps.length) problem('final_metrics.total_steps', `${String(final.total_steps)} but there are ${steps.length} steps`);
      for (const key of ['prompt_tokens', 'completion_tokens', 'cached_tokens'] as const) {
        const total = final[`total_${key}`];
        if (isCount(total) && total !== sums[key]) problem(`final_metrics.total_${key}`, `${String(total)} but the steps' ${key} add up to ${sums[key]}`);
      }
      if (typeof final.total_cost_usd === 'number' && Math.abs(final.total_cost_usd - sums.cost_usd) > 1e-6) problem('final_metrics.total_cost_usd', `${final.total_cost_usd} but the steps' cost_usd add up to ${sums.cost_usd}`);
    }
  }
  return problems;
}

/** A v1.6 ContentPart array: text parts with text, image parts with a source {media_type, path}. */
function checkContentParts(value: unknown, path: string, problem: (path: string, what: string) => void): void {
  if (!Array.isArray(value)) return problem(path, 'must be a string or an array of content parts');
  for (const [i, part] of value.entries()) {
    const at = `${path}[${i}]`;
    if (!isObject(part)) problem(at, 'not an object');
    else if (part.type === 'text') {
      if (typeof part.text !== 'string') problem(`${at}.text`, 'required for a text part');
      if (part.source !== undefined) problem(`${at}.source`, 'not allowed on a text part');
    } else if (part.type === 'image') {
      if (!isObject(part.source) || typeof part.source.media_type !== 'string' || typeof part.source.path !== 'string') problem(`${at}.source`, 'an image part needs source {media_type, path}');
      if (part.text !== undefined) problem(`${at}.text`, 'not allowed on an image part');
    } else problem(`${at}.type`, `must be text or image (got ${JSON.stringify(part.type)})`);
  }
}
