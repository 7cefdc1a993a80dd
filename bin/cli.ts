// The `cagebench` command line: flags in, a call into harness out, an exit code back.
// Commands import harness lazily, so `--help` stays instant and never touches Docker.
import { Command } from 'commander';
import { addBridgeCommands } from './commands/bridge.ts';
import { addCacheCommands } from './commands/cache.ts';
import { addCentaurCommand } from './commands/centaur.ts';
import { addImagesCommands } from './commands/images.ts';
import { addChatCommand } from './commands/chat.ts';
import { addCompareCommands } from './commands/compare.ts';
import { addMergeCommand } from './commands/merge.ts';
import { addRunCommands } from './commands/run.ts';
import { addRescoreCommand } from './commands/rescore.ts';
import { addReportCommands } from './commands/report.ts';
import { addSandboxCommands } from './commands/sandbox.ts';
import { EXIT_USAGE } from './commands/shared.ts';
import { addTaskCommands } from './commands/tasks.ts';
import { HARNESS_VERSION } from '../harness/version.ts';

export { EXIT_INFRA, EXIT_USAGE } from './commands/shared.ts';


export function createCli(): Command {
  const program = new Command('cagebench')
    .description('Evaluate coding agents in Docker sandboxes')
    .version(HARNESS_VERSION)
    // `cagebench download X --version SPEC`: the subcommand's option, not the global --version.
    .enablePositionalOptions()
    // A usage error is one line naming the flag (the full help after it buried the line).
    .configureOutput({ outputError: (text, write) => write(`cagebench: ${text}`) })
    .exitOverride((err) => {
      // commander exits 1 on usage errors; keep 0 for --help/--version and use 2 otherwise.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    });
  addRunCommands(program);
  addRescoreCommand(program);
  addChatCommand(program);
  addCentaurCommand(program);
  addCompareCommands(program);
  addMergeCommand(program);
  addReportCommands(program);
  addTaskCommands(program);
  addSandboxCommands(program);
  addBridgeCommands(program);
  addCacheCommands(program);
  addImagesCommands(program);
  return program;
}
