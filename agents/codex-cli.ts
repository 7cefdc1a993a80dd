// `codex_cli`: the real Codex CLI, headless (`codex exec --json`), approvals and its own
// sandbox bypassed (the container is the sandbox; bwrap/landlock do not work inside Docker),
// its model calls going to the run's bridge through a custom Responses provider in
// `$CODEX_HOME/config.toml` (the built-in OpenAI provider ignores OPENAI_BASE_URL). Plugin
// sync and analytics are switched off: with them on Codex dials github.com and chatgpt.com.
// A later attempt resumes the same thread (`codex exec resume <thread_id>`), whose usage
// Codex reports cumulatively, so the totals are carried between attempts and differenced.
import { posix } from 'node:path';
import { stringify } from 'smol-toml';
import { z } from 'zod';
import { AgentError, HOST_TOOLS_SERVER, type AgentAdapter, type AgentEvent, type AgentUsage, type AttemptContext } from './agent.ts';
import { defineHeadlessAgent, modelId, type InteractiveLaunch, type Launch, type OutputReader, type ReaderState, type Turn } from './headless.ts';
import { pathWith } from './install.ts';
import { commonOptionsShape, parseAgentOptions, type McpServer } from './options.ts';

export const CODEX_CLI = 'codex_cli';
/**
 * CODEX_HOME in the sandbox: config.toml, skills, sessions (rollouts) and its SQLite state.
 * Outside the task's working directory on purpose, so none of it shows in the workspace a
 * verifier checks or in the workspace diff; /var/tmp because Codex refuses to create its
 * helper links under /tmp.
 */
export const CODEX_HOME = '/var/tmp/cagebench/codex_cli/home';
/** The provider id in config.toml. */
const PROVIDER = 'cagebench';
/** The environment variable holding the sample's bridge token (Codex sends it as a Bearer token). */
export const TOKEN_ENV = 'CAGEBENCH_BRIDGE_TOKEN';

/**
 * Codex has no per-tool deny flag; its tools come and go with features. What each tool name a
 * user may give in `disallowed_tools` turns off, checked against the tools Codex 0.169 declares
 * to the model: `shell_tool` removes exec_command and write_stdin together (disabling
 * `unified_exec` leaves them in place), `multi_agent` the multi_agent_v1 namespace.
 */
const TOOL_SWITCHES: Readonly<Record<string, readonly string[]>> = {
  exec_command: ['--disable', 'shell_tool'],
  write_stdin: ['--disable', 'shell_tool'],
  shell: ['--disable', 'shell_tool'],
  view_image: ['--disable', 'view_image'],
  get_goal: ['--disable', 'goals'],
  create_goal: ['--disable', 'goals'],
  update_goal: ['--disable', 'goals'],
  multi_agent_v1: ['--disable', 'multi_agent'],
  image_generation: ['--disable', 'image_generation'],
  web_search: ['-c', 'web_search="disabled"'],
};
/** Feature names (`codex features list`) that switch tools off, accepted as they are. */
const TOOL_FEATURES = ['shell_tool', 'view_image', 'goals', 'multi_agent', 'image_generation'];

const CONFIG_KEY = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
type TomlValue = string | number | boolean | readonly TomlValue[] | { readonly [key: string]: TomlValue };
const tomlValue: z.ZodType<TomlValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.array(tomlValue), z.record(z.string(), tomlValue)]));

/**
 * `$CODEX_HOME/rules/cagebench.rules`. Codex refuses `rm -f`-style commands with a built-in
 * check (codex-rs command_safety/is_dangerous_command.rs) whenever the approval policy is
 * `never`, which `codex exec` forces; no flag, config key or feature turns it off. The check
 * runs only for commands no rule matches, so allow rules are the one way to let the agent do
 * what it may do anywhere else in the container (the container is the safety boundary).
 * Shell wrappers must be allowed too: a script with a loop, `$(...)`, a variable or a
 * redirection is checked whole, as `bash -lc <script>`. Checked against 0.169.
 */
