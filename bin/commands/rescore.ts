// `cagebench rescore RUN`: score a finished run's samples again (same or changed scorer, or
// changed task dirs) from their saved workdir states, without running the agent.
import type { Command } from 'commander';
import { integer, interruptOnSignals, report } from './shared.ts';

export function addRescoreCommand(program: Command): void {
  program
    .command('rescore')
    .description("Score a finished run's samples again from their saved workdir states, without running the agent; writes a new run directory")
    .argument('<run-dir>', 'the run directory (printed by cagebench run)')
    .option('--scorer <spec>', "score with this in place of each task's scorer: command:CMD, verifier:DIR (holds test.sh) or module:PATH[#export]")
    .option('--task-dir <dir>', "a changed task (Harbor dir, folder of them, suite .yaml) replacing the run's task of the same id; repeatable", (v: string, prev: string[] = []) => [...prev, v])
    .option('-o, --out <dir>', 'where the new run directory goes (default: beside the run)')
    .option('--run-id <id>', 'the new run id (default: a fresh one)')
    .option('--concurrency <n>', 'live sandboxes at once (default: the run\'s)', integer('--concurrency', 1))
    .option('--grader-model <provider/model>', "grader model of model_graded scorers that name none (default: the run's)")
    .action(async (runDir: string, opts: { scorer?: string; taskDir?: string[]; out?: string; runId?: string; concurrency?: number; graderModel?: string }) => {
      await report(async () => {
        const { rescore } = await import('../../harness/commands/rescore.ts');
        const abort = new AbortController();
        const release = interruptOnSignals(() => abort.abort());
        try {
          const outcome = await rescore(runDir, {
            scorer: opts.scorer,
            taskDirs: opts.taskDir,
            out: opts.out,
            runId: opts.runId,
            concurrency: opts.concurrency,
            graderModel: opts.graderModel,
            signal: abort.signal,
            log: (line) => process.stderr.write(`cagebench: ${line}\n`),
          });
          const out = process.stdout;
          out.write(`${outcome.deltaLine}\n`);
          for (const s of outcome.samples) {
            if (s.before.score !== s.after.score || s.before.outcome !== s.after.outcome) {
              out.write(`  ${s.sampleId}: ${s.before.outcome} ${s.before.score ?? ''} → ${s.after.outcome} ${s.after.score ?? s.after.error ?? ''}\n`);
            }
          }
          if (outcome.notRescored.length) {
            out.write(`not rescored: ${outcome.notRescored.length} sample(s)\n`);
            for (const n of outcome.notRescored) out.write(`  ${n.sampleId}: ${n.reason}\n`);
          }
          for (const note of outcome.notes) out.write(`note: ${note}\n`);
          out.write('note: only the task\'s workdir is restored; a verifier that reads state outside it (other directories, $HOME, a service the agent started) may score differently\n');
          out.write(`run directory: ${outcome.runDir} (rescored from ${outcome.from})\n`);
          return outcome.exitCode;
        } finally {
          release();
        }
      });
    });
}
