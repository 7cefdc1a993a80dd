// The report's data, built from run directories: the index (runs, comparisons, the task × run
// matrix, one row per sample) and one data file per sample (its attempts, transcript, diffs,
// verifier output and events). Statistics come from the run's summary and harness/compare;
// this file only arranges them.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Arm, armFromRun, type TaskResults, validEpochs } from '../../compare/arm.ts';
import { compareArms, type Comparison } from '../../compare/compare.ts';
import { studentTQuantile } from '../../compare/stats.ts';
import type { RunView } from '../../log/reader.ts';
import type { AttemptRecord, EventRecord, ModelTranscriptRecord, ResultRecord, TurnRecord, WorkspaceChangesRecord } from '../../log/schema.ts';
import type { AttemptView, ComparisonInfo, EventLine, FileHead, HostToolCall, Matrix, MatrixCell, MatrixRow, ReportIndex, RunInfo, SampleData, SampleRow, TranscriptEntry } from './types.ts';

/** Longest text kept in one field (a diff, a verifier file, a tool's output) before it is cut. */
export const FIELD_CAP = 256 * 1024;
const EVENT_CAP = 2 * 1024;
const EVENTS_PER_SAMPLE = 3000;
const AGENT_FILES = 200;
/** Host tool calls listed per sample; events.jsonl has them all. */
const TOOL_CALLS_PER_SAMPLE = 1000;

/** One side of the report: a run directory read back, or (for a baseline) a saved baseline file's arm. */
export type ReportRun = { readonly key: string; readonly view: RunView; readonly arm: Arm; readonly baseline: boolean } | { readonly key: string; readonly view?: undefined; readonly arm: Arm; readonly baseline: true };

/** `text` cut to `max` characters, ending in a marker that says how much was left out and where it is. */
export function cap(text: string, max: number = FIELD_CAP, where?: string): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[cagebench report: cut here; ${text.length - max} more characters${where ? ` in ${where}` : ''}]`;
}

/** A safe file name for a sample's data file (sample ids are directory names already, but keep to a plain set). */
export function sampleFileName(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.js`;
}

export function buildIndex(runs: readonly ReportRun[], title: string): { index: ReportIndex; comparisons: Map<string, Comparison> } {
  const base = runs.find((r) => r.baseline);
  const cands = runs.filter((r) => !r.baseline);
  const comparisons = new Map<string, Comparison>();
  if (base) for (const c of cands) comparisons.set(c.key, compareArms(base.arm, c.arm));

  const labels = runs.map((r) => labelOf(r.arm));
  const unique = new Set(labels).size === labels.length;
  const infos = runs.map((r, i) => runInfo(r, unique ? labels[i]! : `${labels[i]} · ${r.arm.runId}`));

  const matrix = base || runs.length > 1 ? buildMatrix(runs, base, comparisons) : undefined;
  // Which tasks changed, per run key ('*' for any run, used for the baseline's own samples).
  const changed = new Map<string, Set<string>>();
  if (matrix) {
    const any = new Set<string>();
    for (const row of matrix.rows) {
      matrix.columns.forEach((key, i) => {
        const moved = base ? (row.diffs?.[i] ?? 0) !== 0 : row.change !== 0;
        if (!moved) return;
        if (!changed.has(key)) changed.set(key, new Set());
        changed.get(key)!.add(row.taskId);
        any.add(row.taskId);
      });
    }
    if (base) changed.set(base.key, any);
  }

  const samples: SampleRow[] = [];
  for (const r of runs) {
    if (!r.view) continue;
    const used = new Set<string>();
    for (const res of r.view.results) {
      let file = sampleFileName(res.sampleId);
      for (let n = 2; used.has(file); n++) file = sampleFileName(`${res.sampleId}-${n}`);
      used.add(file);
      samples.push({
        run: r.key,
        id: res.sampleId,
        task: res.taskId,
        epoch: res.epoch,
        outcome: res.outcome,
        ...(res.score !== undefined ? { score: res.score } : {}),
        ...(res.error ? { errorKind: res.error.kind } : {}),
        attempts: res.turns?.length ?? res.attempts.length,
        ...(res.usage ? { tokens: res.usage.inputTokens + res.usage.outputTokens, costUsd: res.usage.costUsd } : {}),
        durationMs: res.timings.durationMs,
        ...(res.toolCalls?.count ? { toolCalls: res.toolCalls.count } : {}),
        changed: changed.get(r.key)?.has(res.taskId) ?? false,
        file: `data/samples/${r.key}/${file}`,
      });
    }
  }

  const comparisonInfos: ComparisonInfo[] = [...comparisons].map(([key, c]) => ({
    run: key,
    verdict: c.verdict,
    reasons: c.reasons,
    pairs: c.pairs,
    ...(c.delta ? { delta: { mean: c.delta.mean, ci: c.delta.ci, level: c.delta.level } } : {}),
    newlyBroken: c.newlyBroken.map((t) => t.taskId),
    newlyFixed: c.newlyFixed.map((t) => t.taskId),
  }));
  return {
    index: { version: 1, title, generatedAt: new Date().toISOString(), runs: infos, comparisons: comparisonInfos, ...(matrix ? { matrix } : {}), samples },
    comparisons,
  };
}

