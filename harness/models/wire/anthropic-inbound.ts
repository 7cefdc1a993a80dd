// The Anthropic Messages API served to agents (Claude Code, OpenCode's anthropic provider):
// parse their requests, render responses, streams and errors. The decisions both sides make
// are in anthropic-common.ts.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ZERO_USAGE, type ContentPart, type Message, type ModelRequest, type ModelResponse, type StopReason, type StreamEvent, type ToolChoice, type Usage } from '../canonical.ts';
import type { InboundWire, SseEvent } from '../wire.ts';
import { argumentsToInput, errorType, inputToArguments, type AnthropicBlock, type AnthropicMessage, type AnthropicStopReason, type AnthropicUsage } from './anthropic-common.ts';
import { ARRAY, array, boolean, check, invalid, number, OBJECT, optional, optionalString, positiveInteger, record, string, type Json } from './fields.ts';

// ---------------------------------------------------------------------------------------------
// Parse what an agent sends

/** Top-level fields accepted and ignored without a note: they do not change the answer. */
const SILENT_FIELDS = new Set(['metadata', 'service_tier', 'cache_control', 'inference_geo', 'speed', 'diagnostics', 'user_profile_id', 'workspace_id']);
const READ_FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'max_tokens', 'temperature', 'top_p', 'stop_sequences', 'thinking', 'output_config', 'stream']);

const requestBody = check(OBJECT, 'a JSON object');
const modelName = check(z.string().min(1), 'a model name');
const messageObject = check(OBJECT, 'a message object');
const contentBlock = check(z.looseObject({ type: z.string() }), 'a content block with a "type"');
const textBlock = check(z.looseObject({ type: z.literal('text') }), 'a text block');
const toolObject = check(OBJECT, 'a tool object');
const jsonSchema = check(OBJECT, 'a JSON Schema object');
const stringList = check(ARRAY, 'an array of strings');
const optionalPositiveInteger = optional(positiveInteger);
const optionalNumber = optional(number);

type Dropped = string[];

function parseImage(block: Json, path: string, dropped: Dropped): ContentPart[] {
  const source = record(block.source, `${path}.source`);
  switch (source.type) {
    case 'base64':
      return [{ type: 'image', mediaType: string(source.media_type, `${path}.source.media_type`), data: string(source.data, `${path}.source.data`) }];
    case 'url':
      return [{ type: 'image', url: string(source.url, `${path}.source.url`) }];
    case 'file':
      dropped.push(`${path}: image from the Files API`);
      return [];
    default:
      throw invalid(`${path}.source.type`, '"base64", "url" or "file"', source.type);
  }
}

/** One content block; `inToolResult` narrows what may appear (text and images). */
function parseBlock(value: unknown, path: string, dropped: Dropped, inToolResult = false): ContentPart[] {
  const block = contentBlock(value, path);
  const known = inToolResult ? ['text', 'image'] : ['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'];
  if (!known.includes(block.type)) {
    dropped.push(`${path}: ${block.type} block`);
    return [];
  }
  switch (block.type) {
    case 'text':
      return [{ type: 'text', text: string(block.text, `${path}.text`) }];
    case 'image':
      return parseImage(block, path, dropped);
    case 'tool_use':
      return [{ type: 'tool_call', id: string(block.id, `${path}.id`), name: string(block.name, `${path}.name`), arguments: inputToArguments(block.input) }];
    case 'tool_result': {
      const callId = string(block.tool_use_id, `${path}.tool_use_id`);
      const raw = block.content;
      let content: ContentPart[];
      if (raw === undefined || raw === null || raw === '') content = [];
      else if (typeof raw === 'string') content = [{ type: 'text', text: raw }];
      else if (Array.isArray(raw)) content = raw.flatMap((b, i) => parseBlock(b, `${path}.content[${i}]`, dropped, true));
      else throw invalid(`${path}.content`, 'a string or an array of content blocks', raw);
      if (block.is_error !== undefined) boolean(block.is_error, `${path}.is_error`);
      return [{ type: 'tool_result', callId, content, ...(block.is_error === true && { isError: true }) }];
    }
    case 'thinking': {
      const text = string(block.thinking, `${path}.thinking`);
      const signature = optionalString(block.signature, `${path}.signature`) ?? '';
      return [{ type: 'reasoning', text, ...(signature && { signature }) }];
    }
    default: // redacted_thinking
      return [{ type: 'reasoning', text: '', encrypted: string(block.data, `${path}.data`), redacted: true }];
  }
}

function parseContent(content: unknown, path: string, dropped: Dropped): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(path, 'a string or an array of content blocks', content);
  return content.flatMap((b, i) => parseBlock(b, `${path}[${i}]`, dropped));
}

function parseSystem(system: unknown): string[] {
  if (system === undefined || system === null) return [];
  if (typeof system === 'string') return system ? [system] : [];
  if (!Array.isArray(system)) throw invalid('system', 'a string or an array of text blocks', system);
  return system.map((b, i) => string(textBlock(b, `system[${i}]`).text, `system[${i}].text`));
}

