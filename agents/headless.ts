// The mechanics every headless CLI agent shares, written once: write the agent's config
// files, start its command in the sandbox (stdin closed unless the prompt goes there), split
// its stdout into JSON lines for the adapter's reader as they arrive, keep the transcript and
// the agent's own session files under the sample's agent/ directory, and retry a crash the
// adapter says is worth resuming. An adapter only says what to run and how to read it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { AgentError, HOST_TOOLS_SERVER, type AgentAdapter, type AgentEvent, type AgentUsage, type AttemptContext, type AttemptResult, type ContinueContext, type ModelAccess } from './agent.ts';
import type { CommonAgentOptions, McpServer } from './options.ts';
import type { ExecResult } from '../sandboxes/index.ts';

/** What to start for one turn of the agent. */
export interface Launch {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Given on stdin; without it stdin is /dev/null (several CLIs wait on an open stdin). */
  readonly stdin?: string;
  /** Written into the sandbox before the command starts: config, settings, instructions. */
  readonly files?: readonly { readonly path: string; readonly content: string; readonly mode?: number }[];
  /** Created first (and given to the agent's user): its home and state directories. */
  readonly dirs?: readonly string[];
  /**
   * The sandbox directory the agent reads skills from (one subdirectory per skill). The
   * runner fills it once per sandbox: the `skills` option's host directories, then the
   * task's own skills directory inside the sandbox (Harbor `skills_dir`).
   */
  readonly skills?: string;
}

/**
 * The agent's interactive command, for a person at a terminal (centaur mode): the same
 * binary, model, config and permission flags as a headless turn, without the headless ones
 * (no prompt, no JSON output), under the name the person types.
 */
export interface InteractiveLaunch extends Omit<Launch, 'stdin'> {
  /** What the person types: the CLI's own name (`claude`, `codex`, `gemini`, `opencode`). */
  readonly alias: string;
}

/** One turn: the first prompt, a continuation after an incorrect attempt, or a crash recovery. */
export interface Turn {
  readonly prompt: string;
  /** The session to resume; absent for a fresh session. */
  readonly resume?: string;
  /** Carried from the previous attempt (see AttemptResult.agentState). */
  readonly state?: Readonly<Record<string, unknown>>;
}

/** What the reader learned from the agent's output, for the attempt's result. */
export interface ReaderState {
  sessionId?: string;
  finalMessage?: string;
  stopReason?: string;
  usage?: AgentUsage;
  /** The agent reported that it gave up with an error (model API failure, crash). */
  error?: string;
  /** The last model turn was a refusal. */
  refused?: boolean;
  /** Facts the next attempt's launch needs (e.g. cumulative usage to subtract). */
  agentState?: Record<string, unknown>;
}

/** Reads one attempt's stdout, one JSON object per line, into events and state. */
export interface OutputReader {
  readonly state: ReaderState;
  line(message: Record<string, unknown>): readonly AgentEvent[];
}

export interface HeadlessAgentSpec<O extends CommonAgentOptions> {
  readonly name: string;
  readonly builds: readonly string[];
  /** File-name stem of the transcripts under agent/ (`claude` → claude-attempt-1.jsonl). */
  readonly transcript: string;
  readonly options: O;
  /** `options` are the adapter's own with the task's MCP servers merged in (the run's win by name). */
  launch(ctx: AttemptContext, turn: Turn, options: O): Launch | Promise<Launch>;
  reader(turn: Turn): OutputReader;
  /** The interactive command (see InteractiveLaunch); absent: the agent has no terminal UI to offer. */
  interactive?(ctx: AttemptContext, options: O): InteractiveLaunch | Promise<InteractiveLaunch>;
  /** Sandbox directories with the agent's own session files, copied to agent/ after each attempt. */
  readonly sessionDirs?: readonly string[];
  /** Single files of its own session store (a database), copied beside the directories above. */
  readonly sessionFiles?: readonly string[];
  /**
   * After a finished command: a Turn to run again (a crash worth resuming), or nothing. Called
   * with how many recoveries this attempt already made. It may also set `state.error` for an
   * exit the reader could not explain (a crash before any output), which fails the attempt.
   */
  recover?(outcome: { readonly exec: ExecResult; readonly state: ReaderState }, recoveries: number): Turn | undefined;
  /** Model names the agent sends for its roles → `provider/model`, added to the bridge's aliases. */
  readonly modelAliases?: Readonly<Record<string, string>>;
  /** Its `--version` command (see AgentAdapter.versionCommand). @default the first build's binary with --version */
  versionCommand?: AgentAdapter['versionCommand'];
}

