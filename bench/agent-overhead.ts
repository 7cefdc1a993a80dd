// Agent overhead benchmark: per sample, what each real agent CLI adds around its model and
// tool time, against the oracle on the same tasks in the same process. Every model agent
// runs `mock/solve` (the scripted model sends the task's reference solution through the
// agent's own shell tool, then says it is done), so the agents do the oracle's work plus
// their own. Runs are interleaved in rounds: oracle, then each agent, per round.
//
//   npm run bench:agents                               # table on stdout, progress on stderr
//   npm run bench:agents -- --rounds 3 --json out.json # also the raw figures as JSON
//
// Figures come from each sample's result.json (timings) and events.jsonl: model time is the
// sum of `model.call` latencies (the bridge's clock), tool time the paired tool events (see
// ToolSource in agent-events.ts), overhead = agent phase − model − tool.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NAMES, createAgent } from '../agents/index.ts';
import { handleSignalsInApp, run, type ResultRecord } from '../harness/index.ts';
import { connectEngine, LABEL_RUN } from '../sandboxes/index.ts';
import { sampleTimes, type EventLine, type SampleTimes, type ToolSource } from './agent-events.ts';
import { positiveInteger, readFlags, runMain, UsageError } from './cli.ts';
import { median, round } from './stats.ts';

const SUITE = fileURLToPath(new URL('../tasks/suites/smoke', import.meta.url));
const MODEL = 'mock/solve';
/** The model agents the issue names; any other registered agent that needs a model is added. */
const EXPECTED = ['claude_code', 'opencode', 'codex_cli', 'gemini_cli'];
const ORACLE = 'oracle';

const USAGE = 'Usage: npm run bench:agents -- [--rounds 3] [--tasks <glob>] [--agents claude_code,opencode,...] [--warmup 1] [--json FILE] [--keep]';

interface Options {
  /** Rounds of (oracle, each agent) over the tasks. @default 3 */
  readonly rounds: number;
  /** Only tasks whose id matches this glob. */
  readonly tasks?: string;
  /** Model agents to run; the oracle always runs. @default every registered agent that needs a model */
  readonly agents?: readonly string[];
  /** Untimed rounds on the first task only, before the timed ones. @default 1 */
  readonly warmup: number;
  readonly json?: string;
  readonly keep: boolean;
}

interface SampleRow {
  readonly round: number;
  readonly agent: string;
  readonly runId: string;
  readonly taskId: string;
  readonly sampleId: string;
  readonly outcome: ResultRecord['outcome'];
  readonly error?: string;
  readonly retries: number;
  readonly attempts: number;
  /** Absent when the sample is left out (not a first-try pass). */
  readonly times?: SampleTimes;
}

interface AgentSummary {
  readonly agent: string;
  readonly samples: number;
  /** Samples not in the figures: `task (round N): outcome[, error]`. */
  readonly leftOut: readonly string[];
  /** Medians over the agent's samples, ms. */
  readonly medians: {
    readonly wallMs: number;
    readonly environmentMs: number;
    readonly agentMs: number;
    readonly verifierMs: number;
    readonly cliMs?: number;
    readonly modelMs: number;
    readonly toolMs?: number;
    readonly overheadMs: number;
    /** cliMs − model − tool: inside the agent's own process. */
    readonly inCliMs?: number;
    /** agentMs − cliMs: the adapter's work around the process (config files, session copy). */
    readonly adapterMs?: number;
    /** The CLI's exec starting to its first model call. */
    readonly startupMs?: number;
    /** The end of its last model call to its process's exit. */
    readonly exitMs?: number;
  };
  readonly modelCallsPerSample: number;
  readonly toolCallsPerSample: number;
  readonly unpairedTools: number;
  readonly overlapMs: number;
  readonly toolSources: readonly ToolSource[];
  /** median(wall) / the oracle's median(wall). */
  readonly wallRatio: number;
  /** median(wall) − the oracle's median(wall). */
  readonly addedMs: number;
  /** Median over (round, task) of this sample's wall − the oracle's on the same task in the same round. */
  readonly pairedAddedMs: number;
}

