// One sample's life: provision the sandbox, place the task's files, run the setup, then the
// attempts loop (agent, the workdir's changes, score, continue while incorrect and attempts
// remain) or, for a multi-turn task, the turns loop (each turn continues the session with its
// prompt and is scored by its own scorer), and write result.json. Infra errors are retried
// with a fresh sandbox; the sandbox is removed in a `finally` whatever happens. An
// interrupted sample writes no result, so resume reruns it.
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { LimitFunction } from 'p-limit';
import { placeSolution, solutionEnv, SOLVE_COMMAND, type AgentAdapter, type AgentInSandbox, type AttemptContext, type AttemptResult, type ModelAccess } from '../../agents/index.ts';
import { placeBuilds, type RunBuilds } from './builds.ts';
import type { RunImages } from '../images/run-images.ts';
import { identityOf, type FileToWrite, type Identity, type Sandbox, type SandboxProvider, type SandboxSpec } from '../../sandboxes/index.ts';
import { createScorer, type Score, type ScoreContext } from '../../scorers/index.ts';
import type { ScorerSpec, Solution, Task } from '../../tasks/index.ts';
import type { TaskTurn } from '../../tasks/task.ts';
import type { ResolvedConfig } from '../config.ts';
import { CagebenchError, sampleError } from '../errors.ts';
import { fullJitter, sleep } from '../backoff.ts';
import type { EngineBreaker } from './engine-breaker.ts';
import type { AttemptRecord, ErrorRecord, ModelUsageRecord, ResultRecord, ToolCallsRecord, TurnRecord, WarningRecord, WorkspaceChangesRecord } from '../log/schema.ts';
import { baseUrls, type Bridge, type RequestFilter, type SessionTotals } from '../bridge/index.ts';
import { LOG_VERSION } from '../log/schema.ts';
import { mockSolves, shellQuote } from '../models/providers/mock.ts';
import { EventLog, historyOf, samplePaths, writeJsonAtomic } from '../log/writer.ts';
import { writeTrajectory } from '../log/trajectory.ts';
import type { Sample } from './plan.ts';
import { WorkspaceTracker } from './workspace.ts';
import { waitHealthy } from './healthcheck.ts';
import type { StartedAhead } from './start-ahead.ts';
import { collectArtifacts } from './artifacts.ts';
import type { RunTools } from '../tools/load.ts';
import { sampleGrader, type GraderClient } from './grader.ts';
import { addUsage, sumUsage } from '../log/usage.ts';
import { scoreStep, stepDiff } from './scoring.ts';

export interface TrialDeps {
  readonly config: ResolvedConfig;
  readonly runDir: string;
  readonly provider: SandboxProvider;
  readonly agent: AgentAdapter;
  /** Image builds and scoring; the sandbox slot is taken by the caller around runTrial. */
  readonly pools: { readonly builds: LimitFunction; readonly scoring: LimitFunction };
  /** Aborted on an interrupt: live samples end without a result. */
  readonly signal: AbortSignal;
  /** False once the run stops starting samples (--max-errors): queued ones never start. */
  readonly mayStart: () => boolean;
  readonly onStart?: () => void;
  readonly onRetry?: (error: ErrorRecord, retry: number) => void;
  /** The run's bridge, when the agent needs a model. */
  readonly bridge?: { readonly server: Bridge; readonly filter?: RequestFilter };
  /** The agent's builds from the cache, when it needs any. */
  readonly builds?: RunBuilds;
  /** Host tools, served to the sample's agent over MCP through the bridge (a task's own on top of the run's). */
  readonly tools?: RunTools;
  /** Grader models for model_graded scorers, when a task has one. */
  readonly grader?: GraderClient;
  /** Holds samples while the engine is gone; says whether an infra error was an outage. */
  readonly engine: EngineBreaker;
  /**
   * Takes the removal of the sample's sandboxes, so its result is written (and its slot given
   * back) while the container is still being removed; the caller awaits it before the run
   * ends. Absent: runTrial returns once they are removed.
   */
  readonly removing?: (removal: Promise<void>) => void;
}

/** Waits before an infra retry: full jitter, at least 1 s, at most 60 s. */
const RETRY_BACKOFF = { baseMs: 2_000, capMs: 60_000 };
const MIN_RETRY_WAIT_MS = 1_000;
/** Reruns of one sample after engine outages, before they count as ordinary retries. */
const MAX_OUTAGE_RERUNS = 5;

/** Raised inside a trial the run is interrupting: it ends without a result. */
class Interrupted extends Error {}

interface Progress {
  attempts: AttemptRecord[];
  /** A multi-turn sample's turns, played in place of attempts. */
  turns?: TurnRecord[];
  environmentMs: number;
  agentMs: number;
  verifierMs: number;
  usage?: ModelUsageRecord;
  /** Host tool calls, when the sample had host tools. */
  toolCalls?: ToolCallsRecord;
  /** model_graded scorers' grader calls, apart from the agent's `usage`. */
  graderUsage?: ModelUsageRecord;
  warnings?: WarningRecord[];
  /** The engine of the pool the last try ran on. */
  engine?: string;
}

