// Scorers throw ScoreError only: a sandbox or host failure met while scoring becomes one,
// with its cause, so the harness files the sample under the right error kind.
import { SandboxError } from '../sandboxes/index.ts';
import { ScoreError } from './scorer.ts';

/** Runs `score`, turning any error other than a ScoreError into one (`infra`, or `task` for what the task must fix). */
export async function guard<T>(what: string, score: () => Promise<T>): Promise<T> {
  try {
    return await score();
  } catch (err) {
    if (err instanceof ScoreError) throw err;
    // The sandbox's `config` (a bad path) and `task` (a link out of tests/) are the task's to fix.
    const kind = err instanceof SandboxError && err.kind !== 'infra' ? 'task' : 'infra';
    const message = err instanceof Error ? err.message : String(err);
    throw new ScoreError('CB_SCORER_FAILED', kind, `${what} could not run: ${message}`, { cause: err });
  }
}

/** A scorer spec that cannot work whatever the agent does: a task error, raised at creation. */
export function badSpec(message: string, cause?: unknown): ScoreError {
  return new ScoreError('CB_SCORER_FAILED', 'task', message, cause === undefined ? undefined : { cause });
}
