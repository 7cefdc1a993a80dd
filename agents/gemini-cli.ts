// `gemini_cli`: the real Gemini CLI bundle, headless (`-p <prompt> --output-format stream-json
// --yolo --skip-trust`), run by a Node runtime (the image's own when it is >= 20, else the
// cached one), its model calls going to the run's bridge (GOOGLE_GEMINI_BASE_URL) with the
// sample's token as GEMINI_API_KEY. The model is pinned with `-m`, so the auto-router's extra
// classifier calls never happen. Its state (settings, policies, GEMINI.md, skills, chats)
// lives in GEMINI_CLI_HOME outside the workspace; a later attempt resumes the same session
// with `--resume <session id>`.
//
// Facts checked against 0.61.0 (see shared/reference/agent-clis.md):
// - without `security.auth.selectedType = "gemini-api-key"` a base URL in the environment
//   selects the "gateway" auth type, which headless mode rejects (exit 41);
// - `privacy.usageStatisticsEnabled = false` stops its only side traffic (two Clearcut
//   connections to play.googleapis.com per run): with these settings it connects to the
//   bridge and nowhere else;
// - `tools.exclude` works but warns that it is deprecated: disallowed tools are deny rules
//   in a user policy file instead (a global deny removes the tool from the model's list);
// - it reads `<GEMINI_CLI_HOME>/.gemini/GEMINI.md` as global context, appended to its system
//   instruction: that is where `system_prompt` goes;
// - a model API error it gives up on ends with `result{status:"error"}` and the HTTP status
//   as exit code (400 → 144); a failure before the session starts prints to stderr only.
import { posix } from 'node:path';
import { z } from 'zod';
import { HOST_TOOLS_SERVER, type AgentAdapter, type AgentEvent, type AttemptContext } from './agent.ts';
import type { ExecResult, Sandbox } from '../sandboxes/index.ts';
import { defineHeadlessAgent, modelId, pick, type InteractiveLaunch, type Launch, type OutputReader, type ReaderState, type Turn } from './headless.ts';
import { pathWith, type AgentInSandbox } from './install.ts';
import { commonOptionsShape, parseAgentOptions, type McpServer } from './options.ts';

export const GEMINI_CLI = 'gemini_cli';
/** GEMINI_CLI_HOME in the sandbox: Gemini CLI keeps everything under `<it>/.gemini`. */
export const GEMINI_HOME = '/var/tmp/cagebench/gemini_cli';
const DOT_GEMINI = posix.join(GEMINI_HOME, '.gemini');
/** Session transcripts: `tmp/<project>/chats/session-*.jsonl`, with the project's logs. */
const SESSIONS = posix.join(DOT_GEMINI, 'tmp');

export const geminiOptionsSchema = z.strictObject(commonOptionsShape);
export type GeminiOptions = z.infer<typeof geminiOptionsSchema>;

export function createGeminiAgent(raw?: unknown): AgentAdapter {
  const options = parseAgentOptions(GEMINI_CLI, geminiOptionsSchema, raw);
  return defineHeadlessAgent({
    name: GEMINI_CLI,
    builds: [GEMINI_CLI, 'node'],
    transcript: 'gemini',
    options,
    launch: async (ctx, turn, effective) => geminiLaunch(ctx, turn, effective, await probeSandbox(ctx.sandbox, ctx.identity.user)),
    interactive: async (ctx, effective) => geminiInteractive(ctx, effective, await probeSandbox(ctx.sandbox, ctx.identity.user)),
    reader: (turn) => new GeminiReader(turn.resume),
    sessionDirs: [SESSIONS],
    recover: geminiRecover,
    // The bundle on the Node it will run on: the image's when new enough, else the cached one.
    versionCommand: async ({ sandbox, installed, identity }) => {
      const gemini = installed[GEMINI_CLI]!;
      const node = nodeRuntime((await probeSandbox(sandbox, identity.user)).node, installed.node, identity.path);
      return [...(/\.m?js$/.test(gemini.binary) ? [node.binary] : []), gemini.binary, '--version'];
    },
  });
}

/**
 * Never a relaunch: a process that exits non-zero without a result the reader understood
 * (bad settings, a crash, a kill) becomes an error of kind agent, with the reason it printed.
 */
export function geminiRecover({ exec, state }: { readonly exec: ExecResult; readonly state: ReaderState }): undefined {
  if (exec.exitCode !== 0 && !exec.timedOut && !state.error && !state.refused) state.error = exitReason(exec.exitCode, exec.stderr);
  return undefined;
}

/** Gemini CLI's own names for its auto-router and model families: a pinned name must not be one. */
const GEMINI_ALIASES = new Set(['auto', 'pro', 'flash', 'flash-lite', 'auto-gemini-2.5', 'auto-gemini-3']);