/**
 * Build the sample's image if it has a Dockerfile, outside any sandbox slot, so a slot is
 * held only while a sandbox exists. A failed build is not reported here: the trial's own
 * start builds again (a failed build is not cached) and records the error.
 */
export async function prebuild(sample: Sample, deps: Pick<TrialDeps, 'config' | 'provider' | 'pools'> & { readonly images?: RunImages }): Promise<void> {
  const { environment } = sample.task;
  if (!('dockerfile' in environment.source)) return;
  const buildTimeoutMs = Math.round(environment.buildTimeoutSec * deps.config.timeoutMultiplier * 1000);
  // The run's task images (Docker): labelled, recorded, kept within --disk-budget.
  if (deps.images) return deps.images.prebuild(sample.task, { buildTimeoutMs, pool: deps.pools.builds }).catch(() => undefined);
  const { provider } = deps;
  if (!provider.prepareImage) return; // it builds on start
  await deps.pools.builds(() => provider.prepareImage!(environment.source, { buildTimeoutMs })).catch(() => undefined);
}

/**
 * Run one sample to its result, or to undefined when the run was interrupted. Call it once
 * the sample holds a sandbox slot: its clock and its files start here. `ahead`: its sandbox,
 * started while it waited for the slot (its first try runs there; the caller stops it if unused).
 */
export async function runTrial(sample: Sample, deps: TrialDeps, ahead?: StartedAhead): Promise<ResultRecord | undefined> {
  if (deps.signal.aborted || !deps.mayStart()) return undefined;
  deps.onStart?.();
  const paths = samplePaths(deps.runDir, sample.id);
  // A directory without result.json is a sample a killed run left half done: start over.
  await rm(paths.dir, { recursive: true, force: true });
  await Promise.all([paths.agent, paths.verifier, paths.artifacts].map((d) => mkdir(d, { recursive: true })));
  const events = new EventLog(paths.events);
  const startedAt = new Date();
  const retriedErrors: ErrorRecord[] = [];
  /** Removals of this sample's sandboxes, under way. */
  const removals: Promise<void>[] = [];
  let outageReruns = 0;
  events.append('sample.start', { sampleId: sample.id, taskId: sample.task.id, epoch: sample.epoch, agent: deps.agent.name });
  const interrupted = (reason: 'signal' | 'engine'): undefined => {
    events.append('sample.interrupted', { reason });
    return undefined;
  };
  try {
    for (;;) {
      // While the engine is gone nothing starts; once the run gave up on it, nothing will.
      if (!(await deps.engine.ready())) return interrupted('engine');
      if (deps.signal.aborted) return interrupted('signal');
      const progress: Progress = { attempts: [], environmentMs: 0, agentMs: 0, verifierMs: 0 };
      try {
        const first = ahead;
        ahead = undefined; // a retry starts afresh
        await attemptSample(sample, deps, events, progress, paths, removals, first);
        return await finish(sample, deps, events, paths.result, startedAt, progress, retriedErrors);
      } catch (err) {
        if (err instanceof Interrupted || deps.signal.aborted) return interrupted('signal');
        const error = sampleError(err);
        events.append('sample.error', { ...error, retry: retriedErrors.length });
        // A pool's engine that went away mid-sample: the sample runs again on another engine,
        // without spending a retry (the pool took that engine out).
        if (engineLost(err) && outageReruns < MAX_OUTAGE_RERUNS) {
          outageReruns++;
          events.append('sample.rerun', { reason: 'engine lost', engine: progress.engine, error: error.message, rerun: outageReruns });
          continue;
        }
        if (error.kind !== 'infra') return await finish(sample, deps, events, paths.result, startedAt, progress, retriedErrors, error);
        // An infra error while the engine is gone is the outage's, not the sample's: it runs
        // again once the engine is back, without spending a retry, or ends with the run.
        const engine = await deps.engine.afterError();
        if (engine === 'lost') return interrupted('engine');
        if (engine === 'back' && outageReruns < MAX_OUTAGE_RERUNS) {
          outageReruns++;
          events.append('sample.rerun', { reason: 'engine outage', error: error.message, rerun: outageReruns });
          continue;
        }
        if (retriedErrors.length >= deps.config.retries) return await finish(sample, deps, events, paths.result, startedAt, progress, retriedErrors, error);
        retriedErrors.push(error);
        const waitMs = Math.max(MIN_RETRY_WAIT_MS, fullJitter(retriedErrors.length, RETRY_BACKOFF));
        events.append('sample.retry', { retry: retriedErrors.length, of: deps.config.retries, reason: error.message, waitMs });
        deps.onRetry?.(error, retriedErrors.length);
        if (!(await sleep(waitMs, deps.signal).then(() => true, () => false))) return interrupted('signal');
      }
    }
  } finally {
    // The log stays open until the sandboxes are gone, for a removal that fails.
    const removed = Promise.allSettled(removals).then(() => events.close());
    if (deps.removing) deps.removing(removed);
    else await removed;
  }
}

