// `cagebench tasks check`: validate task suites; with --oracle, prove each task sound.
import type { Command } from 'commander';
import { integer, interruptOnSignals, report } from './shared.ts';

export function addTaskCommands(program: Command): void {
  const tasks = program.command('tasks').description('Work with task suites');
  tasks
    .command('check')
    .description('Validate tasks; with --oracle also run oracle (must pass) and nop (must fail) on each')
    .argument('<paths...>', 'Harbor task dirs, folders of them, or cagebench suite .yaml files')
    .option('--oracle', 'run oracle and nop on every task')
    .option('--task <glob>', 'only tasks whose id matches')
    .option('--concurrency <n>', 'live sandboxes at once', integer('--concurrency', 1))
    .option('--out <dir>', 'where the oracle and nop runs go (default: a temp dir)')
    .option('--grader-model <provider/model>', 'with --oracle: grader model of model_graded scorers that name none')
    .action(async (paths: string[], opts: { oracle?: boolean; task?: string; concurrency?: number; out?: string; graderModel?: string }) => {
      await report(async () => {
        const { checkTasks } = await import('../../harness/index.ts');
        const abort = new AbortController();
        const release = interruptOnSignals(() => abort.abort());
        try {
          const result = await checkTasks(paths, {
            ...opts,
            signal: abort.signal,
            reporter: opts.oracle ? (await import('../progress/index.ts')).createReporter({ stream: process.stderr, tableStream: undefined }) : undefined,
          });
          const formats = new Set(result.tasks.map((t) => t.format));
          process.stdout.write(`${result.tasks.length} task(s) valid (${[...formats].join(', ')})\n`);
          // What each Harbor task's task.toml keys do here; tasks that read alike share a block.
          for (const report of result.keys) {
            const ids = report.taskIds.length <= 3 ? report.taskIds.join(', ') : `${report.taskIds.slice(0, 3).join(', ')} and ${report.taskIds.length - 3} more`;
            process.stdout.write(`task.toml of ${ids}:\n${report.lines.map((l) => `  ${l}\n`).join('')}`);
          }
          const interrupted = result.runs.find((r) => r.summary.status === 'interrupted');
          if (interrupted) return interrupted.exitCode;
          for (const p of result.problems) process.stdout.write(`PROBLEM ${p.taskId} (${p.origin}): ${p.problem}\n`);
          const fine = opts.oracle ? 'oracle passes and nop fails on every task\n' : '';
          process.stdout.write(result.problems.length ? `${result.problems.length} problem(s)\n` : fine);
          return result.problems.length ? 1 : 0;
        } finally {
          release();
        }
      });
    });
}