/**
 * The model name Gemini CLI sends (`-m`): the part after the bridge's provider, which routes
 * any name to the sample's model. It becomes a URL path segment, so a name that is a path
 * (`mock//abs/script.yaml`) is reduced to its file's stem.
 */
export function geminiModelName(model: string): string {
  const id = modelId(model);
  let name = /^[\w.-]+$/.test(id) ? id : (posix.basename(id).replace(/\.ya?ml$/, '').replace(/[^\w.-]+/g, '-') || 'model');
  if (GEMINI_ALIASES.has(name)) name = `cagebench-${name}`;
  return name;
}

/** `<GEMINI_CLI_HOME>/.gemini/settings.json`. */
export function geminiSettings(options: GeminiOptions = {}, timeoutMs?: number): Record<string, unknown> {
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    // Its shell kills a command silent for 5 minutes (a quiet build): let it run for the
    // agent's own time instead, which the harness enforces anyway.
    ...(timeoutMs ? { tools: { shell: { inactivityTimeout: Math.ceil(timeoutMs / 1000) } } } : {}),
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    ...(options.mcp_servers ? { mcpServers: geminiMcpServers(options.mcp_servers) } : {}),
  };
}

/**
 * Gemini CLI's `mcpServers`: stdio servers as they are, HTTP ones as streamable HTTP (`httpUrl`).
 * The host tools' server is trusted: its tools are allowed by a policy rule of their own, not
 * only by YOLO mode.
 */
export function geminiMcpServers(servers: Readonly<Record<string, McpServer>>): Record<string, unknown> {
  return Object.fromEntries(
    // Gemini CLI: `httpUrl` for streamable HTTP, `url` for SSE.
    Object.entries(servers).map(([name, s]) => [
      name,
      { ...('url' in s ? { [s.transport === 'sse' ? 'url' : 'httpUrl']: s.url, ...(s.headers ? { headers: s.headers } : {}) } : { ...s }), ...(name === HOST_TOOLS_SERVER ? { trust: true } : {}) },
    ]),
  );
}

/** A user-tier policy (above YOLO's allow-all) denying each tool: denied tools are not offered to the model. */
export function geminiPolicy(disallowed: readonly string[]): string {
  return disallowed.map((tool) => `[[rule]]\ntoolName = ${JSON.stringify(tool)}\ndecision = "deny"\npriority = 900\n`).join('\n');
}

/** Longest prompt given as an argument (the kernel's limit per argument is 128 KiB). */
export const MAX_PROMPT_ARG_BYTES = 96 * 1024;

/** How to run the bundle: a Node program and the PATH to give it (absent: the sandbox's own). */
export interface NodeRuntime {
  readonly binary: string;
  readonly path?: string;
}

/** Gemini CLI's terminal UI, for a person: the same model, settings and `--yolo`, without `-p` and `--output-format`. */
export function geminiInteractive(ctx: AttemptContext, options: GeminiOptions, facts: SandboxFacts = { gitConfig: [] }): InteractiveLaunch {
  const { argv, stdin: _stdin, ...rest } = geminiLaunch(ctx, { prompt: '' }, options, facts);
  const headless = new Set([argv.indexOf('-p'), argv.indexOf('-p') + 1, argv.indexOf('--output-format'), argv.indexOf('--output-format') + 1]);
  return { alias: 'gemini', argv: argv.filter((_, i) => !headless.has(i)), ...rest };
}

