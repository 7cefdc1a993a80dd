// `cagebench rescore RUN`: score a finished run's samples again, with the same scorer or a
// changed one, without running any agent. Each sample's deciding attempt (its last scored one)
// is replayed: a fresh sandbox of the task's image, the task's set-up (files, setup command,
// healthcheck), the attempt's saved workdir state applied (artifacts/workspace-<n>.tar), then
// the scorer, as the runner calls it. Only the workdir is restored: a verifier that reads
// state elsewhere (/tmp, $HOME, a service the agent started) may score differently.
// The result is a new run directory whose run.json names the run it was rescored from.
import { cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pLimit from 'p-limit';
import type { Sandbox, SandboxProvider } from '../../sandboxes/index.ts';
import { createScorer, type ScoreContext } from '../../scorers/index.ts';
import { loadTasks, type ScorerSpec, type Task } from '../../tasks/index.ts';
import { newRunId, resolveConfig, type ResolvedConfig } from '../config.ts';
import { CagebenchError, ConfigError, sampleError } from '../errors.ts';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_SAMPLE_ERRORS } from '../exit-codes.ts';
import { type AttemptRecord, type ModelUsageRecord, type ResultRecord, type RunRecord, type SummaryRecord } from '../log/schema.ts';
import { readRunDir } from '../log/reader.ts';
import { EventLog, readJson, samplePaths, writeJsonAtomic } from '../log/writer.ts';
import { waitHealthy } from '../runner/healthcheck.ts';
import { withHostEnv } from '../runner/host-env.ts';
import type { Sample } from '../runner/plan.ts';
import { buildSummary, disposeProvider, openProvider, type RunOptions } from '../runner/run.ts';
import { prebuild, prepareTask, sandboxSpec } from '../runner/trial.ts';
import { checkGraders, checkProviderFits, readRunRecord } from '../runner/validate.ts';
import { graderClientOf, needsGrader, sampleGrader, type GraderClient } from '../runner/grader.ts';
import { addUsage } from '../log/usage.ts';
import { scoreStep, stepDiff } from '../runner/scoring.ts';
import { runRecordHead, taskRefs } from '../log/run-record.ts';
import { stageState, type StateManifest } from '../runner/workspace-state.ts';

export interface RescoreOptions {
  /** `--scorer SPEC`: scores every sample in place of its task's scorer (see parseScorerSpec). */
  readonly scorer?: string;
  /** `--task-dir DIR`: tasks (Harbor dirs, folders of them, suite files) that replace the run's tasks of the same id. */
  readonly taskDirs?: readonly string[];
  /** Where the new run directory goes. @default beside the run rescored */
  readonly out?: string;
  readonly runId?: string;
  /** Sandboxes at once. @default the run's */
  readonly concurrency?: number;
  /** `provider/model` of the grader of model_graded scorers that name none. @default the run's `--grader-model` */
  readonly graderModel?: string;
  readonly signal?: AbortSignal;
  /** Where the sandboxes run (closed when the rescore ends). @default the local Docker engine */
  readonly provider?: RunOptions['provider'];
  /** Progress lines (one per sample). */
  readonly log?: (line: string) => void;
}

/** run.json of a rescored run: the original's record, and where it came from. */
export interface RescoredRunRecord extends RunRecord {
  readonly rescoredFrom: { readonly runDir: string; readonly runId: string; readonly scorer?: string; readonly taskDirs?: readonly string[] };
}

export interface SampleDelta {
  readonly sampleId: string;
  readonly before: { readonly outcome: string; readonly score?: number };
  readonly after: { readonly outcome: string; readonly score?: number; readonly error?: string };
}

export interface NotRescored {
  readonly sampleId: string;
  readonly reason: string;
  /** The sample had a score the rescore could not reproduce (an error never had one). */
  readonly scored: boolean;
}

export interface RescoreOutcome {
  readonly runDir: string;
  readonly from: string;
  readonly samples: readonly SampleDelta[];
  readonly notRescored: readonly NotRescored[];
  /** Things that may make a score differ for reasons other than the scorer. */
  readonly notes: readonly string[];
  readonly summary: SummaryRecord;
  /** `rescored N samples: changed C (up U, down D), mean a → b` */
  readonly deltaLine: string;
  /** 0; 4 when a scored sample could not be rescored or its rescore ended in an error; 130 interrupted. */
  readonly exitCode: number;
}

