// The agent contract. The harness provides a started sandbox with the task's files in
// place; an adapter runs one attempt and, when it can, continues the same session for the
// next attempt after an incorrect one. Model-free agents (oracle, nop) implement run only.
import type { Identity, Sandbox } from '../sandboxes/index.ts';
import type { Task } from '../tasks/index.ts';
import type { AgentInSandbox } from './install.ts';

/** One thing the agent did, for the sample's events.jsonl. */
export interface AgentEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** How an agent that needs a model reaches it: the run's bridge, through this sample's token. */
export interface ModelAccess {
  /** `provider/model` the calls go to (informational: any name the agent sends is routed). */
  readonly model: string;
  /** The sample's token, to give the agent as its API key. */
  readonly token: string;
  /** Base URLs as each SDK expects them, addressed from inside the sandbox. */
  readonly baseUrls: { readonly anthropic: string; readonly openai: string; readonly gemini: string };
  /**
   * The sample's host tools, when it has any: the bridge's MCP endpoint (streamable HTTP,
   * `<bridge>/mcp` with the sample's token), given to the agent as the MCP server `cagebench`.
   */
  readonly hostTools?: { readonly url: string; readonly headers: Readonly<Record<string, string>> };
}

/** The MCP server name the sample's host tools are given to agents under. */
export const HOST_TOOLS_SERVER = 'cagebench';

export interface AttemptContext {
  readonly sandbox: Sandbox;
  readonly task: Task;
  /** 1-based. */
  readonly attempt: number;
  /** The agent phase's timeout, already scaled by the run's multiplier. */
  readonly timeoutMs: number;
  /** Host directory for the agent's transcript and files (the sample's `agent/`). */
  readonly logDir: string;
  readonly emit: (event: AgentEvent) => void;
  /** Present when the agent needs a model (`needsModel`). */
  readonly model?: ModelAccess;
  /** Sandbox paths of the builds the adapter asked for, by build name. */
  readonly installed?: Readonly<Record<string, AgentInSandbox>>;
  /**
   * Who the agent runs as: its `user` option, else the task's agent user, else the image's
   * USER; with that user's HOME and the image's PATH, which the agent inherits untouched.
   */
  readonly identity: Identity;
  /** Aborted to stop the agent mid-turn (a session's cancel): its command is ended like a timeout. */
  readonly signal?: AbortSignal;
}

export interface ContinueContext extends AttemptContext {
  /** What to tell the agent, e.g. that its answer was incorrect. */
  readonly message: string;
  readonly previous: AttemptResult;
}

export interface AttemptResult {
  /** The agent's last message to the user; the `answer` scorer reads it. */
  readonly finalMessage?: string;
  readonly exitCode?: number;
  /** The agent ran out of its time; the attempt is still scored. */
  readonly timedOut: boolean;
  /** How a timed-out agent was ended: `SIGTERM` (it exited within the grace, its session saved) or `SIGKILL`. */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
  readonly sessionId?: string;
  /** Why the agent stopped, in its own words (`end_turn`, `success`, `max_turns`, ...). */
  readonly stopReason?: string;
  /** Tokens the agent itself reported for this attempt (not cumulative across attempts). */
  readonly usage?: AgentUsage;
  /** Adapter-private facts the next attempt needs (e.g. Codex's cumulative usage to subtract). */
  readonly agentState?: Readonly<Record<string, unknown>>;
}

/** Token counts as an agent reports them; the bridge's own accounting is the reference. */
export interface AgentUsage {
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly cachedInputTokens?: number;
  readonly reasoningTokens?: number;
}

export interface AgentAdapter {
  readonly name: string;
  /** Whether the harness must give it a model (a bridge session). */
  readonly needsModel: boolean;
  /**
   * The cached builds it needs in the sandbox (from cache/agents.ts), e.g. `['claude_code']`
   * or `['gemini_cli', 'node']`. The runner fetches them once, mounts them read-only and
   * passes their sandbox paths in `AttemptContext.installed`.
   */
  readonly builds?: readonly string[];
  /** Model names the agent sends for its roles → `provider/model`, added to the bridge's aliases. */
  readonly modelAliases?: Readonly<Record<string, string>>;
  /** The sandbox user it must run as (its `user` option), over the task's and the image's. */
  readonly user?: string;
  /**
   * A quick command that proves the agent starts in this sandbox as this user (its
   * `--version`), run once per image before any sample. Absent: nothing to check.
   */
  versionCommand?(ctx: { readonly sandbox: Sandbox; readonly installed: Readonly<Record<string, AgentInSandbox>>; readonly identity: Identity }): readonly string[] | Promise<readonly string[]>;
  run(ctx: AttemptContext): Promise<AttemptResult>;
  /** Continue the same session after an incorrect attempt. Absent: the agent cannot. */
  continue?(ctx: ContinueContext): Promise<AttemptResult>;
}

export type AgentErrorCode = 'CB_AGENT_UNKNOWN' | 'CB_AGENT_OPTIONS' | 'CB_AGENT_FAILED' | 'CB_AGENT_NO_SOLUTION';

/** The agent could not run (as opposed to running and getting it wrong). */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly kind: 'agent' | 'config' | 'task' | 'infra';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown; kind?: 'agent' | 'config' | 'task' | 'infra' },
  ) {
    super(message, options);
    this.kind = options?.kind ?? 'agent';
  }
}
