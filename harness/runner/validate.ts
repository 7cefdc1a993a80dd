// Checks of what a run names (task selection, files, the run directory to resume), made
// before anything is written: a bad input must cost nothing and leave no run directory behind.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { AgentAdapter } from '../../agents/index.ts';
import { capabilityProblems, type ProviderCapabilities, type SandboxNeeds, type SandboxProvider } from '../../sandboxes/index.ts';
import { loadTasks, type Task } from '../../tasks/index.ts';
import { loadFilter } from '../bridge/index.ts';
import { tasksFromDefinitions, type TaskDefinition } from '../define.ts';
import type { ResolvedConfig } from '../config.ts';
import { loadArm } from '../compare/arm.ts';
import { ConfigError } from '../errors.ts';
import { LOG_VERSION, type RunRecord } from '../log/schema.ts';
import { HARNESS_VERSION } from '../version.ts';
import { graderProblems } from './grader.ts';


/**
 * What one task's samples ask of the provider: the network `sandboxSpec` gives them (the
 * outside world, the bridge alone for an agent with a model, or nothing), their limits, a
 * build when the environment is only a Dockerfile, and their container runtime (the task's
 * own, else the run's `runtime`).
 */
export function taskNeeds(task: Task, agent: Pick<AgentAdapter, 'needsModel'>, runtime?: string): SandboxNeeds {
  const { environment } = task;
  const effective = environment.runtime ?? runtime;
  return {
    network: environment.network === 'bridge' ? 'bridge' : agent.needsModel ? 'model-only' : 'none',
    limits: { cpus: environment.cpus, memoryMb: environment.memoryMb },
    dockerfileBuild: !('image' in environment.source),
    ...(effective ? { runtime: effective } : {}),
  };
}

/**
 * Tasks that name a container runtime other than the run's, one line each. The run's
 * `runtime` applies to tasks that name none; a task is never run under another than its own.
 */
export function runtimeConflicts(tasks: readonly Task[], runtime: string | undefined): string[] {
  if (!runtime) return [];
  return tasks.flatMap((task) => {
    const own = task.environment.runtime;
    return own !== undefined && own !== runtime ? [`${task.id} (${task.origin}) asks for the container runtime "${own}"; the run's is "${runtime}"`] : [];
  });
}

/** Every way a task asks more of the provider than its capabilities offer, one line each naming the task. */
export function providerProblems(tasks: readonly Task[], capabilities: ProviderCapabilities, agent: Pick<AgentAdapter, 'needsModel'>, runtime?: string): string[] {
  return tasks.flatMap((task) => capabilityProblems(taskNeeds(task, agent, runtime), capabilities).map((problem) => `${task.id}: ${problem}`));
}

/**
 * Before run.json: a task the provider cannot run as asked stops the run (exit 2), naming
 * the task, what it asks and what the provider offers. Never run with a weaker policy.
 */
export function checkProviderFits(tasks: readonly Task[], provider: SandboxProvider, agent: Pick<AgentAdapter, 'needsModel'>, runtime?: string): void {
  // A task is never run under another runtime than the one it names: refused, whatever the provider offers.
  const conflicts = runtimeConflicts(tasks, runtime);
  if (conflicts.length) {
    const theirs = [...new Set(tasks.flatMap((t) => (t.environment.runtime !== undefined && t.environment.runtime !== runtime ? [t.environment.runtime] : [])))];
    throw new ConfigError(
      `${conflicts.length === 1 ? 'A task names' : `${conflicts.length} tasks name`} another container runtime than the run's (--runtime ${runtime}):\n  ${conflicts.join('\n  ')}\n` +
        `A task never runs under another runtime than its own. Drop --runtime (it applies only to tasks that name no runtime)` +
        `${theirs.length === 1 ? `, give --runtime ${theirs[0]}` : ''}, or leave ${conflicts.length === 1 ? 'the task' : 'these tasks'} out with --task.`,
    );
  }
  const problems = providerProblems(tasks, provider.capabilities, agent, runtime);
  if (!problems.length) return;
  throw new ConfigError(
    `${problems.length === 1 ? 'A task asks' : 'Tasks ask'} for more than the sandbox provider "${provider.name}" (${provider.location}) offers${problems.length === 1 ? '' : ` (${problems.length} problems)`}:\n  ${problems.join('\n  ')}\n` +
      `Run these tasks on a provider that offers it, or leave them out with --task.`,
  );
}