/** What `rescore.json` in the new run directory holds. */
interface RescoreRecord {
  readonly version: 1;
  readonly from: RescoredRunRecord['rescoredFrom'];
  readonly delta: string;
  readonly samples: readonly SampleDelta[];
  readonly notRescored: readonly NotRescored[];
  readonly notes: readonly string[];
}

const SCORER_FORMS = 'command:CMD (exit 0 scores 1), verifier:DIR (a Harbor tests/ dir with test.sh), module:PATH[#export] (a JS/TS scorer module)';

/**
 * `--scorer SPEC`: `command:CMD`, `verifier:DIR` or `module:PATH[#export]`. A verifier keeps
 * the task's own verifier env and user, when the task has a verifier.
 */
export async function parseScorerSpec(spec: string): Promise<(task: Task) => ScorerSpec> {
  const colon = spec.indexOf(':');
  const [kind, value] = colon > 0 ? [spec.slice(0, colon), spec.slice(colon + 1)] : ['', spec];
  if (!value) throw new ConfigError(`--scorer "${spec}" is not a scorer: use ${SCORER_FORMS}.`);
  if (kind === 'command') return () => ({ type: 'command', command: value });
  if (kind === 'verifier') {
    const testsDir = resolve(value);
    if (!(await stat(join(testsDir, 'test.sh')).catch(() => undefined))?.isFile()) {
      throw new ConfigError(`--scorer ${spec}: ${join(testsDir, 'test.sh')} does not exist. Give a Harbor tests directory holding test.sh.`);
    }
    return (task) => ({ ...(task.scorer.type === 'verifier' ? task.scorer : {}), type: 'verifier', testsDir });
  }
  if (kind === 'module') {
    const hash = value.lastIndexOf('#');
    const path = resolve(hash > 0 ? value.slice(0, hash) : value);
    if (!(await stat(path).catch(() => undefined))?.isFile()) throw new ConfigError(`--scorer ${spec}: ${path} does not exist. Give a JS/TS module whose export is a scorer.`);
    return () => ({ type: 'module', path, ...(hash > 0 ? { export: value.slice(hash + 1) } : {}) });
  }
  throw new ConfigError(`--scorer "${spec}" is not a scorer: use ${SCORER_FORMS}.`);
}

/** A sample to rescore: its original result, the attempt that decided it, and its task now. */
interface Job {
  readonly sample: Sample;
  readonly result: ResultRecord;
  readonly attempt: AttemptRecord;
  readonly tar: string;
  readonly manifest: string;
  readonly spec: ScorerSpec;
}

