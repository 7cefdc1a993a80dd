// `cagebench merge RUN_DIR... -o DIR`: the shards of a run (`run --shard i/n`) joined into one
// run directory with one summary, JUnit, CTRF, comparison and report.
import type { Command } from 'commander';
import { report } from './shared.ts';

interface MergeFlags {
  out: string;
  junit?: string;
  ctrf?: string;
  prComment?: string;
  baseline?: string;
  report?: string;
  allowPartial?: boolean;
  json?: boolean;
}

export function addMergeCommand(program: Command): void {
  program
    .command('merge')
    .description("Join the shards of a run (cagebench run --shard i/n) into one run directory: one summary, JUnit, CTRF and report, as if it had run whole")
    .argument('<runs...>', 'the run directory of every shard, 1..n, in any order')
    .requiredOption('-o, --out <dir>', 'the merged run directory (new or empty; its name is the run id)')
    .option('--junit <file>', 'also write JUnit XML')
    .option('--ctrf <file>', 'also write a CTRF JSON report')
    .option('--pr-comment <file>', 'also write a sticky pull request comment (Markdown) with the comparison')
    .option('--baseline <file|dir>', 'compare the merged run with this baseline (writes compare.json) and exit by the verdict')
    .option('--report <dir>', 'also write the HTML report there')
    .option('--allow-partial', 'merge even when shards are missing (warns; their tasks are not in the merged run)')
    .option('--json', 'print summary.json to stdout instead of the table')
    .action(async (runs: string[], opts: MergeFlags) => {
      await report(async () => {
        const { mergeCommand, mergedLine } = await import('../../harness/commands/merge.ts');
        const note = (line: string): void => void process.stderr.write(`cagebench: ${line}\n`);
        const outcome = await mergeCommand({
          runs,
          out: opts.out,
          ...(opts.junit ? { junit: opts.junit } : {}),
          ...(opts.ctrf ? { ctrf: opts.ctrf } : {}),
          ...(opts.prComment ? { prComment: opts.prComment } : {}),
          ...(opts.baseline ? { baseline: opts.baseline } : {}),
          ...(opts.report ? { report: opts.report } : {}),
          allowPartial: Boolean(opts.allowPartial),
          note,
        });
        note(mergedLine(outcome, runs.length));
        if (opts.json) process.stdout.write(`${JSON.stringify(outcome.summary, null, 2)}\n`);
        else {
          const { summaryTable } = await import('../progress/format.ts');
          process.stdout.write(`${summaryTable(outcome.summary, outcome.runDir)}\n`);
        }
        if (outcome.comparison) {
          const { formatComparison } = await import('../../harness/compare/format.ts');
          (opts.json ? process.stderr : process.stdout).write(`\n${formatComparison(outcome.comparison)}`);
        }
        if (outcome.report) note(`report: ${outcome.report.index}`);
        for (const reason of outcome.reasons) note(reason);
        return outcome.exitCode;
      });
    });
}