function labelOf(arm: Arm): string {
  const model = arm.model ? arm.model.replace(/^mock\/.*\/([^/]+?)(\.ya?ml)?$/, 'mock/$1') : undefined;
  return model ? `${arm.agent} · ${model}` : arm.agent;
}

function runInfo(r: ReportRun, label: string): RunInfo {
  const { arm } = r;
  const summary = r.view?.summary;
  const epochs = arm.tasks.flatMap((t) => t.epochs);
  const counts = summary?.counts ?? {
    pass: epochs.filter((e) => e.outcome === 'pass').length,
    fail: epochs.filter((e) => e.outcome === 'fail').length,
    error: epochs.filter((e) => e.outcome === 'error').length,
    total: epochs.length,
  };
  const score = summary?.score.n ? scoreWithCi(summary.score.mean, summary.score.stderr, summary.score.n) : undefined;
  const known = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
  const tokens = summary?.usage ? summary.usage.inputTokens + summary.usage.outputTokens : sumOrUndefined(known(epochs.map((e) => e.tokens)));
  const costUsd = summary?.usage ? summary.usage.costUsd : sumOrUndefined(known(epochs.map((e) => e.costUsd)));
  const toolCalls = r.view?.results.reduce((sum, res) => ({ count: sum.count + (res.toolCalls?.count ?? 0), errors: sum.errors + (res.toolCalls?.errors ?? 0) }), { count: 0, errors: 0 });
  return {
    key: r.key,
    runId: arm.runId,
    agent: arm.agent,
    ...(arm.model ? { model: arm.model } : {}),
    label,
    baseline: r.baseline,
    kind: arm.kind,
    path: arm.path,
    createdAt: arm.createdAt,
    ...(summary ? { status: summary.status } : {}),
    epochs: arm.epochs,
    counts,
    pending: summary?.pending ?? arm.pending,
    ...(score ? { score } : {}),
    ...(summary ? { passAtK: summary.passAtK } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    ...(costUsd !== undefined ? { costUsd } : {}),
    ...(summary?.usage ? { requests: summary.usage.requests } : {}),
    ...(summary ? { durationMs: summary.timings.durationMs } : {}),
    ...(toolCalls?.count ? { toolCalls } : {}),
  };
}

function sumOrUndefined(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((s, x) => s + x, 0) : undefined;
}

/** The summary's mean score with its two-sided 95% t interval, kept inside [0, 1] when the scores are. */
export function scoreWithCi(mean: number, stderr: number, n: number): NonNullable<RunInfo['score']> {
  const half = n > 1 && Number.isFinite(stderr) ? studentTQuantile(0.975, n - 1) * stderr : 0;
  const inUnit = mean >= 0 && mean <= 1;
  const lo = mean - half;
  const hi = mean + half;
  return { mean, stderr, n, ci: inUnit ? [Math.max(0, lo), Math.min(1, hi)] : [lo, hi] };
}

/** Counts of one task in one run (the matrix cell); the mean is over valid epochs, as compare takes it. */
function cellOf(task: TaskResults): MatrixCell | null {
  const valid = validEpochs(task);
  return {
    passes: valid.filter((e) => e.outcome === 'pass').length,
    valid: valid.length,
    total: task.epochs.length,
    mean: valid.length ? valid.reduce((s, e) => s + (e.score ?? 0), 0) / valid.length : Number.NaN,
  };
}

function buildMatrix(runs: readonly ReportRun[], base: ReportRun | undefined, comparisons: ReadonlyMap<string, Comparison>): Matrix {
  const ordered = base ? [base, ...runs.filter((r) => r !== base)] : [...runs];
  const taskIds: string[] = [];
  const seen = new Set<string>();
  for (const r of ordered) for (const t of r.arm.tasks) if (!seen.has(t.taskId)) (seen.add(t.taskId), taskIds.push(t.taskId));
  const byRun = ordered.map((r) => new Map(r.arm.tasks.map((t) => [t.taskId, t])));
  const deltas = ordered.map((r) => new Map((comparisons.get(r.key)?.tasks ?? []).map((d) => [d.taskId, d])));
  const rows: MatrixRow[] = taskIds.map((taskId) => {
    const cells = ordered.map((_, i) => {
      const d = deltas[i]!.get(taskId);
      if (d) return d.cand; // compare's own numbers for paired tasks
      const t = byRun[i]!.get(taskId);
      return t ? cellOf(t) : null;
    });
    if (base) {
      const diffs = ordered.map((r, i) => (i === 0 ? null : (deltas[i]!.get(taskId)?.diff ?? null)));
      const known = diffs.filter((d): d is number => d !== null);
      const min = known.length ? Math.min(...known) : 0;
      const max = known.length ? Math.max(...known) : 0;
      return { taskId, cells, diffs, change: min < 0 ? min : max };
    }
    const means = cells.filter((c): c is MatrixCell => c !== null && c.valid > 0).map((c) => c.mean);
    return { taskId, cells, change: means.length > 1 ? Math.max(...means) - Math.min(...means) : 0 };
  });
  const group = (r: MatrixRow): number => (r.change < 0 ? 0 : r.change > 0 ? 1 : 2);
  rows.sort((a, b) => {
    if (!base) return b.change - a.change || (a.taskId < b.taskId ? -1 : 1);
    const g = group(a) - group(b);
    if (g) return g;
    if (group(a) === 0) return a.change - b.change || (a.taskId < b.taskId ? -1 : 1);
    if (group(a) === 1) return b.change - a.change || (a.taskId < b.taskId ? -1 : 1);
    return a.taskId < b.taskId ? -1 : 1;
  });
  return { columns: ordered.map((r) => r.key), sortedBy: base ? 'baseline' : 'spread', rows };
}

// --- one sample ------------------------------------------------------------------------

export async function buildSample(runKey: string, view: RunView, result: ResultRecord): Promise<SampleData> {
  const dir = join(view.dir, 'samples', result.sampleId);
  const events = await readEvents(join(dir, 'events.jsonl'));
  const steps: readonly (AttemptRecord | TurnRecord)[] = result.turns?.length ? result.turns : result.attempts;
  const turns = Boolean(result.turns?.length);
  const attempts = await Promise.all(steps.map((s) => attemptView(dir, s, turns)));
  const { lines, omitted } = eventLines(events);
  return {
    run: runKey,
    id: result.sampleId,
    taskId: result.taskId,
    suite: result.suite,
    epoch: result.epoch,
    agent: result.agent,
    outcome: result.outcome,
    ...(result.score !== undefined ? { score: result.score } : {}),
    ...(result.passedAttempt !== undefined ? { passedAttempt: result.passedAttempt } : {}),
    ...(result.error ? { error: { kind: result.error.kind, code: result.error.code, message: cap(result.error.message) } } : {}),
    retriedErrors: result.retriedErrors.map((e) => ({ kind: e.kind, code: e.code, message: cap(e.message, 16 * 1024) })),
    warnings: (result.warnings ?? []).map((w) => ({ code: w.code, message: w.message })),
    timings: result.timings,
    ...(result.usage
      ? { usage: { requests: result.usage.requests, inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, cacheReadTokens: result.usage.cacheReadTokens, costUsd: result.usage.costUsd } }
      : {}),
    ...(result.toolCalls ? { toolCalls: { count: result.toolCalls.count, errors: result.toolCalls.errors, byTool: result.toolCalls.byTool } } : {}),
    hostToolCalls: hostToolCalls(events),
    attempts,
    ...transcriptOf(events),
    events: lines,
    eventsOmitted: omitted,
    agentFiles: await listFiles(join(dir, 'agent'), dir, AGENT_FILES),
    dir,
  };
}

async function readEvents(path: string): Promise<EventRecord[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const out: EventRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as EventRecord;
      if (e && typeof e === 'object' && typeof e.type === 'string') out.push(e);
    } catch {
      // a line cut by a crash: the rest still reads
    }
  }
  // Only the last try's events (an infra error retried, or a resumed sample, starts over).
  let start = 0;
  events: for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]!.type === 'sample.retry' || out[i]!.type === 'sample.rerun') {
      start = i + 1;
      break events;
    }
  }
  return start ? out.slice(start) : out;
}

