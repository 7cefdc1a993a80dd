// How a finished run (or a merge of shards) ends: its comparison with a baseline, and its exit
// code with the reasons for it. One place, so `run`, `resume` and `merge` judge alike.
import { armFromRun, loadArm } from '../compare/arm.ts';
import { compareArms, type CompareOptions, type Comparison } from '../compare/compare.ts';
import { EXIT_ENGINE_LOST, EXIT_FAIL_UNDER, EXIT_INTERRUPTED, EXIT_OK, EXIT_SAMPLE_ERRORS, verdictExitCode } from '../exit-codes.ts';
import type { RunView } from '../log/reader.ts';
import type { SummaryRecord } from '../log/schema.ts';
import { errorsLine } from '../log/summary-text.ts';
import { writeJsonAtomic } from '../log/writer.ts';
import { join } from 'node:path';

/** The run against its baseline; the comparison is kept as compare.json beside summary.json. */
export async function compareWithBaseline(baseline: string, options: CompareOptions, view: RunView): Promise<Comparison> {
  const comparison = compareArms(await loadArm(baseline), armFromRun(view), options);
  await writeJsonAtomic(join(view.dir, 'compare.json'), comparison);
  return comparison;
}

export interface GateInput {
  readonly summary: Pick<SummaryRecord, 'status' | 'interruptedBy' | 'counts' | 'errorsByKind' | 'score'>;
  readonly maxErrors?: number;
  /** Absent, or not judged (an empty shard has no score to hold to it). */
  readonly failUnder?: number;
  readonly comparison?: Comparison;
  /** Why the run is unfinished, already said by the caller (it knows how to finish it). */
  readonly unfinished?: readonly string[];
  /** Appended to the error line, e.g. how to run the infra errors again. */
  readonly errorHint?: string;
}

/**
 * The exit code and its reasons: interrupted (130, or 75 when the engine was lost), then
 * sample errors past --max-errors (4), then the comparison's verdict (1, 5, 6), then
 * --fail-under (1).
 */
export function gateRun(input: GateInput): { readonly exitCode: number; readonly reasons: readonly string[] } {
  const { summary, comparison } = input;
  const reasons = [...(input.unfinished ?? [])];
  const maxErrors = input.maxErrors ?? 0;
  const tooManyErrors = summary.counts.error > maxErrors;
  if (tooManyErrors) reasons.push(`${errorsLine(summary)}${maxErrors ? `, more than --max-errors ${maxErrors}` : ''}${input.errorHint ?? ''}`);
  // Nothing scored (every sample an error) is not a score above the bar either.
  if (input.failUnder !== undefined && !(summary.score.n > 0 && summary.score.mean >= input.failUnder)) {
    reasons.push(`mean score ${summary.score.n > 0 ? summary.score.mean.toFixed(3) : 'n/a (nothing scored)'} is under --fail-under ${input.failUnder}`);
  }
  const regressed = comparison && comparison.verdict !== 'PASS';
  if (regressed) reasons.push(`compare ${comparison.verdict}: ${comparison.reasons[0]}`);
  const exitCode =
    summary.status === 'interrupted'
      ? summary.interruptedBy === 'engine'
        ? EXIT_ENGINE_LOST
        : EXIT_INTERRUPTED
      : tooManyErrors
        ? EXIT_SAMPLE_ERRORS
        : regressed
          ? verdictExitCode(comparison.verdict)
          : reasons.length
            ? EXIT_FAIL_UNDER
            : EXIT_OK;
  return { exitCode, reasons };
}
