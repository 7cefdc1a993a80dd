// What a run directory holds, as versioned record types. A reader (a person, a viewer, a CI
// job) relies on these shapes; change them only with the version.
//
//   <out>/<run-id>/run.json                   RunRecord: how to reproduce and resume the run
//   <out>/<run-id>/summary.json               SummaryRecord: counts, metrics, timings
//   <out>/<run-id>/samples/<task>__e<n>/result.json   ResultRecord; present = sample done
//   <out>/<run-id>/samples/<task>__e<n>/events.jsonl  one EventRecord per line, in order
//   <out>/<run-id>/samples/<task>__e<n>/artifacts/attempt-<n>.diff  what attempt n changed
//                                                     in the workdir (WorkspaceChangesRecord)
//   <out>/<run-id>/samples/<task>__e<n>/artifacts/workspace-<n>.tar|.json  the workdir after
//                                                     attempt n, for rescore (AttemptRecord.state)
//   <out>/<run-id>/samples/<task>__e<n>/agent/trajectory.json  the model calls as an ATIF-v1.6 trajectory (harness/log/trajectory.ts)

import type { UserConfig } from '../config.ts';
import type { ErrorKind } from '../errors.ts';

export const LOG_VERSION = 1;

export type Outcome = 'pass' | 'fail' | 'error';
/** How a sample can end in an error: every ErrorKind but `config`, which stops a run before it starts. */
export type SampleErrorKind = Exclude<ErrorKind, 'config'>;

export interface ErrorRecord {
  readonly kind: SampleErrorKind;
  readonly code: string;
  readonly message: string;
}

export interface TaskRef {
  readonly id: string;
  readonly suite: string;
  readonly origin: string;
  readonly digest: string;
}

/**
 * The run's configuration as given (paths made absolute, the agent by name, defaults left
 * unset): what `resume` resolves again. Where the run is written and how it was started
 * (out, run id, the JUnit, CTRF and comment files, offline) are not part of it.
 */
export type RunConfigRecord = Omit<UserConfig, 'agent' | 'out' | 'runId' | 'junit' | 'ctrf' | 'prComment' | 'offline' | 'scorer' | 'tasks' | 'filter' | 'paths' | 'tools'> & {
  readonly agent: string;
  readonly paths: readonly string[];
  readonly filter?: string;
  /** The run's host tools files (absolute); tools given in code are listed in `inline`. */
  readonly tools?: readonly string[];
  /** Options given as code (a scorer, tasks, a filter function, tools): resume must be handed them again. */
  readonly inline?: readonly ('scorer' | 'tasks' | 'filter' | 'tools')[];
  /** Written by earlier versions, read on resume: now `incorrectMessage` and `engineGrace`. */
  readonly continueMessage?: string;
  readonly engineGraceSec?: number;
};

/** Model use of a sample, as the bridge counted it. */
export interface ModelUsageRecord {
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly reasoningTokens: number;
  readonly costUsd: number;
}

export interface RunRecord {
  readonly version: typeof LOG_VERSION;
  readonly runId: string;
  readonly createdAt: string;
  readonly harness: { readonly name: 'cagebench'; readonly version: string; readonly node: string };
  readonly config: RunConfigRecord;
  readonly tasks: readonly TaskRef[];
  /** A shard of a run (`--shard i/n`): `tasks` are this shard's; the split is described here. */
  readonly shard?: ShardRecord;
  /** A run joined from shards by `cagebench merge`. */
  readonly mergedFrom?: MergedFromRecord;
  /** The names of the run's host tools (from `config.tools` and code); a task's own are in its digest. */
  readonly toolNames?: readonly string[];
  /** `centaur`: a person worked the task in the sandbox with the agent (`cagebench centaur`); `resume` does not apply. */
  readonly mode?: 'centaur';
}

/**
 * How a run's tasks were split (harness/runner/shard.ts): ids sorted by code unit and dealt
 * round-robin, all epochs of a task in its shard. Shards of one run agree on everything but
 * `index`.
 */
export interface ShardRecord {
  /** 1-based: `--shard index/count`. */
  readonly index: number;
  readonly count: number;
  /** The whole run's task ids (after --task and --limit), in the run's order. */
  readonly allTasks: readonly string[];
  /** sha256 over the whole run's task ids and digests, in that order. */
  readonly tasksDigest: string;
}

