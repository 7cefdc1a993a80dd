// How each agent is started as an ACP agent in the sandbox, built on its headless adapter's
// own launch (its environment, config files, directories: how it reaches the bridge), with
// only the program changed: Claude through the claude-agent-acp adapter (Node) driving our
// pinned claude_code, Codex through codex-acp (Node) driving our codex_cli's app server,
// Gemini CLI and OpenCode natively (`gemini --acp`, `opencode acp`).
import type { McpServer as AcpMcpServer, NewSessionRequest } from '@agentclientprotocol/sdk';
import { parse, stringify } from 'smol-toml';
import { isHeadlessAgent, withTaskOptions, type AgentAdapter, type AttemptContext, type HeadlessAgent, type Launch, type McpServer } from '../../agents/index.ts';
import { ConfigError } from '../errors.ts';

/** What the driver starts, and what goes into its session/new. */
export interface AcpLaunch {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Config files and directories to place first (the headless launch's). */
  readonly place: Launch;
  /** session/new's `mcpServers`, for an agent that takes them over ACP rather than from its own config. */
  readonly mcpServers: readonly AcpMcpServer[];
  /** session/new's `_meta`. */
  readonly meta?: NewSessionRequest['_meta'];
  /**
   * The session mode to set once the session is open: one that asks before acting, so every
   * tool call the agent would ask a person about goes through the session's permission gate.
   */
  readonly mode?: string;
}

interface AcpAgentSpec {
  /** The builds in the sandbox: the agent's own first (its version is the session's agentVersion). */
  readonly builds: readonly string[];
  /** What to start; `place` when the headless files need changing. */
  launch(ctx: AttemptContext, headless: Launch, agent: HeadlessAgent): Omit<AcpLaunch, 'place'> & { readonly place?: Launch };
}

const build = (ctx: AttemptContext, name: string): string => {
  const found = ctx.installed?.[name];
  if (!found) throw new ConfigError(`The acp driver needs the ${name} build in the sandbox; the session was opened without it (its environment must mount acpBuilds(agent)).`);
  return found.binary;
};

const ACP_AGENTS: Readonly<Record<string, AcpAgentSpec>> = {
  claude_code: {
    builds: ['claude_code', 'node', 'claude_agent_acp'],
    launch(ctx, headless, agent) {
      const { options } = agent;
      // Agent-SDK options: no predicted next prompt after each turn (a model call of its own).
      const meta: Record<string, unknown> = { claudeCode: { options: { promptSuggestions: false, ...(options.disallowed_tools?.length ? { disallowedTools: [...options.disallowed_tools] } : {}) } } };
      if (options.system_prompt) meta.systemPrompt = { append: options.system_prompt };
      return {
        argv: [build(ctx, 'node'), build(ctx, 'claude_agent_acp')],
        // The headless environment (config dir, bridge URL and token, no side traffic) plus
        // the adapter's own: the Claude Code it drives is our pinned build.
        env: { ...headless.env, CLAUDE_CODE_EXECUTABLE: build(ctx, 'claude_code') },
        // Its headless MCP servers are a flag; over ACP they are the session's (the task's and
        // the sample's host tools too, as its headless launch gets them).
        mcpServers: acpMcpServers(withTaskOptions(options, ctx).mcp_servers ?? {}),
        meta,
        // Its default is `auto`, where a model classifies each tool call (calls of their own)
        // instead of asking: `default` asks, and the gate answers.
        mode: 'default',
      };
    },
  },
  codex_cli: {
    builds: ['codex_cli', 'node', 'codex_acp'],
    launch(ctx, headless) {
      return {
        place: withCodexFlags(headless),
        argv: [build(ctx, 'node'), build(ctx, 'codex_acp')],
        // CODEX_HOME's config.toml (written by the headless launch) makes the bridge the
        // model provider; codex-acp runs our codex_cli's app server with this environment.
        env: { ...headless.env, CODEX_PATH: build(ctx, 'codex_cli'), NO_BROWSER: '1' },
        mcpServers: [],
        // Its default, `agent`, has a model review what it would ask about: `workspace-write`
        // asks the client instead, and the gate answers.
        mode: 'workspace-write',
      };
    },
  },
  gemini_cli: {
    builds: ['gemini_cli', 'node'],
    launch(ctx, headless) {
      // The headless argv starts with the program (the bundle and the Node it runs on, or
      // an image's own gemini), then `-p`: keep the program, speak ACP instead. `-m` pins
      // the model as headless does; no --yolo, so it asks before running commands.
      const at = headless.argv.indexOf('-p');
      const model = headless.argv.indexOf('-m');
      if (at < 1 || model < 0) throw new Error(`gemini_cli's headless launch changed shape: ${headless.argv.slice(0, 4).join(' ')}`);
      return {
        argv: [...headless.argv.slice(0, at), '--acp', '--skip-trust', '-m', headless.argv[model + 1]!],
        env: headless.env,
        mcpServers: [],
      };
    },
  },
  opencode: {
    builds: ['opencode'],
    launch(ctx, headless) {
      // Its headless config allows everything but the denied tools (`run` cannot ask anyone):
      // over ACP what was allowed asks instead, and the gate answers.
      const config = JSON.parse(headless.env.OPENCODE_CONFIG_CONTENT ?? '{}') as { permission?: Record<string, string> };
      const permission = Object.fromEntries(Object.entries(config.permission ?? { '*': 'allow' }).map(([tool, action]) => [tool, action === 'allow' ? 'ask' : action]));
      return { argv: [build(ctx, 'opencode'), 'acp'], env: { ...headless.env, OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...config, permission }) }, mcpServers: [] };
    },
  },
};

