// A run: load tasks, write run.json, run every sample not yet done through bounded pools,
// and write summary.json. `resume` re-enters the same path for an existing run directory.
// Interrupts (an aborted signal) stop new samples, tear down live sandboxes and keep every
// finished result.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { createAgent, type AgentAdapter } from '../../agents/index.ts';
import { createDockerProvider, DockerProvider, ProviderPool, type SandboxProvider } from '../../sandboxes/index.ts';
import { RunImages, type ImagesSummary } from '../images/run-images.ts';
import { summarize } from '../../scorers/index.ts';
import { loadTasks, type Task } from '../../tasks/index.ts';
import { resolveConfig, type ResolvedConfig, type UserConfig } from '../config.ts';
import { tasksFromDefinitions, type ScorerFunction, type TaskDefinition } from '../define.ts';
import type { RequestFilter } from '../bridge/session.ts';
import { ConfigError } from '../errors.ts';
import { writeCiOutputs } from '../report/ci/outputs.ts';
import { createBridge, loadFilter } from '../bridge/index.ts';
import { LOG_VERSION, type ErrorRecord, type ModelUsageRecord, type ResultRecord, type RunRecord, type RunStatus, type ShardRecord, type SummaryRecord, type ToolCallsRecord } from '../log/schema.ts';
import { sumUsage } from '../log/usage.ts';
import { runRecordHead, taskRefs } from '../log/run-record.ts';
import { moveToHistory, writeJsonAtomic } from '../log/writer.ts';
import { planSamples, sampleState, type Sample } from './plan.ts';
import { shardLine, shardTasks } from './shard.ts';
import type { RunReporter } from './reporter.ts';
import { prebuild, runTrial, trialSpec } from './trial.ts';
import { SandboxSlots, START_AHEAD, StartedAhead } from './start-ahead.ts';
import { prepareBuilds } from './builds.ts';
import { checkGraders, checkProviderFits, checkRunInputs, loadSelectedTasks, readRunRecord } from './validate.ts';
import { graderClientOf, needsGrader } from './grader.ts';
import { withHostEnv } from './host-env.ts';
import { loadRunTools, type RunTools } from '../tools/load.ts';
import type { HostTool } from '../tools/define.ts';
import { preflight } from './preflight.ts';
import { acpAgent } from '../session/acp-agent.ts';
import { EngineBreaker } from './engine-breaker.ts';
import { compareWithBaseline, gateRun } from './gate.ts';
import { openEnginePool } from './engines.ts';
import type { Comparison } from '../compare/compare.ts';


export interface RunOptions {
  readonly reporter?: RunReporter;
  /** Abort to interrupt: no new samples, live sandboxes torn down, finished results kept. */
  readonly signal?: AbortSignal;
  /** Run again the samples whose result is an infra error (resume). @default true */
  readonly retryErrors?: boolean;
  /**
   * Where sandboxes run: a provider, or a function making one. The run owns it: it is closed
   * when the run ends (or is interrupted, which stops its live sandboxes). A task asking for
   * what it cannot do (`capabilities`) stops the run before run.json is written.
   * @default the local Docker engine ($DOCKER_HOST or the default socket)
   */
  readonly provider?: SandboxProvider | (() => Promise<SandboxProvider>);
}

/** The run's provider: the caller's, the pool of `--engine`s, or the local Docker engine's (each checked to answer). */
export async function openProvider(options: Pick<RunOptions, 'provider' | 'reporter'>, config?: Pick<ResolvedConfig, 'engines'>): Promise<SandboxProvider> {
  const given = options.provider;
  if (given === undefined) return config?.engines ? openEnginePool(config.engines, { note: (line) => options.reporter?.onNote?.(line) }) : createDockerProvider();
  return typeof given === 'function' ? given() : given;
}

/** Close it, and let go of its exit handlers when it has any (`Symbol.asyncDispose`). */
export function disposeProvider(provider: SandboxProvider): Promise<void> {
  const dispose = (provider as Partial<AsyncDisposable>)[Symbol.asyncDispose];
  return dispose ? Promise.resolve(dispose.call(provider)) : provider.close();
}

/** Run `body` with the provider; close it when `body` throws (before the run owns it). */
async function closingOnError<T>(provider: SandboxProvider, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await disposeProvider(provider).catch(() => undefined);
    throw err;
  }
}

