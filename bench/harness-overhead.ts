// Harness overhead benchmark: per sample of a run with the oracle agent, the wall time the
// harness spends outside the task's own commands (setup, solution, verifier), against the raw
// Docker lifecycle measured in the same process between the runs; then run throughput on the
// Harbor smoke suite at several concurrencies. Interleaved with the runs, each task's own work
// in a bare `docker run --rm … sh -c '<files; setup; solution; test>'`, for sample wall / bare run.
//
//   npm run bench:harness                      # table on stdout, progress on stderr
//   npm run --silent bench:harness -- --json   # JSON on stdout
//
// How "inside" is measured: the benchmark wraps, in its own process and without changing
// them, DockerProvider.prototype.start (to see each sample's sandbox), that sandbox's exec,
// file and stop methods, and the oracle agent (to know when the solution runs). Every exec is
// timed around the call and put in the phase the sample was in; the task's commands are the
// setup command, the solution's execs and the scorer's test exec. The run's own dockerode
// client is traced (EngineTrace) so, at concurrency 1, every engine call lands in a phase.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { positiveInteger, readFlags, runMain, UsageError } from './cli.ts';
import { createAgent, type AgentAdapter } from '../agents/index.ts';
import { run, type ResultRecord } from '../harness/index.ts';
import {
  createDockerProvider,
  DockerProvider,
  LABEL_RUN,
  type Sandbox,
  type SandboxSpec,
  type StartOptions,
} from '../sandboxes/index.ts';
import { loadTasks, type Task } from '../tasks/index.ts';
import { shellQuote } from '../harness/models/providers/mock.ts';
import { epochNow } from './engine-events.ts';
import { EngineTrace } from './engine-trace.ts';
import { median, quantile, round, summarize, type Summary } from './stats.ts';

const execFileAsync = promisify(execFile);

const YAML_SUITE = fileURLToPath(new URL('../tasks/suites/smoke.yaml', import.meta.url));
const HARBOR_SUITE = fileURLToPath(new URL('../tasks/suites/smoke', import.meta.url));

/** A bad flag: printed with the usage line, without a stack. */

const USAGE = 'Usage: npm run bench:harness -- [--runs 8] [--throughput-runs 3] [--concurrency 1,2,4] [--only overhead,throughput] [--workspace auto|archive|both] [--keep] [--json]';

const SECTIONS = ['overhead', 'throughput'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  /** Fresh runs of smoke.yaml at concurrency 1 for the per-sample overhead. @default 8 */
  readonly runs: number;
  /** Runs of smoke/ per concurrency level. @default 3 */
  readonly throughputRuns: number;
  /** @default [1, 2, 4] */
  readonly concurrency: readonly number[];
  readonly only: readonly Section[];
  /** Keep the run directories (printed) instead of removing them. */
  readonly keep: boolean;
  readonly json: boolean;
  /**
   * How the samples' workspace snapshots are taken: `auto` as the harness does, `archive` with
   * the sandbox's spawn hidden from the run (so never the in-sandbox listing), `both`
   * alternating run by run (odd runs auto), reported apart. @default 'auto'
   */
  readonly workspace: 'auto' | 'archive' | 'both';
}

// ---------------------------------------------------------------------------------------
// Observing samples

/**
 * Where a sample is, from the moment it gets its sandbox slot to its result written:
 * - `slot`: slot taken (reporter's onSampleStart) until provider.start() is called;
 * - `start`: provider.start() (image check, create, container start);
 * - `prepare`: task files, the `pwd` exec when the task names no workdir, the setup command;
 * - `agent`: the oracle's run() (solution upload and its execs, transcript);
 * - `scorer`: from the agent's return to the sandbox's stop() (the scorer and the trial's bookkeeping);
 * - `stop`: the sandbox's stop() (container removal);
 * - `finish`: from stop() to onSampleEnd (result.json and the last events written).
 */
const PHASES = ['slot', 'start', 'prepare', 'agent', 'scorer', 'stop', 'finish'] as const;
type Phase = (typeof PHASES)[number];

interface TimedCall {
  readonly phase: Phase;
  readonly what: string;
  readonly ms: number;
}

interface ExecCall extends TimedCall {
  /** One of the task's own commands (setup, solution, the scorer's test), not harness plumbing. */
  readonly task: boolean;
}

interface SampleObs {
  readonly runId: string;
  readonly sampleId: string;
  phase: Phase;
  /** performance.now() when the current phase began. */
  since: number;
  readonly phaseMs: Record<Phase, number>;
  slotEpochMs?: number;
  slots: number;
  done: boolean;
  /** Its sandbox's start is under way / done (the runner may start it ahead of the slot). */
  starting: boolean;
  ready: boolean;
  /** performance.now() at onSampleEnd. */
  endAt?: number;
  readonly execs: ExecCall[];
  /** readFile, writeFile, upload, download. */
  readonly files: TimedCall[];
  /** Engine API calls (attributed at concurrency 1 only). */
  readonly calls: TimedCall[];
  result?: ResultRecord;
}

interface RunState {
  /** `archive`: the samples' sandboxes show no spawn, so their workspace snapshots are archive downloads. */
  readonly snapshots?: 'auto' | 'archive';
  readonly concurrency: number;
  readonly samples: Map<string, SampleObs>;
  /** The sample that last took a slot: engine calls are put on it at concurrency 1. */
  active?: SampleObs;
  /** Sandbox starts under way for samples still waiting for their slot (the runner's start-ahead). */
  aheadStarts: number;
}

/** Harness runs the benchmark observes, by run id; sandboxes of other run ids are left alone. */
const observedRuns = new Map<string, RunState>();
const obsOfSandbox = new WeakMap<Sandbox, SampleObs>();
const tracedEngines = new WeakSet<object>();

function newObs(runId: string, sampleId: string): SampleObs {
  return {
    runId,
    sampleId,
    phase: 'slot',
    since: performance.now(),
    phaseMs: Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>,
    slots: 0,
    done: false,
    starting: false,
    ready: false,
    execs: [],
    files: [],
    calls: [],
  };
}

