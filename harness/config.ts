// Run configuration: what a user (flags, a config file, or code) gives, and the resolved
// form the runner uses. All defaults and all validation live here, once.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AgentAdapter } from '../agents/index.ts';
import type { RequestFilter } from './bridge/session.ts';
import { checkRunOptions } from './config-schema.ts';
import { ConfigError } from './errors.ts';
import { parseSize } from './images/units.ts';
import type { RunConfigRecord } from './log/schema.ts';
import type { ScorerFunction, TaskDefinition } from './define.ts';
import type { HostTool } from './tools/define.ts';
import type { CompareOptions } from './compare/compare.ts';
import { parseShard, type Shard } from './runner/shard.ts';
import { formatEngine, parseEngines, type EngineSpec } from './runner/engines.ts';

export interface UserConfig {
  /** Harbor task dirs, folders of them, or suite YAML files. */
  readonly paths?: readonly string[];
  /** Tasks defined in code with defineTask(), run beside those found under `paths`. */
  readonly tasks?: readonly TaskDefinition[];
  /** An agent name (`oracle`, `nop`, ...) or an adapter object (programmatic use). */
  readonly agent: string | AgentAdapter;
  /** The agent's options (`system_prompt`, `disallowed_tools`, `mcp_servers`, ...); see agents/options.ts. */
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  /** `provider/model`; only agents that need a model use it. */
  readonly model?: string;
  /** `provider/model` of the grader of model_graded scorers that name none. */
  readonly graderModel?: string;
  /** Samples per task. @default 1 */
  readonly epochs?: number;
  /** Attempts per sample (the agent continues after an incorrect one). @default the task's, else 1 */
  readonly attempts?: number;
  /** Scores every sample in place of its task's own scorer (defineScorer). */
  readonly scorer?: ScorerFunction;
  /** Live sandboxes at once. @default 4 */
  readonly concurrency?: number;
  /** Image builds at once. @default 2 */
  readonly buildConcurrency?: number;
  /**
   * Task images the run keeps after their last sample, as SWE-bench's cache_level: `task` keeps
   * them; `none` and `base` remove them (cagebench has no environment layer, and never removes
   * base images, saved sessions or images it did not build, so the two are the same). @default 'task'
   */
  readonly cacheLevel?: 'none' | 'base' | 'task';
  /** Most bytes task images may take (`20GB`): least recently used ones are removed before a build would go past it. */
  readonly diskBudget?: string;
  /** Run only the first N tasks. */
  readonly limit?: number;
  /** Only tasks whose id matches this glob. */
  readonly task?: string;
  /** `i/n`: run only shard i of n (harness/runner/shard.ts); `cagebench merge` joins the shards. */
  readonly shard?: string;
  /** Parent directory of run directories. @default ./runs */
  readonly out?: string;
  /** @default a timestamp and a random suffix */
  readonly runId?: string;
  /** Scales every phase timeout. @default 1 */
  readonly timeoutMultiplier?: number;
  /** Retries of a sample that ended in an infra error. @default 2 */
  readonly retries?: number;
  /** Errors the run tolerates: more, and it stops starting samples; any beyond this exits 4. @default 0 */
  readonly maxErrors?: number;
  /** Seconds the run waits for an unreachable Docker engine before it ends interrupted. @default 600 */
  readonly engineGrace?: number;
  /**
   * Host environment variables a task may read through `${NAME}` in its env tables (Harbor
   * resolves those from the host). Only these names are passed; the values are never recorded.
   */
  readonly passEnv?: readonly string[];
  /** Exit 1 when the mean score is below this. */
  readonly failUnder?: number;
  /** Sent to the agent after an incorrect attempt. */
  readonly incorrectMessage?: string;
  /** Write JUnit XML here. */
  readonly junit?: string;
  /** Write a CTRF JSON report here. */
  readonly ctrf?: string;
  /** Write the sticky pull request comment's body (Markdown) here. */
  readonly prComment?: string;
  /** Compare the finished run with this baseline (a run directory or a baseline file) and exit by the verdict. */
  readonly baseline?: string;
  /** compare: FAIL when the interval of the change lies entirely below −failDelta. @default 0 */
  readonly failDelta?: number;
  /** compare: WARN when a drop of warnDelta cannot be ruled out. @default 0.05 */
  readonly warnDelta?: number;
  /** compare: INVALID with fewer tasks valid in both runs. @default 10 */
  readonly minPairs?: number;
  /** compare: INVALID when either run has a larger share of error samples. @default 0.1 */
  readonly maxErrorRate?: number;
  /** compare: two-sided confidence level. @default 0.95 */
  readonly confidence?: number;
  /** compare: which interval gates. @default 't' */
  readonly interval?: 't' | 'bootstrap';
  /** compare: resamples of the task bootstrap. @default 5000 */
  readonly bootstrapSamples?: number;
  /** compare: seed of the task bootstrap. @default 1 */
  readonly seed?: number;
  /** Model names an agent sends → `provider/model`. */
  readonly modelAliases?: Readonly<Record<string, string>>;
  /** Per sample: tokens (input + output) before the agent is refused. */
  readonly tokenLimit?: number;
  /** Per sample: USD before the agent is refused. */
  readonly costLimit?: number;
  /** Per sample: model calls before the agent is refused. */
  readonly requestLimit?: number;
  /**
   * Host tools served to the agent over MCP (harness/tools): tools files (.ts/.js exporting
   * defineTool() tools) or, in code, the tools themselves. A task's own (suite `tools:`) come on top.
   */
  readonly tools?: readonly string[] | readonly (string | HostTool)[];
  /** Per sample: host tool calls before the agent is refused. */
  readonly toolLimit?: number;
  /** Refusals regenerated before one reaches the agent. @default 3 */
  readonly retryRefusals?: number;
  /** Record full model request and response bodies in events.jsonl. */
  readonly logModelBodies?: boolean;
  /** A JS/TS module exporting filter(request, ctx), or the function itself (defineFilter). */
  readonly filter?: string | RequestFilter;
  /** A YAML price table on top of the bundled one. */
  readonly prices?: string;
  /** OpenAI-compatible server for `openai/<model>`. @default $OPENAI_BASE_URL, else OpenAI */
  readonly openaiBaseUrl?: string;
  /** Which OpenAI API `openai/<model>` speaks upstream. @default 'chat' */
  readonly openaiApi?: 'chat' | 'responses';
  /** How agents are driven: their CLI once per attempt, or their ACP adapter, one session per sample. @default 'headless' */
  readonly driver?: 'headless' | 'acp';
  /**
   * Container runtime for the sandboxes of tasks that name none (`runsc` for gVisor, `crun`); one the provider does not
   * offer, or a task naming another (a suite's `runtime`), is refused before the run.
   */
  readonly runtime?: string;
  /**
   * A pool of Docker engines to run on, each `ADDRESS[,capacity=N][,certs=DIR]`
   * (`tcp://10.0.0.5:2376,capacity=8,certs=/etc/cagebench/b`); samples go to the engine with
   * the most free capacity, and one that stops answering is taken out. @default the one engine of $DOCKER_HOST
   */
  readonly engines?: readonly string[];
  /** Version of the agent's builds: stable, latest or X.Y.Z. @default 'stable' */
  readonly agentVersion?: string;
  /** Never download: agent builds must already be in the cache. @default $CAGEBENCH_OFFLINE=1 */
  readonly offline?: boolean;
}