async function attemptSample(
  sample: Sample,
  deps: TrialDeps,
  events: EventLog,
  progress: Progress,
  paths: ReturnType<typeof samplePaths>,
  removals: Promise<void>[],
  ahead?: StartedAhead,
): Promise<void> {
  const { provider } = deps;
  const envStarted = performance.now();
  const spec = ahead?.spec ?? trialSpec(sample, deps);
  const early = ahead && (await ahead.take());
  if (ahead?.dropped) events.append('sandbox.ahead_dropped', { reason: 'an engine outage since it was started' });
  const sandbox = early ?? (await provider.start(spec));
  // Started while the sample waited for its slot: how long the start took, and how long the
  // running sandbox then waited for the slot (0 when the sample had to wait for the start).
  const started = early && ahead ? { ahead: true, startedAt: ahead.startedAtIso, startMs: Math.round(ahead.readyAt! - ahead.startedAt), waitedMs: Math.max(0, Math.round(envStarted - ahead.readyAt!)) } : {};
  if (sandbox.runsOn) {
    progress.engine = sandbox.runsOn;
    events.append('sandbox.engine', { engine: sandbox.runsOn });
  }
  try {
    await inSandbox({ sample, deps, events, progress, paths }, sandbox, spec, envStarted, started);
  } finally {
    // A sandbox that cannot be removed (the engine went away) must not replace what ended the sample.
    const removal = sandbox.stop().catch((err: unknown) => events.append('sandbox.cleanup_failed', { id: sandbox.id.slice(0, 12), error: sampleError(err).message }));
    removals.push(removal);
    // Off the sample's critical path when the caller awaits it (deps.removing).
    if (!deps.removing) await removal;
  }
}

/** The sandbox a trial of the sample starts (also ahead of its slot). */
export function trialSpec(sample: Sample, deps: Pick<TrialDeps, 'config' | 'bridge' | 'builds'>): SandboxSpec {
  return sandboxSpec(sample, deps.config, { endpointPort: deps.bridge?.server.port, mounts: deps.builds?.mounts, volumes: deps.builds?.volumes });
}

/**
 * The sandbox a sample runs in. `endpointPort` is the bridge's, for an agent with a model;
 * without it (and `rescore`, which runs no agent) the sandbox reaches nothing.
 */
export function sandboxSpec(sample: Sample, config: ResolvedConfig, agent: { readonly endpointPort?: number; readonly mounts?: SandboxSpec['mounts']; readonly volumes?: SandboxSpec['volumes'] } = {}): SandboxSpec {
  const { task } = sample;
  const runtime = task.environment.runtime ?? config.runtime;
  return {
    source: task.environment.source,
    runId: config.runId,
    sampleId: sample.id,
    // A task that needs the outside world gets it (with the bridge through the gateway when
    // the agent has a model); otherwise an agent with a model reaches the bridge and nothing else.
    network: task.environment.network === 'bridge' ? 'bridge' : agent.endpointPort !== undefined ? 'model-only' : 'none',
    endpointPort: agent.endpointPort,
    limits: { cpus: task.environment.cpus, memoryMb: task.environment.memoryMb },
    mounts: agent.mounts,
    ...(agent.volumes?.length ? { volumes: agent.volumes } : {}),
    workdir: task.environment.workdir,
    ...(task.environment.env ? { env: task.environment.env } : {}),
    buildTimeoutMs: Math.round(task.environment.buildTimeoutSec * config.timeoutMultiplier * 1000),
    // The task's own runtime, else the run's (a task naming another than the run's is refused by checkProviderFits).
    ...(runtime ? { runtime } : {}),
  };
}

/** One try of a sample, as the code in its sandbox sees it. */
interface TryContext {
  readonly sample: Sample;
  readonly deps: TrialDeps;
  readonly events: EventLog;
  readonly progress: Progress;
  readonly paths: ReturnType<typeof samplePaths>;
}

