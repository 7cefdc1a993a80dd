// `cagebench run` and `cagebench resume`: flags into a UserConfig, a reporter chosen for the
// terminal, Ctrl-C into an abort, and the run's exit code out.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RunOutcome } from '../../harness/index.ts';
import { createReporter } from '../progress/index.ts';
import { agentOption, integer, interruptOnSignals, keyValue, positiveNumber, report } from './shared.ts';

function score(value: string): number {
  const n = Number(value);
  // An InvalidArgumentError is a usage error to commander (one line, exit 2), not a crash.
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`--fail-under must be a score between 0 and 1, e.g. 0.8 (got "${value}")`);
  return n;
}

/** Run with progress on stderr; the summary table or JSON on stdout. */
async function withProgress(json: boolean, start: (options: { reporter: ReturnType<typeof createReporter>; signal: AbortSignal }) => Promise<RunOutcome>): Promise<number> {
  // With --json, stdout carries only the JSON; the table still reaches people on stderr.
  const reporter = createReporter({ stream: process.stderr, tableStream: json ? process.stderr : process.stdout });
  const abort = new AbortController();
  const release = interruptOnSignals(() => abort.abort());
  try {
    const outcome = await start({ reporter, signal: abort.signal });
    if (json) process.stdout.write(`${JSON.stringify(outcome.summary, null, 2)}\n`);
    return outcome.exitCode;
  } finally {
    release();
  }
}