function obsFor(state: RunState, runId: string, sampleId: string): SampleObs {
  let obs = state.samples.get(sampleId);
  if (!obs) {
    obs = newObs(runId, sampleId);
    state.samples.set(sampleId, obs);
  }
  return obs;
}

function enter(obs: SampleObs, next: Phase): void {
  if (obs.done) return; // the result is out: its sandbox's removal may still run, off the sample's wall
  const now = performance.now();
  obs.phaseMs[obs.phase] += now - obs.since;
  obs.phase = next;
  obs.since = now;
}

const VERIFIER_PREPARE = /^rm -rf \/tests /;

/** Whether an exec is the task's own work: the setup command, the solution, the scorer's test. */
function isTaskExec(phase: Phase, cmd: string | readonly string[]): boolean {
  if (cmd === 'pwd') return false; // the trial (or a scorer) asking for the workdir
  if (phase === 'agent') return true;
  // The setup command is the one string exec of the phase; the identity probe and the like are argvs.
  if (phase === 'prepare') return typeof cmd === 'string';
  // The Harbor verifier's `rm -rf /tests /logs/verifier && mkdir -p ...` before test.sh.
  if (phase === 'scorer') return !(typeof cmd !== 'string' && cmd[0] === 'sh' && VERIFIER_PREPARE.test(cmd[2] ?? ''));
  return false;
}

function describe(cmd: string | readonly string[]): string {
  return typeof cmd === 'string' ? cmd : cmd.join(' ');
}

/** Time every exec, file transfer and the stop of a sample's sandbox, by phase. */
function instrument(sandbox: Sandbox, obs: SampleObs): void {
  const exec = sandbox.exec.bind(sandbox);
  sandbox.exec = async (cmd, options) => {
    const phase = obs.phase;
    const t0 = performance.now();
    try {
      return await exec(cmd, options);
    } finally {
      obs.execs.push({ phase, what: describe(cmd), ms: performance.now() - t0, task: isTaskExec(phase, cmd) });
    }
  };
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const phase = obs.phase;
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      obs.files.push({ phase, what, ms: performance.now() - t0 });
    }
  };
  const readFile = sandbox.readFile.bind(sandbox);
  const writeFile = sandbox.writeFile.bind(sandbox);
  const upload = sandbox.upload.bind(sandbox);
  const download = sandbox.download.bind(sandbox);
  sandbox.readFile = (path) => timed('readFile', () => readFile(path));
  sandbox.writeFile = (path, content, options) => timed('writeFile', () => writeFile(path, content, options));
  sandbox.upload = (hostPath, target) => timed('upload', () => upload(hostPath, target));
  sandbox.download = (path, hostDir) => timed('download', () => download(path, hostDir));
  const spawn = sandbox.spawn?.bind(sandbox);
  // The workspace listing streams through spawn: timed from the call to the process's exit.
  if (spawn) {
    sandbox.spawn = async (argv, options) => {
      const phase = obs.phase;
      const t0 = performance.now();
      const proc = await spawn(argv, options);
      void proc.exited.then(() => obs.files.push({ phase, what: 'spawn (workspace listing)', ms: performance.now() - t0 }));
      return proc;
    };
  }
  const stop = sandbox.stop.bind(sandbox);
  // `await using` disposes through this.stop(), so the instance's own stop is the one called.
  sandbox.stop = async () => {
    if (obs.phase !== 'stop' && obs.phase !== 'finish') enter(obs, 'stop');
    try {
      await stop();
    } finally {
      if (obs.phase === 'stop') enter(obs, 'finish');
    }
  };
}

/** Install the observers once: the provider's start, for the run ids in observedRuns only. */
function observeProvider(): void {
  const proto = DockerProvider.prototype;
  const start = proto.start;
  proto.start = async function (this: DockerProvider, spec: SandboxSpec, options?: StartOptions): Promise<Sandbox> {
    const state = observedRuns.get(spec.runId);
    if (!state) return start.call(this, spec, options);
    if (!tracedEngines.has(this.engine)) {
      tracedEngines.add(this.engine);
      new EngineTrace(this.engine).onCall = (call) => {
        const obs = state.active;
        // The next sample's start ahead of its slot is not the active sample's: its create, start and image check are left out.
        if (state.aheadStarts > 0 && /^(POST \/containers\/create|POST \/containers\/\{id\}\/start|GET \/images\/)/.test(call.route)) return;
        if (state.concurrency === 1 && obs && !obs.done) obs.calls.push({ phase: obs.phase, what: call.route, ms: call.ms });
      };
    }
    const obs = obsFor(state, spec.runId, spec.sampleId);
    // Started before its sample took a slot (the runner's start-ahead): its time is not the sample's.
    const ahead = obs.slots === 0;
    obs.starting = true;
    if (ahead) state.aheadStarts++;
    else {
      state.active = obs;
      enter(obs, 'start');
    }
    let sandbox: Sandbox;
    try {
      sandbox = await start.call(this, spec, options);
    } finally {
      obs.starting = false;
      if (ahead) state.aheadStarts--;
    }
    obs.ready = true;
    // Once the sample holds its slot (it may have taken it during the start), it prepares.
    if (obs.slots > 0) enter(obs, 'prepare');
    instrument(sandbox, obs);
    if (state.snapshots === 'archive') (sandbox as { spawn?: unknown }).spawn = undefined;
    obsOfSandbox.set(sandbox, obs);
    return sandbox;
  };
}

/** The oracle, with the boundaries of its run() marked on the sample. */
function observedOracle(): AgentAdapter {
  const oracle = createAgent('oracle');
  return {
    name: oracle.name,
    needsModel: oracle.needsModel,
    async run(ctx) {
      const obs = obsOfSandbox.get(ctx.sandbox);
      if (obs) enter(obs, 'agent');
      try {
        return await oracle.run(ctx);
      } finally {
        if (obs) enter(obs, 'scorer');
      }
    },
  };
}

// ---------------------------------------------------------------------------------------
// Runs

