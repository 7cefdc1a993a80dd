// `cagebench centaur TASK`: a person and the agent in one sandbox. Flags in; the shell is
// attached when stdin is a terminal, otherwise its `docker exec` line is printed to paste.
import type { Command } from 'commander';
import { addRunFlags, runFlagValues } from './run-flags.ts';
import { interruptOnSignals, report } from './shared.ts';

export function addCentaurCommand(program: Command): void {
  const command = program
    .command('centaur')
    .description("Work a task yourself with the agent beside you: a recorded shell in the task's sandbox, the agent one alias away; 'task submit [ANSWER]' scores it into a run directory")
    .argument('<task>', 'a Harbor task dir or a suite .yaml file (with --task-id when it holds several tasks)')
    .requiredOption('--agent <name>', 'agent whose interactive command is in the shell: claude_code, codex_cli, gemini_cli, opencode')
    .option('--task-id <id>', 'which task of <task>, when it holds several')
    .option('--no-attach', "only print the 'docker exec' line, even in a terminal");
  addRunFlags(command, ['model', 'graderModel', 'agentOptions', 'agentVersion', 'offline', 'out', 'runId']).action(async (task: string, opts: Record<string, unknown>) => {
    await report(async () => {
      const { checkRunOptions } = await import('../../harness/config-schema.ts');
      checkRunOptions(runFlagValues(opts), { file: 'the command line', flags: true });
      const { runCentaur } = await import('../../harness/centaur/centaur.ts');
      const abort = new AbortController();
      const release = interruptOnSignals(() => abort.abort());
      let interrupted = false;
      try {
        const outcome = await runCentaur({
          task,
          agent: opts.agent as string,
          ...(opts.taskId ? { taskId: opts.taskId as string } : {}),
          ...(opts.model ? { model: opts.model as string } : {}),
          ...(opts.graderModel ? { graderModel: opts.graderModel as string } : {}),
          ...(opts.agentOptions ? { agentOptions: opts.agentOptions as Record<string, unknown> } : {}),
          ...(opts.agentVersion ? { agentVersion: opts.agentVersion as string } : {}),
          ...(opts.offline ? { offline: true } : {}),
          ...(opts.out ? { out: opts.out as string } : {}),
          ...(opts.runId ? { runId: opts.runId as string } : {}),
          attach: opts.attach !== false && Boolean(process.stdin.isTTY),
          output: process.stdout,
          signal: abort.signal,
        });
        interrupted = abort.signal.aborted;
        return outcome.exitCode;
      } finally {
        // Interrupted, the signal stays ours: the sandbox teardown it also started must not re-raise it when done.
        if (!interrupted) release();
      }
    });
  });
}