/** What the run's model bridge needs; absent for agents that need no model. */
export interface BridgeConfig {
  readonly aliases: Readonly<Record<string, string>>;
  readonly limits: { readonly tokens?: number; readonly costUsd?: number; readonly requests?: number; readonly toolCalls?: number };
  readonly retryRefusals: number;
  readonly logBodies: boolean;
  readonly filter?: string | RequestFilter;
  readonly prices?: string;
  readonly openai: { readonly baseURL?: string; readonly api: 'chat' | 'responses' };
}

export interface ResolvedConfig {
  /** The configuration as given, absolute paths and agent name: what run.json records. */
  readonly record: RunConfigRecord;
  readonly paths: readonly string[];
  readonly tasks: readonly TaskDefinition[];
  readonly scorer?: ScorerFunction;
  /** The run's host tools: absolute file paths and tools given in code, loaded before the run (harness/tools/load.ts). */
  readonly tools: readonly (string | HostTool)[];
  readonly agent: string | AgentAdapter;
  readonly agentName: string;
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  readonly model?: string;
  readonly graderModel?: string;
  readonly epochs: number;
  readonly attempts?: number;
  readonly concurrency: number;
  readonly buildConcurrency: number;
  readonly cacheLevel: 'none' | 'base' | 'task';
  /** `diskBudget` in bytes. */
  readonly diskBudgetBytes?: number;
  readonly limit?: number;
  readonly task?: string;
  /** `--shard i/n`, parsed (1 ≤ index ≤ count). */
  readonly shard?: Shard;
  readonly out: string;
  readonly runId: string;
  readonly timeoutMultiplier: number;
  readonly retries: number;
  readonly maxErrors?: number;
  readonly engineGraceSec: number;
  readonly passEnv: readonly string[];
  readonly failUnder?: number;
  readonly continueMessage: string;
  readonly junit?: string;
  readonly ctrf?: string;
  readonly prComment?: string;
  /** With a baseline: what the finished run is compared with, and how. */
  readonly compare?: { readonly baseline: string; readonly options: CompareOptions };
  readonly bridge: BridgeConfig;
  readonly agentVersion: string;
  readonly offline: boolean;
  readonly driver: 'headless' | 'acp';
  /** The container runtime of the sandboxes of tasks that name none; the engine's default when absent. */
  readonly runtime?: string;
  /** `--engine`, parsed: the pool's members; absent for the one engine of $DOCKER_HOST. */
  readonly engines?: readonly EngineSpec[];
}