interface Report {
  readonly command: string;
  readonly date: string;
  readonly runIdPrefix: string;
  readonly model: string;
  readonly suite: string;
  readonly tasks?: string;
  readonly rounds: number;
  readonly machine: { cpus: number; engineVersion: string; node: string; load1mAtStart: number; load1mAtEnd: number; otherContainersAtStart: number };
  readonly skipped: readonly { agent: string; reason: string }[];
  readonly agents: readonly AgentSummary[];
  readonly samples: readonly SampleRow[];
  readonly runWallMs: Readonly<Record<string, readonly number[]>>;
  leftovers: readonly string[];
  runDirs?: readonly string[];
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------
// Runs

async function readSamples(runDir: string, agent: string, round: number, runId: string): Promise<SampleRow[]> {
  const samplesDir = join(runDir, 'samples');
  const rows: SampleRow[] = [];
  for (const name of (await readdir(samplesDir)).sort()) {
    const dir = join(samplesDir, name);
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ResultRecord;
    const base = {
      round,
      agent,
      runId,
      taskId: result.taskId,
      sampleId: result.sampleId,
      outcome: result.outcome,
      ...(result.error ? { error: `${result.error.kind}: ${result.error.message}` } : {}),
      retries: result.retries,
      attempts: result.attempts.length,
    };
    // Only first-try passes: a retried sample's timings and events mix several sandboxes.
    if (result.outcome !== 'pass' || result.retries > 0) {
      rows.push(base);
      continue;
    }
    const events = (await readFile(join(dir, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as EventLine);
    const agentDir = join(dir, 'agent');
    const files = await readdir(agentDir, { recursive: true }).catch(() => [] as string[]);
    const read = (names: readonly string[]): Promise<string[]> => Promise.all(names.map((f) => readFile(join(agentDir, f), 'utf8')));
    const transcripts = await read(files.filter((f) => /^[^/]*-attempt-\d+\.jsonl$/.test(f)));
    const sessionFiles = await read(files.filter((f) => /^[^/]*-session\/.*\.jsonl$/.test(f)));
    rows.push({ ...base, times: sampleTimes({ agent, timings: result.timings, events, transcripts, sessionFiles }) });
  }
  return rows;
}

interface Context {
  readonly options: Options;
  readonly base: string;
  readonly outDirs: string[];
  /** Out directories kept because a sample in them was left out, to see why. */
  readonly keptDirs: Set<string>;
  /** Aborted on SIGINT/SIGTERM: the current run tears its sandboxes down and the benchmark stops. */
  readonly signal: AbortSignal;
}

async function benchRun(ctx: Context, agent: string, round: number | 'warm', limit?: number): Promise<{ rows: SampleRow[]; wallMs: number }> {
  const runId = `${ctx.base}-${round === 'warm' ? 'w' : `r${round}`}-${agent.replace(/_/g, '-')}`;
  const out = await mkdtemp(join(tmpdir(), `cagebench-${runId}-`));
  ctx.outDirs.push(out);
  const begin = performance.now();
  const outcome = await run({
    paths: [SUITE],
    agent,
    ...(agent === ORACLE ? {} : { model: MODEL }),
    out,
    runId,
    concurrency: 1,
    retries: 0,
    offline: true,
    ...(ctx.options.tasks ? { task: ctx.options.tasks } : {}),
    ...(limit ? { limit } : {}),
  }, { signal: ctx.signal });
  const wallMs = performance.now() - begin;
  if (ctx.signal.aborted) throw Object.assign(new Error(`interrupted during run ${runId}; its sandboxes were removed`), { code: 'CB_INTERRUPTED' });
  const rows = await readSamples(outcome.runDir, agent, round === 'warm' ? 0 : round, runId);
  const passed = rows.filter((r) => r.times).length;
  const bad = rows.filter((r) => !r.times);
  if (bad.length) ctx.keptDirs.add(out);
  progress(
    `  ${round === 'warm' ? 'warm-up' : `round ${round}`} ${agent}: ${passed}/${rows.length} first-try passes in ${(wallMs / 1000).toFixed(1)} s` +
      (bad.length ? `; left out: ${bad.map((r) => `${r.taskId} (${r.outcome}${r.retries ? `, ${r.retries} retries` : ''}${r.error ? `, ${r.error.slice(0, 160)}` : ''})`).join(', ')}` : ''),
  );
  return { rows, wallMs };
}

// ---------------------------------------------------------------------------------------
// Figures

function summarizeAgent(agent: string, rows: readonly SampleRow[], oracle: readonly SampleRow[], oracleWall: number): AgentSummary {
  const ok = rows.filter((r): r is SampleRow & { times: SampleTimes } => r.times !== undefined);
  const t = ok.map((r) => r.times);
  const med = (pick: (x: SampleTimes) => number | undefined): number | undefined => {
    const values = t.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? round(median(values)) : undefined;
  };
  const wallMs = med((x) => x.wallMs) ?? NaN;
  const oracleBy = new Map(oracle.filter((r) => r.times).map((r) => [`${r.round}|${r.taskId}`, r.times!.wallMs]));
  const paired = ok.flatMap((r) => {
    const o = oracleBy.get(`${r.round}|${r.taskId}`);
    return o === undefined ? [] : [r.times.wallMs - o];
  });
  const cliMs = med((x) => x.cliMs);
  const toolMs = med((x) => x.toolMs);
  const startupMs = med((x) => x.startupMs);
  const exitMs = med((x) => x.exitMs);
  const sources = [...new Set(t.flatMap((x) => x.toolSources))];
  return {
    agent,
    samples: ok.length,
    leftOut: rows.filter((r) => !r.times).map((r) => `${r.taskId} (round ${r.round}): ${r.outcome}${r.retries ? `, ${r.retries} retries` : ''}${r.error ? `, ${r.error.slice(0, 200)}` : ''}`),
    medians: {
      wallMs,
      environmentMs: med((x) => x.environmentMs) ?? NaN,
      agentMs: med((x) => x.agentMs) ?? NaN,
      verifierMs: med((x) => x.verifierMs) ?? NaN,
      ...(cliMs === undefined ? {} : { cliMs }),
      modelMs: med((x) => x.modelMs) ?? NaN,
      ...(toolMs === undefined ? {} : { toolMs }),
      overheadMs: med((x) => x.overheadMs) ?? NaN,
      ...(cliMs === undefined ? {} : { inCliMs: med((x) => (x.cliMs === undefined ? undefined : x.cliMs - x.modelMs - (x.toolMs ?? 0))), adapterMs: med((x) => (x.cliMs === undefined ? undefined : x.agentMs - x.cliMs)) }),
      ...(startupMs === undefined ? {} : { startupMs }),
      ...(exitMs === undefined ? {} : { exitMs }),
    },
    modelCallsPerSample: med((x) => x.modelCalls) ?? 0,
    toolCallsPerSample: med((x) => x.toolCalls) ?? 0,
    unpairedTools: t.reduce((s, x) => s + x.unpairedTools, 0),
    overlapMs: round(t.reduce((s, x) => s + x.overlapMs, 0)),
    toolSources: sources.length ? sources : ['none'],
    wallRatio: round(wallMs / oracleWall, 3),
    addedMs: round(wallMs - oracleWall),
    pairedAddedMs: paired.length ? round(median(paired)) : NaN,
  };
}

const num = (x: number | undefined, width = 8): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-').padStart(width);
const signed = (x: number, width = 8): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)}` : '-').padStart(width);

const TOOL_NOTES: Readonly<Record<ToolSource, string>> = {
  'oracle commands': "the oracle's solution execs (agent.command.end durationMs)",
  'tool_call/tool_result': 'agent.tool_call -> agent.tool_result of the same id (harness event times)',
  'agent.tool status': 'agent.tool pending/running -> completed of the same callId (harness event times)',
  'opencode state.time': "OpenCode's own part.state.time start/end in agent/opencode-attempt-N.jsonl (its run --format json prints a tool part only when completed)",
  'codex rollout': "Codex's own rollout (agent/codex-session/**/rollout-*.jsonl): function_call -> function_call_output of the same call_id (its events print item.started only when the command is done)",
  none: 'no tool call could be paired: overhead = agent phase - model time',
};

function printReport(r: Report, out: NodeJS.WritableStream): void {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`Agent overhead per sample: ${r.model} on ${r.suite}${r.tasks ? ` (tasks ${r.tasks})` : ''}, concurrency 1, ${r.rounds} rounds (oracle, then each agent)`);
  lines.push(`machine: ${m.cpus} CPUs, Docker engine ${m.engineVersion}, Node ${m.node}; load ${m.load1mAtStart} at start, ${m.load1mAtEnd} at end; ${m.otherContainersAtStart} other running containers at start`);
  lines.push('');
  const head = ['agent', 'n', 'wall', 'env', 'agent ph', 'model', 'tool', 'overhead', 'CLI proc', 'in CLI', 'startup', 'exit', 'adapter', 'wall/orc', 'added', 'paired+'];
  const widths = [12, 3, 7, 6, 8, 6, 6, 8, 8, 7, 7, 5, 7, 8, 7, 7];
  const row = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
  lines.push('medians per sample, ms. overhead = agent phase - model - tool; in CLI = CLI process - model - tool, of which startup = exec of the CLI to its');
  lines.push('first model call and exit = last model call to the process\'s exit; adapter = agent phase - CLI process (config files, session copy and export)');
  lines.push(row(head));
  for (const a of r.agents) {
    const d = a.medians;
    const noTool = a.toolSources.includes('none');
    lines.push(
      row([
        a.agent,
        String(a.samples),
        num(d.wallMs, 0),
        num(d.environmentMs, 0),
        num(d.agentMs, 0),
        num(d.modelMs, 0),
        noTool ? 'n/a' : num(d.toolMs, 0),
        `${num(d.overheadMs, 0)}${noTool ? '*' : ''}`,
        num(d.cliMs, 0),
        num(d.inCliMs, 0),
        num(d.startupMs, 0),
        num(d.exitMs, 0),
        num(d.adapterMs, 0),
        a.agent === ORACLE ? '1' : Number.isFinite(a.wallRatio) ? a.wallRatio.toFixed(2) : '-',
        a.agent === ORACLE ? '' : signed(a.addedMs, 0),
        a.agent === ORACLE ? '' : signed(a.pairedAddedMs, 0),
      ]),
    );
  }
  lines.push('');
  lines.push('wall/orc = median wall / the oracle\'s median wall in this run; added = median wall - the oracle\'s; paired+ = median over (round, task) of wall - the oracle\'s wall on that task in that round.');
  lines.push('tool time per agent:');
  for (const a of r.agents) {
    const extra = [
      `${a.modelCallsPerSample} model calls and ${a.toolCallsPerSample} tool calls per sample (median)`,
      a.unpairedTools ? `${a.unpairedTools} tool calls could not be paired (not in tool time)` : '',
      a.overlapMs ? `model and tool spans overlap ${a.overlapMs.toFixed(0)} ms in all` : '',
      a.leftOut.length ? `left out: ${a.leftOut.join('; ')}` : '',
    ].filter(Boolean);
    lines.push(`  ${a.agent}: ${a.toolSources.map((s) => TOOL_NOTES[s]).join('; ')}; ${extra.join('; ')}`);
  }
  if (r.agents.some((a) => a.toolSources.includes('none'))) lines.push('  * overhead = agent phase - model time (no tool calls paired)');
  for (const s of r.skipped) lines.push(`skipped ${s.agent}: ${s.reason}`);
  lines.push(r.leftovers.length ? `Leftovers of runs ${r.runIdPrefix}-*: ${r.leftovers.join(', ')}` : `Leftovers of runs ${r.runIdPrefix}-*: none`);
  if (r.runDirs) lines.push(`Run directories kept${r.agents.some((a) => a.leftOut.length) ? ' (those with samples left out are always kept)' : ''}: ${r.runDirs.join(' ')}`);
  lines.push(`command: ${r.command}`);
  out.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------

const FLAGS = {
  rounds: { type: 'string', default: '3' },
  tasks: { type: 'string' },
  agents: { type: 'string' },
  warmup: { type: 'string', default: '1' },
  json: { type: 'string' },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

function parseOptions(argv: string[]): Options {
  const values = readFlags(argv, FLAGS, USAGE);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0) throw new UsageError(`--warmup must be an integer >= 0 (got "${values.warmup}")`);
  return {
    rounds: positiveInteger('rounds', values.rounds),
    ...(values.tasks ? { tasks: values.tasks } : {}),
    ...(values.agents ? { agents: values.agents.split(',').map((a) => a.trim()).filter(Boolean) } : {}),
    warmup,
    ...(values.json ? { json: values.json } : {}),
    keep: values.keep,
  };
}

/** The model agents to measure, and the ones skipped with why. */
function chooseAgents(options: Options): { agents: string[]; skipped: { agent: string; reason: string }[] } {
  const skipped: { agent: string; reason: string }[] = [];
  const wanted = options.agents ?? [...new Set([...EXPECTED, ...AGENT_NAMES])];
  const agents: string[] = [];
  for (const name of wanted) {
    if (name === ORACLE) continue;
    if (!AGENT_NAMES.includes(name)) {
      skipped.push({ agent: name, reason: `not registered in agents/index.ts (known: ${AGENT_NAMES.join(', ')})` });
      continue;
    }
    let needsModel: boolean;
    try {
      needsModel = createAgent(name).needsModel;
    } catch (err) {
      skipped.push({ agent: name, reason: `its adapter could not be created: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (!needsModel) {
      if (options.agents) skipped.push({ agent: name, reason: 'needs no model (nothing to compare with mock/solve)' });
      continue;
    }
    agents.push(name);
  }
  return { agents, skipped };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { agents, skipped } = chooseAgents(options);
  for (const s of skipped) progress(`note: skipping ${s.agent}: ${s.reason}`);
  if (!agents.length) throw new UsageError('no model agent to measure');
  const base = `bench-${randomBytes(4).toString('hex')}`;
  const engine = await connectEngine();
  const version = await engine.docker.version();
  const load1mAtStart = round(loadavg()[0] ?? NaN, 2);
  const otherContainers = (await engine.docker.listContainers()).length;
  progress(`cagebench bench:agents: runs ${base}-*, agents oracle + ${agents.join(', ')}, model ${MODEL}, engine ${version.Version}, load ${load1mAtStart}, ${otherContainers} other running containers`);
  // The harness's teardown removes live sandboxes on a signal; with this claim it leaves the
  // process alive, and the aborted run closes its provider (containers, networks, relay).
  const release = handleSignalsInApp();
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx: Context = { options, base, outDirs: [], keptDirs: new Set(), signal: interrupt.signal };
  const order = [ORACLE, ...agents];
  const rows: SampleRow[] = [];
  const runWallMs: Record<string, number[]> = Object.fromEntries(order.map((a) => [a, []]));
  try {
    for (let w = 1; w <= options.warmup; w++) {
      progress(`warm-up ${w}/${options.warmup} (first task only, not counted)`);
      for (const agent of order) await benchRun(ctx, agent, 'warm', 1);
    }
    for (let r = 1; r <= options.rounds; r++) {
      progress(`round ${r}/${options.rounds}`);
      for (const agent of order) {
        const x = await benchRun(ctx, agent, r);
        rows.push(...x.rows);
        runWallMs[agent]!.push(round(x.wallMs));
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    release();
    if (!options.keep) await Promise.all(ctx.outDirs.filter((d) => !ctx.keptDirs.has(d)).map((d) => rm(d, { recursive: true, force: true })));
  }
  const oracleRows = rows.filter((r) => r.agent === ORACLE);
  const oracleWall = median(oracleRows.flatMap((r) => (r.times ? [r.times.wallMs] : [])));
  const report: Report = {
    command: ['npm run bench:agents', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    date: new Date().toISOString(),
    runIdPrefix: base,
    model: MODEL,
    suite: 'tasks/suites/smoke',
    ...(options.tasks ? { tasks: options.tasks } : {}),
    rounds: options.rounds,
    machine: { cpus: cpus().length, engineVersion: version.Version, node: process.version, load1mAtStart, load1mAtEnd: round(loadavg()[0] ?? NaN, 2), otherContainersAtStart: otherContainers },
    skipped,
    agents: order.map((a) => summarizeAgent(a, rows.filter((r) => r.agent === a), oracleRows, oracleWall)),
    samples: rows,
    runWallMs,
    leftovers: [],
  };
  // What runs of this benchmark left labelled in the engine (should be nothing).
  const ours = (labels: Record<string, string> | undefined): boolean => (labels?.[LABEL_RUN] ?? '').startsWith(`${base}-`);
  const filters = JSON.stringify({ label: [LABEL_RUN] });
  report.leftovers = [
    ...(await engine.docker.listContainers({ all: true, filters })).filter((c) => ours(c.Labels)).map((c) => c.Id.slice(0, 12)),
    ...(await engine.docker.listNetworks({ filters })).filter((n) => ours(n.Labels)).map((n) => n.Name),
  ];
  if (options.keep || ctx.keptDirs.size) report.runDirs = options.keep ? ctx.outDirs : [...ctx.keptDirs];
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report, process.stdout);
  if (options.json) progress(`raw figures written to ${options.json}`);
  if (report.leftovers.length) {
    progress(`LEFTOVERS: ${report.leftovers.length} resources of runs ${base}-* remain; remove them with 'cagebench sandbox cleanup'`);
    process.exitCode = 1;
  }
}

runMain(main, USAGE);