/** Where a merged run came from: each shard's run directory, in shard order. */
export interface MergedFromRecord {
  readonly shards: readonly { readonly dir: string; readonly runId: string; readonly shard: string; readonly status?: RunStatus }[];
  /** Shards left out with --allow-partial (`2/3`): their tasks are not in this run. */
  readonly missing?: readonly string[];
}

/** Token counts as the agent itself reported them (the bridge's `ModelUsageRecord` is the reference). */
export interface AgentUsageRecord {
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly cachedInputTokens?: number;
  readonly reasoningTokens?: number;
}

/**
 * What one attempt changed in the task's working directory, relative to the state just before
 * it (after the set-up for attempt 1, after the previous attempt's scoring for the others).
 * Paths are relative to the workdir; `.git`, `node_modules`, caches and agents' state
 * directories are not looked at (`EXCLUDED_NAMES` in harness/runner/workspace.ts). Text files
 * up to 1 MiB are diffed; binary files and larger ones are named in the diff but not shown.
 * A snapshot that could not be taken is `{ error }`, and never fails the sample.
 */
export type WorkspaceChangesRecord =
  | {
      readonly created: readonly string[];
      readonly modified: readonly string[];
      readonly deleted: readonly string[];
      /** The git-style unified diff, relative to the sample directory; absent when nothing changed. */
      readonly diffFile?: string;
      /** The diff left out files to stay under 256 KiB; its last line names them. The lists above still name them. */
      readonly truncated?: boolean;
      /** Paths left out of the lists (each keeps its first 1,000). */
      readonly omitted?: number;
      /** Top-level entries that could not be copied out of the sandbox (a link pointing out of it): not compared. */
      readonly skipped?: readonly string[];
    }
  | { readonly error: string };

export interface AttemptRecord {
  readonly attempt: number;
  readonly score?: number;
  readonly values?: Readonly<Record<string, number>>;
  readonly passed: boolean;
  readonly explanation?: string;
  readonly agent: {
    readonly exitCode?: number;
    readonly timedOut: boolean;
    /** How a timed-out agent was ended (SIGTERM: it exited within the grace; SIGKILL: it did not). */
    readonly signal?: 'SIGTERM' | 'SIGKILL';
    readonly durationMs: number;
    readonly finalMessage?: string;
    /** The agent's session (a later attempt continues the same one). */
    readonly sessionId?: string;
  };
  /** Why the agent stopped, in its own words (`end_turn`, `max_turns`, ...), when it says. */
  readonly stopReason?: string;
  /** Tokens the agent reported for this attempt, when it reports any. */
  readonly usage?: AgentUsageRecord;
  /** The bridge's count for this attempt alone (agents that need a model); `ResultRecord.usage` is the sample's total. */
  readonly modelUsage?: ModelUsageRecord;
  /** What the agent changed in the workdir during this attempt. */
  readonly changes?: WorkspaceChangesRecord;
  /**
   * The workdir as this attempt's scorer saw it, saved for `cagebench rescore`: `tar` holds what
   * was created or modified since the task's set-up (modes and mtimes kept), `manifest` lists it
   * with the deleted paths and what was left out (caches, agents' state, `.git` or dependency
   * trees over the size limit); both relative to the sample directory. `{ error }` says why it
   * was not saved (over 64 MiB of changed files, no snapshot): such an attempt cannot be rescored.
   */
  readonly state?: { readonly tar: string; readonly manifest: string; readonly bytes: number } | { readonly error: string };
  readonly verifierMs?: number;
  readonly error?: ErrorRecord;
}

/**
 * One turn of a multi-turn sample (a suite sample with `turns`): turn 1 is the task's
 * instruction, each later one a scripted prompt the agent's session continued with. The
 * agent's files and the workspace diff of turn n are numbered n (`<agent>-attempt-<n>.jsonl`,
 * `artifacts/attempt-<n>.diff`); a scored turn n > 1 keeps its scorer's files in `verifier/turn-<n>/`.
 */