export const DEFAULT_CONTINUE_MESSAGE =
  'Your solution was checked and it is not correct yet. Keep working on the task, then stop when you are done.';


export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function resolveConfig(user: UserConfig): ResolvedConfig {
  // Code calling run() gets the same checks, and the same messages, as flags and config files.
  checkRunOptions(user, { file: 'run() options' });
  if (!user.paths?.length && !user.tasks?.length) {
    throw new ConfigError('Give tasks: task paths (Harbor task dirs, folders of them or suite .yaml files), or `tasks:` made with defineTask() in code.');
  }
  if (!user.agent) throw new ConfigError('Name the agent: --agent NAME, `agent:` in a config file, or `agent` in run() options.');
  const runId = user.runId ?? newRunId();
  const absolute = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p));
  const filter = typeof user.filter === 'string' ? resolve(user.filter) : user.filter;
  const { agent: _agent, out: _out, runId: _runId, junit: _junit, ctrf: _ctrf, prComment: _prComment, offline: _offline, scorer: _scorer, tasks: _tasks, filter: _filter, tools: _tools, ...recorded } = user;
  // What was given as code cannot be written to run.json: resume must be handed it again.
  const tools = (user.tools ?? []).map((t) => (typeof t === 'string' ? resolve(t) : t));
  const toolFiles = tools.filter((t): t is string => typeof t === 'string');
  const inline = [
    ...(['scorer', 'tasks', 'filter'] as const).filter((k) => (k === 'tasks' ? Boolean(user.tasks?.length) : user[k] !== undefined && typeof user[k] !== 'string')),
    ...(toolFiles.length < tools.length ? (['tools'] as const) : []),
  ];
  const agentOptions = withAbsoluteSkills(user.agentOptions);
  const paths = (user.paths ?? []).map((p) => resolve(p));
  const agentName = typeof user.agent === 'string' ? user.agent : user.agent.name;
  const engines = user.engines?.length ? parseEngines(user.engines) : undefined;
  return {
    record: {
      ...recorded,
      agent: agentName,
      paths,
      ...(typeof filter === 'string' ? { filter } : {}),
      ...(toolFiles.length ? { tools: toolFiles } : {}),
      prices: absolute(user.prices),
      baseline: absolute(user.baseline),
      ...(agentOptions ? { agentOptions } : {}),
      ...(inline.length ? { inline } : {}),
      ...(engines ? { engines: engines.map(formatEngine) } : {}),
    },
    paths,
    tasks: user.tasks ?? [],
    ...(user.scorer ? { scorer: user.scorer } : {}),
    tools,
    agent: user.agent,
    agentName,
    ...(agentOptions ? { agentOptions } : {}),
    model: user.model,
    ...(user.graderModel ? { graderModel: user.graderModel } : {}),
    epochs: user.epochs ?? 1,
    attempts: user.attempts,
    // A pool runs as many sandboxes as its engines hold, unless told otherwise.
    concurrency: user.concurrency ?? (engines ? engines.reduce((n, e) => n + e.capacity, 0) : 4),
    buildConcurrency: user.buildConcurrency ?? 2,
    cacheLevel: user.cacheLevel ?? 'task',
    ...(user.diskBudget !== undefined ? { diskBudgetBytes: parseSize(user.diskBudget, 'diskBudget (--disk-budget)') } : {}),
    limit: user.limit,
    task: user.task,
    ...(user.shard !== undefined ? { shard: parseShard(user.shard) } : {}),
    out: resolve(user.out ?? 'runs'),
    runId,
    timeoutMultiplier: user.timeoutMultiplier ?? 1,
    retries: user.retries ?? 2,
    maxErrors: user.maxErrors,
    engineGraceSec: user.engineGrace ?? 600,
    passEnv: user.passEnv ?? [],
    failUnder: user.failUnder,
    continueMessage: user.incorrectMessage ?? DEFAULT_CONTINUE_MESSAGE,
    junit: user.junit,
    ctrf: user.ctrf,
    prComment: user.prComment,
    ...(user.baseline ? { compare: { baseline: resolve(user.baseline), options: compareOptionsOf(user) } } : {}),
    agentVersion: user.agentVersion ?? 'stable',
    driver: user.driver ?? 'headless',
    ...(user.runtime ? { runtime: user.runtime } : {}),
    ...(engines ? { engines } : {}),
    offline: user.offline ?? process.env.CAGEBENCH_OFFLINE === '1',
    bridge: {
      aliases: user.modelAliases ?? {},
      limits: { tokens: user.tokenLimit, costUsd: user.costLimit, requests: user.requestLimit, toolCalls: user.toolLimit },
      retryRefusals: user.retryRefusals ?? 3,
      logBodies: user.logModelBodies ?? false,
      filter,
      prices: absolute(user.prices),
      openai: { baseURL: user.openaiBaseUrl, api: user.openaiApi ?? 'chat' },
    },
  };
}

/** Skill directories as absolute paths, so run.json (and a resume from elsewhere) finds them. */
function withAbsoluteSkills(options: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> | undefined {
  if (!options || !Array.isArray(options.skills)) return options;
  return { ...options, skills: options.skills.map((d: unknown) => (typeof d === 'string' ? resolve(d) : d)) };
}

/** The comparison settings of a run (the same options `cagebench compare` takes). */
export function compareOptionsOf(user: Pick<UserConfig, 'failDelta' | 'warnDelta' | 'minPairs' | 'maxErrorRate' | 'confidence' | 'interval' | 'bootstrapSamples' | 'seed'>): CompareOptions {
  const bootstrap = user.bootstrapSamples !== undefined || user.seed !== undefined ? { bootstrap: { samples: user.bootstrapSamples, seed: user.seed } } : {};
  return { failDelta: user.failDelta, warnDelta: user.warnDelta, minPairs: user.minPairs, maxErrorRate: user.maxErrorRate, confidence: user.confidence, interval: user.interval, ...bootstrap };
}
