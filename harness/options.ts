// The run options, once. Each entry gives the command-line flag, the config-file key and the
// rule its value must follow; bin/ builds the `run` command's flags from it, config files are
// checked against it (harness/config-schema.ts), and the type check at the bottom fails when
// UserConfig and this table disagree, so an option cannot exist in one place only.
//
// Keys are UserConfig's camelCase names; a flag is the key in kebab-case (`--max-errors`), and
// a YAML config file may spell a key in snake_case (`max_errors`) as well. Plain data, no
// imports: `cagebench --help` reads this without loading zod.
import type { UserConfig } from './config.ts';

/** What a value must be. Numbers from flags are parsed, then held to the same rule. */
export type ValueRule =
  | { readonly type: 'string'; readonly pattern?: RegExp; readonly rule?: string }
  | { readonly type: 'choice'; readonly choices: readonly string[] }
  | { readonly type: 'int'; readonly min: number }
  | { readonly type: 'number'; readonly min?: number; readonly max?: number; readonly positive?: boolean; readonly rule?: string }
  | { readonly type: 'boolean' }
  /** A list of strings; the flag repeats. `pattern` holds every item. */
  | { readonly type: 'list'; readonly pattern?: RegExp; readonly rule?: string }
  /** String to string; the flag repeats as KEY=VALUE. */
  | { readonly type: 'map'; readonly valuePattern?: RegExp; readonly rule?: string }
  /** Agent options: a mapping checked by the agent's own schema; the flag repeats as key=value. */
  | { readonly type: 'options' }
  /** File paths, each relative to the config file that gives it (one alone may be a string); the flag repeats. In a TS/JS config or the API, an item may be code. */
  | { readonly type: 'paths'; readonly orCode?: string }
  /** A path, relative to the config file that gives it; or, in a TS/JS config, a function. */
  | { readonly type: 'path'; readonly orFunction?: string }
  /** Only in a TS/JS config or the API: a value no flag or YAML can hold. */
  | { readonly type: 'code'; readonly what: string };

export interface OptionDef {
  readonly value: ValueRule;
  /** One line for `--help` and the docs; the default goes in `defaultText`. */
  readonly description: string;
  /** The flag's argument, as `--help` shows it (`<n>`); a boolean has none. */
  readonly arg?: string;
  /** When the flag is not the key in kebab-case (`--agent-opt` for agentOptions). */
  readonly flag?: string;
  /** No flag: config file or API only. */
  readonly noFlag?: true;
  readonly defaultText?: string;
}

