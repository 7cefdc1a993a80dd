// `opencode`: OpenCode's headless `opencode run --format json`, its model calls going to the
// bridge through an OpenAI-compatible provider defined in OPENCODE_CONFIG_CONTENT (the
// `@ai-sdk/openai-compatible` provider is bundled in the binary: nothing is installed).
// Everything is allowed (`"permission": {"*": "allow"}`: `run` rejects prompts otherwise),
// the models catalog fetch and autoupdate are off, and its catalog is an empty file of ours
// (OPENCODE_MODELS_PATH) instead of the one bundled in it. A later attempt resumes the same session
// with `-s <sessionID>`.
//
// Where its state goes (checked against 1.18): OpenCode always creates its XDG directories
// under the user's HOME (~/.local/share/opencode, ~/.config/opencode, ~/.local/state/opencode,
// ~/.cache/opencode) and has no variable of its own to move them. Moving HOME or XDG_* would
// change the world of every command the agent runs (git's ~/.config/git, a tool's dotfile), so
// they stay in the task user's real HOME. Only when that HOME is not writable (nobody's
// /nonexistent) do the XDG variables point under STATE, since OpenCode cannot start otherwise.
// Its session store is named with OPENCODE_DB, so it is found whatever the HOME.
import { posix } from 'node:path';
import { z } from 'zod';
import type { AgentAdapter, AgentEvent, AttemptContext } from './agent.ts';
import { defineHeadlessAgent, modelId, type InteractiveLaunch, type Launch, type OutputReader, type ReaderState, type Turn } from './headless.ts';
import { pathWith } from './install.ts';
import { commonOptionsShape, parseAgentOptions, type McpServer } from './options.ts';

/** cagebench's directory for OpenCode in the sandbox: its session database, skills, instructions. */
export const OPENCODE_STATE = '/var/tmp/cagebench/opencode';
/** The provider id in OpenCode's config; models are named `cagebench/<id>`. */
const PROVIDER = 'cagebench';
const INSTRUCTIONS = `${OPENCODE_STATE}/instructions.md`;
/** Its SQLite session store (OPENCODE_DB). */
const DB = `${OPENCODE_STATE}/opencode.db`;
/** OPENCODE_CONFIG_DIR: an extra config directory, read for skills beside the user's own. */
const CONFIG_DIR = `${OPENCODE_STATE}/config`;
/**
 * OPENCODE_MODELS_PATH: the models.dev catalog it reads instead of its own. Empty: the one
 * provider it uses (ours) is defined whole in its config, and decoding the catalog bundled in
 * the binary (every provider and model) cost 2.5 s of CPU per start, a third of the run.
 */
const MODELS = `${OPENCODE_STATE}/models.json`;

export const openCodeOptionsSchema = z.strictObject(commonOptionsShape);
export type OpenCodeOptions = z.infer<typeof openCodeOptionsSchema>;

export function createOpenCodeAgent(raw?: unknown): AgentAdapter {
  const options = parseAgentOptions('opencode', openCodeOptionsSchema, raw);
  return defineHeadlessAgent({
    name: 'opencode',
    builds: ['opencode'],
    transcript: 'opencode',
    options,
    launch: (ctx, turn, effective) => openCodeLaunch(ctx, turn, effective),
    interactive: (ctx, effective) => openCodeInteractive(ctx, effective),
    // With the same fallback as a run: as a user whose HOME it cannot write, it exits on its first mkdir.
    versionCommand: ({ installed, identity }) => {
      const binary = installed.opencode!.binary;
      if (identity.homeWritable) return [binary, '--version'];
      return ['env', ...Object.entries(xdgFallback()).map(([k, v]) => `${k}=${v}`), binary, '--version'];
    },
    reader: (turn) => new OpenCodeReader(turn.resume),
    // Sessions live in one SQLite database; only it is kept (the snapshots beside it can be as
    // big as the repository), with its write-ahead log, where the last writes still are.
    // (`opencode export`, a second start of the CLI, cost 2 s an attempt.)
    sessionFiles: [DB, `${DB}-wal`],
  });
}

/** OpenCode's `mcp` config block. */
function openCodeMcp(servers: Readonly<Record<string, McpServer>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(servers).map(([name, s]) => [
      name,
      'url' in s
        ? { type: 'remote', url: s.url, ...(s.headers ? { headers: s.headers } : {}), enabled: true }
        : { type: 'local', command: [s.command, ...(s.args ?? [])], ...(s.env ? { environment: s.env } : {}), enabled: true },
    ]),
  );
}

export function openCodeConfig(baseUrl: string, token: string, model: string, options: OpenCodeOptions = {}): Record<string, unknown> {
  const id = modelId(model);
  return {
    $schema: 'https://opencode.ai/config.json',
    model: `${PROVIDER}/${id}`,
    small_model: `${PROVIDER}/${id}`,
    autoupdate: false,
    share: 'disabled',
    // Everything allowed but the disallowed tools: a tool denied outright is not offered at all.
    permission: { '*': 'allow', ...Object.fromEntries((options.disallowed_tools ?? []).map((t) => [t, 'deny'])) },
    agent: { title: { disable: true } },
    ...(options.system_prompt ? { instructions: [INSTRUCTIONS] } : {}),
    ...(options.mcp_servers ? { mcp: openCodeMcp(options.mcp_servers) } : {}),
    provider: {
      [PROVIDER]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'cagebench bridge',
        options: { baseURL: baseUrl, apiKey: token },
        models: { [id]: { name: id, tool_call: true, limit: { context: 200_000, output: 32_000 } } },
      },
    },
  };
}

