// The scorer contract: one call, after the agent stops, in the sample's live sandbox.
import type { Sandbox } from '../sandboxes/index.ts';
import type { ScorerSpec } from '../tasks/index.ts';

/** A score of at least this is a pass. Rewards are in [0, 1]; partial credit is a fail. */
export const PASS_THRESHOLD = 1;

export interface Score {
  /** The headline number, usually in [0, 1]. */
  readonly value: number;
  /** Named values (Harbor's reward.json), when there are several. */
  readonly values?: Readonly<Record<string, number>>;
  readonly passed: boolean;
  /** Why, for people: what was compared, the tail of a test's output. */
  readonly explanation?: string;
}

export interface ScoreContext {
  readonly sandbox: Sandbox;
  readonly spec: ScorerSpec;
  /** The agent's final message, for `answer`. */
  readonly answer?: string;
  /** The task's workdir in the sandbox, where relative paths are resolved. */
  readonly workdir?: string;
  /** Verifier timeout, already scaled by the run's multiplier. */
  readonly timeoutMs: number;
  /** Host directory for what the scorer keeps (the sample's `verifier/`). */
  readonly outputDir: string;
  /** What the agent was asked (the instruction, or the turn's prompt), for `model_graded`. */
  readonly question?: string;
  /** The workdir's changes in this step as a unified diff, when the harness tracked them. */
  readonly diff?: string;
  /** Model calls for `model_graded`, supplied by the harness (scorers never reach a provider themselves). */
  readonly grader?: Grader;
  /** Records an event in the sample's log (events.jsonl). */
  readonly emit?: (type: string, fields: Readonly<Record<string, unknown>>) => void;
}

/** A grader model, as the harness lends it to scorers: its calls are accounted apart from the agent's. */
export interface Grader {
  /** `provider/model` for specs that name none (`--grader-model`). */
  readonly defaultModel?: string;
  grade(request: GradeRequest): Promise<GradeResponse>;
}

export interface GradeRequest {
  /** `provider/model`. */
  readonly model: string;
  readonly system?: string;
  /** The conversation so far, starting with the user's prompt (a retry adds the rejected reply and a correction). */
  readonly messages: readonly { readonly role: 'user' | 'assistant'; readonly text: string }[];
}

export interface GradeResponse {
  readonly text: string;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
  readonly costUsd: number;
  readonly latencyMs: number;
}

export type Scorer = (ctx: ScoreContext) => Promise<Score>;

export type ScoreErrorCode = 'CB_REWARD_MISSING' | 'CB_REWARD_INVALID' | 'CB_SCORER_TIMEOUT' | 'CB_SCORER_FAILED' | 'CB_GRADER_INVALID' | 'CB_GRADER_FAILED';

/**
 * Scoring could not produce a score. This is never a fail: the sample is an error of this
 * kind (`task` for a broken verifier or reward, `timeout`, `infra`).
 */
export class ScoreError extends Error {
  override readonly name = 'ScoreError';
  constructor(
    readonly code: ScoreErrorCode,
    readonly kind: 'task' | 'timeout' | 'infra',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
