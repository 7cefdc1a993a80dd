// Multi-turn sessions over a sandboxed agent: `send` a prompt, get the turn's result (its
// final message, stop reason, usage, duration, the agent's session id, and the files it
// created, modified and deleted), `stream` its events as they happen, replay them later,
// cancel a turn, save and resume. The headless driver runs one agent process per turn and
// continues the agent's own session with its resume flags (the adapter's `continue`).
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createAgent, type AgentAdapter, type AttemptResult, type McpServer } from '../../agents/index.ts';
import { diffManifests, snapshotFiles, type FileChanges } from '../../sandboxes/index.ts';
import { loadTasks, type Task } from '../../tasks/index.ts';
import type { SessionTotals } from '../bridge/index.ts';
import { tasksFromDefinitions } from '../define.ts';
import { newRunId } from '../config.ts';
import { checkRunOptions } from '../config-schema.ts';
import { ConfigError } from '../errors.ts';
import { writeJsonAtomic } from '../log/writer.ts';
import { acpBuilds, acpDriver } from './acp-driver.ts';
import { headlessDriver, type SessionDriver } from './driver.ts';
import { PermissionGate, type Confirmation, type ConfirmOptions, type PreToolUseHook } from './permissions.ts';
import { withRules, type PermissionRule } from './rules.ts';
import { sessionTools, type SessionTools } from './tools.ts';
import { openEnvironment, type SessionEnvironment } from './environment.ts';
import { SessionEvents, type SessionEvent } from './events.ts';

export interface SessionOptions {
  /** An agent name (`claude_code`, `codex_cli`, `gemini_cli`, `opencode`) or an adapter object. */
  readonly agent: string | AgentAdapter;
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  /** `provider/model`, for agents that need one. */
  readonly model?: string;
  /** The sandbox's image. @default cagebench/sandbox:bookworm (when no task is given) */
  readonly image?: string;
  /** A task: a Harbor task dir or a suite file (its files and setup are placed first). */
  readonly task?: string;
  /** Which task of `task`, when it holds several. */
  readonly taskId?: string;
  /** How the agent is driven: its CLI once per turn (`headless`), or an ACP adapter held open (`acp`). @default 'headless' */
  readonly driver?: 'headless' | 'acp';
  /** Each turn's time. @default 600_000 */
  readonly timeoutMs?: number;
  /** The session directory (events.jsonl, session.json, each turn's transcript). @default ./sessions/<id> */
  readonly dir?: string;
  /** stable, latest or X.Y.Z. @default 'stable' */
  readonly agentVersion?: string;
  readonly offline?: boolean;
  /** Per session: tokens, USD or model calls before the agent is refused. */
  readonly limits?: { readonly tokens?: number; readonly costUsd?: number; readonly requests?: number };
  /** The agent's working directory (absolute, in the sandbox), where each turn's files are tracked. @default the task's, else the image's */
  readonly cwd?: string;
  /** MCP servers the agent gets, by name (written in its own config format; see agents/options.ts). */
  readonly mcp?: Readonly<Record<string, McpServer>>;
  /** Permission rules (deny over ask over allow), compiled into the agent's own configuration. */
  readonly rules?: readonly PermissionRule[];
  /** How long an `ask` waits for `confirm`, and what happens then (acp driver). @default 30 s, reject */
  readonly confirm?: ConfirmOptions;
}