export function addRunCommands(program: Command): void {
  program
    .command('run')
    .description('Evaluate an agent on task suites: one sandbox per sample, scored, written to a run directory')
    .argument('[paths...]', 'Harbor task dirs, folders of them, or cagebench suite .yaml files (or `paths` in --config)')
    .option('--config <file>', 'a YAML run configuration (flags as snake_case keys, plus agent_options); flags given here win')
    .option('--agent <name>', 'agent to run: claude_code, codex_cli, gemini_cli, opencode, oracle, nop')
    .option('--agent-opt <key=value>', 'an agent option, e.g. system_prompt="..." disallowed_tools=[WebFetch] env.FOO=1 (repeatable)', agentOption)
    .option('--model <provider/model>', 'model for agents that need one')
    .option('--epochs <n>', 'samples per task', integer('--epochs', 1))
    .option('--attempts <n>', 'attempts per sample (the agent continues after an incorrect one)', integer('--attempts', 1))
    .option('--incorrect-message <text>', 'what the agent is told after an incorrect attempt')
    .option('--concurrency <n>', 'live sandboxes at once (default 4)', integer('--concurrency', 1))
    .option('--limit <n>', 'only the first N tasks', integer('--limit', 1))
    .option('--task <glob>', 'only tasks whose id matches')
    .option('--out <dir>', 'parent directory of run directories (default ./runs)')
    .option('--run-id <id>', 'name of the run directory (default: time and a random suffix)')
    .option('--timeout-multiplier <x>', 'scale every phase timeout', positiveNumber('--timeout-multiplier'))
    .option('--retries <n>', 'retries of a sample that ends in an infra error (default 2)', integer('--retries', 0))
    .option('--max-errors <n>', 'errors the run tolerates (default 0): more exit 4, and past it no new sample starts', integer('--max-errors', 0))
    .option('--engine-grace <seconds>', 'how long to wait for an unreachable Docker engine before the run ends interrupted, exit 75 (default 600)', integer('--engine-grace', 0))
    .option('--pass-env <NAME>', "let tasks read host variable NAME through ${NAME} in their env tables (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--fail-under <score>', 'exit 1 when the mean score is below this', score)
    .option('--junit <file>', 'also write JUnit XML')
    .option('--json', 'print summary.json to stdout instead of the table')
    .option('--model-alias <NAME=PROVIDER/MODEL>', 'send model NAME elsewhere (repeatable)', keyValue)
    .option('--token-limit <n>', 'per sample: tokens before the agent is refused (outcome error, kind limit)', integer('--token-limit', 1))
    .option('--cost-limit <usd>', 'per sample: USD before the agent is refused', positiveNumber('--cost-limit'))
    .option('--request-limit <n>', 'per sample: model calls before the agent is refused', integer('--request-limit', 1))
    .option('--retry-refusals <n>', 'regenerate a refusal up to N times (default 3)', integer('--retry-refusals', 0))
    .option('--log-model-bodies', 'record full model requests and responses in events.jsonl')
    .option('--filter <file>', 'a JS/TS module exporting filter(request, ctx), run on every model call')
    .option('--prices <file>', 'a YAML price table on top of the bundled one')
    .option('--openai-base-url <url>', 'OpenAI-compatible server for openai/<model> (default $OPENAI_BASE_URL)')
    .addOption(new Option('--openai-api <api>', 'which OpenAI API openai/<model> speaks upstream').choices(['chat', 'responses']))
    .option('--agent-version <spec>', "stable, latest, X.Y.Z, auto (the image's own program if on its PATH, else stable) or sandbox (only the image's) (default stable)")
    .option('--offline', 'never download agent builds; they must be in the cache (cagebench download)')
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      await report(async () => {
        const { run, loadRunConfigFile, mergeRunConfig, ConfigError } = await import('../../harness/index.ts');
        const file = opts.config ? await loadRunConfigFile(opts.config as string) : {};
        const config = mergeRunConfig(file, {
          paths: paths.length ? paths : undefined,
          agent: opts.agent as string | undefined,
          agentOptions: opts.agentOpt as Record<string, unknown> | undefined,
          continueMessage: opts.incorrectMessage as string | undefined,
          model: opts.model as string | undefined,
          epochs: opts.epochs as number | undefined,
          attempts: opts.attempts as number | undefined,
          concurrency: opts.concurrency as number | undefined,
          limit: opts.limit as number | undefined,
          task: opts.task as string | undefined,
          out: opts.out as string | undefined,
          runId: opts.runId as string | undefined,
          timeoutMultiplier: opts.timeoutMultiplier as number | undefined,
          retries: opts.retries as number | undefined,
          maxErrors: opts.maxErrors as number | undefined,
          engineGraceSec: opts.engineGrace as number | undefined,
          passEnv: opts.passEnv as string[] | undefined,
          failUnder: opts.failUnder as number | undefined,
          junit: opts.junit as string | undefined,
          modelAliases: opts.modelAlias as Record<string, string> | undefined,
          tokenLimit: opts.tokenLimit as number | undefined,
          costLimit: opts.costLimit as number | undefined,
          requestLimit: opts.requestLimit as number | undefined,
          retryRefusals: opts.retryRefusals as number | undefined,
          logModelBodies: opts.logModelBodies as boolean | undefined,
          filter: opts.filter as string | undefined,
          prices: opts.prices as string | undefined,
          openaiBaseUrl: opts.openaiBaseUrl as string | undefined,
          openaiApi: opts.openaiApi as 'chat' | 'responses' | undefined,
          agentVersion: opts.agentVersion as string | undefined,
          offline: opts.offline as boolean | undefined,
        });
        if (!config.agent) throw new ConfigError('Name the agent: --agent NAME, or `agent:` in the --config file.');
        if (!config.paths?.length) throw new ConfigError('Give task paths: Harbor task dirs, folders of them or suite .yaml files, or `paths:` in the --config file.');
        const user = { ...config, agent: config.agent, paths: config.paths };
        return withProgress(Boolean(opts.json), (options) => run(user, options));
      });
    });

  program
    .command('resume')
    .description('Finish an interrupted run: samples with a result are kept, the rest are run')
    .argument('<run-dir>', 'the run directory (printed by cagebench run)')
    .option('--concurrency <n>', 'live sandboxes at once', integer('--concurrency', 1))
    .option('--junit <file>', 'also write JUnit XML')
    .option('--json', 'print summary.json to stdout instead of the table')
    .option('--offline', 'never download agent builds; they must be in the cache')
    .option('--no-retry-errors', 'keep samples whose result is an infra error instead of running them again')
    .action(async (runDir: string, opts: Record<string, unknown>) => {
      await report(async () => {
        const { resume } = await import('../../harness/index.ts');
        return withProgress(Boolean(opts.json), (options) =>
          resume(runDir, { ...options, retryErrors: opts.retryErrors as boolean, concurrency: opts.concurrency as number | undefined, junit: opts.junit as string | undefined, offline: opts.offline as boolean | undefined }),
        );
      });
    });
}
