// The Anthropic Messages API (`POST /v1/messages`), both ways: the bridge serves it to agents
// (Claude Code, OpenCode's anthropic provider) and speaks it to Anthropic upstream.
//
// Decisions the wire does not make for us:
// - Tool arguments are JSON text in the canonical model and an object (`input`) here. Text that
//   is not a JSON object (a model's broken output) travels as `{"_raw": "<text>"}` and comes back
//   as the same text, so nothing is lost and the agent's tool validation reports the raw text to
//   the model. Empty text is `{}`. Streams pass argument text through untouched.
// - Usage: Anthropic's `input_tokens` excludes cache reads and writes; canonical `inputTokens`
//   is every input token (input_tokens + cache reads + cache writes), so the counts mean the
//   same across APIs. `outputTokens` includes thinking; `reasoningTokens` is
//   `output_tokens_details.thinking_tokens`. Counters are folded in Anthropic's terms while a
//   stream runs and turned canonical once, by `canonicalUsage`.
// - System blocks are joined with a blank line; `cache_control` is dropped silently everywhere.
// - Server tools (any tool whose `type` is not "custom"), content blocks the canonical model has
//   no room for (documents, server tool results, ...) and request fields that change behaviour
//   (`context_management`, `top_k`, ...) are dropped and listed in `ModelRequest.dropped`.
// - Upstream, a reasoning part is sent only if Anthropic can verify it: a thinking block needs a
//   signature, a redacted one its data. Temperature and top_p are not sent with thinking, which
//   Anthropic refuses.
//
// This file holds what both sides share: the wire shapes, tool arguments and error types.
// anthropic-inbound.ts serves the API to agents; anthropic-outbound.ts speaks it upstream.
import { isRecord, type Json } from './fields.ts';

// ---------------------------------------------------------------------------------------------
// Wire shapes (the subset the bridge reads and writes)

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content?: AnthropicBlock[]; is_error?: boolean }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  output_tokens_details?: { thinking_tokens: number };
}

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** A Messages API response. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** A Messages API request, as `buildRequest` writes it. */
export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: { role: 'user' | 'assistant'; content: AnthropicBlock[] }[];
  system?: string;
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  tool_choice?: { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string };
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  thinking?: { type: 'enabled'; budget_tokens: number };
  stream: boolean;
}

// ---------------------------------------------------------------------------------------------
// Tool arguments: JSON text <-> input object

const RAW = '_raw';

/** Canonical argument text as an Anthropic `input` object (see the header for `_raw`). */
export function argumentsToInput(args: string): Json {
  if (args.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(args);
    if (isRecord(value)) return value;
  } catch {
    // not JSON: kept raw below
  }
  return { [RAW]: args };
}

/** An Anthropic `input` as canonical argument text; `{"_raw": text}` gives the text back. */
export function inputToArguments(input: unknown): string {
  if (input === undefined || input === null) return '{}';
  if (isRecord(input)) {
    const keys = Object.keys(input);
    if (keys.length === 1 && keys[0] === RAW && typeof input[RAW] === 'string') return input[RAW];
  }
  return JSON.stringify(input);
}

// ---------------------------------------------------------------------------------------------
// Error types: one per HTTP status

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const ERROR_STATUSES: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(ERROR_TYPES).map(([status, type]) => [type, Number(status)]));

/** The error `type` Anthropic gives an HTTP status. */
export function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** The HTTP status Anthropic uses for an error `type`; 500 for a type it does not document. */
export function errorStatus(type: unknown): number {
  return (typeof type === 'string' && ERROR_STATUSES[type]) || 500;
}