/** The files a run names and what its agent needs, checked before anything is written. */
export async function checkRunInputs(config: ResolvedConfig, agent: AgentAdapter): Promise<void> {
  if (agent.needsModel && !config.model) {
    throw new ConfigError(`Agent ${agent.name} needs a model: give --model provider/model (e.g. --model mock/echo, openai/gpt-5, anthropic/claude-sonnet-4-5).`);
  }
  const version = versionSpecProblem('--agent-version', config.agentVersion);
  if (version) throw new ConfigError(`${version}.`);
  if (config.junit) await checkOutputPath('--junit', config.junit, 'junit.xml');
  if (config.ctrf) await checkOutputPath('--ctrf', config.ctrf, 'ctrf.json');
  if (config.prComment) await checkOutputPath('--pr-comment', config.prComment, 'comment.md');
  // A baseline that cannot be read fails now, not after the whole run.
  if (config.compare) await loadArm(config.compare.baseline);
  if (config.bridge.prices) await checkPricesFile(config.bridge.prices);
  // The bridge loads it again later; the module cache makes that second import free.
  if (config.bridge.filter) await loadFilter(config.bridge.filter);
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const RELEASE_LINE = /^\d+\.x$/;
/** Codex lists each platform's build as a version of its own (0.169.0-linux-x64); never an agent version. */
const PLATFORM_SUFFIX = /-(linux|darwin|win32|freebsd|android|alpine)(-|$)/;

/**
 * Why `spec` is not an agent version cagebench knows, or undefined when it is. Checked by
 * syntax before a run starts: the registry would otherwise take an unknown tag (`nightly`)
 * for a missing dist-tag and quietly fall back to the newest release, with only a warning.
 * `auto` and `sandbox` look in the sandbox, so only a run takes them (`inSandbox`).
 */
export function versionSpecProblem(flag: string, spec: string, options: { readonly inSandbox?: boolean } = { inSandbox: true }): string | undefined {
  const forms = `stable, latest, an exact version X.Y.Z (e.g. 2.1.3), a release line N.x${options.inSandbox ? ', auto or sandbox' : ''}`;
  if (spec === 'stable' || spec === 'latest' || RELEASE_LINE.test(spec)) return undefined;
  if (spec === 'auto' || spec === 'sandbox') return options.inSandbox ? undefined : `${flag} ${spec} is only for runs (it looks in the sandbox); here use ${forms}`;
  if (EXACT_VERSION.test(spec)) {
    return PLATFORM_SUFFIX.test(spec) ? `${flag} ${spec} is the version of one platform's build, not an agent version; ask for ${spec.replace(/^v/, '').replace(/-.*$/, '')}` : undefined;
  }
  return `${flag} "${spec}" is not a version cagebench knows: use ${forms}`;
}

/**
 * Before run.json: every model_graded scorer has a grader model (its own or --grader-model)
 * from a provider cagebench knows. A run's own scorer (code) replaces the tasks', so then none is needed.
 */
export function checkGraders(tasks: readonly Task[], config: Pick<ResolvedConfig, 'graderModel' | 'scorer'>): void {
  if (config.scorer) return;
  const problems = graderProblems(tasks, config.graderModel);
  if (!problems.length) return;
  throw new ConfigError(
    `${problems.length === 1 ? 'A model-graded task has' : 'Model-graded tasks have'} no usable grader model:\n  ${problems.join('\n  ')}\n` +
      'Give the run --grader-model provider/model (or `grader_model:` in a config file), or set `model:` on the scorer.',
  );
}

/** How many existing task ids an error about `--task` shows. */
const SHOWN_IDS = 5;

/**
 * The tasks at `paths` whose id matches `filter`. Matching none is an error that shows ids
 * that do exist: an empty selection would otherwise pass for a run (or a check) of nothing.
 */
export async function loadSelectedTasks(paths: readonly string[], filter: string | undefined, defined: readonly TaskDefinition[] = []): Promise<Task[]> {
  const extra = await tasksFromDefinitions(defined);
  const tasks = await loadTasks([...paths], { filter, extra });
  if (tasks.length) return tasks;
  const where = [...paths, ...(defined.length ? ['the tasks defined in code'] : [])].join(' ');
  if (filter === undefined) throw new ConfigError(`No tasks in ${where}. Give Harbor task dirs, folders of them, or suite .yaml files.`);
  // Unfiltered, the load may fail on a task the filter skipped; then show no ids rather than that error.
  const all = await loadTasks([...paths], { extra }).catch(() => [] as Task[]);
  const ids = all.map((t) => t.id);
  const shown = ids.length > SHOWN_IDS ? `${ids.slice(0, SHOWN_IDS).join(', ')} and ${ids.length - SHOWN_IDS} more` : ids.join(', ');
  throw new ConfigError(
    `--task '${filter}' matches no task in ${where}${ids.length ? ` (its tasks: ${shown})` : ''}. ` +
      `The glob must match a whole id, e.g. --task '${(ids[0] ?? 'hello').slice(0, 3)}*'.`,
  );
}

/** `--junit FILE` is written after the run: its directory must exist and take a file now. */
/** A report file the run will write (`--junit`, `--ctrf`, `--pr-comment`): its directory must exist and be writable. */
export async function checkOutputPath(flag: string, file: string, example: string): Promise<void> {
  const path = resolve(file);
  const dir = dirname(path);
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new ConfigError(`${flag} ${file}: the directory ${dir} does not exist. Create it first (mkdir -p ${dir}) or give another path.`);
  if (!info.isDirectory()) throw new ConfigError(`${flag} ${file}: ${dir} is not a directory. Give a path inside a directory.`);
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    throw new ConfigError(`${flag} ${file} is a directory. Give a file path, e.g. ${flag} ${join(file, example)}.`);
  }
  await access(dir, constants.W_OK).catch(() => {
    throw new ConfigError(`${flag} ${file}: cannot write in ${dir}. Give a path in a directory you can write to.`);
  });
}