/** Everything between the sandbox's start and its removal. */
async function inSandbox({ sample, deps, events, progress, paths }: TryContext, sandbox: Sandbox, spec: SandboxSpec, envStarted: number, started: Record<string, unknown>): Promise<void> {
  const { task } = sample;
  const { config } = deps;
  const scale = (sec: number): number => Math.round(sec * config.timeoutMultiplier * 1000);
  const bridge = deps.bridge;
  const source = task.environment.source;
  // Which image ran, and whether a docker_image had to be built from its Dockerfile instead.
  const image = 'image' in source && source.dockerfile ? { image: sandbox.image, built: sandbox.image !== source.image } : { image: sandbox.image };
  events.append('sandbox.start', { id: sandbox.id.slice(0, 12), network: spec.network, ...image, ...started });
  // Without one, execs and scorers run in the container's working directory by default.
  const workdir = task.environment.workdir;
  const setupDeadline = Date.now() + scale(task.timeouts.setupSec);
  const cwd = await prepareTask(sandbox, task, workdir, scale(task.timeouts.setupSec), events);
  if (task.environment.healthcheck) {
    await waitHealthy({ sandbox, check: task.environment.healthcheck, workdir, taskId: task.id, deadline: setupDeadline, scale: config.timeoutMultiplier, emit: (type, fields) => events.append(type, fields) });
  }
  // Who the agent runs as: its own option, the task's agent user, or the image's USER.
  const identity = await identityOf(sandbox, deps.agent.user ?? task.agentUser);
  events.append('sandbox.identity', { user: identity.user ?? null, uid: identity.uid, gid: identity.gid, home: identity.home, path: identity.path });
  // After the set-up, which may have installed the agent itself (`--agent-version auto|sandbox`).
  const installed = deps.builds ? await placeBuilds(sandbox, deps.builds, identity, (type, fields) => events.append(type, fields)) : undefined;
  progress.environmentMs = Math.round(performance.now() - envStarted);
  const hostTools = deps.tools?.forTask(task) ?? [];
  const session = bridge?.server.open({
    sampleId: sample.id,
    taskId: task.id,
    model: config.model!,
    // The agent's role models (e.g. Claude Code's haiku) under the names it sends; the user's own aliases win.
    aliases: { ...deps.agent.modelAliases, ...config.bridge.aliases },
    limits: config.bridge.limits,
    filter: bridge.filter,
    ...(hostTools.length ? { tools: hostTools } : {}),
    solution: await solutionCommand(task, sandbox, config.model),
    onEvent: ({ type, ...fields }) => events.append(type, fields),
  });
  // The task's workdir (the container's when the task names none), snapshotted around each attempt.
  const workspace = new WorkspaceTracker({ sandbox, root: workdir ?? cwd, sampleDir: paths.dir, owner: identity, emit: (type, fields) => events.append(type, fields) });
  try {
    const endpoint = sandbox.endpoint && `http://${sandbox.endpoint.host}:${sandbox.endpoint.port}`;
    // Host tools are the bridge's `/mcp`, at the address the sandbox reaches it by, with the sample's token.
    const mcp = hostTools.length && session && endpoint ? { hostTools: { url: `${endpoint}/mcp`, headers: { Authorization: `Bearer ${session.token}` } } } : {};
    const model = session && endpoint ? { model: config.model!, token: session.token, baseUrls: baseUrls(endpoint), ...mcp } : undefined;
    await attemptsLoop(sample, deps, { sandbox, workdir, workspace, events, progress, paths, model, totals: () => session?.totals, installed, identity });
    if (task.artifacts?.length) await collectArtifacts(sandbox, task.artifacts, paths.artifacts, (type, fields) => events.append(type, fields));
  } finally {
    await workspace.dispose().catch((err: unknown) => events.append('workspace.cleanup_failed', { error: sampleError(err).message }));
    if (session) {
      bridge!.server.closeSession(session);
      progress.usage = usageRecord(session.totals);
      if (session.totals.toolCalls) progress.toolCalls = session.totals.toolCalls;
      if (session.warnings.length) progress.warnings = [...(progress.warnings ?? []), ...session.warnings];
    }
  }
}

/** What a limit refused: host tool calls, or model calls. */
function refusedCalls(limit: string): string {
  return limit.startsWith('tool-call') ? 'tool calls' : 'model calls';
}

function usageRecord(t: SessionTotals): ModelUsageRecord {
  return { requests: t.requests, ...t.usage, costUsd: t.costUsd };
}

/** The bridge's count between two readings of a session's totals: one attempt's model use. */
function usageBetween(before: SessionTotals, after: SessionTotals): ModelUsageRecord {
  const a = usageRecord(after);
  const b = usageRecord(before);
  return {
    requests: a.requests - b.requests,
    inputTokens: a.inputTokens - b.inputTokens,
    outputTokens: a.outputTokens - b.outputTokens,
    cacheReadTokens: a.cacheReadTokens - b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens - b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens - b.reasoningTokens,
    costUsd: Math.round((a.costUsd - b.costUsd) * 1e9) / 1e9, // no float dust from the subtraction
  };
}

/**
 * The task's reference solution as one shell command, for the scripted model's `solve` step
 * (which runs it through the agent's own shell tool, as the agent's user, in its cwd): what
 * the oracle runs, with the solution's env. A Harbor solution's whole directory is placed at
 * /solution first, as for the oracle, but only for a model that will run it.
 */
async function solutionCommand(task: Task, sandbox: Sandbox, model: string | undefined): Promise<string | undefined> {
  const solution = task.solution;
  if (!solution || !model || !mockSolves(model)) return undefined;
  if (solution.kind === 'commands') return ['(', 'set -e', ...solution.commands, ')'].join('\n');
  await placeSolution(sandbox, solution.dir);
  const env = Object.entries(solutionEnv(solution.env)).map(([k, v]) => shellQuote(`${k}=${v}`));
  return ['env', ...env, SOLVE_COMMAND].join(' ');
}

/**
 * Place the task's files and run its setup command, within the set-up timeout. Returns the
 * container's working directory when it had to be asked (relative paths, no workdir).
 */
