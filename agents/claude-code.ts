// `claude_code`: the real Claude Code binary, headless (`-p --output-format stream-json
// --verbose`), permissions bypassed (IS_SANDBOX=1 lets root do that), its model calls going to
// the run's bridge through the sample's token. A later attempt resumes the same session
// (`--resume <id>`); a crash (exit 1, nothing on stderr, no refusal) is resumed up to
// `retry_uncaught_errors` times. Model roles (opus, sonnet, haiku, subagents) get names of
// their own that the bridge routes to the models the user gave.
import { posix } from 'node:path';
import { z } from 'zod';
import { HOST_TOOLS_SERVER, type AgentAdapter, type AgentEvent, type AttemptContext } from './agent.ts';
import { agentCwd, defineHeadlessAgent, pick, type InteractiveLaunch, type Launch, type OutputReader, type ReaderState, type Turn } from './headless.ts';
import { pathWith } from './install.ts';
import { commonOptionsShape, parseAgentOptions, type McpServer } from './options.ts';

export const CLAUDE_CODE = 'claude_code';
/**
 * CLAUDE_CONFIG_DIR in the sandbox: what Claude Code would keep in ~/.claude and ~/.claude.json
 * (settings, skills, session transcripts, debug logs). HOME stays the task user's own, so the
 * image's dotfiles (.gitconfig, tool configs) are there for the agent's commands.
 */
export const CLAUDE_CONFIG = '/var/tmp/cagebench/claude_code/config';

const ROLES = { opus_model: 'ANTHROPIC_DEFAULT_OPUS_MODEL', sonnet_model: 'ANTHROPIC_DEFAULT_SONNET_MODEL', haiku_model: 'ANTHROPIC_DEFAULT_HAIKU_MODEL', subagent_model: 'CLAUDE_CODE_SUBAGENT_MODEL' } as const;
const providerModel = z.string().regex(/^[^/\s]+\/\S+$/, 'must be provider/model');

export const claudeOptionsSchema = z.strictObject({
  ...commonOptionsShape,
  /** `provider/model` for each of Claude Code's model roles (default: the run's model). */
  opus_model: providerModel.optional(),
  sonnet_model: providerModel.optional(),
  haiku_model: providerModel.optional(),
  subagent_model: providerModel.optional(),
  /** Resume the session after a crash (exit 1, empty stderr, not a refusal) up to this many times. */
  retry_uncaught_errors: z.number().int().min(0).default(3),
});
export type ClaudeOptions = z.infer<typeof claudeOptionsSchema>;

/** The name Claude Code sends for a role; the bridge routes it to the role's model. */
const roleModelName = (role: keyof typeof ROLES): string => `cagebench-${role.replace('_model', '')}`;

export function createClaudeCodeAgent(raw?: unknown): AgentAdapter {
  const options = parseAgentOptions(CLAUDE_CODE, claudeOptionsSchema, raw);
  const aliases: Record<string, string> = {};
  for (const role of Object.keys(ROLES) as (keyof typeof ROLES)[]) {
    const model = options[role];
    if (model) aliases[roleModelName(role)] = model;
  }
  return defineHeadlessAgent({
    name: CLAUDE_CODE,
    builds: [CLAUDE_CODE],
    transcript: 'claude',
    options,
    launch: (ctx, turn, effective) => claudeLaunch(ctx, turn, effective),
    reader: () => new ClaudeReader(),
    interactive: (ctx, effective) => claudeInteractive(ctx, effective),
    // Its transcripts, and with `debug` its debug log (--debug writes there, not to stderr).
    sessionDirs: [posix.join(CLAUDE_CONFIG, 'projects'), ...(options.debug ? [posix.join(CLAUDE_CONFIG, 'debug')] : [])],
    recover: ({ exec, state }, recoveries) =>
      exec.exitCode === 1 && !exec.stderr.trim() && !state.refused && !state.error && state.sessionId && recoveries < options.retry_uncaught_errors
        ? { prompt: 'Your previous run stopped unexpectedly. Continue the task from where you left off.', resume: state.sessionId }
        : undefined,
    ...(Object.keys(aliases).length ? { modelAliases: aliases } : {}),
  });
}