export interface RunOutcome {
  readonly runDir: string;
  readonly summary: SummaryRecord;
  /** See harness/exit-codes.ts: 0 ok, 1 under --fail-under or compare FAIL, 4 sample errors, 5 compare WARN, 6 compare INVALID, 75 engine lost, 130 interrupted. */
  readonly exitCode: number;
  readonly reasons: readonly string[];
  /** With a baseline: the paired comparison that decided the exit code (also in compare.json). */
  readonly comparison?: Comparison;
}

export async function run(user: UserConfig, options: RunOptions = {}): Promise<RunOutcome> {
  // Every input is checked before the run directory exists: a bad one leaves nothing behind.
  const config = resolveConfig(user);
  const agent = agentOf(config);
  await checkRunInputs(config, agent);
  const selected = selectTasks(await loadSelectedTasks(config.paths, config.task, config.tasks), config);
  // --shard i/n: this shard's tasks, dealt from the whole selection (harness/runner/shard.ts).
  const sharded = config.shard ? shardTasks(selected, config.shard) : undefined;
  const loaded = sharded?.tasks ?? selected;
  // Before run.json: a task that needs a host variable the run does not pass never starts.
  const tasks = withHostEnv(loaded, config);
  // Host tools load before anything starts: a bad tools file fails the run here.
  const tools = await loadRunTools(config.tools, tasks);
  checkGraders(tasks, config);
  const runDir = join(config.out, config.runId);
  if (existsSync(join(runDir, 'run.json'))) {
    throw new ConfigError(`Run directory ${runDir} already holds a run. Finish it with 'cagebench resume ${runDir}', or choose another --run-id.`);
  }
  // A malformed DOCKER_HOST or an engine that does not answer fails here, before run.json;
  // so does a task asking for what the provider cannot do.
  const provider = await openProvider(options, config);
  return closingOnError(provider, async () => {
    checkProviderFits(tasks, provider, agent, config.runtime);
    await mkdir(runDir, { recursive: true });
    const record: RunRecord = {
      ...runRecordHead(config.runId),
      config: config.record,
      ...(tools.run.length ? { toolNames: tools.run.map((t) => t.name) } : {}),
      tasks: taskRefs(tasks),
      ...(sharded ? { shard: sharded.record } : {}),
    };
    await writeJsonAtomic(join(runDir, 'run.json'), record);
    return execute(config, agent, tasks, runDir, provider, options, tools, record.shard);
  });
}

export interface ResumeOverrides {
  /** Never download agent builds. */
  readonly offline?: boolean;
  /** The adapter object, when the run was started programmatically with one. */
  readonly agent?: AgentAdapter;
  readonly concurrency?: number;
  /** Another pool of engines than the run's (`--engine`): one that is gone for good left out, one added. */
  readonly engines?: readonly string[];
  readonly junit?: string;
  readonly ctrf?: string;
  readonly prComment?: string;
  /** What the run was given as code, given again: run.json cannot hold functions. */
  readonly scorer?: ScorerFunction;
  readonly tasks?: readonly TaskDefinition[];
  readonly filter?: RequestFilter;
  /** Host tools given in code (run.json holds only tools files). */
  readonly tools?: readonly HostTool[];
}