export const ALLOW_ALL_RULES = [
  '# cagebench: the container is the sandbox; let every command run, as in the task\'s own shell.',
  'prefix_rule(pattern=["rm"], decision="allow")',
  'prefix_rule(pattern=["sudo"], decision="allow")',
  'prefix_rule(pattern=[["bash", "/bin/bash", "/usr/bin/bash", "sh", "/bin/sh", "/usr/bin/sh", "zsh", "/bin/zsh", "/usr/bin/zsh"]], decision="allow")',
  '',
].join('\n');

export const codexOptionsSchema = z.strictObject({
  ...commonOptionsShape,
  /**
   * Allow the commands Codex's built-in safety check would refuse (`rm -f`, `rm -rf`, ...)
   * through a rules file; false keeps Codex's own refusals. @default true
   */
  allow_all_commands: z.boolean().default(true),
  /** Codex's hosted web search: off, from OpenAI's cache, or live. @default 'disabled' */
  web_search: z.enum(['disabled', 'cached', 'live']).default('disabled'),
  /** Any Codex config key (dotted path) → value, each passed as `-c key=<TOML value>`. */
  config_overrides: z
    .record(z.string(), tomlValue)
    .superRefine((overrides, check) => {
      for (const key of Object.keys(overrides)) {
        if (!CONFIG_KEY.test(key)) check.addIssue({ code: 'custom', path: [key], message: 'the key must be a dotted config path (letters, digits, _ and -), e.g. features.goals' });
      }
    })
    .optional(),
});
export type CodexOptions = z.infer<typeof codexOptionsSchema>;

export function createCodexAgent(raw?: unknown): AgentAdapter {
  const options = parseAgentOptions(CODEX_CLI, codexOptionsSchema, raw);
  // Fail before any sandbox starts when a tool cannot be turned off.
  disabledToolArgs(options.disallowed_tools ?? []);
  return defineHeadlessAgent({
    name: CODEX_CLI,
    builds: [CODEX_CLI],
    transcript: 'codex',
    options,
    launch: (ctx, turn, effective) => codexLaunch(ctx, turn, effective),
    interactive: (ctx, effective) => codexInteractive(ctx, effective),
    reader: (turn) => new CodexReader(turn),
    sessionDirs: [posix.join(CODEX_HOME, 'sessions')],
  });
}

/** `--disable <feature>` / `-c` arguments for `disallowed_tools`; an unknown name is a config error. */
export function disabledToolArgs(tools: readonly string[]): string[] {
  const args: string[] = [];
  const seen = new Set<string>();
  for (const tool of tools) {
    const switches = TOOL_SWITCHES[tool] ?? (TOOL_FEATURES.includes(tool) ? ['--disable', tool] : undefined);
    if (!switches) {
      throw new AgentError(
        'CB_AGENT_OPTIONS',
        `Agent ${CODEX_CLI}: option "disallowed_tools": Codex cannot turn off "${tool}" (it has no per-tool deny list; tools go with features). ` +
          `Known: ${[...Object.keys(TOOL_SWITCHES), ...TOOL_FEATURES.filter((f) => !(f in TOOL_SWITCHES))].join(', ')}.`,
        { kind: 'config' },
      );
    }
    const key = switches.join(' ');
    if (!seen.has(key)) args.push(...switches);
    seen.add(key);
  }
  return args;
}

/** Codex speaks streamable HTTP to URL servers, never SSE: such a server is refused, not silently unreachable. */
function httpUrl(name: string, server: { readonly url: string; readonly transport?: 'http' | 'sse' }): string {
  if (server.transport !== 'sse') return server.url;
  throw new AgentError('CB_AGENT_OPTIONS', `MCP server "${name}" uses the SSE transport, which Codex CLI does not support (streamable HTTP and stdio only).`, { kind: 'task' });
}

/**
 * Codex's `[mcp_servers.<name>]` tables. The host tools' server is `required` (Codex waits for
 * it before the first model call and fails the turn if it cannot connect, where an optional
 * server gets a short grace and is dropped) and its tools are approved in advance.
 */
