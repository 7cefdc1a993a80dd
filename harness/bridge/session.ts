// A bridge session is one sample's view of the bridge: the token it authenticates with,
// where its model calls go, what may be changed on the way, what it may spend, and where
// each call is recorded. Real provider keys never reach a sandbox: only this token does.
import { randomBytes } from 'node:crypto';
import type { ModelRequest, ModelResponse, Usage } from '../models/canonical.ts';
import { ZERO_USAGE } from '../models/canonical.ts';
import type { HostTool } from '../tools/define.ts';

/** What a filter may return: a changed request, a ready response (no model call), or nothing. */
export type FilterResult = ModelRequest | { readonly response: ModelResponse } | undefined | void;

export interface FilterContext {
  readonly sampleId: string;
  /** 0 for the first try; a retry or refusal retry runs the filter again on the original request. */
  readonly attempt: number;
}

export type RequestFilter = (request: ModelRequest, ctx: FilterContext) => FilterResult | Promise<FilterResult>;

export interface SessionLimits {
  readonly tokens?: number;
  readonly costUsd?: number;
  readonly requests?: number;
  /** Host tool calls (MCP `tools/call`) before further calls are refused. */
  readonly toolCalls?: number;
}

export interface SessionOptions {
  readonly sampleId: string;
  /** The sample's task, for a host tool's context. */
  readonly taskId?: string;
  /** `provider/model`: where every call goes unless an alias says otherwise. */
  readonly model: string;
  /** Model names the agent asks for → `provider/model`. */
  readonly aliases?: Readonly<Record<string, string>>;
  readonly filter?: RequestFilter;
  readonly limits?: SessionLimits;
  /** Host tools the sample's agent may call over MCP at `/mcp` (harness/bridge/mcp.ts). */
  readonly tools?: readonly HostTool[];
  /** The task's reference solution as a shell script, for the scripted model's `solve` step. */
  readonly solution?: string;
  /** One record per model call (and per retry), in order. */
  readonly onEvent?: (event: { readonly type: string; readonly [k: string]: unknown }) => void;
}

export interface SessionTotals {
  readonly requests: number;
  readonly usage: Usage;
  readonly costUsd: number;
  /** Set once a limit was exceeded: the sample ends as an error of kind `limit`. */
  readonly limitExceeded?: string;
  /** Host tool calls, counted once the sample has tools. */
  readonly toolCalls?: ToolCallTotals;
}

/** A sample's host tool calls: result.json's `toolCalls`. */
export interface ToolCallTotals {
  /** Calls that reached a tool (including ones with bad arguments), refused ones aside. */
  readonly count: number;
  /** Of those, the ones that ended in a tool error (it threw, or its arguments were wrong). */
  readonly errors: number;
  readonly byTool: Readonly<Record<string, number>>;
  /** Calls refused over the tool-call limit. */
  readonly refused?: number;
}

export class BridgeSession {
  readonly token = `cb-${randomBytes(24).toString('base64url')}`;
  private totalsValue: SessionTotals = { requests: 0, usage: ZERO_USAGE, costUsd: 0 };
  private seenRequest = false;
  /** Warnings about how the agent used the bridge (its first request declaring no tools). */
  readonly warnings: { code: 'no_tools'; message: string }[] = [];

  constructor(readonly options: SessionOptions) {
    if (options.tools?.length) this.totalsValue = { ...this.totalsValue, toolCalls: { count: 0, errors: 0, byTool: {} } };
  }

  /**
   * Look at a request as it arrives. An agent whose first request declares no tools has
   * started without them (a broken config, an MCP server that failed): it can only talk.
   */
  observe(request: { readonly tools: readonly unknown[]; readonly model: string }): void {
    if (this.seenRequest) return;
    this.seenRequest = true;
    if (request.tools.length > 0) return;
    const message = `the agent's first model request (model ${request.model}) declared no tools: it started without any, so it cannot act on the task`;
    this.warnings.push({ code: 'no_tools', message });
    this.options.onEvent?.({ type: 'sample.warning', code: 'no_tools', message });
  }

  get totals(): SessionTotals {
    return this.totalsValue;
  }

  /** Why the next call may not go ahead, or undefined. */
  limitReached(): string | undefined {
    const { limits } = this.options;
    const t = this.totalsValue;
    if (!limits) return undefined;
    if (limits.requests !== undefined && t.requests >= limits.requests) return `request limit of ${limits.requests} reached`;
    const tokens = t.usage.inputTokens + t.usage.outputTokens;
    if (limits.tokens !== undefined && tokens >= limits.tokens) return `token limit of ${limits.tokens} reached (${tokens} used)`;
    if (limits.costUsd !== undefined && t.costUsd >= limits.costUsd) return `cost limit of $${limits.costUsd} reached ($${t.costUsd.toFixed(4)} spent)`;
    return undefined;
  }

  /**
   * A host tool call arrives: counted at once (so calls made in parallel cannot pass the limit
   * together), or refused over the tool-call limit. Returns why it was refused, or undefined.
   */
  beginToolCall(tool: string): string | undefined {
    const t = this.totalsValue.toolCalls ?? { count: 0, errors: 0, byTool: {} };
    const limit = this.options.limits?.toolCalls;
    if (limit !== undefined && t.count >= limit) {
      this.totalsValue = { ...this.totalsValue, toolCalls: { ...t, refused: (t.refused ?? 0) + 1 } };
      return `tool-call limit of ${limit} reached`;
    }
    this.totalsValue = { ...this.totalsValue, toolCalls: { ...t, count: t.count + 1, byTool: { ...t.byTool, [tool]: (t.byTool[tool] ?? 0) + 1 } } };
    return undefined;
  }

  /** A counted host tool call ended in a tool error. */
  toolCallFailed(): void {
    const t = this.totalsValue.toolCalls;
    if (t) this.totalsValue = { ...this.totalsValue, toolCalls: { ...t, errors: t.errors + 1 } };
  }

  markLimit(reason: string): void {
    this.totalsValue = { ...this.totalsValue, limitExceeded: this.totalsValue.limitExceeded ?? reason };
  }

  count(usage: Usage, costUsd: number): void {
    const u = this.totalsValue.usage;
    this.totalsValue = {
      ...this.totalsValue,
      requests: this.totalsValue.requests + 1,
      usage: {
        inputTokens: u.inputTokens + usage.inputTokens,
        outputTokens: u.outputTokens + usage.outputTokens,
        cacheReadTokens: u.cacheReadTokens + usage.cacheReadTokens,
        cacheWriteTokens: u.cacheWriteTokens + usage.cacheWriteTokens,
        reasoningTokens: u.reasoningTokens + usage.reasoningTokens,
      },
      costUsd: this.totalsValue.costUsd + costUsd,
    };
  }
}