/** Place the task's files and run its setup command; returns the working directory it asked for, if any. */
export async function prepareTask(sandbox: Sandbox, task: Task, workdir: string | undefined, timeoutMs: number, events: Pick<EventLog, 'append'>): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  if (task.format === 'harbor') {
    // Harbor mounts these from the start, writable by any user: a solution or an agent may write there.
    const logs = await sandbox.exec(['sh', '-c', `mkdir -p ${HARBOR_LOG_DIRS.join(' ')} && chmod 777 ${HARBOR_LOG_DIRS.join(' ')}`], { user: 'root' });
    if (logs.exitCode !== 0) throw new CagebenchError('CB_SETUP_FAILED', 'infra', `Could not create ${HARBOR_LOG_DIRS.join(', ')} in the sandbox: ${logs.stderr.trim()}`);
  }
  let base = workdir; // for relative paths: the container's working directory when the task names none, asked once
  const files: FileToWrite[] = [];
  for (const file of task.files) {
    const target = file.path.startsWith('/') ? file.path : posix.join((base ??= (await sandbox.exec('pwd')).stdout.trim()), file.path);
    if (file.source === undefined) files.push({ path: target, content: file.content ?? '', ...(file.mode === undefined ? {} : { mode: file.mode }) });
    else if ((await stat(file.source)).isDirectory()) files.push({ path: target, hostDir: file.source }); // its contents land at `path`
    // A file lands at `path` under that name, with the mode asked for (else its own).
    else files.push({ path: target, content: await readFile(file.source), mode: file.mode ?? (await stat(file.source)).mode & 0o777 });
  }
  // All in one transfer where the sandbox can, else one each.
  if (files.length > 1 && sandbox.writeFiles) await sandbox.writeFiles(files);
  else for (const f of files) await ('hostDir' in f ? sandbox.upload(f.hostDir, f.path) : sandbox.writeFile(f.path, f.content, { mode: f.mode }));
  if (task.files.length) events.append('setup.files', { count: task.files.length });
  if (task.setup) {
    const result = await sandbox.exec(task.setup, { cwd: workdir, timeoutMs: Math.max(1, deadline - Date.now()) });
    events.append('setup.command', { command: task.setup, exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs });
    if (result.timedOut) throw new CagebenchError('CB_SETUP_TIMEOUT', 'timeout', `Task ${task.id}: the setup command did not finish within ${Math.round(timeoutMs / 1000)} s`);
    if (result.exitCode !== 0) {
      const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-15).join('\n');
      throw new CagebenchError('CB_SETUP_FAILED', 'task', `Task ${task.id} (${task.origin}): the setup command exited ${result.exitCode}:\n${tail}`);
    }
  }
  return base;
}

/** The log directories Harbor gives every task's container. */
const HARBOR_LOG_DIRS = ['/logs/agent', '/logs/verifier', '/logs/artifacts'];

/** What one sample's attempts loop works with, once its sandbox is ready. */
interface LoopContext {
  readonly sandbox: Sandbox;
  readonly workdir: string | undefined;
  readonly workspace: WorkspaceTracker;
  readonly events: EventLog;
  readonly progress: Progress;
  readonly paths: ReturnType<typeof samplePaths>;
  readonly model: ModelAccess | undefined;
  readonly totals: () => SessionTotals | undefined;
  readonly installed: Readonly<Record<string, AgentInSandbox>> | undefined;
  readonly identity: Identity;
}

async function attemptsLoop(sample: Sample, deps: TrialDeps, loop: LoopContext): Promise<void> {
  const { workspace, events, progress, paths } = loop;
  const { task } = sample;
  const { agent, config } = deps;
  if (task.turns) return turnsLoop(sample, deps, loop, task.turns);
  const attempts = config.attempts ?? task.attempts ?? 1;
  const agentBudgetMs = Math.round(task.timeouts.agentSec * config.timeoutMultiplier * 1000);
  await workspace.before(1);
  const agentDeadline = Date.now() + agentBudgetMs; // the agent's time is for all its attempts together
  let previous: AttemptResult | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const prior = previous;
    const { result, score } = await playStep(sample, deps, loop, {
      n: attempt,
      tag: { attempt },
      timeoutMs: Math.max(1, agentDeadline - Date.now()),
      invoke: (ctx) => (prior ? agent.continue!({ ...ctx, message: config.continueMessage, previous: prior }) : agent.run(ctx)),
      scorer: { spec: task.scorer, outputDir: attempt === 1 ? paths.verifier : join(paths.verifier, `attempt-${attempt}`) },
      record: ({ passed, ...r }) => progress.attempts.push({ attempt, passed: passed ?? false, ...r, ...(workspace.state(attempt) && { state: workspace.state(attempt) }) }),
    });
    if (score!.passed) return;
    if (attempt < attempts && !agent.continue) {
      events.append('attempts.end', { reason: `${agent.name} cannot continue a session`, attempts: attempt });
      return;
    }
    // The next attempt starts from what the scorer left, so its changes are the agent's alone.
    if (attempt < attempts) await workspace.before(attempt + 1);
    previous = result;
  }
}

