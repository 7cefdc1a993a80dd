// OpenAI Chat Completions served to agents: parse their requests, render responses, chunk
// streams and errors. See openai-chat-common.ts.
import type { ContentPart, ModelRequest, ModelResponse, StopReason, StreamEvent, ToolChoice, ToolSpec, Usage } from '../canonical.ts';
import type { InboundWire, SseEvent } from '../wire.ts';
import { array, invalid, isRecord, nonEmptyString, optionalString, record, string, type Json } from './fields.ts';
import { assistantContent } from './openai-chat-common.ts';
import { contentParts, imageFromUrl, openaiRequest, optionalCount, parameters, parseEffort, pushToolResult, renderOpenaiError, texts, type DraftMessage } from './openai-common.ts';

export interface OpenaiChatStreamOptions {
  /**
   * Send the usage chunk (empty `choices`) before `[DONE]`, as the request's
   * `stream_options.include_usage` asks. Clients that did not ask tolerate it.
   * @default true
   */
  readonly includeUsage?: boolean;
}

/** The stream options a request asked for, for `createStreamRenderer`. */
export function chatStreamOptions(body: unknown): OpenaiChatStreamOptions {
  const options = isRecord(body) && isRecord(body.stream_options) ? body.stream_options : {};
  return { includeUsage: options.include_usage === true };
}

const FINISH: Readonly<Record<StopReason, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  error: 'stop',
};

/** Fields with no canonical home that change what the model does: noted in `dropped`. */
const NOTED = ['logprobs', 'top_logprobs', 'seed', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'modalities', 'audio', 'prediction', 'web_search_options', 'functions', 'function_call', 'verbosity'];

// ---------------------------------------------------------------------------------------------
// Parse what an agent sends

function parseRequest(body: unknown, context: { readonly model?: string; readonly stream?: boolean }): ModelRequest {
  const b = record(body, 'body');
  const model = nonEmptyString(b.model ?? context.model, 'model');
  const rawMessages = array(b.messages, 'messages');
  if (rawMessages.length === 0) throw invalid('messages', 'a non-empty array', rawMessages);
  const dropped: string[] = [];
  const system: string[] = [];
  const messages: DraftMessage[] = [];
  const callNames = new Map<string, string>();

  rawMessages.forEach((raw, i) => {
    const path = `messages[${i}]`;
    const m = record(raw, path);
    switch (m.role) {
      case 'system':
      case 'developer':
        if (messages.length > 0) dropped.push(`${path}: a ${m.role} message after the conversation started was moved into the system prompt`);
        system.push(textOnly(m.content, `${path}.content`).join('\n'));
        break;
      case 'user':
        messages.push({ role: 'user', content: userContent(m.content, `${path}.content`, dropped) });
        break;
      case 'assistant': {
        const content = assistantContent(m, path, dropped);
        for (const p of content) if (p.type === 'tool_call') callNames.set(p.id, p.name);
        messages.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const callId = nonEmptyString(m.tool_call_id, `${path}.tool_call_id`);
        const name = callNames.get(callId);
        pushToolResult(messages, { type: 'tool_result', callId, ...(name === undefined ? {} : { name }), content: textOnly(m.content, `${path}.content`).map((text) => ({ type: 'text', text })) });
        break;
      }
      default:
        throw invalid(`${path}.role`, 'one of system, developer, user, assistant, tool', m.role);
    }
  });

  const tools = parseTools(b.tools, dropped);
  const toolChoice = parseToolChoice(b.tool_choice, dropped);
  const stop = typeof b.stop === 'string' ? [b.stop] : b.stop === undefined || b.stop === null ? undefined : array(b.stop, 'stop').map((s, i) => string(s, `stop[${i}]`));
  const effort = parseEffort(b.reasoning_effort, 'reasoning_effort', dropped);
  const maxTokens = optionalCount(b.max_completion_tokens, 'max_completion_tokens') ?? optionalCount(b.max_tokens, 'max_tokens');
  const n = optionalCount(b.n, 'n');
  if (n !== undefined && n > 1) dropped.push(`n: ${n} choices asked; one is generated`);
  if (isRecord(b.response_format) && b.response_format.type !== 'text') dropped.push(`response_format: ${String(b.response_format.type)} is not enforced`);
  for (const key of NOTED) if (b[key] !== undefined && b[key] !== null) dropped.push(`${key}: not supported, ignored`);

  return openaiRequest(b, context, { model, system, messages, tools, toolChoice, maxTokens, stop, effort, dropped });
}

/** Content that may only hold text: a string or text parts (system, developer and tool messages). */
function textOnly(content: unknown, path: string): string[] {
  if (typeof content === 'string') return content === '' ? [] : [content];
  if (content === null || content === undefined) return [];
  return array(content, path).map((raw, i) => {
    const part = record(raw, `${path}[${i}]`);
    if (part.type !== 'text') throw invalid(`${path}[${i}].type`, '"text"', part.type);
    return string(part.text, `${path}[${i}].text`);
  });
}

