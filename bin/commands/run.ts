// `cagebench run` and `cagebench resume`: flags into a UserConfig, a reporter chosen for the
// terminal, Ctrl-C into an abort, and the run's exit code out.
import type { Command } from 'commander';
import type { RunOutcome } from '../../harness/index.ts';
import type { RunReporter } from '../../harness/index.ts';
import { addRunFlags, runFlagValues } from './run-flags.ts';
import { integer, interruptOnSignals, report } from './shared.ts';

/** Run with progress on stderr; the summary table or JSON on stdout. */
async function withProgress(json: boolean, start: (options: { reporter: RunReporter; signal: AbortSignal }) => Promise<RunOutcome>): Promise<number> {
  const { createReporter } = await import('../progress/index.ts');
  // With --json, stdout carries only the JSON; the table still reaches people on stderr.
  const reporter = createReporter({ stream: process.stderr, tableStream: json ? process.stderr : process.stdout });
  const abort = new AbortController();
  const release = interruptOnSignals(() => abort.abort());
  try {
    const outcome = await start({ reporter, signal: abort.signal });
    if (json) process.stdout.write(`${JSON.stringify(outcome.summary, null, 2)}\n`);
    if (outcome.comparison) {
      const { formatComparison } = await import('../../harness/compare/format.ts');
      (json ? process.stderr : process.stdout).write(`\n${formatComparison(outcome.comparison)}`);
    }
    return outcome.exitCode;
  } finally {
    release();
  }
}

export function addRunCommands(program: Command): void {
  const runCommand = program
    .command('run')
    .description('Evaluate an agent on task suites: one sandbox per sample, scored, written to a run directory')
    .argument('[paths...]', 'Harbor task dirs, folders of them, or cagebench suite .yaml files (or `paths` in --config)')
    .option('--config <file>', 'a config file (cagebench.config.ts/.js/.yaml; found in the working directory when not given): any run option, flags given here win')
    .option('--json', 'print summary.json to stdout instead of the table');
  addRunFlags(runCommand)
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      await report(async () => {
        const { run, loadRunConfigFile, findConfigFile, mergeRunConfig, checkRunOptions } = await import('../../harness/index.ts');
        const flags = { ...runFlagValues(opts), ...(paths.length ? { paths } : {}) };
        checkRunOptions(flags, { file: 'the command line', flags: true });
        const configFile = (opts.config as string | undefined) ?? findConfigFile();
        const file = configFile ? await loadRunConfigFile(configFile) : {};
        const user = mergeRunConfig(file, flags);
        return withProgress(Boolean(opts.json), (options) => run(user as Parameters<typeof run>[0], options));
      });
    });

  const resumeCommand = program
    .command('resume')
    .description('Finish an interrupted run: samples with a result are kept, the rest are run')
    .argument('<run-dir>', 'the run directory (printed by cagebench run)')
    .option('--json', 'print summary.json to stdout instead of the table')
    .option('--no-retry-errors', 'keep samples whose result is an infra error instead of running them again');
  // What is not recorded in run.json: where the reports go, and how this invocation runs.
  addRunFlags(resumeCommand, ['concurrency', 'engines', 'junit', 'ctrf', 'prComment', 'offline']).action(async (runDir: string, opts: Record<string, unknown>) => {
    await report(async () => {
      const { resume, checkRunOptions } = await import('../../harness/index.ts');
      const flags = runFlagValues(opts);
      checkRunOptions(flags, { file: 'the command line', flags: true });
      return withProgress(Boolean(opts.json), (options) => resume(runDir, { ...options, ...flags, retryErrors: opts.retryErrors as boolean }));
    });
  });
}
