// OpenAI Chat Completions spoken upstream to an openai-compatible provider: build requests,
// parse its responses and chunk streams. See openai-chat-common.ts.
import type { ModelRequest, ModelResponse, StopReason, StreamEvent, Usage } from '../canonical.ts';
import { UpstreamError } from '../provider.ts';
import type { OutboundWire, SseEvent } from '../wire.ts';
import { array, isRecord, record, type Json } from './fields.ts';
import { assistantContent, ifDefined } from './openai-chat-common.ts';
import { effortOf, fromUpstream, imageToUrl, parseJsonData, texts, usageFrom } from './openai-common.ts';

function buildRequest(request: ModelRequest, upstreamModel: string): unknown {
  const messages: Json[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const m of request.messages) {
    if (m.role === 'assistant') {
      const text = texts(m.content);
      const calls = m.content.flatMap((p) => (p.type === 'tool_call' ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments } }] : []));
      const content = text.length === 0 ? (calls.length ? null : '') : text.length === 1 ? text[0] : text.map((t) => ({ type: 'text', text: t }));
      messages.push({ role: 'assistant', content, ...(calls.length ? { tool_calls: calls } : {}) });
      continue;
    }
    // Tool results first: they must follow the assistant message that called the tools.
    // A tool message holds only text, so images a tool returned go into the user message after.
    const parts: Json[] = [];
    for (const p of m.content) {
      if (p.type === 'tool_result') {
        const text = texts(p.content);
        messages.push({ role: 'tool', tool_call_id: p.callId, content: text.length === 1 ? text[0] : text.length === 0 ? '' : text.map((t) => ({ type: 'text', text: t })) });
        for (const c of p.content) if (c.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageToUrl(c) } });
      } else if (p.type === 'text') parts.push({ type: 'text', text: p.text });
      else if (p.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageToUrl(p) } });
    }
    if (parts.length) messages.push({ role: 'user', content: parts.length === 1 && parts[0]!.type === 'text' ? parts[0]!.text : parts });
  }
  const effort = effortOf(request.config);
  const { config, toolChoice, stream } = request;
  return {
    model: upstreamModel,
    messages,
    ...(request.tools.length
      ? { tools: request.tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description === undefined ? {} : { description: t.description }), parameters: t.parameters } })) }
      : {}),
    ...(toolChoice ? { tool_choice: toolChoice.type === 'tool' ? { type: 'function', function: { name: toolChoice.name } } : toolChoice.type } : {}),
    ...ifDefined('max_completion_tokens', config.maxTokens),
    ...ifDefined('temperature', config.temperature),
    ...ifDefined('top_p', config.topP),
    ...(config.stop?.length ? { stop: [...config.stop] } : {}),
    ...ifDefined('reasoning_effort', effort),
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}

function stopReasonOf(finish: unknown, sawToolCall: boolean, sawRefusal: boolean): StopReason {
  if (sawRefusal || finish === 'content_filter') return 'refusal';
  if (finish === 'length') return 'max_tokens';
  if (finish === 'tool_calls' || finish === 'function_call' || sawToolCall) return 'tool_use';
  return 'end_turn';
}

function usageOf(u: unknown): Usage {
  const usage = isRecord(u) ? u : {};
  const prompt = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completion = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  return usageFrom(usage.prompt_tokens, usage.completion_tokens, prompt.cached_tokens, completion.reasoning_tokens);
}

function parseResponse(body: unknown): ModelResponse {
  return fromUpstream('openai-chat response', () => {
    const b = record(body, 'body');
    const choice = record(array(b.choices, 'choices')[0], 'choices[0]');
    const message = record(choice.message, 'choices[0].message');
    const content = assistantContent(message, 'choices[0].message', []);
    const refusal = typeof message.refusal === 'string' && message.refusal !== '';
    return {
      id: typeof b.id === 'string' ? b.id : '',
      model: typeof b.model === 'string' ? b.model : '',
      content,
      stopReason: stopReasonOf(choice.finish_reason, content.some((p) => p.type === 'tool_call'), refusal),
      usage: usageOf(b.usage),
    };
  });
}