function userContent(content: unknown, path: string, dropped: string[]): ContentPart[] {
  return contentParts(content, path, (part, at) => {
    switch (part.type) {
      case 'text':
        return [{ type: 'text', text: string(part.text, `${at}.text`) }];
      case 'image_url': {
        const url = typeof part.image_url === 'string' ? part.image_url : record(part.image_url, `${at}.image_url`).url;
        return [imageFromUrl(nonEmptyString(url, `${at}.image_url.url`))];
      }
      case 'input_audio':
      case 'file':
        dropped.push(`${at}: ${part.type} parts are not supported`);
        return [];
      default:
        throw invalid(`${at}.type`, 'one of text, image_url, input_audio, file', part.type);
    }
  });
}

function parseTools(value: unknown, dropped: string[]): ToolSpec[] {
  if (value === undefined || value === null) return [];
  return array(value, 'tools').flatMap((raw, i): ToolSpec[] => {
    const tool = record(raw, `tools[${i}]`);
    if (tool.type === 'custom') {
      dropped.push(`tools[${i}]: custom (free-form) tools are not supported`);
      return [];
    }
    if (tool.type !== 'function') throw invalid(`tools[${i}].type`, '"function"', tool.type);
    const fn = record(tool.function, `tools[${i}].function`);
    const description = optionalString(fn.description, `tools[${i}].function.description`);
    return [{ name: nonEmptyString(fn.name, `tools[${i}].function.name`), ...(description === undefined ? {} : { description }), parameters: parameters(fn.parameters, `tools[${i}].function.parameters`) }];
  });
}

function parseToolChoice(value: unknown, dropped: string[]): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  if (isRecord(value) && value.type === 'function') {
    return { type: 'tool', name: nonEmptyString(record(value.function, 'tool_choice.function').name, 'tool_choice.function.name') };
  }
  if (isRecord(value) && (value.type === 'allowed_tools' || value.type === 'custom')) {
    dropped.push(`tool_choice: ${value.type} is not supported; auto applies`);
    return undefined;
  }
  throw invalid('tool_choice', 'one of "auto", "none", "required" or {type: "function", function: {name}}', value);
}

// ---------------------------------------------------------------------------------------------
// Render what the agent receives

function chatUsage(usage: Usage): Json {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

function renderResponse(response: ModelResponse): unknown {
  const refused = response.stopReason === 'refusal';
  const text = texts(response.content).join('');
  const reasoning = response.content.flatMap((p) => (p.type === 'reasoning' ? [p.text] : [])).join('');
  const toolCalls = response.content.flatMap((p) => (p.type === 'tool_call' ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments } }] : []));
  return {
    id: response.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: response.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: refused ? null : text === '' && toolCalls.length ? null : text,
          refusal: refused ? text : null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          ...(reasoning ? { reasoning_content: reasoning } : {}),
        },
        finish_reason: FINISH[response.stopReason],
        logprobs: null,
      },
    ],
    usage: chatUsage(response.usage),
  };
}

/** Without the request body, the usage chunk is always sent (clients that did not ask skip it). */
function createStreamRenderer(body?: unknown): (event: StreamEvent) => readonly SseEvent[] {
  const options: OpenaiChatStreamOptions = body === undefined ? {} : chatStreamOptions(body);
  const includeUsage = options.includeUsage ?? true;
  const created = Math.floor(Date.now() / 1000);
  let id = '';
  let model = '';
  /** Canonical block index -> index in `tool_calls`. */
  const toolIndex = new Map<number, number>();
  const chunk = (choices: unknown[], extra: Json = {}): SseEvent => ({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra }) });
  const delta = (d: Json, finish: string | null = null): SseEvent => chunk([{ index: 0, delta: d, finish_reason: finish, logprobs: null }]);
  return (e) => {
    switch (e.type) {
      case 'start':
        ({ id, model } = e);
        return [delta({ role: 'assistant', content: '' })];
      case 'block_start': {
        if (e.block.type !== 'tool_call') return [];
        const n = toolIndex.size;
        toolIndex.set(e.index, n);
        return [delta({ tool_calls: [{ index: n, id: e.block.id, type: 'function', function: { name: e.block.name, arguments: '' } }] })];
      }
      case 'text_delta':
        return e.text ? [delta({ content: e.text })] : [];
      case 'reasoning_delta':
        return e.text ? [delta({ reasoning_content: e.text })] : [];
      case 'tool_arguments_delta': {
        const n = toolIndex.get(e.index);
        return n === undefined || !e.json ? [] : [delta({ tool_calls: [{ index: n, function: { arguments: e.json } }] })];
      }
      case 'block_end':
        return [];
      case 'stop':
        return [delta({}, FINISH[e.stopReason]), ...(includeUsage ? [chunk([], { usage: chatUsage(e.usage) })] : []), { data: '[DONE]' }];
    }
  };
}

export const openaiChatInbound = {
  api: 'openai-chat',
  parseRequest,
  renderResponse,
  createStreamRenderer,
  renderError: renderOpenaiError,
} satisfies InboundWire;