/** Finish a run: samples with a result.json are skipped; changed tasks are refused. */
export async function resume(runDir: string, options: RunOptions & ResumeOverrides = {}): Promise<RunOutcome> {
  const record = await readRunRecord(runDir);
  // A person worked it: there is nothing a headless agent could finish.
  if (record.mode === 'centaur') throw new ConfigError(`${runDir} is a centaur run (cagebench centaur): it cannot be resumed; start another with cagebench centaur.`);
  // Earlier versions wrote continueMessage and engineGraceSec.
  const { continueMessage, engineGraceSec, inline, ...c } = record.config;
  const missing = (inline ?? []).filter((key) => options[key] === undefined);
  if (missing.length) {
    throw new ConfigError(`${runDir} was started with ${missing.join(', ')} given in code, which run.json cannot hold: resume it from code with resume(dir, { ${missing.join(', ')} }).`);
  }
  const config = resolveConfig({
    ...c,
    ...(c.incorrectMessage === undefined && continueMessage !== undefined && { incorrectMessage: continueMessage }),
    ...(c.engineGrace === undefined && engineGraceSec !== undefined && { engineGrace: engineGraceSec }),
    ...(options.scorer && { scorer: options.scorer }),
    ...(options.tasks && { tasks: options.tasks }),
    ...(options.filter && { filter: options.filter }),
    ...(options.tools && { tools: [...(c.tools ?? []), ...options.tools] }),
    agent: options.agent ?? c.agent,
    concurrency: options.concurrency ?? (options.engines ? undefined : c.concurrency),
    engines: options.engines ?? c.engines,
    out: join(runDir, '..'),
    runId: record.runId,
    junit: options.junit,
    ctrf: options.ctrf,
    prComment: options.prComment,
    offline: options.offline,
  });

  const agent = agentOf(config);
  await checkRunInputs(config, agent);
  const loaded = await loadTasks([...config.paths], { filter: config.task, extra: await tasksFromDefinitions(config.tasks) });
  const byId = new Map(loaded.map((t) => [t.id, t]));
  const changed = record.tasks.flatMap((ref) => {
    const now = byId.get(ref.id);
    if (!now) return [`${ref.id}: no longer found (was ${ref.origin})`];
    return now.digest === ref.digest ? [] : [`${ref.id}: changed since the run started (${now.origin})`];
  });
  if (changed.length) {
    throw new ConfigError(
      `Cannot resume ${runDir}: its tasks changed, so old and new results would not be comparable.\n  ${changed.join('\n  ')}\n` +
        `Restore the tasks, or start a new run.`,
    );
  }
  const tasks = withHostEnv(record.tasks.map((ref) => byId.get(ref.id)!), config);
  const tools = await loadRunTools(config.tools, tasks);
  checkGraders(tasks, config);
  const provider = await openProvider(options, config);
  return closingOnError(provider, async () => {
    checkProviderFits(tasks, provider, agent, config.runtime);
    // A killed process leaves its sandboxes behind: remove them before going on.
    await provider.sweep?.(record.runId);
    // A shard stays that shard: run.json's tasks are its own.
    return execute(config, agent, tasks, runDir, provider, options, tools, record.shard);
  });
}

/**
 * The samples still to run. A result that ended in an infra error (when `retryErrors`) or a
 * result.json that cannot be read is moved to history/ first, so nothing is lost.
 */
async function samplesToRun(all: readonly Sample[], runDir: string, options: { retryErrors: boolean; note: (line: string) => void }): Promise<Sample[]> {
  const todo: Sample[] = [];
  let infra = 0;
  for (const sample of all) {
    const found = await sampleState(runDir, sample);
    if (found.state === 'done' && !(options.retryErrors && found.result.outcome === 'error' && found.result.error?.kind === 'infra')) continue;
    if (found.state !== 'todo') {
      const kept = await moveToHistory(runDir, sample.id);
      if (found.state === 'unreadable') options.note(`${found.path} cannot be read (${found.reason}): ${sample.id} runs again; the old directory is kept as ${kept}`);
      else infra++;
    }
    todo.push(sample);
  }
  if (infra) options.note(`${infra} sample(s) that ended in an infra error run again; their earlier tries are kept under history/ (--no-retry-errors keeps them as they are)`);
  return todo;
}

/** The run's agent: by name or as given, driven through its ACP adapter with `--driver acp`. */
function agentOf(config: ResolvedConfig): AgentAdapter {
  const agent = typeof config.agent === 'string' ? createAgent(config.agent, config.agentOptions) : config.agent;
  return config.driver === 'acp' ? acpAgent(agent) : agent;
}

function selectTasks(tasks: Task[], config: ResolvedConfig): Task[] {
  return config.limit === undefined ? tasks : tasks.slice(0, config.limit);
}

