// Run configuration: what a user (flags, a config file, or code) gives, and the resolved
// form the runner uses. All defaults and all validation live here, once.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AgentAdapter } from '../agents/index.ts';
import { ConfigError } from './errors.ts';
import type { RunConfigRecord } from './log/schema.ts';

export interface UserConfig {
  /** Harbor task dirs, folders of them, or suite YAML files. */
  readonly paths: readonly string[];
  /** An agent name (`oracle`, `nop`, ...) or an adapter object (programmatic use). */
  readonly agent: string | AgentAdapter;
  /** The agent's options (`system_prompt`, `disallowed_tools`, `mcp_servers`, ...); see agents/options.ts. */
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  /** `provider/model`; only agents that need a model use it. */
  readonly model?: string;
  /** Samples per task. @default 1 */
  readonly epochs?: number;
  /** Attempts per sample (the agent continues after an incorrect one). @default the task's, else 1 */
  readonly attempts?: number;
  /** Live sandboxes at once. @default 4 */
  readonly concurrency?: number;
  /** Image builds at once. @default 2 */
  readonly buildConcurrency?: number;
  /** Run only the first N tasks. */
  readonly limit?: number;
  /** Only tasks whose id matches this glob. */
  readonly task?: string;
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
  readonly engineGraceSec?: number;
  /**
   * Host environment variables a task may read through `${NAME}` in its env tables (Harbor
   * resolves those from the host). Only these names are passed; the values are never recorded.
   */
  readonly passEnv?: readonly string[];
  /** Exit 1 when the mean score is below this. */
  readonly failUnder?: number;
  /** Sent to the agent after an incorrect attempt. */
  readonly continueMessage?: string;
  /** Write JUnit XML here. */
  readonly junit?: string;
  /** Model names an agent sends → `provider/model`. */
  readonly modelAliases?: Readonly<Record<string, string>>;
  /** Per sample: tokens (input + output) before the agent is refused. */
  readonly tokenLimit?: number;
  /** Per sample: USD before the agent is refused. */
  readonly costLimit?: number;
  /** Per sample: model calls before the agent is refused. */
  readonly requestLimit?: number;
  /** Refusals regenerated before one reaches the agent. @default 3 */
  readonly retryRefusals?: number;
  /** Record full model request and response bodies in events.jsonl. */
  readonly logModelBodies?: boolean;
  /** A JS/TS module exporting filter(request, ctx). */
  readonly filter?: string;
  /** A YAML price table on top of the bundled one. */
  readonly prices?: string;
  /** OpenAI-compatible server for `openai/<model>`. @default $OPENAI_BASE_URL, else OpenAI */
  readonly openaiBaseUrl?: string;
  /** Which OpenAI API `openai/<model>` speaks upstream. @default 'chat' */
  readonly openaiApi?: 'chat' | 'responses';
  /** Version of the agent's builds: stable, latest or X.Y.Z. @default 'stable' */
  readonly agentVersion?: string;
  /** Never download: agent builds must already be in the cache. @default $CAGEBENCH_OFFLINE=1 */
  readonly offline?: boolean;
}

/** What the run's model bridge needs; absent for agents that need no model. */
export interface BridgeConfig {
  readonly aliases: Readonly<Record<string, string>>;
  readonly limits: { readonly tokens?: number; readonly costUsd?: number; readonly requests?: number };
  readonly retryRefusals: number;
  readonly logBodies: boolean;
  readonly filter?: string;
  readonly prices?: string;
  readonly openai: { readonly baseURL?: string; readonly api: 'chat' | 'responses' };
}

export interface ResolvedConfig {
  /** The configuration as given, absolute paths and agent name: what run.json records. */
  readonly record: RunConfigRecord;
  readonly paths: readonly string[];
  readonly agent: string | AgentAdapter;
  readonly agentName: string;
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  readonly model?: string;
  readonly epochs: number;
  readonly attempts?: number;
  readonly concurrency: number;
  readonly buildConcurrency: number;
  readonly limit?: number;
  readonly task?: string;
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
  readonly bridge: BridgeConfig;
  readonly agentVersion: string;
  readonly offline: boolean;
}

export const DEFAULT_CONTINUE_MESSAGE =
  'Your solution was checked and it is not correct yet. Keep working on the task, then stop when you are done.';

