// Scoring one step, as a run, a rescore and a centaur all do it: the task's scorer, then its
// extra scorers (Harbor `[[metadata.cagebench.scorers]]`) in the same live sandbox. Extras add
// named values and explanations; the task's scorer keeps pass/fail. model_graded scorers get
// the grading context (question, diff, graders, log) only they need.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createScorer, type Score, type ScoreContext, type Scorer } from '../../scorers/index.ts';
import type { ScorerSpec, Task } from '../../tasks/index.ts';
import type { WorkspaceChangesRecord } from '../log/schema.ts';

export interface StepScoring {
  readonly spec: ScorerSpec;
  /** The scorer to run for `spec` (a run's own scorer in code replaces the task's). */
  readonly scorer: Scorer;
  /** Extra scorers to run after it; none when a run's own scorer replaces the task's scoring. */
  readonly extras: NonNullable<Task['extraScorers']>;
  /** The context every scorer gets, but `spec` and `outputDir`. */
  readonly context: Omit<ScoreContext, 'spec' | 'outputDir'>;
  readonly outputDir: string;
  /** What a model_graded scorer gets besides; absent: model_graded specs are not graded here. */
  readonly grading?: () => Promise<Partial<ScoreContext>>;
  /** Where scoring waits its turn (the run's scoring pool). */
  readonly pool: <T>(fn: () => Promise<T>) => Promise<T>;
}

export async function scoreStep(s: StepScoring): Promise<Score> {
  const extraFor = async (spec: ScorerSpec): Promise<Partial<ScoreContext>> => (spec.type === 'model_graded' && s.grading ? s.grading() : {});
  const first = await extraFor(s.spec);
  let score = await s.pool(() => s.scorer({ ...s.context, spec: s.spec, outputDir: s.outputDir, ...first }));
  for (const extra of s.extras) {
    const outputDir = join(s.outputDir, `extra-${extra.name}`);
    await mkdir(outputDir, { recursive: true });
    const more = await extraFor(extra.spec);
    const x = await s.pool(() => createScorer(extra.spec)({ ...s.context, spec: extra.spec, outputDir, ...more }));
    const explanation = [score.explanation, `${extra.name}: ${x.explanation ?? x.value}`].filter(Boolean).join('\n');
    score = { ...score, values: { ...(score.values ?? { reward: score.value }), [extra.name]: x.value }, explanation };
  }
  return score;
}

/** The step's workspace diff for a grader: '' when nothing changed, undefined when it could not be taken. */
export async function stepDiff(sampleDir: string, changes: WorkspaceChangesRecord | undefined): Promise<string | undefined> {
  if (!changes || 'error' in changes) return undefined;
  return changes.diffFile ? readFile(join(sampleDir, changes.diffFile), 'utf8').catch(() => undefined) : '';
}