/** The agents the acp driver can start. */
export const ACP_AGENT_NAMES = Object.keys(ACP_AGENTS);

/** The builds a session driven over ACP needs in its sandbox, for `agentName`. */
export function acpBuilds(agentName: string): string[] {
  return [...spec(agentName).builds];
}

function spec(agentName: string): AcpAgentSpec {
  const found = Object.hasOwn(ACP_AGENTS, agentName) ? ACP_AGENTS[agentName] : undefined;
  if (!found) throw new ConfigError(`Agent ${agentName} has no ACP adapter; the acp driver runs ${ACP_AGENT_NAMES.join(', ')}. Use driver: 'headless'.`);
  return found;
}

/** The agent's ACP launch for this sandbox, from its headless adapter's launch. */
export async function acpLaunch(agent: AgentAdapter, ctx: AttemptContext): Promise<AcpLaunch> {
  const found = spec(agent.name);
  if (!isHeadlessAgent(agent)) throw new ConfigError(`The acp driver configures ${agent.name} from its own adapter; give the agent by name.`);
  const headless = await agent.launch(ctx, { prompt: '' });
  return { place: headless, ...found.launch(ctx, headless, agent) };
}

/**
 * Codex's headless flags (`--disable <feature>`, `-c key=value`: no plugin sync, no
 * analytics, no endless reconnects, disabled tools, the user's config overrides) written into
 * its config.toml instead, which the app server codex-acp starts reads: it takes no flags.
 */
export function withCodexFlags(headless: Launch): Launch {
  const config = headless.files?.find((f) => f.path.endsWith('/config.toml'));
  if (!config) throw new Error("codex_cli's headless launch writes no config.toml");
  const toml = parse(config.content) as Record<string, unknown>;
  const set = (key: string, value: unknown): void => {
    const path = key.split('.');
    let at = toml;
    for (const part of path.slice(0, -1)) {
      const next = at[part];
      at = (at[part] = next && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
    }
    at[path.at(-1)!] = value;
  };
  const argv = headless.argv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') break;
    if (argv[i] === '--disable') set(`features.${argv[++i]}`, false);
    else if (argv[i] === '-c') {
      const pair = argv[++i]!;
      const at = pair.indexOf('=');
      set(pair.slice(0, at), (parse(`v = ${pair.slice(at + 1)}`) as { v: unknown }).v);
    }
  }
  return { ...headless, files: headless.files!.map((f) => (f === config ? { ...f, content: stringify(toml) } : f)) };
}

/** Our MCP servers as ACP's (stdio: absolute command, env as a list; http with headers as a list). */
export function acpMcpServers(servers: Readonly<Record<string, McpServer>>): AcpMcpServer[] {
  return Object.entries(servers).map(([name, s]): AcpMcpServer => {
    const pairs = (map: Readonly<Record<string, string>> | undefined) => Object.entries(map ?? {}).map(([k, value]) => ({ name: k, value }));
    if ('url' in s) return { type: s.transport ?? 'http', name, url: s.url, headers: pairs(s.headers) };
    return { name, command: s.command, args: [...(s.args ?? [])], env: pairs(s.env) };
  });
}