interface SampleFigures {
  readonly sampleId: string;
  readonly taskId: string;
  /** Slot taken to result written. */
  readonly wallMs: number;
  /** The task's own execs: setup command, solution, scorer's test. */
  readonly insideMs: number;
  readonly overheadMs: number;
  readonly inside: { readonly setup: number; readonly solution: number; readonly test: number };
  /** Per phase, the phase's time less the task's execs in it; these add up to overheadMs. */
  readonly overheadByPhase: Record<Phase, number>;
  /** The result's own timings; environmentMs and durationMs with the slot wait taken out. */
  readonly recorded: {
    readonly durationMs: number;
    readonly queueMs: number;
    readonly environmentMs: number;
    readonly agentMs: number;
    readonly verifierMs: number;
    /** wallMs less the three phases above: sandbox stop, result writing, bookkeeping. */
    readonly remainderMs: number;
  };
  readonly harnessExecs: readonly TimedCall[];
  readonly files: readonly TimedCall[];
  readonly calls: readonly TimedCall[];
}

interface RunFigures {
  readonly runId: string;
  readonly suite: 'smoke.yaml' | 'smoke';
  readonly concurrency: number;
  readonly wallMs: number;
  readonly samples: readonly SampleFigures[];
  /** Samples left out of the figures (not a pass, retried, or not observed whole). */
  readonly excluded: readonly string[];
  readonly runDir: string;
  readonly snapshots: 'auto' | 'archive';
  /**
   * Between one sample's result and the next one's (onSampleEnd to onSampleEnd), in the order
   * they ended: at concurrency 1 what each sample costs the run, whatever overlaps (start-ahead).
   */
  readonly intervals: readonly number[];
}