/** OpenCode's TUI, for a person (`opencode` rather than `run --format json`): its model, permissions and config come from the same environment. */
export function openCodeInteractive(ctx: AttemptContext, options: OpenCodeOptions): InteractiveLaunch {
  const { argv, stdin: _stdin, ...rest } = openCodeLaunch(ctx, { prompt: '' }, options);
  return { alias: 'opencode', argv: [argv[0]!, ...(options.debug ? ['--print-logs', '--log-level', 'DEBUG'] : [])], ...rest };
}

export function openCodeLaunch(ctx: AttemptContext, turn: Turn, options: OpenCodeOptions): Launch {
  const m = ctx.model;
  const oc = ctx.installed?.opencode;
  if (!m || !oc) throw new Error('opencode needs a model and the opencode build in the sandbox');
  // Only for a HOME it cannot write: OpenCode would exit on its first mkdir.
  const xdg = ctx.identity.homeWritable ? {} : xdgFallback();
  const env: Record<string, string> = {
    PATH: pathWith(oc, ctx.identity.path),
    ...xdg,
    OPENCODE_CONFIG_CONTENT: JSON.stringify(openCodeConfig(m.baseUrls.openai, m.token, m.model, options)),
    OPENCODE_CONFIG_DIR: CONFIG_DIR,
    OPENCODE_DB: DB,
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_MODELS_PATH: MODELS,
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
  };
  return {
    argv: [oc.binary, 'run', '--format', 'json', ...(options.debug ? ['--print-logs', '--log-level', 'DEBUG'] : []), ...(turn.resume ? ['-s', turn.resume] : []), turn.prompt],
    env,
    dirs: [OPENCODE_STATE, CONFIG_DIR, ...Object.values(xdg)],
    files: [{ path: MODELS, content: '{}\n' }, ...(options.system_prompt ? [{ path: INSTRUCTIONS, content: options.system_prompt }] : [])],
    skills: posix.join(CONFIG_DIR, 'skills'),
  };
}

/** OpenCode's XDG directories under STATE, for a user whose HOME it cannot write. */
function xdgFallback(): Record<string, string> {
  const dirs = { XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'data', XDG_CACHE_HOME: 'cache', XDG_STATE_HOME: 'state' };
  return Object.fromEntries(Object.entries(dirs).map(([k, d]) => [k, `${OPENCODE_STATE}/xdg/${d}`]));
}

/** What one line of `--format json` output says, as a normalized event (undefined: nothing to report). */
export function openCodeEvent(line: Record<string, unknown>): AgentEvent | undefined {
  const part = (line.part ?? {}) as Record<string, unknown>;
  switch (line.type) {
    case 'text':
      return { type: 'agent.text', text: part.text };
    case 'reasoning':
      return { type: 'agent.reasoning', text: part.text };
    case 'tool_use': {
      const state = (part.state ?? {}) as Record<string, unknown>;
      const metadata = (state.metadata ?? {}) as Record<string, unknown>;
      return {
        type: 'agent.tool',
        tool: part.tool,
        callId: part.callID,
        status: state.status,
        input: state.input,
        output: state.output,
        ...(metadata.exit === undefined ? {} : { exitCode: metadata.exit }),
      };
    }
    case 'step_finish':
      return { type: 'agent.step', reason: part.reason, tokens: part.tokens, cost: part.cost };
    case 'error':
      return { type: 'agent.error', error: line.error ?? part };
    default:
      return undefined;
  }
}

/** OpenCode's JSON lines as events; usage summed over its steps, the last text as the answer. */
export class OpenCodeReader implements OutputReader {
  readonly state: ReaderState;
  private input = 0;
  private output = 0;
  private cached = 0;
  private reasoning = 0;

  constructor(resume?: string) {
    this.state = resume ? { sessionId: resume } : {};
  }

  line(line: Record<string, unknown>): AgentEvent[] {
    const events: AgentEvent[] = [];
    if (typeof line.sessionID === 'string' && line.sessionID !== this.state.sessionId) {
      this.state.sessionId = line.sessionID;
      events.push({ type: 'agent.session', sessionId: line.sessionID });
    }
    const event = openCodeEvent(line);
    if (!event) return events;
    if (event.type === 'agent.text' && typeof event.text === 'string') this.state.finalMessage = event.text;
    // A session error ends the run: the model failed in a way OpenCode could not get past.
    if (event.type === 'agent.error') this.state.error = errorText(event.error);
    if (event.type === 'agent.step') {
      if (typeof event.reason === 'string') this.state.stopReason = event.reason;
      const t = (event.tokens ?? {}) as { input?: number; output?: number; reasoning?: number; cache?: { read?: number } };
      this.input += t.input ?? 0;
      this.output += t.output ?? 0;
      this.reasoning += t.reasoning ?? 0;
      this.cached += t.cache?.read ?? 0;
      this.state.usage = { inputTokens: this.input, outputTokens: this.output, cachedInputTokens: this.cached, reasoningTokens: this.reasoning };
    }
    events.push(event);
    return events;
  }
}

function errorText(error: unknown): string {
  const e = (error ?? {}) as { name?: unknown; message?: unknown; data?: { message?: unknown; statusCode?: unknown } };
  const message = e.data?.message ?? e.message;
  const status = e.data?.statusCode === undefined ? '' : `API status ${String(e.data.statusCode)}: `;
  return typeof message === 'string' ? `${status}${message}` : JSON.stringify(error);
}
