// What the static HTML report's data files hold: `data/index.js` (one ReportIndex) and
// `data/samples/<run>/<sample>.js` (one SampleData each), both as JSONP-style calls
// (`window.__cagebench.index({...})`, `window.__cagebench.sample(key, {...})`), because a page
// opened from file:// may not fetch() files beside it. Types only: the writer (Node) and the
// page's script (harness/report/html/client, DOM) both import this file.

export type Outcome = 'pass' | 'fail' | 'error';

export interface ReportIndex {
  readonly version: 1;
  readonly title: string;
  readonly generatedAt: string;
  /** The report's runs; a baseline given as a run directory comes first, with `baseline: true`. */
  readonly runs: readonly RunInfo[];
  /** One per candidate run when a baseline was given. */
  readonly comparisons: readonly ComparisonInfo[];
  /** Task × run: present with a baseline or with several runs. */
  readonly matrix?: Matrix;
  readonly samples: readonly SampleRow[];
}

export interface RunInfo {
  /** Short key used in URLs and file names: `b` for a baseline, `r1`, `r2`, ... */
  readonly key: string;
  readonly runId: string;
  readonly agent: string;
  readonly model?: string;
  /** What a column or a card calls it: the agent and model, or the run id when those repeat. */
  readonly label: string;
  readonly baseline: boolean;
  /** A saved baseline file has summary numbers but no samples to open. */
  readonly kind: 'run' | 'baseline';
  readonly path: string;
  readonly createdAt: string;
  readonly status?: string;
  readonly epochs: number;
  readonly counts: { readonly pass: number; readonly fail: number; readonly error: number; readonly total: number };
  readonly pending: number;
  /** Mean sample score with its 95% t interval (over the samples the run scored). */
  readonly score?: { readonly mean: number; readonly stderr: number; readonly n: number; readonly ci: readonly [number, number] };
  readonly passAtK?: Readonly<Record<string, number>>;
  readonly tokens?: number;
  readonly costUsd?: number;
  readonly requests?: number;
  readonly durationMs?: number;
  /** Host tool calls over the run's samples; absent when none made any. */
  readonly toolCalls?: { readonly count: number; readonly errors: number };
}

export interface ComparisonInfo {
  /** The candidate run's key (the base is the report's baseline). */
  readonly run: string;
  readonly verdict: string;
  readonly reasons: readonly string[];
  readonly pairs: number;
  readonly delta?: { readonly mean: number; readonly ci: readonly [number, number]; readonly level: number };
  readonly newlyBroken: readonly string[];
  readonly newlyFixed: readonly string[];
}

export interface MatrixCell {
  readonly passes: number;
  /** Pass or fail epochs. */
  readonly valid: number;
  /** Every epoch with a result. */
  readonly total: number;
  readonly mean: number;
}

export interface Matrix {
  /** Run keys, in column order (the baseline first when there is one). */
  readonly columns: readonly string[];
  /** 'baseline': rows by the largest drop against the baseline; 'spread': by max − min of the runs' task means. */
  readonly sortedBy: 'baseline' | 'spread';
  readonly rows: readonly MatrixRow[];
}

export interface MatrixRow {
  readonly taskId: string;
  /** One per column; null where that run has no result for the task. */
  readonly cells: readonly (MatrixCell | null)[];
  /** Per column: the task's mean minus the baseline's (baseline column and missing cells: null). */
  readonly diffs?: readonly (number | null)[];
  /** What the rows are sorted by: the most negative diff (baseline) or the spread. */
  readonly change: number;
}

export interface SampleRow {
  readonly run: string;
  readonly id: string;
  readonly task: string;
  readonly epoch: number;
  readonly outcome: Outcome;
  readonly score?: number;
  readonly errorKind?: string;
  readonly attempts: number;
  readonly tokens?: number;
  readonly costUsd?: number;
  readonly durationMs: number;
  /** Host tool calls the sample made (result.json `toolCalls.count`); absent when none. */
  readonly toolCalls?: number;
  /** The task's mean differs from the baseline's (or, with several runs and no baseline, between runs). */
  readonly changed: boolean;
  /** The sample's data file, relative to index.html. */
  readonly file: string;
}

export interface FileHead {
  /** Relative to the sample directory. */
  readonly path: string;
  readonly bytes: number;
  /** The file's start (cut with a marker when long); absent for binary files. */
  readonly text?: string;
}

export interface ErrorInfo {
  readonly kind: string;
  readonly code: string;
  readonly message: string;
}