/** Identity, for typed config files. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function resolveConfig(user: UserConfig): ResolvedConfig {
  const problems: string[] = [];
  const int = (flag: string, value: number | undefined, min: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min) problems.push(`${flag} must be an integer >= ${min} (got ${value})`);
    return value;
  };
  if (!user.paths.length) problems.push('give at least one task path (a Harbor task dir, a folder of them, or a suite .yaml)');
  const epochs = int('--epochs', user.epochs, 1) ?? 1;
  const attempts = int('--attempts', user.attempts, 1);
  const concurrency = int('--concurrency', user.concurrency, 1) ?? 4;
  const buildConcurrency = int('buildConcurrency', user.buildConcurrency, 1) ?? 2;
  const limit = int('--limit', user.limit, 1);
  const retries = int('--retries', user.retries, 0) ?? 2;
  const maxErrors = int('--max-errors', user.maxErrors, 0);
  const engineGraceSec = user.engineGraceSec ?? 600;
  if (!(engineGraceSec >= 0) || !Number.isFinite(engineGraceSec)) problems.push(`--engine-grace must be a number of seconds >= 0 (got ${engineGraceSec})`);
  for (const name of user.passEnv ?? []) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`--pass-env takes a variable name (letters, digits and _; got "${name}")`);
  const timeoutMultiplier = user.timeoutMultiplier ?? 1;
  if (!(timeoutMultiplier > 0) || !Number.isFinite(timeoutMultiplier)) problems.push(`--timeout-multiplier must be a number > 0 (got ${timeoutMultiplier})`);
  if (user.failUnder !== undefined && !(user.failUnder >= 0 && user.failUnder <= 1)) problems.push(`--fail-under must be a score between 0 and 1 (got ${user.failUnder})`);
  const runId = user.runId ?? newRunId();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) problems.push(`--run-id may hold letters, digits, '.', '_' and '-' only (got "${runId}")`);
  const route = /^[^/\s]+\/\S+$/;
  if (user.model !== undefined && !route.test(user.model)) problems.push(`--model must look like provider/model, e.g. mock/echo (got "${user.model}")`);
  for (const [name, target] of Object.entries(user.modelAliases ?? {})) {
    if (!route.test(target)) problems.push(`--model-alias ${name}=${target}: the target must look like provider/model`);
  }
  int('--token-limit', user.tokenLimit, 1);
  int('--request-limit', user.requestLimit, 1);
  int('--retry-refusals', user.retryRefusals, 0);
  if (user.openaiApi !== undefined && !['chat', 'responses'].includes(user.openaiApi)) problems.push(`--openai-api must be chat or responses (got "${user.openaiApi}")`);
  if (user.costLimit !== undefined && !(user.costLimit > 0)) problems.push(`--cost-limit must be USD > 0 (got ${user.costLimit})`);
  if (problems.length) throw new ConfigError(problems.join('\n'));
  const absolute = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p));
  const { agent: _agent, out: _out, runId: _runId, junit: _junit, offline: _offline, ...recorded } = user;
  const agentOptions = withAbsoluteSkills(user.agentOptions);
  return {
    record: {
      ...recorded,
      agent: typeof user.agent === 'string' ? user.agent : user.agent.name,
      paths: user.paths.map((p) => resolve(p)),
      filter: absolute(user.filter),
      prices: absolute(user.prices),
      ...(agentOptions ? { agentOptions } : {}),
    },
    paths: user.paths.map((p) => resolve(p)),
    agent: user.agent,
    agentName: typeof user.agent === 'string' ? user.agent : user.agent.name,
    ...(agentOptions ? { agentOptions } : {}),
    model: user.model,
    epochs,
    attempts,
    concurrency,
    buildConcurrency,
    limit,
    task: user.task,
    out: resolve(user.out ?? 'runs'),
    runId,
    timeoutMultiplier,
    retries,
    maxErrors,
    engineGraceSec,
    passEnv: user.passEnv ?? [],
    failUnder: user.failUnder,
    continueMessage: user.continueMessage ?? DEFAULT_CONTINUE_MESSAGE,
    junit: user.junit,
    agentVersion: user.agentVersion ?? 'stable',
    offline: user.offline ?? process.env.CAGEBENCH_OFFLINE === '1',
    bridge: {
      aliases: user.modelAliases ?? {},
      limits: { tokens: user.tokenLimit, costUsd: user.costLimit, requests: user.requestLimit },
      retryRefusals: user.retryRefusals ?? 3,
      logBodies: user.logModelBodies ?? false,
      filter: absolute(user.filter),
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