interface Context {
  readonly options: Options;
  readonly base: string;
  readonly agent: AgentAdapter;
  readonly outDirs: string[];
  /** Samples left out of the figures, with their run. */
  readonly excluded: string[];
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function harnessRun(ctx: Context, suite: RunFigures['suite'], runId: string, concurrency: number, snapshots: 'auto' | 'archive' = ctx.options.workspace === 'archive' ? 'archive' : 'auto'): Promise<RunFigures> {
  const out = await mkdtemp(join(tmpdir(), `cagebench-${runId}-`));
  ctx.outDirs.push(out);
  const state: RunState = { concurrency, samples: new Map(), snapshots, aheadStarts: 0 };
  observedRuns.set(runId, state);
  const begin = performance.now();
  const outcome = await run(
    { paths: [suite === 'smoke' ? HARBOR_SUITE : YAML_SUITE], agent: ctx.agent, out, runId, concurrency },
    {
      reporter: {
        onSampleStart(ref) {
          const obs = obsFor(state, runId, ref.id);
          obs.slots++;
          // The wall starts here: a sandbox started ahead counts only for what is left of its start.
          for (const p of PHASES) obs.phaseMs[p] = 0;
          obs.phase = obs.ready ? 'prepare' : obs.starting ? 'start' : 'slot';
          obs.since = performance.now();
          obs.slotEpochMs = epochNow();
          state.active = obs;
        },
        onSampleEnd(result) {
          const obs = obsFor(state, runId, result.sampleId);
          enter(obs, obs.phase);
          obs.done = true;
          obs.endAt = performance.now();
          obs.result = result;
        },
      },
    },
  );
  const wallMs = performance.now() - begin;
  observedRuns.delete(runId);
  const ends = [...state.samples.values()].flatMap((o) => (o.endAt === undefined ? [] : [o.endAt])).sort((a, b) => a - b);
  const intervals = ends.slice(1).map((t, i) => t - ends[i]!);
  const samples: SampleFigures[] = [];
  const excluded: string[] = [];
  for (const obs of state.samples.values()) {
    const r = obs.result;
    if (!r || r.outcome !== 'pass' || r.retries > 0 || obs.slots !== 1 || obs.slotEpochMs === undefined) {
      excluded.push(`${obs.sampleId} (${r ? `${r.outcome}, ${r.retries} retries` : 'no result'})`);
      continue;
    }
    samples.push(figuresOf(obs, r, obs.slotEpochMs));
  }
  ctx.excluded.push(...excluded.map((e) => `${runId}/${e}`));
  if (outcome.exitCode !== 0 || excluded.length) {
    progress(`  warning: run ${runId} exit code ${outcome.exitCode}; left out: ${excluded.join(', ') || 'none'}`);
  }
  return { runId, suite, concurrency, wallMs, samples, excluded, runDir: outcome.runDir, snapshots, intervals };
}

function figuresOf(obs: SampleObs, r: ResultRecord, slotEpochMs: number): SampleFigures {
  const wallMs = PHASES.reduce((sum, p) => sum + obs.phaseMs[p], 0);
  const taskMs = (phase: Phase): number => obs.execs.filter((e) => e.task && e.phase === phase).reduce((s, e) => s + e.ms, 0);
  const inside = { setup: taskMs('prepare'), solution: taskMs('agent'), test: taskMs('scorer') };
  const insideMs = inside.setup + inside.solution + inside.test;
  const overheadByPhase = Object.fromEntries(PHASES.map((p) => [p, obs.phaseMs[p] - taskMs(p)])) as Record<Phase, number>;
  // startedAt is taken when the runner queues the sample, before it waits for a slot.
  const queueMs = Math.max(0, slotEpochMs - Date.parse(r.timings.startedAt));
  const environmentMs = r.timings.environmentMs - queueMs;
  return {
    sampleId: r.sampleId,
    taskId: r.taskId,
    wallMs,
    insideMs,
    overheadMs: wallMs - insideMs,
    inside,
    overheadByPhase,
    recorded: {
      durationMs: r.timings.durationMs,
      queueMs,
      environmentMs,
      agentMs: r.timings.agentMs,
      verifierMs: r.timings.verifierMs,
      remainderMs: wallMs - environmentMs - r.timings.agentMs - r.timings.verifierMs,
    },
    harnessExecs: obs.execs.filter((e) => !e.task),
    files: obs.files,
    calls: obs.calls,
  };
}

// ---------------------------------------------------------------------------------------
// The raw lifecycle

interface RawPair {
  readonly providerMs: number;
  readonly cliMs: number;
  /** The bare run of one task's work (`bare` of the setup), and which task. */
  readonly bareMs: number;
  readonly bareTask: string;
}

interface BareRun {
  readonly taskId: string;
  /** `docker run --rm … IMAGE sh -c SCRIPT`: the same limits as cliArgs. */
  readonly args: readonly string[];
}

interface RawSetup {
  readonly provider: DockerProvider;
  readonly spec: Omit<SandboxSpec, 'sampleId'>;
  readonly cliArgs: readonly string[];
  /** One per task of smoke.yaml, in the suite's order. */
  readonly bare: readonly BareRun[];
}

/**
 * A task's own work as one shell script, as a bare `docker run` would do it: its files written
 * (printf, a shell builtin), its setup command, its solution's commands, and its test (a command
 * scorer's command; a file scorer's read of the file; nothing for an answer scorer, whose answer
 * is the solution's output). `set -e`: the benchmark checks it exits 0.
 */
async function bareScript(task: Task): Promise<string> {
  const q = shellQuote;
  const lines = ['set -e'];
  for (const f of task.files) {
    const content = f.content ?? (await readFile(f.source!, 'utf8'));
    lines.push(`printf '%s' ${q(content)} > ${q(f.path)}`);
    if (f.mode !== undefined) lines.push(`chmod ${f.mode.toString(8)} ${q(f.path)}`);
  }
  if (task.setup) lines.push(task.setup);
  if (task.solution?.kind === 'commands') lines.push(...task.solution.commands);
  const scorer = task.scorer;
  if (scorer.type === 'command') lines.push(scorer.command);
  else if (scorer.type === 'file') lines.push(`cat ${q(scorer.path)} >/dev/null`);
  return lines.join('\n');
}

async function rawSetup(base: string): Promise<RawSetup> {
  // The same sandbox the smoke.yaml samples get: image, network, limits, workdir.
  const tasks = await loadTasks([YAML_SUITE]);
  const env = tasks[0]!.environment;
  if (!('image' in env.source)) throw new Error(`${YAML_SUITE}: expected an image environment`);
  const image = env.source.image;
  const network = env.network ?? 'none';
  const limits = ['run', '--rm', '--network', network];
  if (env.cpus) limits.push('--cpus', String(env.cpus));
  if (env.memoryMb) limits.push('--memory', `${env.memoryMb}m`, '--memory-swap', `${env.memoryMb}m`);
  if (env.workdir) limits.push('-w', env.workdir);
  const bare = await Promise.all(tasks.map(async (t) => ({ taskId: t.id, args: [...limits, image, 'sh', '-c', await bareScript(t)] })));
  return {
    provider: await createDockerProvider(),
    spec: { source: { image }, runId: `${base}-raw`, network, limits: { cpus: env.cpus, memoryMb: env.memoryMb }, workdir: env.workdir },
    cliArgs: [...limits, image, 'true'],
    bare,
  };
}

/** create + start + `exec true` + remove through the provider. */
async function providerLifecycle(raw: RawSetup, sampleId: string): Promise<number> {
  const begin = performance.now();
  const sandbox = await raw.provider.start({ ...raw.spec, sampleId });
  try {
    const r = await sandbox.exec(['true']);
    if (r.exitCode !== 0) throw new Error(`exec true exited ${r.exitCode} in ${sampleId}: ${r.stderr}`);
  } finally {
    await sandbox.stop();
  }
  return performance.now() - begin;
}

async function cliLifecycle(args: readonly string[]): Promise<number> {
  const begin = performance.now();
  await execFileAsync('docker', [...args]);
  return performance.now() - begin;
}

/** n triples; the order of the three sides rotates with the pair and the block; pair i runs task i's bare run. */
async function rawBlock(raw: RawSetup, n: number, block: number, offset: number): Promise<RawPair[]> {
  const pairs: RawPair[] = [];
  for (let i = offset + 1; i <= offset + n; i++) {
    const bare = raw.bare[(i - 1) % raw.bare.length]!;
    const sides: Record<'providerMs' | 'cliMs' | 'bareMs', () => Promise<number>> = {
      providerMs: () => providerLifecycle(raw, `raw-${block}-${i}`),
      cliMs: () => cliLifecycle(raw.cliArgs),
      bareMs: () => cliLifecycle(bare.args),
    };
    const order = (['providerMs', 'cliMs', 'bareMs'] as const).map((_, k, all) => all[(k + i + block) % 3]!);
    const times = { providerMs: 0, cliMs: 0, bareMs: 0 };
    for (const side of order) times[side] = await sides[side]();
    pairs.push({ ...times, bareTask: bare.taskId });
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------
// Figures

interface PerKind {
  readonly perSample: number;
  readonly msEach: number;
}

interface Breakdown {
  readonly samples: number;
  readonly wall: Summary;
  readonly inside: Summary;
  readonly overhead: Summary;
  /** Medians of each part; medians of parts do not add up to the median of the whole. */
  readonly insideParts: Record<string, number>;
  readonly overheadByPhase: Record<Phase, number>;
  readonly recorded: Record<string, number>;
  /** Harness execs, file transfers and (concurrency 1) engine calls: mean count per sample, median ms per call. */
  readonly harnessExecs: Record<string, PerKind>;
  readonly files: Record<string, PerKind>;
  readonly calls: Record<string, PerKind>;
  readonly perTask: Record<string, { samples: number; wallMs: number; insideMs: number; overheadMs: number }>;
}

function breakdown(samples: readonly SampleFigures[]): Breakdown {
  const med = (f: (s: SampleFigures) => number): number => round(median(samples.map(f)));
  /** Each kind of call: how many per sample (mean) and how long one takes (median over the calls). */
  const perKind = (pick: (s: SampleFigures) => readonly TimedCall[], key: (c: TimedCall) => string) => {
    const all = samples.flatMap((s) => pick(s));
    const kinds = [...new Set(all.map(key))].sort();
    return Object.fromEntries(
      kinds.map((k) => {
        const calls = all.filter((c) => key(c) === k);
        return [k, { perSample: round(calls.length / samples.length, 2), msEach: round(median(calls.map((c) => c.ms))) }];
      }),
    );
  };
  const tasks = [...new Set(samples.map((s) => s.taskId))];
  return {
    samples: samples.length,
    wall: summarize(samples.map((s) => s.wallMs)),
    inside: summarize(samples.map((s) => s.insideMs)),
    overhead: summarize(samples.map((s) => s.overheadMs)),
    insideParts: { setup: med((s) => s.inside.setup), solution: med((s) => s.inside.solution), test: med((s) => s.inside.test) },
    overheadByPhase: Object.fromEntries(PHASES.map((p) => [p, med((s) => s.overheadByPhase[p])])) as Record<Phase, number>,
    recorded: {
      'durationMs (as recorded)': med((s) => s.recorded.durationMs),
      'slot wait in it': med((s) => s.recorded.queueMs),
      'environmentMs (less the wait)': med((s) => s.recorded.environmentMs),
      agentMs: med((s) => s.recorded.agentMs),
      verifierMs: med((s) => s.recorded.verifierMs),
      'remainder (stop, result, bookkeeping)': med((s) => s.recorded.remainderMs),
    },
    harnessExecs: perKind((s) => s.harnessExecs, (c) => `${c.phase}: ${c.what.length > 40 ? `${c.what.slice(0, 37)}...` : c.what}`),
    files: perKind((s) => s.files, (c) => `${c.phase}: ${c.what}`),
    calls: perKind((s) => s.calls, (c) => `${c.phase}: ${c.what}`),
    perTask: Object.fromEntries(
      tasks.map((t) => {
        const of = samples.filter((s) => s.taskId === t);
        return [
          t,
          {
            samples: of.length,
            wallMs: round(median(of.map((s) => s.wallMs))),
            insideMs: round(median(of.map((s) => s.insideMs))),
            overheadMs: round(median(of.map((s) => s.overheadMs))),
          },
        ];
      }),
    ),
  };
}

interface Ratio {
  readonly label: string;
  readonly command: string;
  readonly baseline: Summary;
  /** median(overhead) / median(baseline) over everything. */
  readonly ratio: number;
  /** Per run: median overhead of the run / median baseline of its block; the median of those. */
  readonly perRunRatio: number;
  readonly perRun: readonly number[];
}

interface ThroughputLevel {
  readonly concurrency: number;
  readonly runs: number;
  readonly walls: readonly number[];
  readonly wallMs: number;
  readonly samplesPerMin: number;
  readonly medianSampleMs: number;
  readonly medianOverheadMs: number;
  readonly medianRecordedDurationMs: number;
}

interface Report {
  readonly command: string;
  readonly runIdPrefix: string;
  readonly machine: { cpus: number; engineVersion: string; node: string; load1mAtStart: number; otherContainersAtStart: number };
  readonly overhead?: {
    readonly suite: string;
    readonly runs: number;
    readonly runWallMs: readonly number[];
    readonly samples: Breakdown;
    readonly ratios: readonly Ratio[];
    /** Sample wall against a bare `docker run --rm … sh -c '<files; setup; solution; test>'` of the same task, in the same block. */
    readonly bare: BareFigures;
    /** With `--workspace both`: the runs of each snapshot method apart. */
    readonly bySnapshots?: Record<string, { runs: number; samples: number; wall: Summary; overhead: Summary; bare: BareFigures }>;
  };
  readonly throughput?: {
    readonly suite: string;
    readonly samplesPerRun: number;
    readonly warmupWallMs: number;
    readonly levels: readonly ThroughputLevel[];
    /** The concurrency-1 samples of smoke/, broken down like smoke.yaml's. */
    readonly concurrency1?: Breakdown;
  };
  readonly excluded: readonly string[];
  leftovers: { containers: string[]; networks: string[]; othersLabelled: number };
  runDirs?: readonly string[];
}

interface BareFigures {
  readonly command: string;
  readonly wall: Summary;
  readonly bare: Summary;
  /** median(sample wall) / median(bare run). */
  readonly ratio: number;
  /** Each sample's wall over its task's bare run in the same block; their median and quartiles. */
  readonly paired: { readonly median: number; readonly p25: number; readonly p75: number; readonly n: number };
  readonly perTask: Record<string, { readonly wallMs: number; readonly bareMs: number; readonly ratio: number }>;
  /** Result to next result at concurrency 1 (RunFigures.intervals), against the bare runs. */
  readonly interval: Summary;
  readonly intervalRatio: number;
  /** Per run: its median interval / its block's median bare run; the median of those. */
  readonly intervalPerRun: number;
}

function bareFigures(raw: RawSetup, results: readonly { run: RunFigures; raw: RawPair[] }[]): BareFigures {
  const walls: number[] = [];
  const bares: number[] = [];
  const paired: number[] = [];
  const byTask = new Map<string, { walls: number[]; bares: number[] }>();
  for (const { run, raw: block } of results) {
    for (const p of block) {
      const t = byTask.get(p.bareTask) ?? { walls: [], bares: [] };
      byTask.set(p.bareTask, t);
      t.bares.push(p.bareMs);
      bares.push(p.bareMs);
    }
    for (const s of run.samples) {
      const b = block.find((p) => p.bareTask === s.taskId);
      walls.push(s.wallMs);
      byTask.get(s.taskId)?.walls.push(s.wallMs);
      if (b) paired.push(s.wallMs / b.bareMs);
    }
  }
  const example = raw.bare[0]!.args;
  const intervals = results.flatMap((x) => x.run.intervals);
  const intervalPerRun = results.filter((x) => x.run.intervals.length).map((x) => median(x.run.intervals) / median(x.raw.map((p) => p.bareMs)));
  return {
    interval: summarize(intervals),
    intervalRatio: round(median(intervals) / median(bares), 3),
    intervalPerRun: round(median(intervalPerRun), 3),
    command: `docker ${example.slice(0, -1).join(' ')} '<the task's files, setup, solution and test>'`,
    wall: summarize(walls),
    bare: summarize(bares),
    ratio: round(median(walls) / median(bares), 3),
    paired: { median: round(median(paired), 3), p25: round(quantile(paired, 0.25), 3), p75: round(quantile(paired, 0.75), 3), n: paired.length },
    perTask: Object.fromEntries(
      [...byTask].map(([task, t]) => [task, { wallMs: round(median(t.walls)), bareMs: round(median(t.bares)), ratio: round(median(t.walls) / median(t.bares), 3) }]),
    ),
  };
}

// ---------------------------------------------------------------------------------------
// Sections

async function overheadSection(ctx: Context, raw: RawSetup): Promise<NonNullable<Report['overhead']>> {
  const { runs } = ctx.options;
  progress('overhead: warm-up run of smoke.yaml and one raw pair (not counted)');
  const warm = await harnessRun(ctx, 'smoke.yaml', `${ctx.base}-warm-y`, 1);
  await rawBlock(raw, 1, 0, 0);
  const pairs = warm.samples.length + warm.excluded.length;
  const results: { run: RunFigures; raw: RawPair[] }[] = [];
  for (let r = 1; r <= runs; r++) {
    // The run sits between two halves of its block of raw lifecycles, so drift in the
    // engine's load over the run hits both sides alike; which half is larger alternates.
    const before = r % 2 === 1 ? Math.ceil(pairs / 2) : Math.floor(pairs / 2);
    const block = await rawBlock(raw, before, r, 0);
    const snapshots = ctx.options.workspace === 'both' ? (r % 2 === 1 ? 'auto' : 'archive') : undefined;
    const figures = await harnessRun(ctx, 'smoke.yaml', `${ctx.base}-y${r}`, 1, snapshots);
    block.push(...(await rawBlock(raw, pairs - before, r, before)));
    results.push({ run: figures, raw: block });
    const o = median(figures.samples.map((s) => s.overheadMs));
    progress(
      `overhead run ${r}/${runs} (${figures.runId}, snapshots by ${figures.snapshots}): ${figures.samples.length} samples in ${figures.wallMs.toFixed(0)} ms, median overhead ${o.toFixed(0)} ms; ` +
        `raw: provider ${median(block.map((p) => p.providerMs)).toFixed(0)} ms, docker run ${median(block.map((p) => p.cliMs)).toFixed(0)} ms; ` +
        `sample wall ${median(figures.samples.map((s) => s.wallMs)).toFixed(0)} ms, result to result ${median([...figures.intervals]).toFixed(0)} ms, bare run of the task ${median(block.map((p) => p.bareMs)).toFixed(0)} ms`,
    );
  }
  const samples = results.flatMap((x) => x.run.samples);
  const overheads = samples.map((s) => s.overheadMs);
  const ratio = (label: string, command: string, pick: (p: RawPair) => number): Ratio => {
    const all = results.flatMap((x) => x.raw.map(pick));
    const perRun = results.map((x) => round(median(x.run.samples.map((s) => s.overheadMs)) / median(x.raw.map(pick)), 3));
    return { label, command, baseline: summarize(all), ratio: round(median(overheads) / median(all), 3), perRunRatio: round(median(perRun), 3), perRun };
  };
  return {
    suite: 'tasks/suites/smoke.yaml',
    runs,
    runWallMs: results.map((x) => round(x.run.wallMs)),
    samples: breakdown(samples),
    ratios: [
      ratio('provider lifecycle', 'provider.start(spec) + exec true + stop(), the samples\' spec', (p) => p.providerMs),
      ratio('docker run --rm', `docker ${raw.cliArgs.join(' ')}`, (p) => p.cliMs),
    ],
    bare: bareFigures(raw, results),
    ...(ctx.options.workspace === 'both' && {
      bySnapshots: Object.fromEntries(
        (['auto', 'archive'] as const).map((m) => {
          const of = results.filter((x) => x.run.snapshots === m);
          const ss = of.flatMap((x) => x.run.samples);
          return [m, { runs: of.length, samples: ss.length, wall: summarize(ss.map((x) => x.wallMs)), overhead: summarize(ss.map((x) => x.overheadMs)), bare: bareFigures(raw, of) }];
        }),
      ),
    }),
  };
}

async function throughputSection(ctx: Context): Promise<NonNullable<Report['throughput']>> {
  const levels = ctx.options.concurrency;
  // Builds the environment images when missing, so the timed runs find them cached.
  const warmLevel = Math.max(...levels);
  progress(`throughput: warm-up run of smoke/ at concurrency ${warmLevel} (not counted)`);
  const warm = await harnessRun(ctx, 'smoke', `${ctx.base}-warm-h`, warmLevel);
  progress(`  warm-up: ${warm.wallMs.toFixed(0)} ms`);
  const byLevel = new Map<number, RunFigures[]>(levels.map((c) => [c, []]));
  for (let rep = 1; rep <= ctx.options.throughputRuns; rep++) {
    const order = rep % 2 === 1 ? levels : [...levels].reverse();
    for (const c of order) {
      const figures = await harnessRun(ctx, 'smoke', `${ctx.base}-h${c}-${rep}`, c);
      byLevel.get(c)!.push(figures);
      progress(
        `throughput c=${c} run ${rep}/${ctx.options.throughputRuns}: ${figures.samples.length} samples in ${figures.wallMs.toFixed(0)} ms ` +
          `(${(figures.samples.length / (figures.wallMs / 60_000)).toFixed(1)}/min)`,
      );
    }
  }
  const samplesPerRun = warm.samples.length + warm.excluded.length;
  const rows: ThroughputLevel[] = levels.map((c) => {
    const runs = byLevel.get(c)!;
    const samples = runs.flatMap((r) => r.samples);
    const walls = runs.map((r) => round(r.wallMs));
    return {
      concurrency: c,
      runs: runs.length,
      walls,
      wallMs: round(median(walls)),
      samplesPerMin: round(median(runs.map((r) => (r.samples.length + r.excluded.length) / (r.wallMs / 60_000))), 1),
      medianSampleMs: round(median(samples.map((s) => s.wallMs))),
      medianOverheadMs: round(median(samples.map((s) => s.overheadMs))),
      medianRecordedDurationMs: round(median(samples.map((s) => s.recorded.durationMs))),
    };
  });
  const c1 = byLevel.get(1)?.flatMap((r) => r.samples);
  return {
    suite: 'tasks/suites/smoke',
    samplesPerRun,
    warmupWallMs: round(warm.wallMs),
    levels: rows,
    concurrency1: c1?.length ? breakdown(c1) : undefined,
  };
}

// ---------------------------------------------------------------------------------------
// Output

const num = (x: number | undefined, width = 8): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '-').padStart(width);

function summaryRow(label: string, s: Summary, w: number): string {
  return `${label.padEnd(w)} ${[s.medianMs, s.p25Ms, s.p75Ms, s.minMs, s.maxMs].map((x) => num(x)).join(' ')}`;
}

function printBreakdown(lines: string[], b: Breakdown, withCalls: boolean): void {
  const w = 44;
  lines.push(`  Where the overhead goes (median per sample of each phase less the task's execs in it, ms)`);
  lines.push(`    ${PHASES.map((p) => `${p} ${b.overheadByPhase[p].toFixed(1)}`).join(' | ')}`);
  lines.push(`  Inside (medians, ms): ${Object.entries(b.insideParts).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | ')}`);
  lines.push(`  The runner's own timings (medians, ms): ${Object.entries(b.recorded).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | ')}`);
  const table = (title: string, rows: Record<string, PerKind>): void => {
    if (!Object.keys(rows).length) return;
    lines.push(`  ${title.padEnd(w)} ${'per sample'.padStart(10)} ${'ms each'.padStart(10)}`);
    for (const [k, v] of Object.entries(rows)) lines.push(`    ${k.padEnd(w - 2)} ${v.perSample.toFixed(2).padStart(10)} ${num(v.msEach, 10)}`);
  };
  table('Harness execs (not the task\'s)', b.harnessExecs);
  table('File transfers', b.files);
  if (withCalls) table('Engine calls (concurrency 1)', b.calls);
  lines.push(`  ${'Per task (medians, ms)'.padEnd(w)} ${['samples', 'wall', 'inside', 'overhead'].map((h) => h.padStart(8)).join(' ')}`);
  for (const [t, v] of Object.entries(b.perTask)) {
    lines.push(`    ${t.padEnd(w - 2)} ${String(v.samples).padStart(8)} ${num(v.wallMs)} ${num(v.insideMs)} ${num(v.overheadMs)}`);
  }
}

function printReport(r: Report, out: NodeJS.WritableStream): void {
  const lines: string[] = [];
  const w = 56;
  const m = r.machine;
  lines.push(`machine: ${m.cpus} CPUs, Docker engine ${m.engineVersion}, Node ${m.node}; at start: load ${m.load1mAtStart}, ${m.otherContainersAtStart} other running containers`);
  lines.push('');
  if (r.overhead) {
    const o = r.overhead;
    const b = o.samples;
    lines.push(`Harness overhead per sample: oracle agent, ${o.suite}, concurrency 1, ${o.runs} fresh runs, ${b.samples} samples`);
    lines.push(`${'ms'.padEnd(w)} ${['median', 'p25', 'p75', 'min', 'max'].map((h) => h.padStart(8)).join(' ')}`);
    lines.push(summaryRow('sample wall (slot taken -> result written)', b.wall, w));
    lines.push(summaryRow('  inside the task\'s execs (setup, solution, test)', b.inside, w));
    lines.push(summaryRow('  harness overhead (wall - inside)', b.overhead, w));
    for (const x of o.ratios) lines.push(summaryRow(`raw: ${x.label}`, x.baseline, w));
    for (const x of o.ratios) {
      lines.push(`  overhead / ${x.label}: ${x.ratio.toFixed(3)} (median of per-run ratios ${x.perRunRatio.toFixed(3)}; runs ${x.perRun.map((v) => v.toFixed(2)).join(', ')})`);
    }
    for (const x of o.ratios) lines.push(`  ${x.label}: ${x.command}`);
    lines.push(`  run wall ms: ${o.runWallMs.map((v) => v.toFixed(0)).join(', ')}`);
    const bf = o.bare;
    lines.push(`Sample wall against a bare run of the same task's work (files, setup, solution, test), interleaved`);
    lines.push(summaryRow('sample wall (slot taken -> result written)', bf.wall, w));
    lines.push(summaryRow('bare docker run --rm ... sh -c <task>', bf.bare, w));
    lines.push(`  sample wall / bare run: ${bf.ratio.toFixed(3)} (medians); per sample, paired with its task's bare run in its block: median ${bf.paired.median.toFixed(3)}, p25 ${bf.paired.p25.toFixed(3)}, p75 ${bf.paired.p75.toFixed(3)} (${bf.paired.n} samples)`);
    lines.push(summaryRow('result to next result (concurrency 1)', bf.interval, w));
    lines.push(`  result to result / bare run: ${bf.intervalRatio.toFixed(3)} (medians); per run ${bf.intervalPerRun.toFixed(3)}`);
    for (const [t, v] of Object.entries(bf.perTask)) lines.push(`    ${t.padEnd(24)} wall ${num(v.wallMs)}  bare ${num(v.bareMs)}  ratio ${v.ratio.toFixed(3)}`);
    lines.push(`  bare run: ${bf.command}`);
    for (const [m, v] of Object.entries(o.bySnapshots ?? {})) {
      lines.push(`  snapshots by ${m} (${v.runs} runs, ${v.samples} samples): wall ${v.wall.medianMs.toFixed(1)}, overhead ${v.overhead.medianMs.toFixed(1)}, bare ${v.bare.bare.medianMs.toFixed(1)}; wall / bare ${v.bare.ratio.toFixed(3)} (paired median ${v.bare.paired.median.toFixed(3)})`);
    }
    printBreakdown(lines, b, true);
    lines.push('');
  }
  if (r.throughput) {
    const t = r.throughput;
    lines.push(`Throughput: oracle agent, ${t.suite} (${t.samplesPerRun} Harbor tasks, environment images cached; warm-up run ${t.warmupWallMs.toFixed(0)} ms not counted)`);
    lines.push(`  ${['concurrency', 'runs', 'wall ms', 'samples/min', 'median sample ms', 'median overhead ms', 'median recorded durationMs'].join('  ')}   walls`);
    for (const l of t.levels) {
      lines.push(
        `  ${String(l.concurrency).padStart(11)}  ${String(l.runs).padStart(4)}  ${num(l.wallMs, 7)}  ${l.samplesPerMin.toFixed(1).padStart(11)}  ${num(l.medianSampleMs, 16)}  ${num(l.medianOverheadMs, 18)}  ${num(l.medianRecordedDurationMs, 26)}   ${l.walls.map((v) => v.toFixed(0)).join(', ')}`,
      );
    }
    if (t.concurrency1) {
      lines.push(`  smoke/ at concurrency 1, ${t.concurrency1.samples} samples: wall ${t.concurrency1.wall.medianMs.toFixed(1)}, inside ${t.concurrency1.inside.medianMs.toFixed(1)}, overhead ${t.concurrency1.overhead.medianMs.toFixed(1)} (medians, ms)`);
      printBreakdown(lines, t.concurrency1, true);
    }
    lines.push('');
  }
  if (r.excluded.length) lines.push(`Left out of the figures: ${r.excluded.join(', ')}`);
  const left = r.leftovers.containers.length + r.leftovers.networks.length;
  lines.push(left === 0 ? `Leftovers of runs ${r.runIdPrefix}-*: none` : `Leftovers of runs ${r.runIdPrefix}-*: ${[...r.leftovers.containers, ...r.leftovers.networks].join(', ')}`);
  if (r.leftovers.othersLabelled) lines.push(`(${r.leftovers.othersLabelled} containers/networks labelled cagebench.run by other runs on this engine)`);
  if (r.runDirs) lines.push(`Run directories kept: ${r.runDirs.join(' ')}`);
  lines.push(`command: ${r.command}`);
  out.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------

const FLAGS = {
  runs: { type: 'string', default: '8' },
  'throughput-runs': { type: 'string', default: '3' },
  concurrency: { type: 'string', default: '1,2,4' },
  only: { type: 'string', default: SECTIONS.join(',') },
  keep: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  workspace: { type: 'string', default: 'auto' },
  help: { type: 'boolean', default: false },
} as const;

function parseOptions(argv: string[]): Options {
  const values = readFlags(argv, FLAGS, USAGE);
  const positive = positiveInteger;
  return {
    runs: positive('runs', values.runs),
    throughputRuns: positive('throughput-runs', values['throughput-runs']),
    concurrency: values.concurrency.split(',').map((c) => positive('concurrency', c.trim())),
    only: values.only.split(',').map((raw) => {
      const section = SECTIONS.find((s) => s === raw.trim());
      if (!section) throw new UsageError(`--only takes a comma-separated list of ${SECTIONS.join(', ')} (got "${raw}")`);
      return section;
    }),
    keep: values.keep,
    json: values.json,
    workspace: (['auto', 'archive', 'both'] as const).find((w) => w === values.workspace) ?? (() => {
      throw new UsageError(`--workspace takes auto, archive or both (got "${values.workspace}")`);
    })(),
  };
}

/** What runs of this benchmark left labelled in the engine (should be nothing), and how much others hold. */
async function leftovers(provider: DockerProvider, base: string): Promise<Report['leftovers']> {
  const { docker } = provider.engine;
  const filters = JSON.stringify({ label: [LABEL_RUN] });
  const ours = (labels: Record<string, string> | undefined): boolean => (labels?.[LABEL_RUN] ?? '').startsWith(`${base}-`);
  const allContainers = await docker.listContainers({ all: true, filters });
  const allNetworks = await docker.listNetworks({ filters });
  const containers = allContainers.filter((c) => ours(c.Labels)).map((c) => c.Id.slice(0, 12));
  const networks = allNetworks.filter((n) => ours(n.Labels)).map((n) => n.Name);
  return { containers, networks, othersLabelled: allContainers.length + allNetworks.length - containers.length - networks.length };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const base = `bench-${randomBytes(4).toString('hex')}`;
  observeProvider();
  const ctx: Context = { options, base, agent: observedOracle(), outDirs: [], excluded: [] };
  const raw = await rawSetup(base);
  let report: Report | undefined;
  try {
    const engine = raw.provider.engine.docker;
    const version = await engine.version();
    const load1m = loadavg()[0] ?? NaN;
    const otherContainers = (await engine.listContainers()).length;
    progress(`cagebench bench:harness: runs ${base}-*, engine ${version.Version}, load ${load1m.toFixed(2)}, ${otherContainers} other running containers`);
    const overhead = options.only.includes('overhead') ? await overheadSection(ctx, raw) : undefined;
    const throughput = options.only.includes('throughput') ? await throughputSection(ctx) : undefined;
    report = {
      command: ['npm run bench:harness', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
      runIdPrefix: base,
      machine: { cpus: cpus().length, engineVersion: version.Version, node: process.version, load1mAtStart: round(load1m, 2), otherContainersAtStart: otherContainers },
      overhead,
      throughput,
      excluded: ctx.excluded,
      leftovers: { containers: [], networks: [], othersLabelled: 0 },
    };
  } finally {
    await raw.provider.close();
    if (!options.keep) await Promise.all(ctx.outDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
  report.leftovers = await leftovers(raw.provider, base);
  if (options.keep) report.runDirs = ctx.outDirs;
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(report, process.stdout);
  const left = report.leftovers.containers.length + report.leftovers.networks.length;
  if (left > 0) {
    progress(`LEFTOVERS: ${left} resources of runs ${base}-* remain; remove them with 'cagebench sandbox cleanup'`);
    process.exitCode = 1;
  }
}

runMain(main, USAGE);