/**
 * A headless adapter, with what one turn of it starts (its environment, config files and
 * directories) and its options: a driver that starts the agent another way (an ACP adapter
 * held open) configures it with these instead of repeating them.
 */
export interface HeadlessAgent extends AgentAdapter {
  readonly options: CommonAgentOptions;
  /** The turn's launch, with the adapter's options and the task's MCP servers. */
  launch(ctx: AttemptContext, turn: Turn): Promise<Launch>;
  /** The interactive command with the adapter's options and the task's MCP servers; absent when it has none. */
  interactive?(ctx: AttemptContext): Promise<InteractiveLaunch>;
}

export function isHeadlessAgent(agent: AgentAdapter): agent is HeadlessAgent {
  return typeof (agent as Partial<HeadlessAgent>).launch === 'function' && typeof (agent as Partial<HeadlessAgent>).options === 'object';
}

export function defineHeadlessAgent<O extends CommonAgentOptions>(spec: HeadlessAgentSpec<O>): HeadlessAgent {
  const attempt = (ctx: AttemptContext, turn: Turn): Promise<AttemptResult> => runAttempt(spec, ctx, turn);
  return {
    name: spec.name,
    options: spec.options,
    launch: async (ctx, turn) => spec.launch(ctx, turn, withTaskOptions(spec.options, ctx)),
    ...(spec.interactive ? { interactive: async (ctx: AttemptContext) => spec.interactive!(ctx, withTaskOptions(spec.options, ctx)) } : {}),
    needsModel: true,
    builds: spec.builds,
    ...(spec.modelAliases ? { modelAliases: spec.modelAliases } : {}),
    ...(spec.options.user ? { user: spec.options.user } : {}),
    versionCommand: spec.versionCommand ?? (({ installed }) => [installed[spec.builds[0]!]!.binary, '--version']),
    run: (ctx) => attempt(ctx, { prompt: ctx.task.instruction }),
    continue: (ctx: ContinueContext) => {
      const resume = ctx.previous.sessionId;
      if (!resume) throw new AgentError('CB_AGENT_FAILED', `${spec.name}'s attempt ${ctx.attempt - 1} reported no session id to resume.`);
      return attempt(ctx, { prompt: ctx.message, resume, ...(ctx.previous.agentState ? { state: ctx.previous.agentState } : {}) });
    },
  };
}

/** The model name an agent sends: the part after the bridge's provider (the bridge routes any name). */
export function modelId(model: string): string {
  const i = model.indexOf('/');
  return i < 0 ? model : model.slice(i + 1);
}

/** The sandbox directory the agent starts in. */
export function agentCwd(ctx: AttemptContext, options: CommonAgentOptions): string | undefined {
  return options.cwd ?? ctx.task.environment.workdir;
}