function parseTools(tools: unknown, dropped: Dropped): ModelRequest['tools'] {
  if (tools === undefined || tools === null) return [];
  return array(tools, 'tools').flatMap((raw, i) => {
    const path = `tools[${i}]`;
    const tool = toolObject(raw, path);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      dropped.push(`${path}: server tool ${String(tool.type)}${typeof tool.name === 'string' ? ` "${tool.name}"` : ''}`);
      return [];
    }
    const name = string(tool.name, `${path}.name`);
    const parameters = jsonSchema(tool.input_schema, `${path}.input_schema`);
    const description = optionalString(tool.description, `${path}.description`);
    return [{ name, ...(description !== undefined && { description }), parameters }];
  });
}

function parseToolChoice(value: unknown, dropped: Dropped): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  const choice = record(value, 'tool_choice');
  if (choice.disable_parallel_tool_use === true) dropped.push('tool_choice.disable_parallel_tool_use');
  switch (choice.type) {
    case 'auto':
      return { type: 'auto' };
    case 'any':
      return { type: 'required' };
    case 'none':
      return { type: 'none' };
    case 'tool':
      return { type: 'tool', name: string(choice.name, 'tool_choice.name') };
    default:
      throw invalid('tool_choice.type', '"auto", "any", "tool" or "none"', choice.type);
  }
}

const EFFORTS = { low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' } as const;

function parseReasoning(body: Json, dropped: Dropped): { effort?: 'low' | 'medium' | 'high'; budgetTokens?: number } | undefined {
  let budgetTokens: number | undefined;
  let effort: 'low' | 'medium' | 'high' | undefined;
  if (body.thinking !== undefined && body.thinking !== null) {
    const thinking = record(body.thinking, 'thinking');
    if (thinking.type === 'enabled') budgetTokens = positiveInteger(thinking.budget_tokens, 'thinking.budget_tokens');
    else if (thinking.type !== 'disabled') dropped.push(`thinking: ${String(thinking.type)}`);
  }
  if (body.output_config !== undefined && body.output_config !== null) {
    const output = record(body.output_config, 'output_config');
    if (output.effort !== undefined && output.effort !== null) {
      const mapped = typeof output.effort === 'string' ? EFFORTS[output.effort as keyof typeof EFFORTS] : undefined;
      if (!mapped) throw invalid('output_config.effort', '"low", "medium", "high", "xhigh" or "max"', output.effort);
      if (mapped !== output.effort) dropped.push(`output_config.effort: "${output.effort}" sent as "${mapped}"`);
      effort = mapped;
    }
    if (output.format !== undefined && output.format !== null) dropped.push('output_config.format');
  }
  if (budgetTokens === undefined && effort === undefined) return undefined;
  return { ...(effort && { effort }), ...(budgetTokens !== undefined && { budgetTokens }) };
}

function parseRequest(raw: unknown, context: { readonly model?: string; readonly stream?: boolean }): ModelRequest {
  const body = requestBody(raw, 'the request body');
  const dropped: Dropped = [];
  const model = typeof body.model === 'string' && body.model !== '' ? body.model : (context.model ?? modelName(body.model, 'model'));
  const rawMessages = array(body.messages, 'messages');

  const system = parseSystem(body.system);
  const messages: Message[] = [];
  rawMessages.forEach((raw, i) => {
    const path = `messages[${i}]`;
    const m = messageObject(raw, path);
    const content = parseContent(m.content, `${path}.content`, dropped);
    if (m.role === 'user' || m.role === 'assistant') messages.push({ role: m.role, content });
    else if (m.role === 'system') {
      // The SDK types allow it; the canonical model has one system prompt, so it goes there.
      system.push(...content.flatMap((p) => (p.type === 'text' ? [p.text] : [])));
      dropped.push(`${path}: system message moved into the system prompt`);
    } else throw invalid(`${path}.role`, '"user" or "assistant"', m.role);
  });

  const tools = parseTools(body.tools, dropped);
  const toolChoice = parseToolChoice(body.tool_choice, dropped);
  let stop: string[] | undefined;
  if (body.stop_sequences !== undefined && body.stop_sequences !== null) {
    stop = stringList(body.stop_sequences, 'stop_sequences').map((s, i) => string(s, `stop_sequences[${i}]`));
  }
  const maxTokens = optionalPositiveInteger(body.max_tokens, 'max_tokens');
  const temperature = optionalNumber(body.temperature, 'temperature');
  const topP = optionalNumber(body.top_p, 'top_p');
  const reasoning = parseReasoning(body, dropped);
  for (const key of Object.keys(body)) {
    if (!READ_FIELDS.has(key) && !SILENT_FIELDS.has(key) && body[key] !== undefined && body[key] !== null) dropped.push(key);
  }

  return {
    model,
    ...(system.length && { system: system.join('\n\n') }),
    messages,
    tools,
    ...(toolChoice && { toolChoice }),
    config: {
      ...(maxTokens !== undefined && { maxTokens }),
      ...(temperature !== undefined && { temperature }),
      ...(topP !== undefined && { topP }),
      ...(stop && { stop }),
      ...(reasoning && { reasoning }),
    },
    stream: typeof body.stream === 'boolean' ? body.stream : (context.stream ?? false),
    ...(dropped.length && { dropped }),
  };
}

// ---------------------------------------------------------------------------------------------
// Render what the agent receives

function renderStopReason(reason: StopReason): AnthropicStopReason {
  return reason === 'error' ? 'end_turn' : reason;
}

function renderUsage(usage: Usage): AnthropicUsage {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    ...(usage.reasoningTokens > 0 && { output_tokens_details: { thinking_tokens: usage.reasoningTokens } }),
  };
}

