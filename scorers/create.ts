// One entry point from a task's ScorerSpec to a Scorer, so the harness never switches on types.
import type { ScorerSpec } from '../tasks/index.ts';
import { createAnswerScorer } from './answer.ts';
import { createCommandScorer } from './command.ts';
import { createFileScorer } from './file.ts';
import { createModelGradedScorer } from './model-graded.ts';
import { createModuleScorer, createFunctionScorer } from './module.ts';
import type { Scorer } from './scorer.ts';
import { createVerifierScorer } from './verifier.ts';

/**
 * The scorer for `spec`. It runs the spec it was created with (`ctx.spec` is for the record).
 *
 * @throws ScoreError `CB_SCORER_FAILED` kind `task` when the spec can never work (an invalid
 *   regex, an answer scorer without a check, contradictory file checks).
 */
export function createScorer(spec: ScorerSpec): Scorer {
  switch (spec.type) {
    case 'verifier':
      return createVerifierScorer(spec);
    case 'command':
      return createCommandScorer(spec);
    case 'file':
      return createFileScorer(spec);
    case 'answer':
      return createAnswerScorer(spec);
    case 'model_graded':
      return createModelGradedScorer(spec);
    case 'module':
      return createModuleScorer(spec);
    case 'function':
      return createFunctionScorer(spec);
    default: {
      const unknown: never = spec;
      throw new TypeError(`Unknown scorer type "${(unknown as { type: string }).type}"`);
    }
  }
}