export interface SendRequest {
  readonly prompt: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface TurnUsage {
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

export interface TurnResult {
  readonly runId: string;
  readonly ok: boolean;
  readonly finalMessage: string;
  /** The agent's own (`end_turn`, `success`, ...), or `cancelled` / `timeout`. */
  readonly stopReason: string;
  readonly exitCode?: number;
  readonly files: FileChanges;
  readonly usage: TurnUsage;
  readonly durationMs: number;
  /** The agent's own session id, which its next turn resumes. */
  readonly agentSessionId?: string;
}

export interface RunInfo {
  readonly runId: string;
  readonly prompt: string;
  readonly status: 'running' | 'done' | 'cancelled' | 'error';
  readonly startedAt: string;
  readonly result?: TurnResult;
  readonly error?: string;
}

/** What `save()` writes (session.json) and `resumeSession` reads. */
export interface SessionRecord {
  readonly version: 1;
  readonly id: string;
  readonly dir: string;
  readonly agent: string;
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  readonly model?: string;
  /** The container saved as an image: the agent's state and the files, as they were. */
  readonly image: string;
  readonly task?: string;
  readonly taskId?: string;
  readonly cwd: string;
  readonly previous?: AttemptResult;
  /** The driver the session was created with. */
  readonly driver?: 'headless' | 'acp';
  readonly runs: readonly RunInfo[];
  readonly lastSeq: number;
}

export type TurnStream = AsyncIterable<SessionEvent> & { readonly result: Promise<TurnResult> };

export interface Session {
  readonly id: string;
  readonly dir: string;
  /** Direct tools in the sandbox (no model): read, write, edit, bash, grep, glob, git; each logged. */
  readonly tools: SessionTools;
  send(request: string | SendRequest): Promise<TurnResult>;
  stream(request: string | SendRequest): TurnStream;
  runs(): readonly RunInfo[];
  events(runId?: string, options?: { after?: number }): SessionEvent[];
  /** The turn in progress, if any. */
  active(): RunInfo | undefined;
  /** Stop the turn in progress; the session stays usable for the next `send`. */
  cancel(): Promise<void>;
  /** Tool calls waiting for a person (`ask` rules; acp driver). */
  pending(): Confirmation[];
  /** Answer a waiting tool call; false when there is none by that id. */
  confirm(answer: { readonly id: string; readonly approve: boolean; readonly reason?: string }): boolean;
  /** A `preToolUse` hook on the tool calls the agent asks about; returns its removal. */
  hook(hook: { readonly on: 'preToolUse'; readonly fn: PreToolUseHook }): () => void;
  /** Between turns: send the agent's model calls to another `provider/model` from the next turn on. */
  set(change: { readonly model?: string }): Promise<void>;
  /** Write session.json, keeping the container's state as an image, and return the record. */
  save(): Promise<SessionRecord>;
  close(): Promise<void>;
}

const DEFAULT_TURN_MS = 600_000;

export async function createSession(options: SessionOptions): Promise<Session> {
  return open(options);
}

/** Reopen a saved session: a new sandbox from its saved image, the agent's session continued. */
export async function resumeSession(record: SessionRecord, options: Partial<SessionOptions> = {}): Promise<Session> {
  return open({ ...options, agent: options.agent ?? record.agent, agentOptions: record.agentOptions, model: options.model ?? record.model, image: record.image, dir: record.dir, driver: options.driver ?? record.driver ?? 'headless' }, record);
}

async function open(options: SessionOptions, saved?: SessionRecord): Promise<Session> {
  if (!['headless', 'acp'].includes(options.driver ?? 'headless')) throw new ConfigError(`A session's driver is 'headless' or 'acp' (got "${options.driver}").`);
  if (options.image && options.task && !saved) throw new ConfigError('Give a session an image or a task, not both.');
  if (options.rules?.length && typeof options.agent !== 'string') throw new ConfigError('Permission rules need an agent by name: they are compiled into its own configuration.');
  // Headless, every rule goes into the agent's own configuration (ask is a deny: nobody is
  // there). Over ACP only deny does: ask and allow are the gate's, answered per request.
  const native = (options.driver ?? 'headless') === 'acp' ? (options.rules ?? []).filter((r) => r.action === 'deny') : (options.rules ?? []);
  if (options.cwd !== undefined && !options.cwd.startsWith('/')) throw new ConfigError(`A session's cwd is an absolute path in the sandbox (got "${options.cwd}").`);
  if ((options.cwd || options.mcp) && typeof options.agent !== 'string') throw new ConfigError('cwd and mcp need an agent by name: they go into its own configuration.');
  const given = { ...options.agentOptions, ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.mcp ? { mcp_servers: options.mcp } : {}) };
  const base = Object.keys(given).length ? given : undefined;
  const agentOptions = typeof options.agent === 'string' && native.length ? withRules(options.agent, native, base) : base;
  const agent = typeof options.agent === 'string' ? createAgent(options.agent, agentOptions) : options.agent;
  const id = saved?.id ?? newRunId();
  const dir = resolve(options.dir ?? join('sessions', id));
  await mkdir(dir, { recursive: true });
  const events = new SessionEvents(join(dir, 'events.jsonl'), saved?.lastSeq ?? 0);
  const task = saved ? await imageTask(saved.image, saved.cwd) : await sessionTask(options);
  let current: { runId: string; abort: AbortController } | undefined;
  events.append('session.start', { id, agent: agent.name, model: options.model ?? null, task: task.origin, resumed: Boolean(saved) });
  let env: SessionEnvironment;
  try {
    env = await openEnvironment({
      sessionId: id,
      agent,
      task,
      model: options.model,
      agentVersion: options.agentVersion ?? 'stable',
      offline: options.offline ?? process.env.CAGEBENCH_OFFLINE === '1',
      limits: options.limits,
      // The ACP adapter runs beside the agent's own build (and Node): both go into the sandbox.
      ...((options.driver ?? 'headless') === 'acp' ? { builds: acpBuilds(agent.name) } : {}),
      prepared: Boolean(saved),
      emit: (type, fields) => events.append(type, fields, current?.runId),
    });
  } catch (err) {
    events.close();
    throw err;
  }
  const runs: RunInfo[] = [...(saved?.runs ?? [])];
  // The agent starts here, and each turn's files are tracked here; made if missing.
  const cwd = options.cwd ?? env.cwd;
  if (options.cwd) await env.sandbox.exec(['mkdir', '-p', options.cwd], env.identity.user ? { user: env.identity.user } : {});
  let model = options.model;
  const emitEvent = (type: string, fields: Record<string, unknown>): void => void events.append(type, fields, current?.runId);
  const gate = new PermissionGate(options.rules ?? [], options.confirm ?? {}, emitEvent);
  const driverOptions = { agent, env, gate, ...(saved?.previous ? { previous: saved.previous } : {}), emit: emitEvent };
  let driver: SessionDriver;
  try {
    driver = (options.driver ?? 'headless') === 'acp' ? await acpDriver(driverOptions) : headlessDriver(driverOptions);
  } catch (err) {
    await env.close();
    events.close();
    throw err;
  }

  const turn = async (request: SendRequest): Promise<TurnResult> => {
    if (current) throw new ConfigError(`Session ${id} is busy with ${current.runId}: wait for it, or cancel it first.`);
    const runId = `run-${runs.length + 1}`;
    const abort = new AbortController();
    request.signal?.addEventListener('abort', () => abort.abort(), { once: true });
    current = { runId, abort };
    const info: RunInfo = { runId, prompt: request.prompt, status: 'running', startedAt: new Date().toISOString() };
    runs.push(info);
    const index = runs.length - 1;
    const started = performance.now();
    events.append('turn.start', { prompt: request.prompt }, runId);
    const before = await snapshotFiles(env.sandbox, cwd);
    const totalsBefore = env.bridgeSession?.totals;
    try {
      const logDir = join(dir, runId);
      await mkdir(logDir, { recursive: true });
      const ctx = {
        sandbox: env.sandbox,
        task: { ...task, instruction: request.prompt },
        attempt: runs.length,
        timeoutMs: request.timeoutMs ?? options.timeoutMs ?? DEFAULT_TURN_MS,
        logDir,
        emit: ({ type, ...fields }: { type: string; [k: string]: unknown }) => events.append(type, fields, runId),
        ...(env.model ? { model: env.model } : {}),
        ...(env.installed ? { installed: env.installed } : {}),
        identity: env.identity,
        signal: abort.signal,
      };
      const result = await driver.turn({ ...ctx, prompt: request.prompt });
      const files = diffManifests(before, await snapshotFiles(env.sandbox, cwd));
      const cancelled = abort.signal.aborted;
      const out: TurnResult = {
        runId,
        ok: !cancelled && !result.timedOut && (result.exitCode ?? 0) === 0,
        finalMessage: result.finalMessage ?? '',
        stopReason: cancelled ? 'cancelled' : result.timedOut ? 'timeout' : (result.stopReason ?? 'end_turn'),
        ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
        files,
        usage: usageBetween(totalsBefore, env.bridgeSession?.totals),
        durationMs: Math.round(performance.now() - started),
        ...(result.sessionId ? { agentSessionId: result.sessionId } : {}),
      };
      runs[index] = { ...info, status: cancelled ? 'cancelled' : 'done', result: out };
      events.append('turn.end', { stopReason: out.stopReason, files: out.files, usage: out.usage, durationMs: out.durationMs }, runId);
      return out;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      runs[index] = { ...info, status: 'error', error: message };
      events.append('turn.error', { message }, runId);
      throw err;
    } finally {
      current = undefined;
    }
  };

  const session: Session = {
    id,
    dir,
    tools: sessionTools({ sandbox: env.sandbox, identity: env.identity, cwd }, (type, fields) => events.append(type, fields, current?.runId)),
    send: (request) => turn(typeof request === 'string' ? { prompt: request } : request),
    stream(request) {
      const req = typeof request === 'string' ? { prompt: request } : request;
      const queue: SessionEvent[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      const first = events.last;
      const unsubscribe = events.subscribe((event) => {
        if (event.seq > first) queue.push(event);
        wake?.();
      });
      const result = turn(req).finally(() => {
        finished = true;
        unsubscribe();
        wake?.();
      });
      // The stream ends with the turn; its result is read from `result`.
      result.catch(() => undefined);
      return {
        result,
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (queue.length) yield queue.shift()!;
            if (finished) return;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        },
      };
    },
    runs: () => runs,
    pending: () => gate.pending(),
    confirm: (answer) => gate.confirm(answer),
    hook: ({ fn }) => gate.hook(fn),
    events: (runId, opts) => events.list(runId, opts?.after ?? 0),
    active: () => (current ? runs.find((r) => r.runId === current!.runId) : undefined),
    async cancel() {
      if (!current) return;
      events.append('turn.cancel', {}, current.runId);
      gate.cancelAll();
      current.abort.abort();
    },
    async set(change) {
      if (current) throw new ConfigError(`Session ${id} is busy with ${current.runId}: change it between turns.`);
      if (change.model === undefined) return;
      // The same rule as a run's --model, from the one option table.
      checkRunOptions({ model: change.model }, { file: 'set()' });
      env.reroute(change.model);
      model = change.model;
      // An ACP adapter holds its token in its environment: start it again, continuing its session.
      if ((options.driver ?? 'headless') === 'acp') {
        const state = driver.state;
        await driver.close().catch(() => undefined);
        driver = await acpDriver({ ...driverOptions, ...(state ? { previous: state } : {}) });
      }
    },
    async save() {
      if (current) throw new ConfigError(`Session ${id} is busy with ${current.runId}: save it between turns.`);
      // The agent's state (its session store under the user's HOME) lives in the container:
      // keep the container as an image, which resumeSession starts from.
      const repo = 'cagebench/session';
      const tag = id.toLowerCase();
      if (!env.sandbox.snapshot) throw new ConfigError(`Session ${id} cannot be saved: ${env.provider.location} cannot keep a sandbox as an image.`);
      await env.sandbox.snapshot(repo, tag);
      const record: SessionRecord = {
        version: 1,
        id,
        dir,
        agent: agent.name,
        ...(agentOptions ? { agentOptions } : {}),
        ...(model ? { model } : {}),
        image: `${repo}:${tag}`,
        ...(options.task ? { task: options.task } : {}),
        ...(options.taskId ? { taskId: options.taskId } : {}),
        cwd,
        driver: options.driver ?? 'headless',
        ...(driver.state ? { previous: driver.state } : {}),
        runs,
        lastSeq: events.last,
      };
      await writeJsonAtomic(join(dir, 'session.json'), record);
      events.append('session.saved', { image: record.image });
      return record;
    },
    async close() {
      if (current) await session.cancel();
      events.append('session.end', { runs: runs.length });
      await driver.close().catch(() => undefined);
      await env.close();
      events.close();
    },
  };
  return session;
}

async function sessionTask(options: SessionOptions): Promise<Task> {
  if (!options.task) return imageTask(options.image ?? 'cagebench/sandbox:bookworm');
  const tasks = await loadTasks([options.task], options.taskId ? { filter: options.taskId } : {});
  if (tasks.length === 1) return tasks[0]!;
  if (!tasks.length) throw new ConfigError(`No task${options.taskId ? ` "${options.taskId}"` : ''} in ${options.task}.`);
  throw new ConfigError(`${options.task} holds ${tasks.length} tasks: choose one with taskId (${tasks.map((t) => t.id).slice(0, 5).join(', ')}${tasks.length > 5 ? ', ...' : ''}).`);
}

/** A task that is only an image: no files, no setup, the suite's default working directory unless given. */
async function imageTask(image: string, cwd?: string): Promise<Task> {
  const [task] = await tasksFromDefinitions([{ id: 'session', instruction: '-', environment: { image, ...(cwd ? { workdir: cwd } : {}) }, scorer: { type: 'command', command: 'true' } }]);
  return task!;
}

function usageBetween(before: SessionTotals | undefined, after: SessionTotals | undefined): TurnUsage {
  if (!after) return { requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  return {
    requests: after.requests - (before?.requests ?? 0),
    inputTokens: after.usage.inputTokens - (before?.usage.inputTokens ?? 0),
    outputTokens: after.usage.outputTokens - (before?.usage.outputTokens ?? 0),
    costUsd: after.costUsd - (before?.costUsd ?? 0),
  };
}