function codexMcp(servers: Readonly<Record<string, McpServer>>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(servers).map(([name, s]) => [
      name,
      {
        ...('url' in s
          ? { url: httpUrl(name, s), ...(s.headers ? { http_headers: s.headers } : {}) }
          : { command: s.command, ...(s.args ? { args: s.args } : {}), ...(s.env ? { env: s.env } : {}), ...(s.cwd ? { cwd: s.cwd } : {}) }),
        ...(name === HOST_TOOLS_SERVER ? HOST_TOOLS_CODEX : {}),
      },
    ]),
  );
}

const HOST_TOOLS_CODEX = { required: true, startup_timeout_sec: 120, default_tools_approval_mode: 'approve' };

/** `$CODEX_HOME/config.toml`: the bridge as the only provider, plus the options that live in config. */
export function codexConfig(baseUrl: string, model: string, options: CodexOptions): string {
  return stringify({
    model: modelId(model),
    model_provider: PROVIDER,
    web_search: options.web_search,
    // Commands run as `bash -c`, as docker exec runs them: a login shell (Codex's default)
    // sources /etc/profile, which on Debian resets PATH and hides the image's ENV PATH.
    allow_login_shell: false,
    ...(options.system_prompt ? { developer_instructions: options.system_prompt } : {}),
    model_providers: {
      [PROVIDER]: {
        name: 'cagebench bridge',
        base_url: baseUrl,
        env_key: TOKEN_ENV,
        wire_api: 'responses',
        // The bridge may hold a stream back (refusal retries, a slow upstream): never give up on it.
        stream_idle_timeout_ms: 3_600_000,
      },
    },
    ...(options.mcp_servers ? { mcp_servers: codexMcp(options.mcp_servers) } : {}),
  });
}