/**
 * A multi-turn sample: turn 1 is the instruction, scored by the task's scorer; each later turn
 * continues the agent's session with the turn's prompt (as a continued attempt does) and is
 * scored by the turn's scorer, if it has one. Every turn is played, whatever the scores; the
 * sample's outcome is its last scored turn's (see `finish`). Each turn gets the whole agent
 * timeout. An agent that cannot continue a session (oracle, nop) plays each later turn as a
 * fresh run of it: the turn's prompt as the instruction, the turn's solution as the solution
 * (none: nothing to run), so the oracle checks a multi-turn suite turn by turn.
 */
async function turnsLoop(sample: Sample, deps: TrialDeps, loop: LoopContext, followUps: readonly TaskTurn[]): Promise<void> {
  const { workspace, events, progress, paths } = loop;
  const { task } = sample;
  const { agent, config } = deps;
  const agentBudgetMs = Math.round(task.timeouts.agentSec * config.timeoutMultiplier * 1000);
  if ((config.attempts ?? 1) > 1) {
    const message = `--attempts ${config.attempts} does not apply: a multi-turn sample is played once, turn by turn`;
    events.append('turns.attempts_ignored', { attempts: config.attempts });
    progress.warnings = [...(progress.warnings ?? []), { code: 'attempts_ignored', message }];
  }
  const turns: readonly (TaskTurn | { readonly prompt?: undefined; readonly scorer: ScorerSpec })[] = [{ scorer: task.scorer }, ...followUps];
  const played = (progress.turns ??= []);
  await workspace.before(1);
  let previous: AttemptResult | undefined;
  for (const [i, t] of turns.entries()) {
    const turn = i + 1;
    const prior = previous;
    const prompt = t.prompt;
    events.append('turn.start', { turn, of: turns.length, scored: t.scorer !== undefined, ...(prompt === undefined ? {} : { prompt }) });
    let invoke: (ctx: AttemptContext) => Promise<AttemptResult>;
    if (prompt === undefined || !prior) invoke = (ctx) => agent.run(ctx);
    else if (agent.continue) invoke = (ctx) => agent.continue!({ ...ctx, message: prompt, previous: prior });
    else {
      events.append('turn.fresh_run', { turn, reason: `${agent.name} cannot continue a session: the turn is run afresh with its own prompt and solution` });
      const solution: Solution = 'solution' in t && t.solution ? t.solution : { kind: 'commands', commands: [] };
      invoke = (ctx) => agent.run({ ...ctx, task: { ...task, instruction: prompt, solution } });
    }
    const { result } = await playStep(sample, deps, loop, {
      n: turn,
      tag: { turn },
      timeoutMs: agentBudgetMs,
      invoke,
      ...(t.scorer ? { scorer: { spec: t.scorer, outputDir: turn === 1 ? paths.verifier : join(paths.verifier, `turn-${turn}`) } } : {}),
      record: (r) => played.push({ turn, ...(prompt === undefined ? {} : { prompt }), scored: t.scorer !== undefined, ...r, durationMs: r.agent.durationMs }),
    });
    // The next turn starts from what the scorer left, so its changes are the agent's alone.
    if (turn < turns.length) await workspace.before(turn + 1);
    previous = result;
  }
}

/** How one invocation of the agent is named in events: an attempt, or a turn of a multi-turn sample. */
type StepTag = { readonly attempt: number } | { readonly turn: number };

/** What one invocation of the agent left, for its attempt's or turn's record. */
interface StepRecord {
  readonly score?: number;
  readonly values?: Readonly<Record<string, number>>;
  readonly passed?: boolean;
  readonly explanation?: string;
  readonly agent: AttemptRecord['agent'];
  readonly stopReason?: string;
  readonly usage?: AttemptRecord['usage'];
  readonly modelUsage?: ModelUsageRecord;
  readonly verifierMs?: number;
  readonly changes: WorkspaceChangesRecord;
  readonly error?: ErrorRecord;
}

interface Step {
  /** The agent's `attempt` number, which names its files and the workspace diff. */
  readonly n: number;
  readonly tag: StepTag;
  readonly timeoutMs: number;
  readonly invoke: (ctx: AttemptContext) => Promise<AttemptResult>;
  /** Absent: the step is played, not scored. */
  readonly scorer?: { readonly spec: ScorerSpec; readonly outputDir: string };
  /** Takes the step's record, also when the step then throws (a limit, a scorer error). */
  readonly record: (r: StepRecord) => void;
}