async function attemptView(dir: string, s: AttemptRecord | TurnRecord, turns: boolean): Promise<AttemptView> {
  const n = 'turn' in s ? s.turn : s.attempt;
  const changes = s.changes;
  const diffFile = changes && !('error' in changes) ? changes.diffFile : undefined;
  const diff = diffFile ? await readFile(join(dir, diffFile), 'utf8').catch(() => undefined) : undefined;
  const verifierDir = n === 1 ? join(dir, 'verifier') : join(dir, 'verifier', `${turns ? 'turn' : 'attempt'}-${n}`);
  const mu = s.modelUsage;
  return {
    label: turns ? 'Turn' : 'Attempt',
    n,
    ...(s.score !== undefined ? { score: s.score } : {}),
    ...(s.passed !== undefined ? { passed: s.passed } : {}),
    ...(s.explanation ? { explanation: cap(s.explanation, 64 * 1024) } : {}),
    ...('prompt' in s && s.prompt ? { prompt: cap(s.prompt, 64 * 1024) } : {}),
    ...(s.agent.exitCode !== undefined ? { exitCode: s.agent.exitCode } : {}),
    timedOut: s.agent.timedOut,
    ...(s.agent.signal ? { signal: s.agent.signal } : {}),
    ...(s.stopReason ? { stopReason: s.stopReason } : {}),
    ...(s.agent.finalMessage ? { finalMessage: cap(s.agent.finalMessage, 64 * 1024) } : {}),
    durationMs: s.agent.durationMs,
    ...(s.verifierMs !== undefined ? { verifierMs: s.verifierMs } : {}),
    ...(mu
      ? { requests: mu.requests, inputTokens: mu.inputTokens, outputTokens: mu.outputTokens, cacheReadTokens: mu.cacheReadTokens, reasoningTokens: mu.reasoningTokens, costUsd: mu.costUsd }
      : s.usage
        ? { ...(s.usage.inputTokens !== undefined ? { inputTokens: s.usage.inputTokens } : {}), ...(s.usage.outputTokens !== undefined ? { outputTokens: s.usage.outputTokens } : {}) }
        : {}),
    ...(changes ? { changes: changesView(changes) } : {}),
    ...(diff !== undefined ? { diff: cap(diff, FIELD_CAP, diffFile) } : {}),
    verifier: await fileHeads(verifierDir, dir),
    ...(s.error ? { error: { kind: s.error.kind, code: s.error.code, message: cap(s.error.message) } } : {}),
  };
}