export function geminiLaunch(ctx: AttemptContext, turn: Turn, options: GeminiOptions, facts: SandboxFacts = { gitConfig: [] }): Launch {
  const gemini = ctx.installed?.[GEMINI_CLI];
  const cachedNode = ctx.installed?.node;
  const model = ctx.model;
  if (!gemini || !model) throw new Error('gemini_cli needs a model and its build in the sandbox');
  const node = nodeRuntime(facts.node, cachedNode, ctx.identity.path);
  // The prompt is an argument and stdin is closed: Gemini CLI waits up to 500 ms for piped
  // input and drops it when it comes later. Only a prompt too long for one argument (Linux
  // caps each at 128 KiB) goes on stdin, where it reads up to 8 MiB.
  const viaStdin = Buffer.byteLength(turn.prompt) > MAX_PROMPT_ARG_BYTES;
  // The cached build is the bundle, run by that Node; a `gemini` found on the image's PATH
  // (`--agent-version auto|sandbox`) is a program of its own, whose `env node` finds the same
  // Node on PATH.
  const program = /\.m?js$/.test(gemini.binary) ? [node.binary, gemini.binary] : [gemini.binary];
  const argv = [
    ...program,
    '-p', viaStdin ? '' : turn.prompt,
    '--output-format', 'stream-json',
    '--yolo',
    '--skip-trust',
    '-m', geminiModelName(model.model),
    ...(options.debug ? ['--debug'] : []),
    ...(turn.resume ? ['--resume', turn.resume] : []),
  ];
  const env: Record<string, string> = {
    ...(node.path ? { PATH: node.path } : {}),
    GEMINI_CLI_HOME: GEMINI_HOME,
    GEMINI_API_KEY: model.token,
    GOOGLE_GEMINI_BASE_URL: model.baseUrls.gemini,
    // One process: the default relaunch under a parent that ignores SIGTERM adds a Node
    // start-up and keeps a timeout's signal from reaching the CLI.
    GEMINI_CLI_NO_RELAUNCH: 'true',
    ...gitConfigEnv(facts.gitConfig),
  };
  const files: { path: string; content: string }[] = [{ path: posix.join(DOT_GEMINI, 'settings.json'), content: `${JSON.stringify(geminiSettings(options, ctx.timeoutMs), null, 2)}\n` }];
  if (options.disallowed_tools?.length) files.push({ path: posix.join(DOT_GEMINI, 'policies', 'cagebench.toml'), content: geminiPolicy(options.disallowed_tools) });
  if (options.system_prompt) files.push({ path: posix.join(DOT_GEMINI, 'GEMINI.md'), content: `${options.system_prompt}\n` });
  return {
    argv,
    env,
    ...(viaStdin ? { stdin: turn.prompt } : {}),
    files,
    dirs: [DOT_GEMINI],
    skills: posix.join(DOT_GEMINI, 'skills'),
  };
}

/** The image's Node (found by the probe) when it is new enough, else the cached build with its directory after the image's on PATH. */
function nodeRuntime(imageNode: string | undefined, cached: AgentInSandbox | undefined, imagePath: string): NodeRuntime {
  if (imageNode) return { binary: imageNode };
  if (!cached) throw new Error('gemini_cli needs Node >= 20: the image has none and the node build is not in the sandbox');
  return { binary: cached.binary, path: pathWith(cached, imagePath) };
}

/** Oldest Node the bundle runs on (its `engines.node`). */
const MIN_NODE_MAJOR = 20;

/** What the launch needs to know about a sandbox: asked once per sandbox (and user). */
export interface SandboxFacts {
  /** The image's `node` when it is new enough to run the bundle. */
  readonly node?: string;
  /** The image's system and global git config, as `[key, value]` pairs. */
  readonly gitConfig: readonly (readonly [string, string])[];
}

const probes = new WeakMap<Sandbox, Map<string, Promise<SandboxFacts>>>();

/** The image's Node (when >= 20) and git config, probed once per sandbox and user. */
export function probeSandbox(sandbox: Sandbox, user?: string): Promise<SandboxFacts> {
  const byUser = probes.get(sandbox) ?? new Map<string, Promise<SandboxFacts>>();
  probes.set(sandbox, byUser);
  let probe = byUser.get(user ?? '');
  if (!probe) {
    const exec = (script: string): Promise<string> =>
      sandbox.exec(['sh', '-c', script], user ? { user } : {}).then((r) => (r.exitCode === 0 ? r.stdout : ''), () => '');
    probe = Promise.all([
      exec('p=$(command -v node) && printf "%s\\n" "$p" && "$p" --version'),
      exec('command -v git >/dev/null || exit 0; git config --system --includes --list -z 2>/dev/null; git config --global --includes --list -z 2>/dev/null; exit 0'),
    ]).then(([nodeProbe, git]) => {
      const node = newEnoughNode(nodeProbe);
      return { ...(node ? { node } : {}), gitConfig: parseGitConfigList(git) };
    });
    byUser.set(user ?? '', probe);
  }
  return probe;
}

/** `git config --list -z` output: NUL-terminated entries, each `key\nvalue` (a bare key is a true boolean). */
export function parseGitConfigList(output: string): [string, string][] {
  return output
    .split('\0')
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const i = entry.indexOf('\n');
      return i < 0 ? [entry, 'true'] : [entry.slice(0, i), entry.slice(i + 1)];
    });
}

/**
 * Gemini CLI runs every shell command with git's system and global config switched off
 * (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null), so a task image's `git config --system
 * user.name ...` or `safe.directory` would vanish for the agent. It keeps GIT_CONFIG_COUNT /
 * KEY_n / VALUE_n from its own environment (appending its safety overrides after them), so
 * the image's settings are handed back that way.
 */