const PRICE_KEYS = ['input', 'output', 'cache_read', 'cache_write'] as const;

/**
 * `--prices FILE`: a YAML map of model prefix → {input, output, cache_read?, cache_write?} in
 * USD per million tokens. Checked here so that neither a run nor `bridge serve` starts with
 * a table the bridge would reject.
 */
export async function checkPricesFile(file: string): Promise<void> {
  const path = resolve(file);
  const shape = 'a YAML map of model: {input: USD, output: USD} per million tokens';
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`--prices ${path} ${err.code === 'ENOENT' ? 'does not exist' : `cannot be read (${err.code ?? err.message})`}. Give ${shape}.`);
  });
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) throw new ConfigError(`--prices ${path}: invalid YAML (${doc.errors[0]!.message.split('\n')[0]}). Give ${shape}.`);
  const table: unknown = doc.toJS();
  if (table === null || table === undefined) return; // an empty file adds no prices
  if (typeof table !== 'object' || Array.isArray(table)) throw new ConfigError(`--prices ${path}: expected ${shape}, found ${Array.isArray(table) ? 'a list' : `"${String(table)}"`}.`);
  for (const [model, price] of Object.entries(table as Record<string, unknown>)) {
    const entry = (price ?? {}) as Record<string, unknown>;
    for (const key of PRICE_KEYS) {
      const value = entry[key];
      const required = key === 'input' || key === 'output';
      if ((value === undefined && !required) || (typeof value === 'number' && value >= 0)) continue;
      throw new ConfigError(`--prices ${path}: ${model}.${key} must be a price in USD per million tokens >= 0 (got ${JSON.stringify(value) ?? 'nothing'}).`);
    }
  }
}

/**
 * The run.json of a run to resume, checked: a directory that is a run, a record that parses,
 * and a format this cagebench reads.
 */
export async function readRunRecord(runDir: string): Promise<RunRecord> {
  const info = await stat(runDir).catch(() => undefined);
  const give = `Give the run directory 'cagebench run' printed (it holds run.json)`;
  if (!info) throw new ConfigError(`${runDir} does not exist. ${give}.`);
  if (!info.isDirectory()) {
    throw new ConfigError(`${runDir} is a file, not a run directory. ${give}${basename(runDir) === 'run.json' ? `: ${dirname(runDir)}` : ''}.`);
  }
  const path = join(runDir, 'run.json');
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ConfigError(`${runDir} is not a cagebench run directory (no run.json). ${give}.`);
    throw new ConfigError(`${path} cannot be read (${err.code ?? err.message}).`);
  });
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON (${(err as Error).message}): it is damaged or truncated, so this run cannot be resumed. Start a new run.`);
  }
  const r = (record ?? {}) as Partial<RunRecord>;
  if (typeof record !== 'object' || Array.isArray(record) || typeof r.version !== 'number') {
    throw new ConfigError(`${path} is not a cagebench run record (no format version). ${give}.`);
  }
  if (r.version !== LOG_VERSION) {
    const by = r.harness?.version ? `cagebench ${r.harness.version}` : 'the cagebench that started it';
    throw new ConfigError(`${path} is run format version ${r.version}; cagebench ${HARNESS_VERSION} reads version ${LOG_VERSION}. Resume it with ${by}, or start a new run.`);
  }
  if (typeof r.runId !== 'string' || typeof r.config !== 'object' || !Array.isArray(r.tasks)) {
    throw new ConfigError(`${path} is not a complete run record (runId, config or tasks missing). Start a new run.`);
  }
  return record as RunRecord;
}