/** One invocation of the agent, the workdir's changes, and its score when the step has a scorer. */
async function playStep(sample: Sample, deps: TrialDeps, loop: LoopContext, step: Step): Promise<{ result: AttemptResult; score?: Score }> {
  const { sandbox, workdir, workspace, events, progress, paths, model, totals, installed, identity } = loop;
  const { task } = sample;
  const { agent, config } = deps;
  const { tag } = step;
  const verifierMs = Math.round(task.timeouts.verifierSec * config.timeoutMultiplier * 1000);
  const limitExceeded = (): string | undefined => totals()?.limitExceeded;
  const ctx: AttemptContext = {
    sandbox,
    task,
    attempt: step.n,
    timeoutMs: step.timeoutMs,
    logDir: paths.agent,
    emit: (e) => events.append(e.type, { ...e, ...tag }),
    model,
    installed,
    identity,
  };
  events.append('agent.start', { ...tag, agent: agent.name });
  const agentStarted = performance.now();
  const totalsBefore = totals();
  let result: AttemptResult;
  try {
    result = await step.invoke(ctx);
  } catch (err) {
    // An agent that failed because the bridge refused it more calls hit its limit.
    const limit = limitExceeded();
    if (limit) throw new CagebenchError('CB_LIMIT', 'limit', `${sample.id}: ${limit}; the agent was refused further ${refusedCalls(limit)}`, { cause: err });
    throw err;
  }
  const agentMs = Math.round(performance.now() - agentStarted);
  progress.agentMs += agentMs;
  const totalsAfter = totals();
  events.append('agent.end', { ...tag, exitCode: result.exitCode, timedOut: result.timedOut, signal: result.signal, stopReason: result.stopReason, durationMs: agentMs });
  if (deps.signal.aborted) throw new Interrupted();
  // What the agent left, taken before the scorer runs anything in the workdir.
  const changes = await workspace.after(step.n);
  const ran = {
    agent: { exitCode: result.exitCode, timedOut: result.timedOut, signal: result.signal, durationMs: agentMs, finalMessage: result.finalMessage, sessionId: result.sessionId },
    stopReason: result.stopReason,
    usage: result.usage,
    modelUsage: totalsBefore && totalsAfter ? usageBetween(totalsBefore, totalsAfter) : undefined,
  };
  const limit = limitExceeded();
  if (limit) {
    step.record({ passed: false, ...ran, changes });
    throw new CagebenchError('CB_LIMIT', 'limit', `${sample.id}: ${limit}; the agent was refused further ${refusedCalls(limit)}`);
  }
  if (!step.scorer) {
    step.record({ ...ran, changes });
    return { result };
  }

  const { spec, outputDir } = step.scorer;
  // A run's own scorer (given in code) scores every sample in place of the task's.
  const scorer = createScorer(config.scorer ? { type: 'function', name: 'the run options', fn: config.scorer } : spec);
  await mkdir(outputDir, { recursive: true });
  const scoreStarted = performance.now();
  let score: Score;
  try {
    // A run's own scorer (code) replaces all of the task's scoring, its extras included.
    const own = !config.scorer;
    score = await scoreStep({
      spec,
      scorer,
      extras: own && spec === task.scorer ? (task.extraScorers ?? []) : [],
      context: { sandbox, answer: result.finalMessage, workdir, timeoutMs: verifierMs },
      outputDir,
      ...(own ? { grading: () => gradingContext(deps, loop, sample, step.tag, changes) } : {}),
      pool: deps.pools.scoring,
    });
  } catch (err) {
    const spent = Math.round(performance.now() - scoreStarted);
    progress.verifierMs += spent;
    if (!deps.signal.aborted) step.record({ passed: false, ...ran, verifierMs: spent, changes, error: sampleError(err) });
    throw err;
  }
  const spent = Math.round(performance.now() - scoreStarted);
  progress.verifierMs += spent;
  step.record({ score: score.value, values: score.values, passed: score.passed, explanation: score.explanation, ...ran, verifierMs: spent, changes });
  events.append('score', { ...tag, value: score.value, values: score.values, passed: score.passed, explanation: score.explanation });
  const outside = outOfRange(score.value, task);
  if (outside) {
    const [key, n] = Object.entries(tag)[0]!;
    events.append('score.out_of_range', { ...tag, value: score.value, range: outside.range });
    progress.warnings = [...(progress.warnings ?? []), { code: 'reward_out_of_range', message: `${key} ${n}: ${outside.message}` }];
  }
  return { result, score };
}

/** What a model_graded scorer gets besides the usual: the question, the step's diff, the run's graders, the sample's log. */
async function gradingContext(deps: TrialDeps, loop: LoopContext, sample: Sample, tag: StepTag, changes: WorkspaceChangesRecord): Promise<Partial<ScoreContext>> {
  const { events, progress, paths } = loop;
  const emit = (type: string, fields: Readonly<Record<string, unknown>>): void => events.append(type, { ...fields, ...tag });
  // A later turn was asked its own prompt.
  const turnPrompt = 'turn' in tag && tag.turn > 1 ? sample.task.turns?.[tag.turn - 2]?.prompt : undefined;
  const diff = await stepDiff(paths.dir, changes);
  return {
    question: turnPrompt ?? sample.task.instruction,
    ...(diff === undefined ? {} : { diff }),
    emit,
    ...(deps.grader ? { grader: sampleGrader(deps.grader, { sampleId: sample.id, signal: deps.signal, emit, onUsage: (u) => (progress.graderUsage = addUsage(progress.graderUsage, u)) }) } : {}),
  };
}

/**
 * A multi-turn sample's one attempt, as the attempts list holds it: the deciding (last scored)
 * turn's score, its explanation led by every scored turn's verdict, the last turn's agent
 * facts, and the turns' summed times and model use.
 */