/**
 * Claude Code's `--mcp-config` document. The host tools' server is `alwaysLoad`: Claude Code
 * otherwise defers MCP tools behind its ToolSearch tool, so they are not among the tools of
 * its requests until the model asks for them by name.
 */
export function claudeMcpConfig(servers: Readonly<Record<string, McpServer>>): string {
  const mcpServers = Object.fromEntries(
    Object.entries(servers).map(([name, s]) => [
      name,
      {
        ...('url' in s ? { type: s.transport ?? 'http', url: s.url, ...(s.headers ? { headers: s.headers } : {}) } : { type: 'stdio', ...s }),
        ...(name === HOST_TOOLS_SERVER ? { alwaysLoad: true } : {}),
      },
    ]),
  );
  return JSON.stringify({ mcpServers });
}

export function claudeLaunch(ctx: AttemptContext, turn: Turn, options: ClaudeOptions): Launch {
  const { argv, env } = claudeCommand(ctx, options, ['-p', '--output-format', 'stream-json', '--verbose'], turn.resume);
  return {
    argv,
    env,
    stdin: turn.prompt,
    dirs: [CLAUDE_CONFIG],
    skills: posix.join(CLAUDE_CONFIG, 'skills'),
  };
}

/**
 * Claude Code's terminal UI, for a person: the headless flags gone, its first-run screens
 * (onboarding, the bypass-permissions warning, "use this API key?", trusting the folder)
 * answered in its config so the person lands at the prompt.
 */
export function claudeInteractive(ctx: AttemptContext, options: ClaudeOptions): InteractiveLaunch {
  const { argv, env } = claudeCommand(ctx, options, []);
  const cwd = agentCwd(ctx, options);
  const state = {
    hasCompletedOnboarding: true,
    bypassPermissionsModeAccepted: true,
    // It remembers a key by its last 20 characters (the bridge token here).
    customApiKeyResponses: { approved: [ctx.model!.token.trim().slice(-20)], rejected: [] },
    ...(cwd ? { projects: { [cwd]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } } } : {}),
  };
  return {
    alias: 'claude',
    argv,
    env,
    dirs: [CLAUDE_CONFIG],
    files: [{ path: posix.join(CLAUDE_CONFIG, '.claude.json'), content: `${JSON.stringify(state, null, 2)}\n` }],
    skills: posix.join(CLAUDE_CONFIG, 'skills'),
  };
}

/** The command both ways share: binary, permission and config flags, and the environment. */
function claudeCommand(ctx: AttemptContext, options: ClaudeOptions, headless: readonly string[], resume?: string): { argv: string[]; env: Record<string, string> } {
  const installed = ctx.installed?.[CLAUDE_CODE];
  const model = ctx.model;
  if (!installed || !model) throw new Error('claude_code needs a model and its build in the sandbox');
  const argv = [
    installed.binary,
    ...headless,
    '--dangerously-skip-permissions',
    // Only the servers given here: never a project's .mcp.json or the user's config.
    '--strict-mcp-config',
    ...(options.mcp_servers ? ['--mcp-config', claudeMcpConfig(options.mcp_servers)] : []),
    // The system prompt is rebuilt by every process, so it is appended on resumed turns too.
    ...(options.system_prompt ? ['--append-system-prompt', options.system_prompt] : []),
    ...(options.disallowed_tools?.length ? ['--disallowedTools', options.disallowed_tools.join(',')] : []),
    ...(options.debug ? ['--debug'] : []),
    ...(resume ? ['--resume', resume] : []),
  ];
  const env: Record<string, string> = {
    CLAUDE_CONFIG_DIR: CLAUDE_CONFIG,
    PATH: pathWith(installed, ctx.identity.path),
    ANTHROPIC_BASE_URL: model.baseUrls.anthropic,
    ANTHROPIC_API_KEY: model.token,
    // --dangerously-skip-permissions is refused as root unless the CLI knows it is sandboxed.
    IS_SANDBOX: '1',
    // Only /v1/messages: no telemetry, error reports, feature flags or update checks.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // Its Bash tool caps a command at 10 minutes whatever the model asks: raise the cap (not
    // the 2-minute default) to the agent's own time, so a long build can finish.
    ...(ctx.timeoutMs > 600_000 ? { BASH_MAX_TIMEOUT_MS: String(ctx.timeoutMs) } : {}),
  };
  for (const role of Object.keys(ROLES) as (keyof typeof ROLES)[]) {
    if (options[role]) env[ROLES[role]] = roleModelName(role);
  }
  if (options.mcp_servers) {
    // Wait for MCP servers before the first model call, so the tools are there from the start.
    env.MCP_CONNECTION_NONBLOCKING = 'false';
    env.MCP_TIMEOUT = '120000';
  }
  return { argv, env };
}