/** Run the samples not yet done, on the provider the caller opened (and checked) already; closes it. */
async function execute(config: ResolvedConfig, agent: AgentAdapter, tasks: readonly Task[], runDir: string, provider: SandboxProvider, options: RunOptions, tools: RunTools, shard?: ShardRecord): Promise<RunOutcome> {
  const reporter = options.reporter ?? {};
  const startedAt = new Date();
  const all = planSamples(tasks, config.epochs);
  const todo = await samplesToRun(all, runDir, { retryErrors: options.retryErrors ?? true, note: (line) => reporter.onNote?.(line) });
  reporter.onRunStart?.({ runId: config.runId, runDir, agent: agent.name, tasks: tasks.length, total: all.length, alreadyDone: all.length - todo.length });
  if (shard) reporter.onNote?.(shardLine(shard, tasks.length));
  if (!agent.needsModel && (tools.run.length || tasks.some((t) => t.tools?.length))) reporter.onNote?.(`host tools are not served: ${agent.name} takes no model, so nothing would call them`);
  // A shard that was dealt no task is an empty run: nothing to score, compare or gate.
  const emptyShard = shard !== undefined && all.length === 0;

  // The provider before the bridge: a failure in between must not leave a server open.
  const filter = agent.needsModel && config.bridge.filter ? await loadFilter(config.bridge.filter).catch(async (err: unknown) => {
    await disposeProvider(provider);
    throw err;
  }) : undefined;
  // One bridge per run. Model-only sandboxes reach it through their relay, which connects to
  // the host's address on the engine's default bridge: so it listens on every address, and
  // only a live sample's token gets an answer.
  const bridge = agent.needsModel && todo.length
    ? await createBridge({
        host: '0.0.0.0',
        retryRefusals: config.bridge.retryRefusals,
        logBodies: config.bridge.logBodies,
        pricesFile: config.bridge.prices,
        openai: config.bridge.openai,
      }).catch(async (err: unknown) => {
        await disposeProvider(provider);
        throw err;
      })
    : undefined;
  // The agent's builds are fetched once, before any sample, and kept from eviction meanwhile.
  const builds = agent.builds?.length && todo.length
    ? await prepareBuilds(agent.builds, { version: config.agentVersion, offline: config.offline, provider, log: (line) => process.stderr.write(`cagebench: ${line}\n`) }).catch(async (err: unknown) => {
        await disposeProvider(provider);
        await bridge?.close();
        throw err;
      })
    : undefined;
  const pools = { builds: pLimit(config.buildConcurrency), scoring: pLimit(config.concurrency) };
  // Grader models for model_graded scorers: the run's providers, accounted apart from the agent's.
  const grader = needsGrader(tasks) && !config.scorer ? graderClientOf(config) : undefined;
  // Task images on Docker: labelled, their use recorded, removed per --cache-level and --disk-budget.
  const images = provider instanceof DockerProvider
    ? await RunImages.create({ engine: provider.engine, store: provider.images, runId: config.runId, cacheLevel: config.cacheLevel, budgetBytes: config.diskBudgetBytes, tasks: todo.map((s) => s.task), note: (line) => reporter.onNote?.(line) })
    : undefined;
  let imageCounts: ImagesSummary | undefined;
  if (builds) {
    await preflight({
      provider,
      agent,
      builds,
      runId: config.runId,
      tasks: [...new Map(todo.map((s) => [s.task.id, s.task])).values()],
      build: async (task) => {
        if (images) await images.prebuild(task, { buildTimeoutMs: Math.round(task.environment.buildTimeoutSec * config.timeoutMultiplier * 1000), pool: pools.builds });
        else if (provider.prepareImage) await pools.builds(() => provider.prepareImage!(task.environment.source, { buildTimeoutMs: Math.round(task.environment.buildTimeoutSec * config.timeoutMultiplier * 1000) }));
      },
      log: (line) => reporter.onNote?.(line),
    }).catch(async (err: unknown) => {
      await disposeProvider(provider);
      await bridge?.close();
      await builds.release();
      await images?.finish();
      throw err;
    });
  }
  const interrupt = new AbortController();
  let status = 'completed' as RunStatus; // 'aborted' once --max-errors is exceeded: nothing new starts
  let interruptedBy: 'signal' | 'engine' | undefined;
  const onAbort = (): void => {
    status = 'interrupted';
    interruptedBy ??= 'signal';
    interrupt.abort();
    void provider.close(); // tears down live sandboxes; their samples end without a result
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const graceMs = config.engineGraceSec * 1000;
  const breaker = new EngineBreaker({
    ping: () => provider.ping?.() ?? Promise.resolve(true),
    graceMs,
    signal: interrupt.signal,
    onDown: () =>
      reporter.onNote?.(`${provider.location} stopped answering: no new sample starts; waiting up to ${duration(graceMs)} for it (--engine-grace)`),
    onBack: (downMs) => {
      reporter.onNote?.(`the Docker engine is back after ${duration(downMs)}: samples the outage ended run again`);
      void provider.reap?.(); // what could not be removed while it was gone
    },
    onLost: (downMs) => {
      reporter.onNote?.(`the Docker engine has not answered for ${duration(downMs)}: the run stops; finish it with 'cagebench resume ${runDir}' once the engine is back`);
      if (status === 'completed') {
        status = 'interrupted';
        interruptedBy = 'engine';
      }
    },
  });

  let errors = 0;
  // Separate pools (above): a sample waits for its image build without holding a sandbox slot.
  // While all slots are taken, the next queued sample starts its sandbox (start-ahead.ts). Not
  // on a pool: its start waits for room on a member, which a start ahead could take from a
  // sample in its slot (a retry) while waiting for that very slot.
  const sandboxSlots = new SandboxSlots(config.concurrency, provider instanceof ProviderPool ? 0 : START_AHEAD);
  // Sandboxes still being removed after their sample's result was written: awaited before the run ends.
  const removals = new Set<Promise<void>>();
  try {
    await Promise.all(
      todo.map(async (sample: Sample) => {
        const ref = { id: sample.id, taskId: sample.task.id, epoch: sample.epoch };
        let removed: Promise<void> | undefined;
        const deps = {
          config,
          runDir,
          provider,
          agent,
          pools,
          signal: interrupt.signal,
          mayStart: () => status === 'completed',
          onStart: () => reporter.onSampleStart?.(ref),
          onRetry: (error: ErrorRecord, retry: number) => reporter.onSampleRetry?.(ref, error, retry),
          bridge: bridge && { server: bridge, filter },
          tools,
          grader,
          builds,
          engine: breaker,
          images,
          removing: (removal: Promise<void>) => {
            removed = removal;
            removals.add(removal);
            void removal.then(() => removals.delete(removal));
          },
        };
        await prebuild(sample, deps);
        const starting = (): boolean => status === 'completed' && !interrupt.signal.aborted;
        // Not when the run stops starting samples; during an outage, once the engine is back.
        // One started before an engine outage (it may have died with the engine) is not used.
        const startAhead = (): StartedAhead | undefined => {
          if (!starting()) return undefined;
          const outages = breaker.count;
          return new StartedAhead(trialSpec(sample, deps), async (spec) => ((await breaker.ready()) && starting() ? provider.start(spec) : undefined), () => breaker.count !== outages);
        };
        const result = await sandboxSlots.run(startAhead, async (ahead) => {
          const ended = await runTrial(sample, deps, ahead);
          // Counted before the slot is released, so the next queued sample already sees it.
          if (ended?.outcome === 'error' && ++errors > (config.maxErrors ?? Infinity) && status === 'completed') {
            status = 'aborted'; // samples not yet started will not start; running ones finish
          }
          return ended;
        });
        if (result) reporter.onSampleEnd?.(result);
        // Its image may go (--cache-level) once no container of it is left.
        await removed;
        await images?.sampleDone(sample.task).catch(() => undefined);
      }),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled([...removals]);
    imageCounts = await images?.finish();
    await disposeProvider(provider);
    await bridge?.close();
    await builds?.release();
  }

  // Read back a few at a time: all 10,000 result files in flight at once added 150 MB to the peak.
  const reads = pLimit(RESULT_READS);
  const results = (await Promise.all(all.map((s) => reads(() => sampleState(runDir, s))))).flatMap((found) => (found.state === 'done' ? [found.result] : []));
  const summary = {
    ...buildSummary(config, agent.name, results, all.length, status, startedAt),
    ...(interruptedBy ? { interruptedBy } : {}),
    ...(breaker.count ? { engineOutages: breaker.count } : {}),
    ...(imageCounts && (imageCounts.built || imageCounts.pruned) ? { images: imageCounts } : {}),
    ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
  };
  await writeJsonAtomic(join(runDir, 'summary.json'), summary);
  const view = { dir: runDir, run: await readRunRecord(runDir), summary, results };
  // The gate against a baseline, unless the run did not finish (resume finishes, then compares).
  const comparison = config.compare && status !== 'interrupted' && !emptyShard ? await compareWithBaseline(config.compare.baseline, config.compare.options, view) : undefined;
  // JUnit, CTRF, the comment body, and in GitHub Actions the job summary and annotations.
  await writeCiOutputs(view, comparison, { junit: config.junit, ctrf: config.ctrf, prComment: config.prComment });

  const unfinished =
    status === 'interrupted'
      ? [`${interruptedBy === 'engine' ? `${provider.location} did not come back within --engine-grace ${duration(graceMs)}` : 'interrupted'}: ${summary.pending} sample(s) to go; finish with: cagebench resume ${runDir}`]
      : [];
  const { exitCode, reasons } = gateRun({
    summary,
    maxErrors: config.maxErrors,
    ...(emptyShard ? {} : { failUnder: config.failUnder }),
    ...(comparison ? { comparison } : {}),
    unfinished,
    ...(summary.errorsByKind.infra ? { errorHint: `; 'cagebench resume ${runDir}' runs the infra errors again` } : {}),
  });
  reporter.onRunEnd?.(summary, { runDir, exitCode, reasons });
  return { runDir, summary, exitCode, reasons, ...(comparison ? { comparison } : {}) };
}

/** result.json files read at once when a run reads its results back for the summary. */
const RESULT_READS = 32;

/** 90 → "90 s", 600 → "10 min". */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

export function buildSummary(
  config: Pick<ResolvedConfig, 'runId'>,
  agent: string,
  results: readonly ResultRecord[],
  planned: number,
  status: RunStatus,
  startedAt: Date,
): SummaryRecord {
  const metrics = summarize(
    results.map((r) => ({ taskId: r.taskId, epoch: r.epoch, outcome: r.outcome, errorKind: r.error?.kind, score: r.score })),
  );
  const endedAt = new Date();
  return {
    version: LOG_VERSION,
    runId: config.runId,
    status,
    agent,
    counts: metrics.counts,
    pending: planned - results.length,
    errorsByKind: metrics.errorsByKind,
    score: metrics.score,
    passAtK: metrics.passAtK,
    passesByAttempt: passesByAttempt(results),
    perTask: metrics.perTask,
    retries: results.reduce((n, r) => n + r.retries, 0),
    ...engineCounts(results),
    ...warningCounts(results),
    usage: sumUsage(results.map((r) => r.usage)),
    ...(results.some((r) => r.graderUsage) ? { graderUsage: sumUsage(results.map((r) => r.graderUsage)) } : {}),
    ...toolCallTotals(results),
    timings: { startedAt: startedAt.toISOString(), endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - startedAt.getTime() },
  };
}

/** With a pool of engines: per engine, the samples whose last try ran there, and how they ended. */
function engineCounts(results: readonly ResultRecord[]): { engines?: Record<string, { pass: number; fail: number; error: number }> } {
  const engines: Record<string, { pass: number; fail: number; error: number }> = {};
  for (const r of results) if (r.engine) (engines[r.engine] ??= { pass: 0, fail: 0, error: 0 })[r.outcome]++;
  return Object.keys(engines).length ? { engines } : {};
}

/** `{ warnings: { no_tools: 2 } }`: samples with each warning, when any had one. */
function warningCounts(results: readonly ResultRecord[]): { warnings?: Record<string, number> } {
  const counts: Record<string, number> = {};
  for (const r of results) for (const code of new Set((r.warnings ?? []).map((w) => w.code))) counts[code] = (counts[code] ?? 0) + 1;
  return Object.keys(counts).length ? { warnings: counts } : {};
}

/** `{ toolCalls }`: host tool calls summed over the samples that had host tools, when any had. */
function toolCallTotals(results: readonly ResultRecord[]): { toolCalls?: ToolCallsRecord } {
  const counted = results.flatMap((r) => (r.toolCalls ? [r.toolCalls] : []));
  if (!counted.length) return {};
  const byTool: Record<string, number> = {};
  for (const c of counted) for (const [tool, n] of Object.entries(c.byTool)) byTool[tool] = (byTool[tool] ?? 0) + n;
  const refused = counted.reduce((n, c) => n + (c.refused ?? 0), 0);
  return { toolCalls: { count: counted.reduce((n, c) => n + c.count, 0), errors: counted.reduce((n, c) => n + c.errors, 0), byTool, ...(refused ? { refused } : {}) } };
}

function passesByAttempt(results: readonly ResultRecord[]): Record<string, number> {
  const byAttempt: Record<string, number> = {};
  for (const r of results) if (r.passedAttempt) byAttempt[r.passedAttempt] = (byAttempt[r.passedAttempt] ?? 0) + 1;
  return byAttempt;
}