const ROUTE = /^[^/\s]+\/\S+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const RUN_OPTIONS = {
  paths: { value: { type: 'list' }, description: 'Harbor task dirs, folders of them, or suite .yaml files (the positional arguments)', noFlag: true },
  tasks: { value: { type: 'code', what: 'a list of tasks made with defineTask()' }, description: 'tasks defined in code (defineTask), run beside those found under paths', noFlag: true },
  agent: { value: { type: 'string' }, arg: '<name>', description: 'agent to run: claude_code, codex_cli, gemini_cli, opencode, oracle, nop (or an adapter object in code)' },
  agentOptions: { value: { type: 'options' }, flag: 'agent-opt', arg: '<key=value>', description: 'an agent option, e.g. system_prompt="..." disallowed_tools=[WebFetch] env.FOO=1 (repeatable)' },
  runtime: { value: { type: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, rule: 'must be a runtime name the engine offers, e.g. runsc' }, arg: '<name>', description: 'container runtime for the sandboxes of tasks that name none (runsc for gVisor, crun): refused before the run when the engine does not offer it, or a task names another', defaultText: "the engine's default" },
  driver: { value: { type: 'choice', choices: ['headless', 'acp'] }, arg: '<driver>', description: "how agents are driven: headless (their CLI, once per attempt) or acp (their ACP adapter, one session per sample)", defaultText: 'headless' },
  agentVersion: { value: { type: 'string' }, arg: '<spec>', description: "stable, latest, X.Y.Z, auto (the image's own program if on its PATH, else stable) or sandbox (only the image's)", defaultText: 'stable' },
  model: { value: { type: 'string', pattern: ROUTE, rule: 'must look like provider/model, e.g. mock/echo' }, arg: '<provider/model>', description: 'model for agents that need one' },
  graderModel: { value: { type: 'string', pattern: ROUTE, rule: 'must look like provider/model, e.g. anthropic/claude-sonnet-4-5' }, arg: '<provider/model>', description: 'grader model of model_graded scorers that name none' },
  modelAliases: { value: { type: 'map', valuePattern: ROUTE, rule: 'must map a model name to provider/model' }, flag: 'model-alias', arg: '<NAME=PROVIDER/MODEL>', description: 'send model NAME elsewhere (repeatable)' },
  epochs: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'samples per task', defaultText: '1' },
  attempts: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'attempts per sample (the agent continues after an incorrect one)', defaultText: "the task's, else 1" },
  incorrectMessage: { value: { type: 'string' }, arg: '<text>', description: 'what the agent is told after an incorrect attempt' },
  scorer: { value: { type: 'code', what: 'a scorer function (defineScorer)' }, description: "scores every sample in place of the task's own scorer", noFlag: true },
  concurrency: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'live sandboxes at once', defaultText: '4' },
  buildConcurrency: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'image builds at once', defaultText: '2' },
  cacheLevel: { value: { type: 'choice', choices: ['none', 'base', 'task'] }, arg: '<level>', description: "task images the run keeps: task keeps them; none and base remove each after the task's last sample (base images and your own are always kept)", defaultText: 'task' },
  diskBudget: { value: { type: 'string', pattern: /^\s*\d+(\.\d+)?\s*([kmgt]i?b|[kmgt]|b)?\s*$/i, rule: 'must be a size such as 20GB, 500MB or 1.5TiB' }, arg: '<size>', description: 'before a build would take task images past this size, remove the least recently used ones' },
  limit: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'only the first N tasks' },
  task: { value: { type: 'string' }, arg: '<glob>', description: 'only tasks whose id matches' },
  shard: { value: { type: 'string', pattern: /^\s*\d+\s*\/\s*\d+\s*$/, rule: 'must be i/n with 1 <= i <= n, e.g. 2/3 (the second of three shards)' }, arg: '<i/n>', description: "run only shard i of n: the tasks dealt to it by sorted id (all epochs of a task together); 'cagebench merge' joins the shards" },
  out: { value: { type: 'path' }, arg: '<dir>', description: 'parent directory of run directories', defaultText: './runs' },
  runId: { value: { type: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, rule: "may hold letters, digits, '.', '_' and '-' only" }, arg: '<id>', description: 'name of the run directory', defaultText: 'time and a random suffix' },
  timeoutMultiplier: { value: { type: 'number', positive: true }, arg: '<x>', description: 'scale every phase timeout', defaultText: '1' },
  retries: { value: { type: 'int', min: 0 }, arg: '<n>', description: 'retries of a sample that ends in an infra error', defaultText: '2' },
  maxErrors: { value: { type: 'int', min: 0 }, arg: '<n>', description: 'errors the run tolerates: more exit 4, and past it no new sample starts', defaultText: '0' },
  engines: { value: { type: 'list', pattern: /^(unix|tcp):\/\/\S+$/, rule: 'takes ADDRESS[,capacity=N][,certs=DIR] with a unix:// or tcp:// address' }, flag: 'engine', arg: '<address[,capacity=N][,certs=DIR]>', description: 'run on a pool of Docker engines (repeatable): samples go to the engine with the most free capacity; one that stops answering is taken out and its samples run again on the others', defaultText: 'the one engine of $DOCKER_HOST' },
  engineGrace: { value: { type: 'int', min: 0 }, arg: '<seconds>', description: 'how long to wait for an unreachable Docker engine before the run ends interrupted, exit 75', defaultText: '600' },
  passEnv: { value: { type: 'list', pattern: ENV_NAME, rule: 'takes variable names (letters, digits and _)' }, arg: '<NAME>', description: 'let tasks read host variable NAME through ${NAME} in their env tables (repeatable)' },
  failUnder: { value: { type: 'number', min: 0, max: 1, rule: 'must be a score between 0 and 1' }, arg: '<score>', description: 'exit 1 when the mean score is below this' },
  junit: { value: { type: 'path' }, arg: '<file>', description: 'also write JUnit XML' },
  ctrf: { value: { type: 'path' }, arg: '<file>', description: 'also write a CTRF JSON report' },
  prComment: { value: { type: 'path' }, arg: '<file>', description: 'also write a sticky pull request comment (Markdown) with the comparison' },
  tokenLimit: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'per sample: tokens before the agent is refused (outcome error, kind limit)' },
  costLimit: { value: { type: 'number', positive: true, rule: 'must be USD > 0' }, arg: '<usd>', description: 'per sample: USD before the agent is refused' },
  requestLimit: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'per sample: model calls before the agent is refused' },
  tools: { value: { type: 'paths', orCode: 'tools made with defineTool()' }, arg: '<file>', description: 'a .ts/.js file exporting host tools (defineTool), served to the agent over MCP (repeatable)' },
  toolLimit: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'per sample: host tool calls before the agent is refused (outcome error, kind limit)' },
  retryRefusals: { value: { type: 'int', min: 0 }, arg: '<n>', description: 'regenerate a refusal up to N times', defaultText: '3' },
  logModelBodies: { value: { type: 'boolean' }, description: 'record full model requests and responses in events.jsonl' },
  filter: { value: { type: 'path', orFunction: 'a filter function (defineFilter)' }, arg: '<file>', description: 'a JS/TS module exporting filter(request, ctx), run on every model call' },
  prices: { value: { type: 'path' }, arg: '<file>', description: 'a YAML price table on top of the bundled one' },
  openaiBaseUrl: { value: { type: 'string' }, arg: '<url>', description: 'OpenAI-compatible server for openai/<model>', defaultText: '$OPENAI_BASE_URL' },
  openaiApi: { value: { type: 'choice', choices: ['chat', 'responses'] }, arg: '<api>', description: 'which OpenAI API openai/<model> speaks upstream', defaultText: 'chat' },
  offline: { value: { type: 'boolean' }, description: 'never download agent builds; they must be in the cache (cagebench download)' },
  baseline: { value: { type: 'path' }, arg: '<file|dir>', description: 'compare with this baseline (a run directory or a file from `cagebench baseline save`) and exit by the verdict' },
  failDelta: { value: { type: 'number', min: 0, max: 1, rule: 'must be a score difference between 0 and 1' }, arg: '<d>', description: 'compare: FAIL when the interval of the change lies below −d', defaultText: '0' },
  warnDelta: { value: { type: 'number', min: 0, max: 1, rule: 'must be a score difference between 0 and 1' }, arg: '<d>', description: 'compare: WARN (exit 5) when a drop of d cannot be ruled out', defaultText: '0.05' },
  minPairs: { value: { type: 'int', min: 1 }, arg: '<n>', description: 'compare: INVALID (exit 6) with fewer tasks valid in both runs', defaultText: '10' },
  maxErrorRate: { value: { type: 'number', min: 0, max: 1, rule: 'must be a share between 0 and 1' }, arg: '<share>', description: 'compare: INVALID (exit 6) when either run has a larger share of error samples', defaultText: '0.1' },
  confidence: { value: { type: 'number', min: 0.5, max: 0.999, rule: 'must be a level between 0.5 and 0.999' }, arg: '<level>', description: 'compare: two-sided confidence level of the interval', defaultText: '0.95' },
  interval: { value: { type: 'choice', choices: ['t', 'bootstrap'] }, arg: '<method>', description: 'compare: gate on the t interval over tasks or on the seeded task bootstrap', defaultText: 't' },
  bootstrapSamples: { value: { type: 'int', min: 100 }, arg: '<n>', description: 'compare: resamples of the task bootstrap (computed when given or when --interval bootstrap)', defaultText: '5000' },
  seed: { value: { type: 'int', min: 0 }, arg: '<n>', description: 'compare: seed of the task bootstrap, so a verdict is reproducible', defaultText: '1' },
} as const satisfies { readonly [K in keyof UserConfig]-?: OptionDef };