function changesView(c: WorkspaceChangesRecord): NonNullable<AttemptView['changes']> {
  if ('error' in c) return { created: [], modified: [], deleted: [], error: c.error };
  return { created: c.created, modified: c.modified, deleted: c.deleted, ...(c.truncated ? { truncated: true } : {}) };
}

/** The files directly in `dir` (not its subdirectories), each with the start of its text. */
async function fileHeads(dir: string, sampleDir: string): Promise<FileHead[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: FileHead[] = [];
  for (const e of entries.filter((x) => x.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    const buf = await readFile(path).catch(() => undefined);
    if (!buf) continue;
    const head = buf.subarray(0, FIELD_CAP + 1);
    const binary = head.includes(0);
    const rel = relative(sampleDir, path);
    out.push({ path: rel, bytes: buf.length, ...(binary ? {} : { text: buf.length > FIELD_CAP ? cap(buf.toString('utf8'), FIELD_CAP, rel) : buf.toString('utf8') }) });
  }
  return out;
}

async function listFiles(dir: string, root: string, max: number): Promise<{ path: string; bytes: number }[]> {
  const out: { path: string; bytes: number }[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= max) return;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ path: relative(root, p), bytes: (await stat(p).catch(() => undefined))?.size ?? 0 });
    }
  };
  await walk(dir);
  return out;
}

