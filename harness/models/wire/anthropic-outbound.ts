// The Anthropic Messages API spoken upstream: build requests, parse responses and streams.
// The decisions both sides make are in anthropic-common.ts.
import { ZERO_USAGE, type ContentPart, type Message, type ModelRequest, type ModelResponse, type StopReason, type StreamEvent, type ToolChoice, type Usage } from '../canonical.ts';
import type { OutboundWire, SseEvent } from '../wire.ts';
import { argumentsToInput, errorStatus, inputToArguments, type AnthropicBlock, type AnthropicRequest } from './anthropic-common.ts';
import { describe, isRecord, type Json } from './fields.ts';
import { WireError } from './wire-error.ts';

/** `max_tokens` is required upstream; this is sent when the agent set none. */
export const DEFAULT_MAX_TOKENS = 4096;

// ---------------------------------------------------------------------------------------------
// Stop reasons, usage and errors, as Anthropic sends them

function parseStopReason(reason: unknown): StopReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'tool_use':
    case 'stop_sequence':
    case 'refusal':
      return reason;
    default: // end_turn, pause_turn (a server tool paused; we send none), null
      return 'end_turn';
  }
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Anthropic counts (input excludes the cache) to canonical ones (input includes it). */
function canonicalUsage(raw: Usage): Usage {
  return { ...raw, inputTokens: raw.inputTokens + raw.cacheReadTokens + raw.cacheWriteTokens };
}

/** Folds an Anthropic usage object over `base` (both in Anthropic's terms); absent or null counters keep their value. */
function mergeUsage(base: Usage, raw: unknown): Usage {
  if (!isRecord(raw)) return base;
  const details = isRecord(raw.output_tokens_details) ? raw.output_tokens_details : {};
  return {
    inputTokens: count(raw.input_tokens) ?? base.inputTokens,
    outputTokens: count(raw.output_tokens) ?? base.outputTokens,
    cacheReadTokens: count(raw.cache_read_input_tokens) ?? base.cacheReadTokens,
    cacheWriteTokens: count(raw.cache_creation_input_tokens) ?? base.cacheWriteTokens,
    reasoningTokens: count(details.thinking_tokens) ?? base.reasoningTokens,
  };
}

/** An `{type: "error", error: {type, message}}` body (or stream event data) as a WireError. */
function upstreamError(body: Json, where: string): WireError {
  const error = isRecord(body.error) ? body.error : {};
  const message = typeof error.message === 'string' ? error.message : 'no message';
  const type = typeof error.type === 'string' ? error.type : 'unknown_error';
  return new WireError(`Anthropic ${where}: ${type}: ${message}`, errorStatus(type));
}

// ---------------------------------------------------------------------------------------------
// Build requests

function buildBlock(part: ContentPart): AnthropicBlock[] {
  switch (part.type) {
    case 'text':
      return part.text ? [{ type: 'text', text: part.text }] : []; // Anthropic refuses empty text blocks
    case 'image':
      if (part.data !== undefined) return [{ type: 'image', source: { type: 'base64', media_type: part.mediaType ?? 'image/png', data: part.data } }];
      return part.url !== undefined ? [{ type: 'image', source: { type: 'url', url: part.url } }] : [];
    case 'tool_call':
      return [{ type: 'tool_use', id: part.id, name: part.name, input: argumentsToInput(part.arguments) }];
    case 'tool_result': {
      const content = part.content.flatMap((p) => (p.type === 'text' || p.type === 'image' ? buildBlock(p) : []));
      return [{ type: 'tool_result', tool_use_id: part.callId, ...(content.length && { content }), ...(part.isError && { is_error: true }) }];
    }
    case 'reasoning':
      // Only what Anthropic can verify: another provider's reasoning would be refused.
      if (part.redacted) return part.encrypted ? [{ type: 'redacted_thinking', data: part.encrypted }] : [];
      return part.signature ? [{ type: 'thinking', thinking: part.text, signature: part.signature }] : [];
  }
}

/**
 * Canonical messages as Anthropic turns: empty messages are left out, consecutive messages of
 * one role are merged (tool results answering one assistant turn share a user message), and
 * tool results come first in a user turn, as Anthropic requires.
 */
function buildMessages(messages: readonly Message[]): AnthropicRequest['messages'] {
  const turns: AnthropicRequest['messages'] = [];
  for (const message of messages) {
    const content = message.content.flatMap(buildBlock);
    if (!content.length) continue;
    const last = turns.at(-1);
    if (last?.role === message.role) last.content.push(...content);
    else turns.push({ role: message.role, content });
  }
  for (const turn of turns) {
    if (turn.role === 'user') turn.content = [...turn.content.filter((b) => b.type === 'tool_result'), ...turn.content.filter((b) => b.type !== 'tool_result')];
  }
  return turns;
}

function buildToolChoice(choice: ToolChoice): AnthropicRequest['tool_choice'] {
  switch (choice.type) {
    case 'required':
      return { type: 'any' };
    case 'tool':
      return { type: 'tool', name: choice.name };
    default:
      return { type: choice.type };
  }
}