export async function rescore(runDir: string, options: RescoreOptions = {}): Promise<RescoreOutcome> {
  const from = resolve(runDir);
  const record = await readRunRecord(from);
  const scorerFor = options.scorer === undefined ? undefined : await parseScorerSpec(options.scorer);
  const notes: string[] = [];
  const { tasks, missing } = await rescoreTasks(record, options.taskDirs ?? [], notes);
  const config = configOf(record, options, tasks);
  const out = resolve(options.out ?? dirname(from));
  const newDir = join(out, config.runId);
  if (existsSync(join(newDir, 'run.json'))) throw new ConfigError(`${newDir} already holds a run: give another -o or --run-id.`);
  if (record.config.inline?.includes('scorer') && !scorerFor) {
    notes.push('the run was scored by a scorer given in code, which run.json cannot hold: each task is rescored by its own scorer (give --scorer to choose one)');
  }

  // Which samples can be rescored, and why not the others.
  const resolved = withHostEnv(tasks, config);
  const current = new Map(resolved.map((t) => [t.id, t]));
  const jobs: Job[] = [];
  const notRescored: NotRescored[] = [];
  for (const result of (await readRunDir(from)).results) {
    const why = (reason: string, scored = true): void => void notRescored.push({ sampleId: result.sampleId, reason, scored });
    if (result.outcome === 'error') {
      why(`ended in ${result.error?.kind ?? 'an'} error (${result.error?.message.split('\n')[0] ?? 'no message'}): it has no score to rescore`, false);
      continue;
    }
    if (result.turns) {
      why('multi-turn: each turn is scored by its own scorer on the state that turn left; rescore replays single-turn samples only');
      continue;
    }
    const task = current.get(result.taskId);
    if (!task) {
      why(missing(result.taskId));
      continue;
    }
    const attempt = result.attempts.findLast((a) => a.score !== undefined);
    const state = attempt?.state;
    if (!attempt || !state) {
      why(attempt ? `attempt ${attempt.attempt} has no saved workspace state (the run was made before cagebench saved it)` : 'no attempt was scored');
      continue;
    }
    if ('error' in state) {
      why(`attempt ${attempt.attempt}'s workspace state was not saved: ${state.error}`);
      continue;
    }
    const dir = samplePaths(from, result.sampleId).dir;
    const [tar, manifest] = [join(dir, state.tar), join(dir, state.manifest)];
    const gone = [tar, manifest].find((p) => !existsSync(p));
    if (gone) {
      why(`its saved workspace state ${gone} is missing`);
      continue;
    }
    jobs.push({ sample: { id: result.sampleId, task, epoch: result.epoch }, result, attempt, tar, manifest, spec: scorerFor ? scorerFor(task) : task.scorer });
  }

  // Grader models of the scorers the samples are rescored with: checked before the new run directory.
  const graded = jobs.map((j) => ({ ...j.sample.task, scorer: j.spec, turns: undefined }));
  checkGraders(graded, { graderModel: config.graderModel });
  const grader = needsGrader(graded) ? graderClientOf(config) : undefined;
  // An engine that does not answer, or a task the provider cannot run as asked, fails before the new run directory.
  const provider = await openProvider(options, config);
  try {
    checkProviderFits([...new Map(jobs.map((j) => [j.sample.task.id, j.sample.task])).values()], provider, { needsModel: false }, config.runtime);
  } catch (err) {
    await disposeProvider(provider).catch(() => undefined);
    throw err;
  }
  await mkdir(newDir, { recursive: true });
  const rescoredFrom = { runDir: from, runId: record.runId, ...(options.scorer ? { scorer: options.scorer } : {}), ...(options.taskDirs?.length ? { taskDirs: options.taskDirs.map((d) => resolve(d)) } : {}) };
  const runRecord: RescoredRunRecord = {
    ...record,
    ...runRecordHead(config.runId),
    tasks: taskRefs(resolved),
    rescoredFrom,
  };
  await writeJsonAtomic(join(newDir, 'run.json'), runRecord);

  const startedAt = new Date();
  const pools = { builds: pLimit(config.buildConcurrency), scoring: pLimit(config.concurrency) };
  const slots = pLimit(config.concurrency);
  let interrupted = options.signal?.aborted ?? false;
  const onAbort = (): void => {
    interrupted = true;
    void provider.close(); // live sandboxes go; their samples end without a result
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const written: ResultRecord[] = [];
  const samples: SampleDelta[] = [];
  try {
    await Promise.all(
      jobs.map(async (job) => {
        if (interrupted) return;
        await prebuild(job.sample, { config, provider, pools });
        const result = await slots(() => (interrupted ? undefined : rescoreSample(job, { config, provider, pools, from, newDir, signal: options.signal, grader })));
        if (!result) return;
        written.push(result);
        samples.push({
          sampleId: job.sample.id,
          before: { outcome: job.result.outcome, score: job.result.score },
          after: { outcome: result.outcome, score: result.score, ...(result.error ? { error: result.error.message.split('\n')[0] } : {}) },
        });
        options.log?.(`${job.sample.id}: ${scoreText(job.result)} → ${scoreText(result)}`);
      }),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await disposeProvider(provider);
  }

  samples.sort((a, b) => a.sampleId.localeCompare(b.sampleId));
  notRescored.sort((a, b) => a.sampleId.localeCompare(b.sampleId));
  const status = interrupted ? 'interrupted' : 'completed';
  const summary = buildSummary(config, record.config.agent, written, jobs.length, status, startedAt);
  await writeJsonAtomic(join(newDir, 'summary.json'), summary);
  const deltaLine = deltaOf(samples);
  notes.push(...(await stateNotes(jobs)));
  const rescoreRecord: RescoreRecord = { version: 1, from: rescoredFrom, delta: deltaLine, samples, notRescored, notes };
  await writeJsonAtomic(join(newDir, 'rescore.json'), rescoreRecord);
  const failed = samples.some((s) => s.after.outcome === 'error') || notRescored.some((n) => n.scored);
  const exitCode = interrupted ? EXIT_INTERRUPTED : failed ? EXIT_SAMPLE_ERRORS : EXIT_OK;
  return { runDir: newDir, from, samples, notRescored, notes, summary, deltaLine, exitCode };
}

/** What the saved states left out, said once per sample that lost something a verifier might read. */
async function stateNotes(jobs: readonly Job[]): Promise<string[]> {
  const notes: string[] = [];
  for (const job of jobs) {
    const manifest = await readJson<StateManifest>(job.manifest).catch(() => undefined);
    const lost = (manifest?.notSaved ?? []).filter((n) => n.reason !== 'cache');
    if (lost.length) notes.push(`${job.sample.id}: not restored, so its score may differ: ${lost.map((n) => `${n.path} (${n.reason === 'size' ? 'over the size limit' : 'could not be copied out of the sandbox'})`).join(', ')}`);
  }
  return notes;
}

function scoreText(r: ResultRecord): string {
  return r.outcome === 'error' ? `error (${r.error?.message.split('\n')[0] ?? ''})` : `${r.outcome} ${r.score ?? ''}`.trim();
}

/** `rescored N samples: changed C (up U, down D), mean a → b`, over the samples rescored to a score. */
export function deltaOf(samples: readonly SampleDelta[]): string {
  const scored = samples.filter((s) => s.after.score !== undefined && s.before.score !== undefined);
  const up = scored.filter((s) => s.after.score! > s.before.score!).length;
  const down = scored.filter((s) => s.after.score! < s.before.score!).length;
  const errors = samples.length - scored.length;
  const changed = samples.filter((s) => s.after.score !== s.before.score || s.after.outcome !== s.before.outcome).length;
  const mean = (pick: (s: SampleDelta) => number): string => (scored.length ? (scored.reduce((n, s) => n + pick(s), 0) / scored.length).toFixed(2) : 'n/a');
  const tail = errors ? `; ${errors} ended in an error` : '';
  return `rescored ${samples.length} samples: changed ${changed} (up ${up}, down ${down}), mean ${mean((s) => s.before.score!)} → ${mean((s) => s.after.score!)}${tail}`;
}

/**
 * The run's tasks as they are now: loaded from the run's paths, those from `--task-dir`
 * replacing the ones of the same id. A task that changed since the run is noted; one that
 * cannot be found makes its samples not rescorable.
 */
async function rescoreTasks(record: RunRecord, taskDirs: readonly string[], notes: string[]): Promise<{ tasks: Task[]; missing: (id: string) => string }> {
  const overrides = taskDirs.length ? await loadTasks(taskDirs.map((d) => resolve(d))) : [];
  if (taskDirs.length && !overrides.length) throw new ConfigError(`--task-dir ${taskDirs.join(' ')}: no tasks found. Give Harbor task dirs, folders of them, or suite .yaml files.`);
  const known = new Set(record.tasks.map((t) => t.id));
  const strangers = overrides.filter((t) => !known.has(t.id)).map((t) => t.id);
  if (strangers.length) {
    throw new ConfigError(`--task-dir: ${strangers.join(', ')} ${strangers.length > 1 ? 'are' : 'is'} not a task of the run (its tasks: ${[...known].slice(0, 8).join(', ')}${known.size > 8 ? ', ...' : ''}). A task dir replaces the run's task of the same id.`);
  }
  let loadProblem: string | undefined;
  const paths = record.config.paths ?? [];
  const original = paths.length
    ? await loadTasks([...paths], { filter: record.config.task }).catch((err: unknown) => {
        loadProblem = err instanceof Error ? err.message.split('\n')[0] : String(err);
        return [] as Task[];
      })
    : [];
  if (loadProblem) notes.push(`the run's tasks could not be loaded from ${paths.join(' ')} (${loadProblem}): only tasks given with --task-dir are rescored`);
  const byId = new Map(original.map((t) => [t.id, t]));
  const replaced = new Set(overrides.map((t) => t.id));
  for (const t of overrides) byId.set(t.id, t);
  const tasks: Task[] = [];
  for (const ref of record.tasks) {
    const task = byId.get(ref.id);
    if (!task) continue;
    if (!replaced.has(ref.id) && task.digest !== ref.digest) notes.push(`task ${ref.id} changed since the run (${task.origin}): rescored with the task as it is now`);
    tasks.push(task);
  }
  const inCode = record.config.inline?.includes('tasks');
  /** Why a task of the run is not there to rescore with. */
  const missing = (id: string): string => {
    const ref = record.tasks.find((t) => t.id === id);
    if (inCode) return `task ${id} was defined in code, which run.json cannot hold: give it as a task dir with --task-dir`;
    return `task ${id} is no longer found (it was ${ref?.origin ?? 'unknown'}): give it with --task-dir`;
  };
  return { tasks, missing };
}

/** The original run's configuration, with a new run id: what the runner's helpers read (timeouts, concurrency, host env). */
function configOf(record: RunRecord, options: RescoreOptions, tasks: readonly Task[]): ResolvedConfig {
  // Earlier versions wrote continueMessage and engineGraceSec; neither matters to scoring.
  const { continueMessage: _c, engineGraceSec: _e, inline: _i, baseline: _b, ...c } = record.config as RunRecord['config'] & { baseline?: unknown };
  return resolveConfig({
    ...c,
    // A run of tasks defined in code has no paths; the tasks here are what the checks need to see.
    paths: c.paths?.length ? c.paths : tasks.map((t) => t.origin),
    agent: c.agent,
    concurrency: options.concurrency ?? c.concurrency,
    graderModel: options.graderModel ?? c.graderModel,
    out: options.out ?? '.',
    runId: options.runId ?? newRunId(),
  });
}

interface SampleDeps {
  readonly config: ResolvedConfig;
  readonly provider: SandboxProvider;
  readonly pools: { readonly builds: ReturnType<typeof pLimit>; readonly scoring: ReturnType<typeof pLimit> };
  readonly from: string;
  readonly newDir: string;
  readonly signal?: AbortSignal;
  readonly grader?: GraderClient;
}

/** One sample: its agent's files and artifacts copied, the workdir restored in a fresh sandbox, the attempt scored again. */
async function rescoreSample(job: Job, deps: SampleDeps): Promise<ResultRecord | undefined> {
  const { sample, result, attempt } = job;
  const { task } = sample;
  const { config } = deps;
  const old = samplePaths(deps.from, sample.id);
  const paths = samplePaths(deps.newDir, sample.id);
  await rm(paths.dir, { recursive: true, force: true });
  await Promise.all([paths.verifier, paths.artifacts, paths.agent].map((d) => mkdir(d, { recursive: true })));
  // The agent's record and the saved states travel with the result, so a rescored run can be rescored again.
  for (const [src, dest] of [[old.agent, paths.agent], [old.artifacts, paths.artifacts]] as const) {
    if (existsSync(src)) await cp(src, dest, { recursive: true });
  }
  const events = new EventLog(paths.events);
  const scale = (sec: number): number => Math.round(sec * config.timeoutMultiplier * 1000);
  const startedAt = performance.now();
  events.append('rescore.start', { sampleId: sample.id, from: old.dir, attempt: attempt.attempt, scorer: job.spec.type });
  const staging = await mkdtemp(join(tmpdir(), 'cagebench-rescore-'));
  // This rescore's grader calls (model_graded): they replace the original run's in the result.
  let graderUsage: ModelUsageRecord | undefined;
  const emit = (type: string, fields: Readonly<Record<string, unknown>>): void => events.append(type, { ...fields, attempt: attempt.attempt });
  const grading = async (): Promise<Partial<ScoreContext>> => {
    const diff = await stepDiff(old.dir, attempt.changes);
    return {
      question: task.instruction,
      ...(diff === undefined ? {} : { diff }),
      emit,
      ...(deps.grader ? { grader: sampleGrader(deps.grader, { sampleId: sample.id, signal: deps.signal, emit, onUsage: (u) => (graderUsage = addUsage(graderUsage, u)) }) } : {}),
    };
  };
  try {
    const sandbox = await deps.provider.start(sandboxSpec(sample, config));
    try {
      events.append('sandbox.start', { id: sandbox.id.slice(0, 12), image: sandbox.image });
      const workdir = task.environment.workdir;
      const setupDeadline = Date.now() + scale(task.timeouts.setupSec);
      await prepareTask(sandbox, task, workdir, scale(task.timeouts.setupSec), events);
      if (task.environment.healthcheck) {
        await waitHealthy({ sandbox, check: task.environment.healthcheck, workdir, taskId: task.id, deadline: setupDeadline, scale: config.timeoutMultiplier, emit: (type, fields) => events.append(type, fields) });
      }
      await restoreState(sandbox, job, staging, events);
      const outputDir = attempt.attempt === 1 ? paths.verifier : join(paths.verifier, `attempt-${attempt.attempt}`);
      await mkdir(outputDir, { recursive: true });
      const scoreStarted = performance.now();
      // As in a run: the task's extra scorers only with the task's own scorer (a --scorer replaces all of its scoring).
      const score = await scoreStep({
        spec: job.spec,
        scorer: createScorer(job.spec),
        extras: job.spec === task.scorer ? (task.extraScorers ?? []) : [],
        context: { sandbox, answer: attempt.agent.finalMessage, workdir, timeoutMs: scale(task.timeouts.verifierSec) },
        outputDir,
        grading,
        pool: deps.pools.scoring,
      });
      const verifierMs = Math.round(performance.now() - scoreStarted);
      events.append('score', { attempt: attempt.attempt, value: score.value, values: score.values, passed: score.passed, explanation: score.explanation });
      const attempts = result.attempts.map((a) =>
        a.attempt === attempt.attempt ? { ...a, score: score.value, values: score.values, passed: score.passed, explanation: score.explanation, verifierMs } : a,
      );
      const { passedAttempt: _p, history: _h, graderUsage: _g, ...rest } = result;
      const rescored: ResultRecord = {
        ...rest,
        ...(graderUsage ? { graderUsage } : {}),
        outcome: score.passed ? 'pass' : 'fail',
        ...(score.passed ? { passedAttempt: attempt.attempt } : {}),
        score: score.value,
        values: score.values,
        attempts,
        timings: { ...result.timings, verifierMs },
      };
      await writeJsonAtomic(paths.result, rescored);
      events.append('sample.end', { outcome: rescored.outcome, score: rescored.score, durationMs: Math.round(performance.now() - startedAt) });
      return rescored;
    } finally {
      await sandbox.stop().catch((err: unknown) => events.append('sandbox.cleanup_failed', { error: sampleError(err).message }));
    }
  } catch (err) {
    if (deps.signal?.aborted) {
      events.append('sample.interrupted', { reason: 'signal' });
      return undefined;
    }
    const error = sampleError(err);
    events.append('sample.error', { ...error });
    const { passedAttempt: _p, history: _h, graderUsage: _g, ...rest } = result;
    const failed: ResultRecord = { ...rest, ...(graderUsage ? { graderUsage } : {}), outcome: 'error', score: undefined, values: undefined, error };
    await writeJsonAtomic(paths.result, failed);
    return failed;
  } finally {
    events.close();
    await rm(staging, { recursive: true, force: true });
  }
}

/** Apply the attempt's saved workdir state: its files staged in the sandbox, then its script run as root. */
async function restoreState(sandbox: Sandbox, job: Job, staging: string, events: EventLog): Promise<void> {
  const manifest = await readJson<StateManifest>(job.manifest);
  if (!manifest || !Array.isArray(manifest.entries)) throw new ConfigError(`${job.manifest} is not a workspace state manifest.`);
  const inSandbox = `/tmp/cagebench-restore-${Math.random().toString(36).slice(2, 10)}`;
  await stageState(job.tar, manifest, staging, inSandbox);
  const started = performance.now();
  await sandbox.upload(staging, inSandbox);
  const run = await sandbox.exec(['sh', `${inSandbox}/restore.sh`], { user: 'root' });
  events.append('workspace.restore', { root: manifest.root, entries: manifest.entries.length, deleted: manifest.deleted.length, bytes: manifest.bytes, exitCode: run.exitCode, durationMs: Math.round(performance.now() - started) });
  if (run.exitCode !== 0) {
    const tail = `${run.stdout}${run.stderr}`.trim().split('\n').slice(-10).join('\n');
    throw new CagebenchError('CB_RESTORE_FAILED', 'infra', `restoring the workdir ${manifest.root} failed (exit ${run.exitCode}):\n${tail}`);
  }
}