function attemptOf(e: EventRecord): number | undefined {
  const a = e.attempt ?? e.turn;
  return typeof a === 'number' ? a : undefined;
}

/** Events by attempt (events without one belong to the attempt they happened in; 0 is before the first). */
function eventLines(events: readonly EventRecord[]): { lines: Record<string, EventLine[]>; omitted: number } {
  const lines: Record<string, EventLine[]> = {};
  let current = 0;
  let kept = 0;
  for (const e of events) {
    if (e.type === 'agent.start' || e.type === 'turn.start') current = attemptOf(e) ?? current;
    if (kept >= EVENTS_PER_SAMPLE) continue;
    const { t, type, ...rest } = e;
    (lines[String(current)] ??= []).push({ t, type, data: cap(JSON.stringify(rest), EVENT_CAP) });
    kept++;
  }
  return { lines, omitted: Math.max(0, events.length - kept) };
}

/** The host tools' calls (`tool.call` events, from the bridge), with the attempt each fell in. */
export function hostToolCalls(events: readonly EventRecord[]): HostToolCall[] {
  const out: HostToolCall[] = [];
  let current = 0;
  for (const e of events) {
    if (e.type === 'agent.start' || e.type === 'turn.start') current = attemptOf(e) ?? current;
    if (e.type !== 'tool.call' || out.length >= TOOL_CALLS_PER_SAMPLE) continue;
    out.push({
      attempt: current,
      t: e.t,
      tool: typeof e.tool === 'string' ? e.tool : '?',
      arguments: cap(JSON.stringify(e.arguments ?? {}), EVENT_CAP),
      ok: e.ok === true,
      ...(typeof e.resultBytes === 'number' ? { resultBytes: e.resultBytes } : {}),
      ...(typeof e.durationMs === 'number' ? { durationMs: e.durationMs } : {}),
      ...(typeof e.error === 'string' ? { error: cap(e.error, EVENT_CAP) } : {}),
      ...(e.refused === true ? { refused: true } : {}),
    });
  }
  return out;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v, null, 2));

/**
 * The sample's transcript from its events: what the user (the harness) said, each model call
 * (tokens, cost, latency, and the response when the bridge recorded its transcript), every
 * tool call with its result, commands an agent ran with their output, and the scores.
 */