export interface TurnRecord extends Pick<AttemptRecord, 'agent' | 'stopReason' | 'usage' | 'modelUsage' | 'changes' | 'verifierMs' | 'error'> {
  /** 1-based; turn 1 is the instruction. */
  readonly turn: number;
  /** The prompt the session continued with; absent for turn 1, whose prompt is the task's instruction. */
  readonly prompt?: string;
  /** Whether the turn has a scorer. An unscored turn has no score and no `passed`. */
  readonly scored: boolean;
  readonly score?: number;
  readonly values?: Readonly<Record<string, number>>;
  readonly passed?: boolean;
  readonly explanation?: string;
  /** The agent's time on this turn (each turn gets the task's whole agent timeout). */
  readonly durationMs: number;
}
export interface ResultRecord {
  readonly version: typeof LOG_VERSION;
  readonly sampleId: string;
  readonly taskId: string;
  readonly suite: string;
  readonly epoch: number;
  readonly agent: string;
  /** The engine that ran the sample's last try, when the run had a pool of engines (`--engine`). */
  readonly engine?: string;
  readonly outcome: Outcome;
  /** For a pass: the attempt that passed (1 unless the agent continued after incorrect ones). */
  readonly passedAttempt?: number;
  /** The last scored attempt's score; absent for an error. */
  readonly score?: number;
  readonly values?: Readonly<Record<string, number>>;
  /**
   * A multi-turn sample is one attempt: its record carries the deciding turn's score and
   * explanation (led by every scored turn's verdict), the last turn's agent facts, and the
   * turns' summed times and model use.
   */
  readonly attempts: readonly AttemptRecord[];
  /** Multi-turn samples: every turn played, in order. */
  readonly turns?: readonly TurnRecord[];
  /**
   * Multi-turn samples: the turn whose score is the sample's, its last scored turn (a sample
   * passes when its last scored turn passes). Absent when no turn was scored (an error first).
   */
  readonly decidingTurn?: number;
  readonly error?: ErrorRecord;
  /** Model calls, tokens and cost of the final try (agents that need a model). */
  readonly usage?: ModelUsageRecord;
  /** The grader models' calls, tokens and cost (model_graded scorers) of the final try: never part of `usage`. */
  readonly graderUsage?: ModelUsageRecord;
  /** Infra errors retried before this result; each is in events.jsonl. */
  readonly retries: number;
  readonly retriedErrors: readonly ErrorRecord[];
  /** Earlier tries of this sample that `resume` ran again (an infra error, an unreadable result), kept under history/, oldest first. */
  readonly history?: readonly string[];
  /** Things that went oddly without ending the sample, e.g. `no_tools` (the agent's first model request declared no tools). */
  readonly warnings?: readonly WarningRecord[];
  /** Host tool calls over MCP (the final try), when the sample had host tools. */
  readonly toolCalls?: ToolCallsRecord;
  /** A centaur sample (`cagebench centaur`): what the person submitted, their time, their recorded session. */
  readonly centaur?: CentaurRecord;
  readonly timings: {
    readonly startedAt: string;
    readonly endedAt: string;
    readonly durationMs: number;
    readonly environmentMs: number;
    readonly agentMs: number;
    readonly verifierMs: number;
  };
}

export interface CentaurRecord {
  /** How it ended: `task submit` (scored) or `task quit` (no score; the result is an error of code CB_CENTAUR_QUIT). */
  readonly ended: 'submit' | 'quit';
  /** What `task submit` was given (what an `answer` scorer reads); absent for a quit. */
  readonly answer?: string;
  /** From the person's first shell to submit or quit. */
  readonly timeSpentMs: number;
  /**
   * The shell session as `script` recorded it, relative to the sample directory (replay with
   * `scriptreplay --timing <timing> <typescript>`); `where` it was recorded. `{ error }` says
   * why there is none (no `script` in the image, the person never opened the shell).
   */
  readonly recording: { readonly typescript: string; readonly timing: string; readonly where: 'sandbox' | 'host' } | { readonly error: string };
}

/** A sample's host tool calls; each one is also a `tool.call` event in events.jsonl. */
export interface ToolCallsRecord {
  /** Calls that reached a tool, those with bad arguments included; refused ones aside. */
  readonly count: number;
  /** Of those, the ones that ended in a tool error (the tool threw, or its arguments were wrong). */
  readonly errors: number;
  readonly byTool: Readonly<Record<string, number>>;
  /** Calls refused over the tool-call limit (`--tool-limit`). */
  readonly refused?: number;
}

