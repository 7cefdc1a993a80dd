// `cagebench chat`: an interactive session with an agent in a sandbox, from a terminal or a
// pipe. Flags become the session's options; the terminal UI lives in bin/chat/.
import { Option, type Command } from 'commander';
import { addRunFlags, runFlagValues } from './run-flags.ts';
import { positiveNumber, report } from './shared.ts';

export function addChatCommand(program: Command): void {
  const command = program
    .command('chat')
    .description('Talk to an agent in a sandbox: each line from stdin is a turn, its messages and tool calls shown as they happen (/help inside)')
    .requiredOption('--agent <name>', 'agent to talk to: claude_code, codex_cli, gemini_cli, opencode, nop')
    .addOption(new Option('--task <dir>', 'start from a task: a Harbor task dir or a suite file (its files and setup placed first)').conflicts('image'))
    .option('--task-id <id>', 'with --task: which of its tasks, when it holds several')
    .option('--image <image>', 'start from this image (default: cagebench/sandbox:bookworm)')
    .addOption(new Option('--driver <driver>', 'how the agent is driven: its CLI once per turn, or an ACP adapter held open').choices(['headless', 'acp']).default('headless'))
    .option('--dir <dir>', 'the session directory: events.jsonl (the transcript), each turn\'s logs (default: ./sessions/<id>)')
    .option('--timeout <seconds>', 'time limit of each turn (default: 600)', positiveNumber('--timeout'))
    .option('--ask <tool[:command]>', 'ask before this tool (bash, edit, write, read, fetch), or a bash command starting so (bash:rm); answer with /approve or /deny (repeatable)', collectRule)
    .option('--deny <tool[:command]>', 'refuse this tool, or a bash command starting so (bash:rm) (repeatable)', collectRule)
    .option('--confirm-timeout <seconds>', 'how long an --ask waits for /approve or /deny before it is refused (default 30)', positiveNumber('--confirm-timeout'));
  addRunFlags(command, ['model', 'agentOptions', 'agentVersion', 'offline']).action(async (opts: Record<string, unknown>) => {
    await report(async () => {
      const { checkRunOptions } = await import('../../harness/config-schema.ts');
      checkRunOptions(runFlagValues(opts), { file: 'the command line', flags: true });
      if (opts.taskId !== undefined && opts.task === undefined) {
        const { ConfigError } = await import('../../harness/errors.ts');
        throw new ConfigError('--task-id needs --task (the task dir or suite file it picks from)');
      }
      const { runChat } = await import('../chat/chat.ts');
      return runChat({
        session: {
          agent: opts.agent as string,
          ...(opts.model ? { model: opts.model as string } : {}),
          ...(opts.agentOptions ? { agentOptions: opts.agentOptions as Record<string, unknown> } : {}),
          ...(opts.agentVersion ? { agentVersion: opts.agentVersion as string } : {}),
          ...(opts.offline ? { offline: true } : {}),
          ...(opts.task ? { task: opts.task as string } : {}),
          ...(opts.taskId ? { taskId: opts.taskId as string } : {}),
          ...(opts.image ? { image: opts.image as string } : {}),
          driver: opts.driver as 'headless' | 'acp',
          ...(opts.dir ? { dir: opts.dir as string } : {}),
          ...(opts.timeout ? { timeoutMs: (opts.timeout as number) * 1000 } : {}),
          ...(opts.ask || opts.deny ? { rules: [...toRules(opts.deny as string[] | undefined, 'deny'), ...toRules(opts.ask as string[] | undefined, 'ask')] } : {}),
          ...(opts.confirmTimeout ? { confirm: { timeoutMs: (opts.confirmTimeout as number) * 1000 } } : {}),
        },
        input: process.stdin,
        output: process.stdout,
        errors: process.stderr,
      });
    });
  });
}

function collectRule(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `bash:rm` → `{ tool: 'bash', match: 'rm', action }`; `edit` → `{ tool: 'edit', action }`. */
function toRules(values: readonly string[] | undefined, action: 'ask' | 'deny'): { tool: string; match?: string; action: 'ask' | 'deny' }[] {
  return (values ?? []).map((value) => {
    const colon = value.indexOf(':');
    return colon < 0 ? { tool: value, action } : { tool: value.slice(0, colon), match: value.slice(colon + 1), action };
  });
}