export function transcriptOf(events: readonly EventRecord[]): { transcriptSource: SampleData['transcriptSource']; transcript: TranscriptEntry[] } {
  const out: TranscriptEntry[] = [];
  const tools = new Map<string, number>();
  const agentTools = events.some((e) => e.type === 'agent.tool_call');
  let attempt = 0;
  let command: number | undefined;
  let lastModelText: string | undefined;
  const set = (i: number, patch: Partial<Record<string, unknown>>): void => {
    out[i] = { ...out[i], ...patch } as TranscriptEntry;
  };
  for (const e of events) {
    const a = attemptOf(e);
    switch (e.type) {
      case 'agent.start':
      case 'turn.start':
        attempt = a ?? attempt;
        if (e.type === 'turn.start' && typeof e.prompt === 'string') out.push({ kind: 'user', attempt, t: e.t, label: `turn ${attempt}`, text: cap(e.prompt, 64 * 1024) });
        break;
      case 'model.call': {
        const tr = e.transcript as ModelTranscriptRecord | undefined;
        if (tr?.input.system) out.push({ kind: 'user', attempt, t: e.t, label: 'system prompt', text: cap(tr.input.system, 64 * 1024) });
        for (const u of tr?.input.user ?? []) out.push({ kind: 'user', attempt, t: e.t, text: cap(u, 64 * 1024) });
        if (!agentTools) {
          for (const r of tr?.input.toolResults ?? []) {
            const i = tools.get(r.callId);
            if (i !== undefined) set(i, { output: cap(r.content, 64 * 1024), ...(r.isError ? { isError: true } : {}) });
          }
        }
        const usage = e.usage as { inputTokens?: number; outputTokens?: number } | undefined;
        const calls = tr?.output.toolCalls ?? [];
        out.push({
          kind: 'model',
          attempt,
          t: e.t,
          ...(typeof e.requestedModel === 'string' ? { model: e.requestedModel } : {}),
          ...(usage?.inputTokens !== undefined ? { inputTokens: usage.inputTokens } : {}),
          ...(usage?.outputTokens !== undefined ? { outputTokens: usage.outputTokens } : {}),
          ...(typeof e.costUsd === 'number' ? { costUsd: e.costUsd } : {}),
          ...(typeof e.latencyMs === 'number' ? { latencyMs: e.latencyMs } : {}),
          ...(typeof e.stopReason === 'string' ? { stopReason: e.stopReason } : {}),
          ...(tr?.output.text ? { text: cap(tr.output.text, 64 * 1024) } : {}),
          ...(tr?.output.reasoning ? { reasoning: cap(tr.output.reasoning, 64 * 1024) } : {}),
          ...(calls.length ? { toolCalls: calls.map((c) => c.name) } : {}),
          ...(tr?.note ? { note: tr.note } : {}),
        });
        lastModelText = tr?.output.text?.trim();
        if (!agentTools) {
          for (const c of calls) {
            tools.set(c.id, out.length);
            out.push({ kind: 'tool', attempt, t: e.t, id: c.id, name: c.name, input: cap(text(c.arguments), 64 * 1024) });
          }
        }
        break;
      }
      case 'agent.tool_call': {
        const id = typeof e.id === 'string' ? e.id : undefined;
        if (id) tools.set(id, out.length);
        out.push({ kind: 'tool', attempt, t: e.t, ...(id ? { id } : {}), name: typeof e.name === 'string' ? e.name : 'tool', input: cap(text(e.input), 64 * 1024) });
        break;
      }
      case 'agent.tool_result': {
        const i = typeof e.id === 'string' ? tools.get(e.id) : undefined;
        const output = cap(text(e.output), 64 * 1024);
        if (i !== undefined) set(i, { output, ...(e.isError === true ? { isError: true } : {}) });
        else out.push({ kind: 'tool', attempt, t: e.t, name: 'result', input: '', output, ...(e.isError === true ? { isError: true } : {}) });
        break;
      }
      case 'agent.message': {
        const t = text(e.text).trim();
        if (t && t !== lastModelText) out.push({ kind: 'message', attempt, t: e.t, text: cap(t, 64 * 1024) });
        break;
      }
      case 'agent.command': {
        const cmd = typeof e.command === 'string' ? e.command : Array.isArray(e.argv) ? (e.argv as unknown[]).map(String).join(' ') : '';
        command = out.length;
        out.push({ kind: 'command', attempt, t: e.t, command: cap(cmd, 16 * 1024), output: '', ...(typeof e.command === 'string' ? {} : { launch: true }) });
        break;
      }
      case 'agent.output': {
        if (command === undefined) break;
        const c = out[command] as Extract<TranscriptEntry, { kind: 'command' }>;
        if (c.output.length < 64 * 1024) set(command, { output: cap(c.output + text(e.text), 64 * 1024) });
        break;
      }
      case 'agent.command.end':
        if (command !== undefined) {
          set(command, { ...(typeof e.exitCode === 'number' ? { exitCode: e.exitCode } : {}), ...(typeof e.durationMs === 'number' ? { durationMs: e.durationMs } : {}) });
          command = undefined;
        }
        break;
      case 'agent.end':
        if (e.timedOut === true) out.push({ kind: 'note', attempt, t: e.t, text: `the agent timed out${typeof e.signal === 'string' ? ` (ended with ${e.signal})` : ''}` });
        break;
      case 'score':
        out.push({
          kind: 'score',
          attempt: a ?? attempt,
          t: e.t,
          ...(typeof e.value === 'number' ? { value: e.value } : {}),
          ...(typeof e.passed === 'boolean' ? { passed: e.passed } : {}),
          ...(typeof e.explanation === 'string' ? { explanation: cap(e.explanation, 16 * 1024) } : {}),
        });
        break;
      case 'sample.error':
      case 'agent.error':
        out.push({ kind: 'note', attempt, t: e.t, text: cap(text(e.message ?? e.error ?? ''), 16 * 1024) || e.type });
        break;
    }
  }
  return { transcriptSource: out.length ? 'events' : 'none', transcript: out };
}