/** A value as TOML on one line (what `-c key=value` parses), escaped by the TOML library. */
export function tomlInline(value: TomlValue): string {
  if (Array.isArray(value)) return `[${value.map(tomlInline).join(', ')}]`;
  if (typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${tomlKey(k)} = ${tomlInline(v)}`).join(', ')} }`;
  const line = stringify({ v: value }).trim();
  return line.slice(line.indexOf('=') + 1).trim();
}

function tomlKey(key: string): string {
  return stringify({ [key]: 0 }).trim().replace(/ = 0$/, '');
}

/**
 * Codex's terminal UI, for a person: `codex` with the same config, model and permission
 * flags as `codex exec`, without exec's own (`--json`, `--skip-git-repo-check`) or a prompt.
 */
export function codexInteractive(ctx: AttemptContext, options: CodexOptions): InteractiveLaunch {
  const { argv, stdin: _stdin, ...rest } = codexLaunch(ctx, { prompt: '' }, options);
  const flags = argv.slice(2, argv.lastIndexOf('--')).filter((a) => a !== '--json' && a !== '--skip-git-repo-check');
  return { alias: 'codex', argv: [argv[0]!, ...flags], ...rest };
}

export function codexLaunch(ctx: AttemptContext, turn: Turn, options: CodexOptions): Launch {
  const installed = ctx.installed?.[CODEX_CLI];
  const model = ctx.model;
  if (!installed || !model) throw new Error('codex_cli needs a model and its build in the sandbox');
  const flags = [
    '--json',
    '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox',
    // No plugin sync (git ls-remote github.com, api.github.com, chatgpt.com) and no OTEL
    // metrics to ab.chatgpt.com: the bridge is the only address Codex talks to.
    '--disable', 'plugins',
    '-c', 'analytics.enabled=false',
    // A bridge that cannot be reached fails the turn after Codex's 5 reconnects instead of
    // "waiting for network" until the agent's timeout: the bridge runs on this very machine.
    '--disable', 'unbounded_connection_retries',
    ...disabledToolArgs(options.disallowed_tools ?? []),
    ...Object.entries(options.config_overrides ?? {}).flatMap(([key, value]) => ['-c', `${key}=${tomlInline(value)}`]),
    '-m', modelId(model.model),
  ];
  // `resume` takes the same flags after its name (not -C or -s: the cwd is the process's).
  // `--` so that a prompt starting with "-" is not read as a flag.
  const argv = turn.resume ? [installed.binary, 'exec', 'resume', ...flags, '--', turn.resume, turn.prompt] : [installed.binary, 'exec', ...flags, '--', turn.prompt];
  const env: Record<string, string> = {
    PATH: pathWith(installed, ctx.identity.path),
    CODEX_HOME,
    [TOKEN_ENV]: model.token,
    ...(options.debug ? { RUST_LOG: 'debug' } : {}),
  };
  return {
    argv,
    env,
    dirs: [CODEX_HOME],
    files: [
      { path: posix.join(CODEX_HOME, 'config.toml'), content: codexConfig(model.baseUrls.openai, model.model, options) },
      ...(options.allow_all_commands ? [{ path: posix.join(CODEX_HOME, 'rules', 'cagebench.rules'), content: ALLOW_ALL_RULES }] : []),
    ],
    skills: posix.join(CODEX_HOME, 'skills'),
  };
}

/** `turn.completed.usage` as Codex reports it (cumulative for the thread). */
interface CodexUsage {
  readonly input_tokens?: number;
  readonly cached_input_tokens?: number;
  readonly cache_write_input_tokens?: number;
  readonly output_tokens?: number;
  readonly reasoning_output_tokens?: number;
}

const USAGE_KEYS = ['input_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'output_tokens', 'reasoning_output_tokens'] as const;

/** Tool-like items: each becomes a tool call when it starts and a tool result when it completes. */
const TOOL_ITEMS = new Set(['command_execution', 'file_change', 'mcp_tool_call', 'web_search', 'collab_tool_call']);

type Item = Record<string, unknown> & { readonly id?: string; readonly type?: string };

/** Codex's `--json` lines as the sample's events. */
export class CodexReader implements OutputReader {
  readonly state: ReaderState;
  /** Cumulative thread usage before this attempt (from the previous attempt's agentState). */
  private readonly base: CodexUsage;
  private readonly called = new Set<string>();

  constructor(turn: Pick<Turn, 'resume' | 'state'> = {}) {
    this.state = turn.resume ? { sessionId: turn.resume } : {};
    const carried = turn.resume ? (turn.state?.cumulativeUsage as CodexUsage | undefined) : undefined;
    this.base = carried ?? {};
    if (carried) this.state.agentState = { cumulativeUsage: carried };
  }

  line(msg: Record<string, unknown>): AgentEvent[] {
    const state = this.state;
    switch (msg.type) {
      case 'thread.started':
        if (typeof msg.thread_id === 'string') state.sessionId = msg.thread_id;
        return [{ type: 'agent.session', sessionId: msg.thread_id }];
      case 'turn.started':
        return [{ type: 'agent.turn' }];
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return this.item(msg.type, (msg.item ?? {}) as Item);
      case 'turn.completed': {
        const cumulative = (msg.usage ?? {}) as CodexUsage;
        const usage = difference(cumulative, this.base);
        state.usage = usage;
        state.stopReason = 'completed';
        state.agentState = { cumulativeUsage: pickUsage(cumulative) };
        // A turn that completed was not fatal, whatever errors it reported on the way.
        delete state.error;
        return [{ type: 'agent.result', status: 'completed', usage, cumulativeUsage: cumulative, finalMessage: state.finalMessage }];
      }
      case 'turn.failed': {
        const error = (msg.error ?? {}) as { message?: unknown };
        state.stopReason = 'failed';
        state.error = typeof error.message === 'string' ? errorText(error.message) : (state.error ?? JSON.stringify(msg.error));
        return [{ type: 'agent.result', status: 'failed', error: state.error, finalMessage: state.finalMessage }];
      }
      case 'error': {
        const message = typeof msg.message === 'string' ? errorText(msg.message) : JSON.stringify(msg);
        // "Reconnecting... 2/5" is Codex retrying a stream: only its last word, a failed turn, ends it.
        const retrying = /^Reconnecting\b/i.test(message);
        if (!retrying) state.error = message;
        return [{ type: 'agent.error', message, fatal: !retrying }];
      }
      default:
        return [{ type: 'agent.stream', kind: msg.type }];
    }
  }

  private item(phase: 'item.started' | 'item.updated' | 'item.completed', item: Item): AgentEvent[] {
    const id = item.id;
    const kind = item.type ?? 'unknown';
    if (TOOL_ITEMS.has(kind)) {
      const events: AgentEvent[] = [];
      const key = String(id);
      if (!this.called.has(key) && phase !== 'item.updated') {
        this.called.add(key);
        events.push({ type: 'agent.tool_call', id, name: toolName(item), input: toolInput(item) });
      }
      if (phase === 'item.completed') events.push({ type: 'agent.tool_result', id, name: toolName(item), ...toolResult(item) });
      return events;
    }
    if (phase !== 'item.completed') return kind === 'todo_list' ? [{ type: 'agent.todo', id, items: item.items }] : [];
    switch (kind) {
      case 'agent_message':
        if (typeof item.text === 'string') this.state.finalMessage = item.text;
        return [{ type: 'agent.message', id, text: item.text }];
      case 'reasoning':
        return [{ type: 'agent.reasoning', id, text: item.text }];
      case 'todo_list':
        return [{ type: 'agent.todo', id, items: item.items }];
      case 'error':
        // An item-level error is a warning Codex went on after (e.g. unknown model metadata).
        return [{ type: 'agent.warning', id, message: item.message }];
      default:
        return [{ type: 'agent.item', id, kind, item }];
    }
  }
}

/** Codex passes an API error body on as its message: `{"error":{"message","type"}}` → `type: message`. */
function errorText(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const body = JSON.parse(message) as { error?: { message?: unknown; type?: unknown; code?: unknown } };
    const e = body.error;
    if (typeof e?.message !== 'string') return message;
    const kind = typeof e.type === 'string' ? e.type : typeof e.code === 'string' ? e.code : 'API error';
    return `${kind}: ${e.message}`;
  } catch {
    return message;
  }
}

function toolName(item: Item): string {
  if (item.type === 'mcp_tool_call') return `mcp__${String(item.server)}__${String(item.tool)}`;
  if (item.type === 'collab_tool_call' && typeof item.tool === 'string') return item.tool;
  return item.type ?? 'unknown';
}

function toolInput(item: Item): unknown {
  switch (item.type) {
    case 'command_execution':
      return { command: item.command };
    case 'file_change':
      return { changes: item.changes };
    case 'mcp_tool_call':
      return item.arguments;
    case 'web_search':
      return { query: item.query };
    default:
      return item;
  }
}

function toolResult(item: Item): Record<string, unknown> {
  const status = item.status;
  const failed = status === 'failed' || status === 'declined';
  switch (item.type) {
    case 'command_execution': {
      const exitCode = typeof item.exit_code === 'number' ? item.exit_code : undefined;
      return { status, isError: failed || (exitCode !== undefined && exitCode !== 0), output: item.aggregated_output, ...(exitCode === undefined ? {} : { exitCode }) };
    }
    case 'mcp_tool_call':
      return { status, isError: failed || Boolean(item.error), output: item.error ?? item.result };
    case 'file_change':
      return { status, isError: failed, output: item.changes };
    default:
      return { status, isError: failed };
  }
}

function pickUsage(u: CodexUsage): CodexUsage {
  return Object.fromEntries(USAGE_KEYS.flatMap((k) => (typeof u[k] === 'number' ? [[k, u[k]]] : [])));
}

/** This attempt's usage: the thread's cumulative totals minus those before it. */
function difference(now: CodexUsage, before: CodexUsage): AgentUsage {
  const d = (k: (typeof USAGE_KEYS)[number]): number => Math.max(0, (now[k] ?? 0) - (before[k] ?? 0));
  return { inputTokens: d('input_tokens'), outputTokens: d('output_tokens'), cachedInputTokens: d('cached_input_tokens'), reasoningTokens: d('reasoning_output_tokens') };
}