export function gitConfigEnv(entries: readonly (readonly [string, string])[]): Record<string, string> {
  if (!entries.length) return {};
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** `"/usr/bin/node\nv22.1.0\n"` → `/usr/bin/node` when the major version is at least 20. */
export function newEnoughNode(probeOutput: string): string | undefined {
  const [path, version] = probeOutput.trim().split('\n').map((l) => l.trim());
  const major = /^v(\d+)\./.exec(version ?? '')?.[1];
  return path?.startsWith('/') && major && Number(major) >= MIN_NODE_MAJOR ? path : undefined;
}

/** What Gemini CLI printed when it stopped before reporting a result. */
export function exitReason(exitCode: number, stderr: string): string {
  const noise = /^(Warning: 256-color|YOLO mode is enabled|Ripgrep is not available|Loaded cached credentials)/;
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !noise.test(l));
  const known: Record<number, string> = { 41: 'authentication', 42: 'input', 44: 'sandbox', 52: 'configuration', 53: 'turn limit', 54: 'tool execution', 130: 'cancelled' };
  const kind = known[exitCode] ? ` (${known[exitCode]} error)` : '';
  return `Gemini CLI exited ${exitCode}${kind} without a result${lines.length ? `: ${lines.slice(-5).join(' | ')}` : ' and printed nothing on stderr'}`;
}

/** How Gemini CLI words a response the model's safety filters blocked (a refusal, not a failure). */
const BLOCKED = /^The model response was blocked due to /;

/**
 * Gemini CLI's stream-json lines as events. Assistant text arrives as deltas, joined into one
 * `agent.message` when the message ends (at the next tool call, error or result).
 */
export class GeminiReader implements OutputReader {
  readonly state: ReaderState;
  private text = '';
  private lastError: string | undefined;

  constructor(resume?: string) {
    this.state = resume ? { sessionId: resume } : {};
  }

  line(msg: Record<string, unknown>): AgentEvent[] {
    const state = this.state;
    const events: AgentEvent[] = [];
    if (msg.type === 'message' && msg.role === 'assistant') {
      if (typeof msg.content === 'string') this.text += msg.content;
      return events;
    }
    this.flush(events);
    switch (msg.type) {
      case 'init':
        if (typeof msg.session_id === 'string') state.sessionId = msg.session_id;
        events.push({ type: 'agent.init', sessionId: msg.session_id, model: msg.model });
        break;
      case 'message':
        // The prompt, echoed back.
        break;
      case 'tool_use':
        events.push({ type: 'agent.tool_call', id: msg.tool_id, name: msg.tool_name, input: msg.parameters });
        break;
      case 'tool_result':
        events.push({ type: 'agent.tool_result', id: msg.tool_id, isError: msg.status === 'error', output: msg.output ?? '', ...pick(msg, ['error']) });
        break;
      case 'error': {
        const message = typeof msg.message === 'string' ? msg.message : JSON.stringify(msg.message);
        if (msg.severity === 'error') {
          this.lastError = message;
          if (BLOCKED.test(message)) state.refused = true;
        }
        events.push({ type: 'agent.error', severity: msg.severity, message });
        break;
      }
      case 'result': {
        if (typeof msg.status === 'string') state.stopReason = msg.status;
        const stats = msg.stats as { input_tokens?: number; output_tokens?: number; cached?: number } | undefined;
        if (stats) state.usage = { inputTokens: stats.input_tokens ?? 0, outputTokens: stats.output_tokens ?? 0, cachedInputTokens: stats.cached ?? 0 };
        // A model failure Gemini CLI gave up on: the agent could not work (outcome error, kind
        // agent). A response the model's filters blocked is a refusal, scored as it stands.
        if (msg.status === 'error' && !state.refused) {
          const error = msg.error as { type?: unknown; message?: unknown } | undefined;
          state.error = apiErrorText(typeof error?.message === 'string' ? error.message : (this.lastError ?? 'Gemini CLI reported an error result'));
        }
        events.push({ type: 'agent.result', ...pick(msg, ['status', 'error', 'stats']), sessionId: state.sessionId, finalMessage: state.finalMessage });
        break;
      }
      default:
        events.push({ type: 'agent.stream', kind: msg.type });
    }
    return events;
  }

  /** The assistant message the deltas so far make up, as one event. */
  private flush(events: AgentEvent[]): void {
    if (!this.text) return;
    this.state.finalMessage = this.text;
    events.push({ type: 'agent.message', text: this.text });
    this.text = '';
  }
}

/** `[API Error: {"error":{"code":400,"message":"..."}}]` → `API status 400: ...`; other text as it is. */
export function apiErrorText(message: string): string {
  const inner = /^\[API Error: ([\s\S]*)\]$/.exec(message.trim())?.[1];
  if (inner === undefined) return message;
  try {
    const body = JSON.parse(inner) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body.error?.code === 'number' ? `API status ${body.error.code}: ` : '';
    if (typeof body.error?.message === 'string') return `${code}${body.error.message}`;
  } catch {
    // Not JSON: the text Gemini CLI gave.
  }
  return `API error: ${inner}`;
}