async function runAttempt<O extends CommonAgentOptions>(spec: HeadlessAgentSpec<O>, ctx: AttemptContext, first: Turn): Promise<AttemptResult> {
  const { options } = spec;
  let turn = first;
  let state: ReaderState = {};
  let exec: ExecResult | undefined;
  const transcripts: string[] = [];
  const stderrs: string[] = [];
  const started = Date.now();
  for (let recoveries = 0; ; recoveries++) {
    const timeoutMs = Math.max(1, ctx.timeoutMs - (Date.now() - started));
    const launch = await spec.launch(ctx, turn, withTaskOptions(options, ctx));
    await placeLaunch(ctx, launch, options);
    const reader = spec.reader(turn);
    exec = await execStreaming(ctx, launch, options, reader, timeoutMs);
    state = reader.state;
    transcripts.push(exec.stdout);
    if (exec.stderr) stderrs.push(exec.stderr);
    if (exec.timedOut) break;
    const next = spec.recover?.({ exec, state }, recoveries);
    if (!next) break;
    ctx.emit({ type: 'agent.recover', recovery: recoveries + 1, exitCode: exec.exitCode, resume: next.resume });
    turn = next;
  }
  await keepTranscripts(spec, ctx, transcripts, stderrs);
  if (state.error && !exec.timedOut) {
    throw new AgentError('CB_AGENT_FAILED', `${spec.name} stopped with an error: ${state.error}`);
  }
  return {
    ...(state.finalMessage === undefined ? {} : { finalMessage: state.finalMessage }),
    exitCode: exec.exitCode,
    timedOut: exec.timedOut,
    ...(exec.signal ? { signal: exec.signal } : {}),
    ...(state.sessionId === undefined ? {} : { sessionId: state.sessionId }),
    ...(state.stopReason === undefined ? {} : { stopReason: state.stopReason }),
    ...(state.usage === undefined ? {} : { usage: state.usage }),
    ...(state.agentState === undefined ? {} : { agentState: state.agentState }),
  };
}

/**
 * The options an attempt runs with: the task's MCP servers (Harbor `[[environment.mcp_servers]]`)
 * under the run's own, and the sample's host tools (`ctx.model.hostTools`) as `cagebench`, a
 * name the harness keeps for itself.
 */
export function withTaskOptions<O extends CommonAgentOptions>(options: O, ctx: Pick<AttemptContext, 'task'> & { readonly model?: Pick<ModelAccess, 'hostTools'> }): O {
  const fromTask = ctx.task.mcpServers;
  const hostTools = ctx.model?.hostTools;
  if ((!fromTask || !Object.keys(fromTask).length) && !hostTools) return options;
  const servers: Record<string, McpServer> = {};
  for (const [name, s] of Object.entries(fromTask ?? {})) servers[name] = 'url' in s ? { url: s.url, transport: s.transport } : { command: s.command, ...(s.args ? { args: [...s.args] } : {}) };
  return { ...options, mcp_servers: { ...servers, ...options.mcp_servers, ...(hostTools ? { [HOST_TOOLS_SERVER]: hostTools } : {}) } };
}

const skillsPlaced = new WeakMap<object, Set<string>>();

/**
 * Directories, config files and skills, placed as root (they live outside the task's own
 * directories) and then given to the agent's user when it is not root, so it can write its state.
 */
export async function placeLaunch(ctx: AttemptContext, launch: Launch, options: CommonAgentOptions): Promise<void> {
  const dirs = [...(launch.dirs ?? []), ...(launch.files ?? []).map((f) => posix.dirname(f.path)), ...(launch.skills ? [launch.skills] : [])];
  if (dirs.length) await checked(ctx, ['mkdir', '-p', ...new Set(dirs)], 'create its directories');
  for (const file of launch.files ?? []) await ctx.sandbox.writeFile(file.path, file.content, { mode: file.mode ?? 0o644 });
  // Skills (whole directories) once per sandbox; config files are small and rewritten.
  const placed = skillsPlaced.get(ctx.sandbox) ?? new Set<string>();
  skillsPlaced.set(ctx.sandbox, placed);
  if (launch.skills && !placed.has(launch.skills)) {
    for (const dir of options.skills ?? []) await ctx.sandbox.upload(dir, posix.join(launch.skills, posix.basename(dir)));
    const fromTask = ctx.task.skillsDir;
    if (fromTask) {
      const copy = await ctx.sandbox.exec(['sh', '-c', '[ -d "$1" ] || { echo "no such directory" >&2; exit 3; }; cp -a "$1"/. "$2"/', 'sh', fromTask, launch.skills], { user: 'root' });
      if (copy.exitCode !== 0) ctx.emit({ type: 'agent.skills', warning: `the task's skills_dir ${fromTask} could not be copied to ${launch.skills}: ${copy.stderr.trim()}` });
    }
    placed.add(launch.skills);
  }
  const who = ctx.identity;
  if (!who.root && dirs.length) {
    const owned = [...new Set([...(launch.dirs ?? []), ...(launch.skills ? [launch.skills] : []), ...(launch.files ?? []).map((f) => f.path)])];
    await checked(ctx, ['chown', '-R', who.owner, ...owned], `give its files to ${who.user ?? "the image's USER"} (${who.owner})`);
  }
}