/**
 * Chat chunks to canonical events. `stop` waits for the usage chunk that follows the one with
 * `finish_reason` (or for `[DONE]`), so it carries the final usage.
 */
function createStreamParser(): (event: SseEvent) => readonly StreamEvent[] {
  let started = false;
  let stopped = false;
  let next = 0;
  let open: { kind: 'text' | 'reasoning' | 'tool'; index: number } | undefined;
  /** `tool_calls[].index` -> canonical block index. */
  const tools = new Map<number, number>();
  let finish: unknown;
  let usage: Usage | undefined;
  let sawRefusal = false;

  return (sse) => {
    if (stopped) return [];
    const out: StreamEvent[] = [];
    const close = (): void => {
      if (open) out.push({ type: 'block_end', index: open.index });
      open = undefined;
    };
    const ensure = (kind: 'text' | 'reasoning'): number => {
      if (open?.kind === kind) return open.index;
      close();
      open = { kind, index: next++ };
      out.push({ type: 'block_start', index: open.index, block: { type: kind } });
      return open.index;
    };
    const stop = (): void => {
      close();
      stopped = true;
      out.push({ type: 'stop', stopReason: stopReasonOf(finish, tools.size > 0, sawRefusal), usage: usage ?? usageFrom(0, 0, 0, 0) });
    };

    const data = sse.data.trim();
    if (data === '') return [];
    if (data === '[DONE]') {
      if (!started) out.push({ type: 'start', id: '', model: '' });
      stop();
      return out;
    }
    const chunk = parseJsonData(data, 'openai-chat stream');
    if (isRecord(chunk.error)) {
      throw new UpstreamError(`openai-chat stream error: ${String(chunk.error.message ?? data)}`, 502, { body: data });
    }
    if (!started) {
      started = true;
      out.push({ type: 'start', id: typeof chunk.id === 'string' ? chunk.id : '', model: typeof chunk.model === 'string' ? chunk.model : '' });
    }
    const choices = Array.isArray(chunk.choices) ? chunk.choices.filter(isRecord) : [];
    const choice = choices.find((c) => (c.index ?? 0) === 0);
    if (choice) {
      const d = isRecord(choice.delta) ? choice.delta : {};
      const reasoning = d.reasoning_content ?? d.reasoning;
      if (typeof reasoning === 'string' && reasoning !== '') out.push({ type: 'reasoning_delta', index: ensure('reasoning'), text: reasoning });
      if (typeof d.content === 'string' && d.content !== '') out.push({ type: 'text_delta', index: ensure('text'), text: d.content });
      if (typeof d.refusal === 'string' && d.refusal !== '') {
        sawRefusal = true;
        out.push({ type: 'text_delta', index: ensure('text'), text: d.refusal });
      }
      if (Array.isArray(d.tool_calls)) {
        for (const tc of d.tool_calls.filter(isRecord)) {
          const key = typeof tc.index === 'number' ? tc.index : 0;
          const fn = isRecord(tc.function) ? tc.function : {};
          let index = tools.get(key);
          if (index === undefined) {
            close();
            index = next++;
            tools.set(key, index);
            open = { kind: 'tool', index };
            out.push({ type: 'block_start', index, block: { type: 'tool_call', id: typeof tc.id === 'string' ? tc.id : `call_${key}`, name: typeof fn.name === 'string' ? fn.name : '' } });
          }
          if (typeof fn.arguments === 'string' && fn.arguments !== '') out.push({ type: 'tool_arguments_delta', index, json: fn.arguments });
        }
      }
      if (typeof choice.finish_reason === 'string') {
        finish = choice.finish_reason;
        close();
      }
    }
    if (isRecord(chunk.usage)) usage = usageOf(chunk.usage);
    if (finish !== undefined && usage !== undefined) stop();
    return out;
  };
}

export const openaiChatOutbound = {
  api: 'openai-chat',
  buildRequest,
  parseResponse,
  createStreamParser,
} satisfies OutboundWire;