export interface AttemptView {
  /** `Attempt` or `Turn` (multi-turn samples). */
  readonly label: string;
  readonly n: number;
  readonly score?: number;
  readonly passed?: boolean;
  readonly explanation?: string;
  readonly prompt?: string;
  readonly exitCode?: number;
  readonly timedOut: boolean;
  readonly signal?: string;
  readonly stopReason?: string;
  readonly finalMessage?: string;
  readonly durationMs: number;
  readonly verifierMs?: number;
  readonly requests?: number;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly cacheReadTokens?: number;
  readonly reasoningTokens?: number;
  readonly costUsd?: number;
  readonly changes?: { readonly created: readonly string[]; readonly modified: readonly string[]; readonly deleted: readonly string[]; readonly truncated?: boolean; readonly error?: string };
  readonly diff?: string;
  readonly verifier: readonly FileHead[];
  readonly error?: ErrorInfo;
}

export type TranscriptEntry =
  | { readonly kind: 'user'; readonly attempt: number; readonly t?: string; readonly text: string; readonly label?: string }
  | {
      readonly kind: 'model';
      readonly attempt: number;
      readonly t?: string;
      readonly model?: string;
      readonly inputTokens?: number;
      readonly outputTokens?: number;
      readonly costUsd?: number;
      readonly latencyMs?: number;
      readonly stopReason?: string;
      readonly text?: string;
      readonly reasoning?: string;
      readonly toolCalls?: readonly string[];
      readonly note?: string;
    }
  | { readonly kind: 'tool'; readonly attempt: number; readonly t?: string; readonly id?: string; readonly name: string; readonly input: string; readonly output?: string; readonly isError?: boolean }
  | {
      readonly kind: 'command';
      readonly attempt: number;
      readonly t?: string;
      readonly command: string;
      readonly output: string;
      readonly exitCode?: number;
      readonly durationMs?: number;
      /** The agent's own process (its CLI started by the harness), not a command it ran. */
      readonly launch?: boolean;
    }
  | { readonly kind: 'message'; readonly attempt: number; readonly t?: string; readonly text: string }
  | { readonly kind: 'score'; readonly attempt: number; readonly t?: string; readonly value?: number; readonly passed?: boolean; readonly explanation?: string }
  | { readonly kind: 'note'; readonly attempt: number; readonly t?: string; readonly text: string };

export interface EventLine {
  readonly t: string;
  readonly type: string;
  /** The event's other fields as compact JSON (cut when long). */
  readonly data: string;
}

/** One call of a host tool (a `tool.call` event): what the agent asked and how it went. */
export interface HostToolCall {
  readonly attempt: number;
  readonly t: string;
  readonly tool: string;
  /** The arguments as JSON (cut when long). */
  readonly arguments: string;
  readonly ok: boolean;
  readonly resultBytes?: number;
  readonly durationMs?: number;
  readonly error?: string;
  /** Refused over the sample's tool-call limit. */
  readonly refused?: boolean;
}

export interface SampleData {
  readonly run: string;
  readonly id: string;
  readonly taskId: string;
  readonly suite: string;
  readonly epoch: number;
  readonly agent: string;
  readonly outcome: Outcome;
  readonly score?: number;
  readonly passedAttempt?: number;
  readonly error?: ErrorInfo;
  readonly retriedErrors: readonly ErrorInfo[];
  readonly warnings: readonly { readonly code: string; readonly message: string }[];
  readonly timings: { readonly startedAt: string; readonly endedAt: string; readonly durationMs: number; readonly environmentMs: number; readonly agentMs: number; readonly verifierMs: number };
  readonly usage?: { readonly requests: number; readonly inputTokens: number; readonly outputTokens: number; readonly cacheReadTokens: number; readonly costUsd: number };
  /** Host tool calls: the counts from result.json, and each call from the events. */
  readonly toolCalls?: { readonly count: number; readonly errors: number; readonly byTool: Readonly<Record<string, number>> };
  readonly hostToolCalls: readonly HostToolCall[];
  readonly attempts: readonly AttemptView[];
  /** 'none' when the events hold nothing to show (an error before the agent started). */
  readonly transcriptSource: 'events' | 'none';
  readonly transcript: readonly TranscriptEntry[];
  /** Events by attempt (0: before the first attempt), each list cut at a few thousand. */
  readonly events: Readonly<Record<string, readonly EventLine[]>>;
  readonly eventsOmitted: number;
  /** The agent's own files (its logs, session, trajectory), named with their size. */
  readonly agentFiles: readonly { readonly path: string; readonly bytes: number }[];
  /** The directory the sample was read from. */
  readonly dir: string;
}