async function checked(ctx: AttemptContext, argv: readonly string[], what: string): Promise<void> {
  const result = await ctx.sandbox.exec(argv, { user: 'root' });
  if (result.exitCode !== 0) {
    throw new AgentError('CB_AGENT_FAILED', `Could not ${what} in the sandbox (${argv[0]} exited ${result.exitCode}): ${result.stderr.trim()}`, { kind: 'config' });
  }
}

async function execStreaming(ctx: AttemptContext, launch: Launch, options: CommonAgentOptions, reader: OutputReader, timeoutMs: number): Promise<ExecResult> {
  const argv = launch.stdin === undefined ? ['sh', '-c', 'exec "$@" </dev/null', 'sh', ...launch.argv] : [...launch.argv];
  const cwd = agentCwd(ctx, options);
  const { user, uid, home } = ctx.identity;
  ctx.emit({ type: 'agent.command', argv: launch.argv.map((a) => (a.length > 200 ? `${a.slice(0, 200)}…` : a)), ...(cwd ? { cwd } : {}), ...(user ? { user } : {}), uid, home });
  let pending = '';
  const onLine = (raw: string): void => {
    const text = raw.trim();
    if (!text) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      ctx.emit({ type: 'agent.output', stream: 'stdout', text: raw });
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      ctx.emit({ type: 'agent.output', stream: 'stdout', text: raw });
      return;
    }
    for (const event of reader.line(message as Record<string, unknown>)) ctx.emit(event);
  };
  const result = await ctx.sandbox.exec(argv, {
    ...(cwd ? { cwd } : {}),
    env: { ...launch.env, ...options.env },
    ...(user ? { user } : {}),
    ...(launch.stdin === undefined ? {} : { stdin: launch.stdin }),
    timeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onOutput: (chunk, stream) => {
      if (stream === 'stderr') {
        ctx.emit({ type: 'agent.output', stream, text: chunk });
        return;
      }
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(line);
    },
  });
  onLine(pending);
  ctx.emit({ type: 'agent.command.end', exitCode: result.exitCode, timedOut: result.timedOut, ...(result.signal ? { signal: result.signal } : {}), durationMs: result.durationMs });
  return result;
}

/** The attempt's stdout (every run of it, recoveries included) and stderr, and the agent's session files. */
async function keepTranscripts<O extends CommonAgentOptions>(spec: HeadlessAgentSpec<O>, ctx: AttemptContext, stdouts: readonly string[], stderrs: readonly string[]): Promise<void> {
  const base = join(ctx.logDir, `${spec.transcript}-attempt-${ctx.attempt}`);
  await writeFile(`${base}.jsonl`, stdouts.join(''));
  if (stderrs.length) await writeFile(`${base}.stderr.txt`, stderrs.join('\n'));
  if (!spec.sessionDirs?.length && !spec.sessionFiles?.length) return;
  // The session files as they stand after this attempt (a later attempt's copy supersedes it).
  const target = join(ctx.logDir, `${spec.transcript}-session`);
  await mkdir(target, { recursive: true });
  const failed = (path: string) => (err: unknown) => ctx.emit({ type: 'agent.session_files', path, error: err instanceof Error ? err.message : String(err) });
  for (const dir of spec.sessionDirs ?? []) await ctx.sandbox.download(dir, join(target, posix.basename(dir))).catch(failed(dir));
  for (const file of spec.sessionFiles ?? []) await ctx.sandbox.download(file, target).catch(failed(file));
}

/** The fields of an agent's JSON line worth keeping in an event, when present. */
export function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