function buildRequest(request: ModelRequest, upstreamModel: string): AnthropicRequest {
  const { config } = request;
  const budget = config.reasoning?.budgetTokens;
  const body: AnthropicRequest = {
    model: upstreamModel,
    // With thinking, max_tokens must exceed the budget: leave the default room for the answer.
    max_tokens: config.maxTokens ?? (budget ? budget + DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS),
    messages: buildMessages(request.messages),
    stream: request.stream,
  };
  if (request.system) body.system = request.system;
  if (request.tools.length) {
    body.tools = request.tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined && { description: t.description }),
      input_schema: { type: 'object', ...t.parameters },
    }));
    if (request.toolChoice) body.tool_choice = buildToolChoice(request.toolChoice);
  }
  if (config.stop?.length) body.stop_sequences = [...config.stop];
  if (budget) body.thinking = { type: 'enabled', budget_tokens: budget };
  else {
    if (config.temperature !== undefined) body.temperature = config.temperature;
    if (config.topP !== undefined) body.top_p = config.topP;
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Parse what Anthropic answers

function parseOutputBlock(block: unknown): ContentPart[] {
  if (!isRecord(block)) return [];
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? [{ type: 'text', text: block.text }] : [];
    case 'tool_use':
      return [{ type: 'tool_call', id: String(block.id ?? ''), name: String(block.name ?? ''), arguments: inputToArguments(block.input) }];
    case 'thinking':
      return [{ type: 'reasoning', text: String(block.thinking ?? ''), ...(typeof block.signature === 'string' && block.signature && { signature: block.signature }) }];
    case 'redacted_thinking':
      return [{ type: 'reasoning', text: '', encrypted: String(block.data ?? ''), redacted: true }];
    default: // server tool blocks: the bridge sends no server tools
      return [];
  }
}

function parseResponse(body: unknown): ModelResponse {
  if (!isRecord(body)) throw new WireError(`Anthropic response: expected a JSON object (got ${describe(body)})`, 502);
  if (body.type === 'error') throw upstreamError(body, 'response');
  if (!Array.isArray(body.content)) throw new WireError(`Anthropic response: content must be an array (got ${describe(body.content)})`, 502);
  return {
    id: String(body.id ?? ''),
    model: String(body.model ?? ''),
    content: body.content.flatMap(parseOutputBlock),
    stopReason: parseStopReason(body.stop_reason),
    usage: canonicalUsage(mergeUsage(ZERO_USAGE, body.usage)),
  };
}

function createStreamParser(): (event: SseEvent) => readonly StreamEvent[] {
  let usage = ZERO_USAGE;
  let stopReason: StopReason = 'end_turn';
  let nextIndex = 0;
  /** Anthropic index -> canonical index, for the blocks the canonical model holds. */
  const blocks = new Map<number, number>();

  return (event) => {
    if (event.event === 'ping') return [];
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new WireError(`Anthropic stream: ${event.event ?? 'an'} event whose data is not JSON: ${event.data.slice(0, 80)}`, 502);
    }
    if (!isRecord(data)) return [];
    const type = event.event ?? data.type;
    const at = typeof data.index === 'number' ? blocks.get(data.index) : undefined;
    switch (type) {
      case 'error':
        throw upstreamError(data, 'stream');
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        usage = mergeUsage(usage, message.usage);
        return [{ type: 'start', id: String(message.id ?? ''), model: String(message.model ?? '') }];
      }
      case 'content_block_start': {
        const block = isRecord(data.content_block) ? data.content_block : {};
        if (typeof data.index !== 'number') return [];
        const index = nextIndex;
        const out: StreamEvent[] = [];
        if (block.type === 'text') {
          out.push({ type: 'block_start', index, block: { type: 'text' } });
          if (typeof block.text === 'string' && block.text) out.push({ type: 'text_delta', index, text: block.text });
        } else if (block.type === 'thinking') {
          out.push({ type: 'block_start', index, block: { type: 'reasoning' } });
          const signature = typeof block.signature === 'string' && block.signature ? block.signature : undefined;
          if ((typeof block.thinking === 'string' && block.thinking) || signature) out.push({ type: 'reasoning_delta', index, text: String(block.thinking ?? ''), signature });
        } else if (block.type === 'tool_use') {
          out.push({ type: 'block_start', index, block: { type: 'tool_call', id: String(block.id ?? ''), name: String(block.name ?? '') } });
          // The input arrives in input_json_delta events; a start block with input already set is whole.
          if (isRecord(block.input) && Object.keys(block.input).length) out.push({ type: 'tool_arguments_delta', index, json: inputToArguments(block.input) });
        } else {
          // redacted_thinking (its data has no place in a canonical stream) and server tool blocks.
          return [];
        }
        blocks.set(data.index, index);
        nextIndex++;
        return out;
      }
      case 'content_block_delta': {
        const d = isRecord(data.delta) ? data.delta : {};
        if (at === undefined) return [];
        switch (d.type) {
          case 'text_delta':
            return [{ type: 'text_delta', index: at, text: String(d.text ?? '') }];
          case 'input_json_delta':
            return d.partial_json ? [{ type: 'tool_arguments_delta', index: at, json: String(d.partial_json) }] : [];
          case 'thinking_delta':
            return [{ type: 'reasoning_delta', index: at, text: String(d.thinking ?? '') }];
          case 'signature_delta':
            return [{ type: 'reasoning_delta', index: at, text: '', signature: String(d.signature ?? '') }];
          default: // citations_delta
            return [];
        }
      }
      case 'content_block_stop':
        return at === undefined ? [] : [{ type: 'block_end', index: at }];
      case 'message_delta': {
        const d = isRecord(data.delta) ? data.delta : {};
        if (d.stop_reason !== undefined && d.stop_reason !== null) stopReason = parseStopReason(d.stop_reason);
        usage = mergeUsage(usage, data.usage);
        return [];
      }
      case 'message_stop':
        return [{ type: 'stop', stopReason, usage: canonicalUsage(usage) }];
      default:
        return [];
    }
  };
}

export const anthropicOutbound: OutboundWire = {
  api: 'anthropic',
  buildRequest,
  parseResponse,
  createStreamParser,
};