interface ContentBlock {
  readonly type: string;
  readonly text?: string;
  readonly id?: string;
  readonly name?: string;
  readonly input?: unknown;
  readonly tool_use_id?: string;
  readonly content?: unknown;
  readonly is_error?: boolean;
}

/** Claude Code's stream-json lines as the sample's events. */
export class ClaudeReader implements OutputReader {
  readonly state: ReaderState = {};

  line(msg: Record<string, unknown>): AgentEvent[] {
    const state = this.state;
    if (typeof msg.session_id === 'string') state.sessionId = msg.session_id;
    const message = (msg.message ?? {}) as { content?: unknown; stop_reason?: unknown };
    const content = (Array.isArray(message.content) ? message.content : []) as ContentBlock[];
    const events: AgentEvent[] = [];
    switch (msg.type) {
      case 'system':
        if (msg.subtype === 'init') {
          events.push({ type: 'agent.init', sessionId: msg.session_id, model: msg.model, cwd: msg.cwd, version: msg.claude_code_version, tools: msg.tools, mcpServers: msg.mcp_servers });
        } else {
          events.push({ type: 'agent.system', subtype: msg.subtype, ...pick(msg, ['attempt', 'max_retries', 'error_status', 'error']) });
        }
        break;
      case 'assistant':
        if (typeof message.stop_reason === 'string') state.refused = message.stop_reason === 'refusal';
        for (const block of content) {
          if (block.type === 'text' && block.text) {
            state.finalMessage = block.text;
            events.push({ type: 'agent.message', text: block.text });
          } else if (block.type === 'tool_use') {
            events.push({ type: 'agent.tool_call', id: block.id, name: block.name, input: block.input });
          } else if (block.type === 'thinking') {
            events.push({ type: 'agent.thinking' });
          }
        }
        break;
      case 'user':
        for (const block of content) {
          if (block.type === 'tool_result') {
            events.push({ type: 'agent.tool_result', id: block.tool_use_id, isError: block.is_error ?? false, output: toolText(block.content) });
          }
        }
        break;
      case 'result': {
        if (typeof msg.result === 'string') state.finalMessage = msg.result;
        const stop = typeof msg.stop_reason === 'string' ? msg.stop_reason : typeof msg.subtype === 'string' ? msg.subtype : undefined;
        if (stop) state.stopReason = stop;
        if (stop === 'refusal') state.refused = true;
        const usage = msg.usage as Record<string, number> | undefined;
        if (usage) {
          state.usage = {
            inputTokens: (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0),
            outputTokens: usage.output_tokens ?? 0,
            cachedInputTokens: usage.cache_read_input_tokens ?? 0,
          };
        }
        // An API failure Claude Code gave up on: the agent could not work (outcome error,
        // kind agent), which is not the same as working and being wrong.
        if (msg.is_error === true && !state.refused) {
          const status = typeof msg.api_error_status === 'number' ? `API status ${msg.api_error_status}: ` : '';
          state.error = `${status}${String(msg.result ?? msg.subtype ?? 'no message')}`;
        }
        events.push({
          type: 'agent.result',
          ...pick(msg, ['subtype', 'is_error', 'session_id', 'num_turns', 'duration_ms', 'duration_api_ms', 'stop_reason', 'usage', 'total_cost_usd']),
          finalMessage: msg.result,
        });
        break;
      }
      default:
        events.push({ type: 'agent.stream', kind: msg.type });
    }
    return events;
  }
}

function toolText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c: { text?: string }) => c.text ?? '').join('');
  return content === undefined ? '' : JSON.stringify(content);
}
