// Public surface of scorers/.
export { PASS_THRESHOLD, ScoreError, type GradeRequest, type GradeResponse, type Grader, type Score, type ScoreContext, type ScoreErrorCode, type Scorer } from './scorer.ts';
export { createScorer } from './create.ts';
export { createVerifierScorer, type VerifierScorerSpec } from './verifier.ts';
export { createCommandScorer, type CommandScorerSpec } from './command.ts';
export { createFileScorer, type FileScorerSpec } from './file.ts';
export { createAnswerScorer, type AnswerScorerSpec } from './answer.ts';
export { createModelGradedScorer, GRADER_FORMAT_RETRIES, type ModelGradedScorerSpec } from './model-graded.ts';
export { parseVerdict, type Grade, type Verdict } from './verdict.ts';
export {
  createModuleScorer,
  type ModuleScorerContext,
  type ModuleScorerFunction,
  type ModuleScorerResult,
  type ModuleScorerSpec,
} from './module.ts';
export { parseRewardJson, parseRewardText, type Reward } from './reward.ts';
export {
  mean,
  passAtK,
  stderr,
  summarize,
  type SampleOutcome,
  type SampleOutcomeKind,
  type ScoreStats,
  type Summary,
  type TaskSummary,
} from './metrics.ts';
export { importUserModule } from './user-module.ts';
