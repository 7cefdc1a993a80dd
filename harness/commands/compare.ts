// `cagebench compare BASE CAND` and `cagebench baseline save RUN -o FILE`: the back-ends.
import { checkRunOptions } from '../config-schema.ts';
import { compareOptionsOf, type UserConfig } from '../config.ts';
import { armFromRun, loadArm } from '../compare/arm.ts';
import { writeBaseline, type BaselineFile } from '../compare/baseline.ts';
import { compareArms, type Comparison } from '../compare/compare.ts';
import { formatComparison } from '../compare/format.ts';
import { verdictExitCode } from '../exit-codes.ts';
import { readRunDir } from '../log/reader.ts';
import { writeJsonAtomic } from '../log/writer.ts';
import { writeCiOutputs } from '../report/ci/outputs.ts';
import { checkOutputPath } from '../runner/validate.ts';
import { ConfigError } from '../errors.ts';
import { stat } from 'node:fs/promises';

export type CompareSettings = Pick<UserConfig, 'failDelta' | 'warnDelta' | 'minPairs' | 'maxErrorRate' | 'confidence' | 'interval' | 'bootstrapSamples' | 'seed' | 'junit' | 'ctrf' | 'prComment'>;

export interface CompareCommandOptions {
  readonly base: string;
  readonly cand: string;
  readonly settings: CompareSettings;
  /** Print the comparison as JSON instead of text. */
  readonly json?: boolean;
  /** Also write the comparison as JSON here. */
  readonly out?: string;
  /** Tasks listed per section of the text. @default 10 */
  readonly top?: number;
  readonly print?: (text: string) => void;
}

export async function compareCommand(options: CompareCommandOptions): Promise<{ readonly comparison: Comparison; readonly exitCode: number }> {
  checkRunOptions(options.settings, { file: 'the command line', flags: true });
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  const { junit, ctrf, prComment } = options.settings;
  for (const [flag, file, example] of [['--junit', junit, 'junit.xml'], ['--ctrf', ctrf, 'ctrf.json'], ['--pr-comment', prComment, 'comment.md']] as const) {
    if (file) await checkOutputPath(flag, file, example);
  }
  const base = await loadArm(options.base);
  // The candidate's own reports need its run directory; a baseline file holds only outcomes.
  const candRun = (await stat(options.cand).catch(() => undefined))?.isDirectory() ? await readRunDir(options.cand) : undefined;
  const cand = candRun ? armFromRun(candRun, options.cand) : await loadArm(options.cand);
  if (!candRun && (junit || ctrf || prComment)) throw new ConfigError(`--junit, --ctrf and --pr-comment describe the candidate's samples: give its run directory, not the file ${options.cand}`);
  const comparison = compareArms(base, cand, compareOptionsOf(options.settings));
  if (options.out) await writeJsonAtomic(options.out, comparison);
  print(options.json ? `${JSON.stringify(comparison, null, 2)}\n` : formatComparison(comparison, { top: options.top }));
  if (candRun) await writeCiOutputs(candRun, comparison, { junit, ctrf, prComment });
  return { comparison, exitCode: verdictExitCode(comparison.verdict) };
}

/** Save a run's per-epoch outcomes as a small baseline file. */
export async function saveBaseline(runDir: string, file: string): Promise<BaselineFile> {
  const view = await readRunDir(runDir);
  return writeBaseline(file, armFromRun(view, runDir));
}
