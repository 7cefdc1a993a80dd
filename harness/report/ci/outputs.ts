// Every CI surface of a finished run, in one call: the files asked for (CTRF, JUnit, the pull
// request comment body), the GitHub job summary when the job has one, and annotations on the
// pull request's diff when running in GitHub Actions with a comparison. The `run --baseline`,
// `compare` and end-of-run code all call this, so the surfaces never disagree.
import type { Comparison } from '../../compare/compare.ts';
import type { RunView } from '../../log/reader.ts';
import { writeTextAtomic } from '../../log/writer.ts';
import { annotations } from './annotations.ts';
import { toCtrf } from './ctrf.ts';
import { junitOf } from './junit.ts';
import { checkoutRoot } from './paths.ts';
import { prComment } from './pr-comment.ts';
import { appendStepSummary } from './step-summary.ts';

export interface CiOutputOptions {
  /** Write JUnit XML here. */
  readonly junit?: string;
  /** Write a CTRF JSON report here. */
  readonly ctrf?: string;
  /** Write the sticky pull request comment's body (Markdown) here. */
  readonly prComment?: string;
  /** GITHUB_STEP_SUMMARY, GITHUB_ACTIONS, GITHUB_WORKSPACE and the CI variables CTRF records. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where annotation commands go (stdout, which the Actions runner reads). @default console.log */
  readonly print?: (line: string) => void;
  /** Link to the HTML report or the job's artifacts, shown in the summary and the comment. */
  readonly reportUrl?: string;
}

export interface CiOutputsWritten {
  readonly files: readonly string[];
  /** The summary file appended to, when there was one. */
  readonly stepSummary?: string;
  readonly annotations: number;
}

export async function writeCiOutputs(view: RunView, comparison: Comparison | undefined, options: CiOutputOptions = {}): Promise<CiOutputsWritten> {
  const env = options.env ?? process.env;
  const print = options.print ?? ((line: string) => console.log(line));
  const markdown = { view, ...(comparison ? { comparison } : {}), ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}) };
  const files: string[] = [];
  if (options.junit) {
    await writeTextAtomic(options.junit, junitOf(view));
    files.push(options.junit);
  }
  if (options.ctrf) {
    await writeTextAtomic(options.ctrf, `${JSON.stringify(toCtrf(view, comparison, { env }), null, 2)}\n`);
    files.push(options.ctrf);
  }
  if (options.prComment) {
    await writeTextAtomic(options.prComment, prComment(markdown));
    files.push(options.prComment);
  }
  const summaryFile = env.GITHUB_STEP_SUMMARY;
  if (summaryFile) await appendStepSummary(summaryFile, markdown);
  let printed = 0;
  if (comparison && env.GITHUB_ACTIONS === 'true') {
    for (const line of annotations(comparison, { tasks: view.run.tasks, root: checkoutRoot(env) })) {
      print(line);
      printed++;
    }
  }
  return { files, ...(summaryFile ? { stepSummary: summaryFile } : {}), annotations: printed };
}