export interface WarningRecord {
  /**
   * `no_tools`: the agent's first model request declared no tools. `reward_out_of_range`: a
   * score outside [0, 1] (or outside the task's `metadata.reward_range`), kept as it is.
   * `attempts_ignored`: the run asked for several attempts, and a multi-turn sample plays one.
   */
  readonly code: 'no_tools' | 'reward_out_of_range' | 'attempts_ignored';
  readonly message: string;
}

/**
 * What one model call said, kept compactly in its `model.call` event as `transcript`: the
 * input that is new since the session's earlier calls (the system prompt once, user messages
 * after the last assistant message, tool results not seen before) and the response's content.
 * Long texts are cut, ending in a `[cagebench: truncated ...]` marker.
 */
export interface ModelTranscriptRecord {
  readonly input: {
    readonly system?: string;
    /** New user messages' text, in order (tool results excluded). */
    readonly user?: readonly string[];
    readonly toolResults?: readonly { readonly callId: string; readonly content: string; readonly isError?: boolean }[];
    /** Text sent beside tool results in the same message (e.g. an agent's reminders). */
    readonly context?: readonly string[];
  };
  readonly output: {
    readonly text?: string;
    readonly reasoning?: string;
    /** `arguments` is the parsed JSON object the model gave, or `{ raw }` when it was not JSON. */
    readonly toolCalls?: readonly { readonly id: string; readonly name: string; readonly arguments: Readonly<Record<string, unknown>> }[];
  };
  /** Why some content is missing (a response the bridge could not read). */
  readonly note?: string;
}

export interface EventRecord {
  /** ISO time. */
  readonly t: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

export type RunStatus = 'completed' | 'interrupted' | 'aborted';

export interface SummaryRecord {
  readonly version: typeof LOG_VERSION;
  readonly runId: string;
  readonly status: RunStatus;
  /** A shard's summary: which one (`2/3`); its counts are this shard's alone. */
  readonly shard?: string;
  /** What interrupted an `interrupted` run: a signal (Ctrl-C), or the Docker engine gone longer than --engine-grace. */
  readonly interruptedBy?: 'signal' | 'engine';
  /** Times the Docker engine stopped answering during this invocation, when it did. */
  readonly engineOutages?: number;
  readonly agent: string;
  readonly counts: { readonly pass: number; readonly fail: number; readonly error: number; readonly total: number };
  /** Samples planned but without a result (interrupted or aborted runs). */
  readonly pending: number;
  readonly errorsByKind: Readonly<Record<string, number>>;
  readonly score: { readonly mean: number; readonly stderr: number; readonly n: number };
  readonly passAtK: Readonly<Record<string, number>>;
  /** Passes by the attempt that passed: `{ "1": 5, "2": 1 }`. */
  readonly passesByAttempt: Readonly<Record<string, number>>;
  readonly perTask: Readonly<Record<string, unknown>>;
  readonly retries: number;
  /** With a pool of engines (`--engine`): per engine, the samples whose last try ran there, by outcome. */
  readonly engines?: Readonly<Record<string, { readonly pass: number; readonly fail: number; readonly error: number }>>;
  /** Samples with each warning code, when any: `{ "no_tools": 2 }`. */
  readonly warnings?: Readonly<Record<string, number>>;
  /** Summed over samples; absent when no sample used a model. */
  readonly usage?: ModelUsageRecord;
  /** The grader models' use (model_graded scorers), summed over samples apart from `usage`; absent when none graded. */
  readonly graderUsage?: ModelUsageRecord;
  /** Host tool calls summed over samples (their result.json `toolCalls`); absent when no sample had host tools. */
  readonly toolCalls?: ToolCallsRecord;
  /**
   * Task images this invocation built (bytes: what they add on top of their base images) and
   * removed (--cache-level none|base, --disk-budget); absent when it built and removed none.
   */
  readonly images?: { readonly built: number; readonly bytesBuilt: number; readonly pruned: number; readonly bytesPruned: number };
  readonly timings: { readonly startedAt: string; readonly endedAt: string; readonly durationMs: number };
}