export type RunOptionKey = keyof typeof RUN_OPTIONS;

/** `maxErrors` → `max-errors`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `maxErrors` → `max_errors`. */
export function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The flag that sets an option, as a person types it. */
export function flagOf(key: RunOptionKey): string | undefined {
  const def: OptionDef = RUN_OPTIONS[key];
  return def.noFlag ? undefined : `--${def.flag ?? kebab(key)}`;
}

// ---------------------------------------------------------------------------------------------
// The table and UserConfig agree: each option's rule admits exactly its field's type.

type RuleValue<R> = R extends { type: 'choice'; choices: readonly (infer C)[] }
  ? C
  : R extends { type: 'string' }
  ? string
  : R extends { type: 'int' | 'number' }
    ? number
    : R extends { type: 'boolean' }
      ? boolean
      : R extends { type: 'list' | 'paths' }
        ? readonly string[]
        : R extends { type: 'map' }
          ? Readonly<Record<string, string>>
          : R extends { type: 'options' }
            ? Readonly<Record<string, unknown>>
            : R extends { type: 'path' }
              ? string
              : never; // code: whatever its field's type says

type Drift = {
  [K in RunOptionKey]-?: RuleValue<(typeof RUN_OPTIONS)[K]['value']> extends Extract<NonNullable<UserConfig[K]>, RuleValue<(typeof RUN_OPTIONS)[K]['value']>> ? never : K;
}[RunOptionKey];
/** A compile error here names an option whose rule and UserConfig field disagree. */
const noDrift: [Drift] extends [never] ? true : Drift = true;
void noDrift;
