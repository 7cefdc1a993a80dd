// `cagebench compare BASE CAND` (the paired regression gate) and `cagebench baseline save`.
import type { Command } from 'commander';
import { addRunFlags, runFlagValues } from './run-flags.ts';
import { integer, report } from './shared.ts';

/** The run options that tune a comparison: `run --baseline` takes the same ones. */
const COMPARE_FLAGS = ['failDelta', 'warnDelta', 'minPairs', 'maxErrorRate', 'confidence', 'interval', 'bootstrapSamples', 'seed', 'junit', 'ctrf', 'prComment'] as const;

export function addCompareCommands(program: Command): void {
  const compare = program
    .command('compare')
    .description('Compare a candidate run with a baseline, task by task (paired), and exit by the verdict: 0 PASS, 1 FAIL, 5 WARN, 6 INVALID')
    .argument('<base>', 'the baseline: a run directory or a file from `cagebench baseline save`')
    .argument('<cand>', 'the candidate: a run directory (or a baseline file)')
    .option('--json', 'print the comparison as JSON')
    .option('-o, --out <file>', 'also write the comparison as JSON')
    .option('--top <n>', 'tasks listed per section', integer('--top', 1), 10);
  addRunFlags(compare, COMPARE_FLAGS).action(async (base: string, cand: string, opts: Record<string, unknown>) => {
    await report(async () => {
      const { compareCommand } = await import('../../harness/commands/compare.ts');
      const { exitCode } = await compareCommand({ base, cand, settings: runFlagValues(opts), json: Boolean(opts.json), out: opts.out as string | undefined, top: opts.top as number });
      return exitCode;
    });
  });

  const baseline = program.command('baseline').description('Baselines for `compare` and `run --baseline`');
  baseline
    .command('save')
    .description('Save a run as a small baseline file (per-task, per-epoch outcomes) to commit beside the suite')
    .argument('<run-dir>', 'the run directory')
    .requiredOption('-o, --out <file>', 'where to write the baseline, e.g. baseline.json')
    .action(async (runDir: string, opts: { out: string }) => {
      await report(async () => {
        const { saveBaseline } = await import('../../harness/commands/compare.ts');
        const saved = await saveBaseline(runDir, opts.out);
        const samples = saved.tasks.reduce((n, t) => n + t.epochs.length, 0);
        process.stdout.write(`saved ${opts.out}: ${saved.tasks.length} tasks, ${samples} samples of run ${saved.runId} (${saved.agent})\n`);
        return 0;
      });
    });
}