function turnsAttempt(turns: readonly TurnRecord[]): AttemptRecord {
  const deciding = turns.findLast((t) => t.score !== undefined);
  const last = turns.at(-1)!;
  const verdicts = turns.filter((t) => t.scored).map((t) => `turn ${t.turn} ${t.error ? 'error' : t.passed ? `passed (${t.score})` : `failed (${t.score})`}`);
  const why = deciding ? `\nturn ${deciding.turn}${deciding.explanation ? `: ${deciding.explanation}` : ''}` : '';
  const sum = (f: (t: TurnRecord) => number | undefined): number => turns.reduce((n, t) => n + (f(t) ?? 0), 0);
  const usages = turns.map((t) => t.modelUsage);
  const modelUsage = usages.every((u): u is ModelUsageRecord => u !== undefined) ? sumUsage(usages) : undefined;
  const error = turns.find((t) => t.error)?.error;
  return {
    attempt: 1,
    ...(deciding ? { score: deciding.score, values: deciding.values } : {}),
    passed: deciding?.passed ?? false,
    explanation: `${verdicts.join(', ')}${why}`,
    agent: { ...last.agent, durationMs: sum((t) => t.agent.durationMs) },
    ...(last.stopReason === undefined ? {} : { stopReason: last.stopReason }),
    ...(modelUsage ? { modelUsage } : {}),
    verifierMs: sum((t) => t.verifierMs),
    ...(error ? { error } : {}),
  };
}

/**
 * A score outside [0, 1] (or the range the task declares in `metadata.reward_range`) is
 * kept, since a task may mean it, but flagged: averaged with 0/1 scores it dominates the mean.
 */
function outOfRange(value: number, task: Task): { range: [number, number]; message: string } | undefined {
  const declared = task.metadata.reward_range;
  const [lo, hi] = Array.isArray(declared) ? (declared as unknown[]) : [];
  const range: [number, number] = typeof lo === 'number' && typeof hi === 'number' ? [lo, hi] : [0, 1];
  if (value >= range[0] && value <= range[1]) return undefined;
  const where = declared === undefined ? 'outside [0, 1]; a task whose rewards mean another range declares it as metadata.reward_range = [min, max]' : `outside the task's metadata.reward_range [${range.join(', ')}]`;
  return { range, message: `the score ${value} is ${where}` };
}

async function finish(
  sample: Sample,
  deps: TrialDeps,
  events: EventLog,
  resultPath: string,
  startedAt: Date,
  progress: Progress,
  retriedErrors: ErrorRecord[],
  error?: ErrorRecord,
): Promise<ResultRecord> {
  const endedAt = new Date();
  const history = await historyOf(deps.runDir, sample.id);
  // A multi-turn sample is one attempt, decided by its last scored turn.
  const turns = progress.turns;
  const attempts = turns?.length ? [turnsAttempt(turns)] : progress.attempts;
  const deciding = turns?.findLast((t) => t.score !== undefined);
  const last = [...attempts].reverse().find((a) => a.score !== undefined);
  const outcome = error ? 'error' : last?.passed ? 'pass' : 'fail';
  const result: ResultRecord = {
    version: LOG_VERSION,
    sampleId: sample.id,
    taskId: sample.task.id,
    suite: sample.task.suite,
    epoch: sample.epoch,
    agent: deps.agent.name,
    ...(progress.engine ? { engine: progress.engine } : {}),
    outcome,
    ...(outcome === 'pass' ? { passedAttempt: last!.attempt } : {}),
    score: error ? undefined : last?.score,
    values: error ? undefined : last?.values,
    attempts,
    ...(turns ? { turns } : {}),
    ...(deciding ? { decidingTurn: deciding.turn } : {}),
    usage: progress.usage,
    ...(progress.graderUsage ? { graderUsage: progress.graderUsage } : {}),
    error,
    retries: retriedErrors.length,
    retriedErrors,
    ...(history.length ? { history } : {}),
    ...(progress.warnings?.length ? { warnings: progress.warnings } : {}),
    ...(progress.toolCalls ? { toolCalls: progress.toolCalls } : {}),
    timings: {
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      environmentMs: progress.environmentMs,
      agentMs: progress.agentMs,
      verifierMs: progress.verifierMs,
    },
  };
  // The model calls as an ATIF trajectory (agent/trajectory.json), before the result marks the
  // sample done; one that cannot be written is logged and never fails the sample.
  await writeTrajectory(join(resultPath, '..'), {
    instruction: sample.task.instruction,
    sampleId: sample.id,
    agent: { name: deps.agent.name, version: deps.config.agentVersion },
    model: deps.config.model,
    sessionId: attempts.findLast((a) => a.agent.sessionId)?.agent.sessionId,
  }).catch((err: unknown) => events.append('trajectory.error', { error: sampleError(err).message }));
  await writeJsonAtomic(resultPath, result);
  events.append('sample.end', { outcome, score: result.score, error });
  return result;
}

/** The error, or one of its causes, says a pool's engine went away under the sample. */
function engineLost(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === 'CB_ENGINE_LOST') return true;
  }
  return false;
}