/** Assistant output parts as response blocks. Images and tool results are not model output. */
function renderOutput(part: ContentPart): AnthropicBlock[] {
  switch (part.type) {
    case 'text':
      return [{ type: 'text', text: part.text }];
    case 'tool_call':
      return [{ type: 'tool_use', id: part.id, name: part.name, input: argumentsToInput(part.arguments) }];
    case 'reasoning':
      return part.redacted && part.encrypted !== undefined
        ? [{ type: 'redacted_thinking', data: part.encrypted }]
        : [{ type: 'thinking', thinking: part.text, signature: part.signature ?? '' }];
    default:
      return [];
  }
}

function renderResponse(response: ModelResponse): AnthropicMessage {
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content: response.content.flatMap(renderOutput),
    stop_reason: renderStopReason(response.stopReason),
    stop_sequence: null,
    usage: renderUsage(response.usage),
  };
}

const sse = (data: { type: string } & Json): SseEvent => ({ event: data.type, data: JSON.stringify(data) });

function createStreamRenderer(): (event: StreamEvent) => readonly SseEvent[] {
  let started = false;
  let nextIndex = 0;
  /** Canonical block index -> Anthropic index, for the blocks open now. */
  const open = new Map<number, number>();

  const messageStart = (id: string, model: string): SseEvent => {
    started = true;
    const message: AnthropicMessage = { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: renderUsage(ZERO_USAGE) };
    return sse({ type: 'message_start', message });
  };
  /** A delta for the open block at a canonical index; none once the block is closed or if it never opened. */
  const delta = (canonicalIndex: number, d: Json): SseEvent[] => {
    const index = open.get(canonicalIndex);
    return index === undefined ? [] : [sse({ type: 'content_block_delta', index, delta: d })];
  };

  return (event) => {
    const out: SseEvent[] = [];
    if (!started && event.type !== 'start') out.push(messageStart(`msg_${randomUUID().replaceAll('-', '')}`, ''));
    switch (event.type) {
      case 'start':
        if (!started) out.push(messageStart(event.id, event.model));
        break;
      case 'block_start': {
        const index = nextIndex++;
        open.set(event.index, index);
        const b = event.block;
        const block =
          b.type === 'tool_call'
            ? { type: 'tool_use', id: b.id, name: b.name, input: {} }
            : b.type === 'reasoning'
              ? { type: 'thinking', thinking: '', signature: '' }
              : { type: 'text', text: '' };
        out.push(sse({ type: 'content_block_start', index, content_block: block }));
        break;
      }
      case 'text_delta':
        if (event.text) out.push(...delta(event.index, { type: 'text_delta', text: event.text }));
        break;
      case 'reasoning_delta':
        if (event.text) out.push(...delta(event.index, { type: 'thinking_delta', thinking: event.text }));
        if (event.signature) out.push(...delta(event.index, { type: 'signature_delta', signature: event.signature }));
        break;
      case 'tool_arguments_delta':
        if (event.json) out.push(...delta(event.index, { type: 'input_json_delta', partial_json: event.json }));
        break;
      case 'block_end': {
        const index = open.get(event.index);
        if (index === undefined) break;
        open.delete(event.index);
        out.push(sse({ type: 'content_block_stop', index }));
        break;
      }
      case 'stop':
        for (const index of open.values()) out.push(sse({ type: 'content_block_stop', index }));
        open.clear();
        out.push(sse({ type: 'message_delta', delta: { stop_reason: renderStopReason(event.stopReason), stop_sequence: null }, usage: renderUsage(event.usage) }));
        out.push(sse({ type: 'message_stop' }));
        break;
    }
    return out;
  };
}

function renderError(status: number, message: string): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: errorType(status), message } };
}

/** An error in the middle of a stream, as Anthropic sends it: an `error` event with the error body. */
export function renderStreamError(status: number, message: string): SseEvent {
  return sse(renderError(status, message));
}

export const anthropicInbound: InboundWire = {
  api: 'anthropic',
  parseRequest,
  renderResponse,
  createStreamRenderer,
  renderError,
};
