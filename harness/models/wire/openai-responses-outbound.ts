// The Responses API spoken upstream: build requests, parse responses and event streams.
// See openai-responses-common.ts.
import type { ModelRequest, ModelResponse, StreamEvent } from '../canonical.ts';
import { UpstreamError } from '../provider.ts';
import type { OutboundWire, SseEvent } from '../wire.ts';
import { array, isRecord, record, type Json } from './fields.ts';
import { effortOf, fromUpstream, imageToUrl, parseJsonData } from './openai-common.ts';
import { callName, outputParts, reasoningText, stopReasonOf, usageOf, type ReasoningDeltaWithEncrypted } from './openai-responses-common.ts';

function buildRequest(request: ModelRequest, upstreamModel: string): unknown {
  const input: Json[] = [];
  let encryptedReasoning = false;
  for (const m of request.messages) {
    if (m.role === 'assistant') {
      for (const p of m.content) {
        if (p.type === 'text') input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: p.text, annotations: [] }] });
        else if (p.type === 'tool_call') input.push({ type: 'function_call', call_id: p.id, name: p.name, arguments: p.arguments });
        else if (p.type === 'reasoning' && p.encrypted) {
          // Without its encrypted content a reasoning item cannot be sent back (store is off).
          encryptedReasoning = true;
          input.push({ type: 'reasoning', summary: p.text ? [{ type: 'summary_text', text: p.text }] : [], encrypted_content: p.encrypted });
        }
      }
      continue;
    }
    let parts: Json[] = [];
    const flush = (): void => {
      if (parts.length) input.push({ type: 'message', role: 'user', content: parts });
      parts = [];
    };
    for (const p of m.content) {
      if (p.type === 'text') parts.push({ type: 'input_text', text: p.text });
      else if (p.type === 'image') parts.push({ type: 'input_image', image_url: imageToUrl(p), detail: 'auto' });
      else if (p.type === 'tool_result') {
        flush();
        const onlyText = p.content.every((c) => c.type === 'text');
        const output = onlyText
          ? p.content.map((c) => (c.type === 'text' ? c.text : '')).join('')
          : p.content.flatMap((c): Json[] => (c.type === 'text' ? [{ type: 'input_text', text: c.text }] : c.type === 'image' ? [{ type: 'input_image', image_url: imageToUrl(c), detail: 'auto' }] : []));
        input.push({ type: 'function_call_output', call_id: p.callId, output });
      }
    }
    flush();
  }
  const effort = effortOf(request.config);
  const { config, toolChoice } = request;
  return {
    model: upstreamModel,
    ...(request.system ? { instructions: request.system } : {}),
    input,
    ...(request.tools.length
      ? { tools: request.tools.map((t) => ({ type: 'function', name: t.name, ...(t.description === undefined ? {} : { description: t.description }), parameters: t.parameters, strict: false })) }
      : {}),
    ...(toolChoice ? { tool_choice: toolChoice.type === 'tool' ? { type: 'function', name: toolChoice.name } : toolChoice.type } : {}),
    ...(config.maxTokens === undefined ? {} : { max_output_tokens: config.maxTokens }),
    ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
    ...(config.topP === undefined ? {} : { top_p: config.topP }),
    ...(effort ? { reasoning: { effort, summary: 'auto' } } : {}),
    stream: request.stream,
    store: false,
    ...(effort || encryptedReasoning ? { include: ['reasoning.encrypted_content'] } : {}),
  };
}

function parseResponse(body: unknown): ModelResponse {
  return fromUpstream('openai-responses response', () => {
    const b = record(body, 'body');
    const flags = { refusal: false };
    const content = array(b.output, 'output').flatMap((raw, i) => outputParts(record(raw, `output[${i}]`), `output[${i}]`, flags));
    return {
      id: typeof b.id === 'string' ? b.id : '',
      model: typeof b.model === 'string' ? b.model : '',
      content,
      stopReason: stopReasonOf(b, content.some((p) => p.type === 'tool_call'), flags.refusal),
      usage: usageOf(b.usage),
    };
  });
}

/**
 * Responses events to canonical events. Blocks: one per reasoning item, per message content
 * part and per function call; `stop` comes with response.completed / .incomplete / .failed.
 */
function createStreamParser(): (event: SseEvent) => readonly StreamEvent[] {
  let started = false;
  let stopped = false;
  let next = 0;
  let sawRefusal = false;
  let sawToolCall = false;
  interface Item {
    readonly type: string;
    /** Canonical index of a reasoning or function-call block. */
    index?: number;
    /** Content index -> canonical index of a text block. */
    readonly parts: Map<number, number>;
    deltas: boolean;
    source?: 'summary' | 'text';
    summaries: number;
  }
  const items = new Map<number, Item>();
  const open = new Set<number>();

  return (sse) => fromUpstream('openai-responses stream', () => {
    if (stopped) return [];
    const data = sse.data.trim();
    if (data === '' || data === '[DONE]') return [];
    const event = parseJsonData(data, 'openai-responses stream');
    const type = typeof event.type === 'string' ? event.type : sse.event;
    const out: StreamEvent[] = [];
    const begin = (block: Extract<StreamEvent, { type: 'block_start' }>['block']): number => {
      const index = next++;
      open.add(index);
      out.push({ type: 'block_start', index, block });
      return index;
    };
    const finish = (index: number | undefined): void => {
      if (index !== undefined && open.delete(index)) out.push({ type: 'block_end', index });
    };
    const item = (): Item | undefined => (typeof event.output_index === 'number' ? items.get(event.output_index) : undefined);
    const textIndex = (it: Item | undefined, contentIndex: unknown): number | undefined => {
      if (!it) return undefined;
      const key = typeof contentIndex === 'number' ? contentIndex : 0;
      let index = it.parts.get(key);
      if (index === undefined) {
        index = begin({ type: 'text' });
        it.parts.set(key, index);
      }
      return index;
    };
    const delta = typeof event.delta === 'string' ? event.delta : '';

    if (!started && type !== 'response.created') {
      started = true;
      out.push({ type: 'start', id: '', model: '' });
    }
    switch (type) {
      case 'response.created': {
        const response = isRecord(event.response) ? event.response : {};
        if (!started) out.push({ type: 'start', id: typeof response.id === 'string' ? response.id : '', model: typeof response.model === 'string' ? response.model : '' });
        started = true;
        break;
      }
      case 'response.output_item.added': {
        const raw = isRecord(event.item) ? event.item : {};
        const it: Item = { type: String(raw.type), parts: new Map(), deltas: false, summaries: 0 };
        if (typeof event.output_index === 'number') items.set(event.output_index, it);
        if (raw.type === 'reasoning') it.index = begin({ type: 'reasoning' });
        else if (raw.type === 'function_call' || raw.type === 'custom_tool_call') {
          sawToolCall = true;
          it.index = begin({ type: 'tool_call', id: typeof raw.call_id === 'string' ? raw.call_id : '', name: typeof raw.name === 'string' ? callName(raw, 'item') : '' });
        }
        break;
      }
      case 'response.content_part.added': {
        const part = isRecord(event.part) ? event.part : {};
        if (part.type === 'refusal') sawRefusal = true;
        if (part.type === 'output_text' || part.type === 'refusal') textIndex(item(), event.content_index);
        break;
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        if (type === 'response.refusal.delta') sawRefusal = true;
        const index = textIndex(item(), event.content_index);
        if (index !== undefined && delta) out.push({ type: 'text_delta', index, text: delta });
        break;
      }
      case 'response.content_part.done': {
        const it = item();
        finish(it?.parts.get(typeof event.content_index === 'number' ? event.content_index : 0));
        break;
      }
      case 'response.reasoning_summary_part.added': {
        const it = item();
        if (it?.index !== undefined && (it.source ?? 'summary') === 'summary' && it.summaries++ > 0) out.push({ type: 'reasoning_delta', index: it.index, text: '\n\n' });
        break;
      }
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta': {
        const it = item();
        const source = type === 'response.reasoning_text.delta' ? 'text' : 'summary';
        if (it?.index === undefined || !delta || (it.source ?? source) !== source) break;
        it.source = source;
        it.deltas = true;
        out.push({ type: 'reasoning_delta', index: it.index, text: delta });
        break;
      }
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta': {
        const it = item();
        if (it?.index === undefined || !delta || type === 'response.custom_tool_call_input.delta') break;
        it.deltas = true;
        out.push({ type: 'tool_arguments_delta', index: it.index, json: delta });
        break;
      }
      case 'response.output_item.done': {
        const it = item();
        const raw = isRecord(event.item) ? event.item : {};
        if (raw.type === 'reasoning' && it?.index !== undefined) {
          const text = it.deltas ? '' : reasoningText(raw, 'item');
          const encrypted = typeof raw.encrypted_content === 'string' && raw.encrypted_content ? raw.encrypted_content : undefined;
          if (text || encrypted) {
            const e: ReasoningDeltaWithEncrypted = { type: 'reasoning_delta', index: it.index, text, ...(encrypted ? { encrypted } : {}) };
            out.push(e);
          }
          finish(it.index);
        } else if ((raw.type === 'function_call' || raw.type === 'custom_tool_call') && it?.index !== undefined) {
          const args = raw.type === 'custom_tool_call' ? JSON.stringify({ input: raw.input ?? '' }) : typeof raw.arguments === 'string' ? raw.arguments : '';
          if (!it.deltas && args) out.push({ type: 'tool_arguments_delta', index: it.index, json: args });
          finish(it.index);
        } else if (raw.type === 'message' && it) {
          if (it.parts.size === 0) {
            // A server that sent the message whole: its parts as blocks now.
            const flags = { refusal: false };
            for (const part of outputParts(raw, 'item', flags)) {
              const index = begin({ type: 'text' });
              if (part.type === 'text' && part.text) out.push({ type: 'text_delta', index, text: part.text });
              finish(index);
            }
            sawRefusal ||= flags.refusal;
          }
          for (const index of it.parts.values()) finish(index);
        }
        break;
      }
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed': {
        const response = isRecord(event.response) ? event.response : {};
        const flags = { refusal: false };
        if (Array.isArray(response.output)) for (const raw of response.output) if (isRecord(raw) && raw.type === 'message') outputParts(raw, 'item', flags);
        for (const index of [...open]) finish(index);
        stopped = true;
        out.push({ type: 'stop', stopReason: stopReasonOf(response, sawToolCall, sawRefusal || flags.refusal), usage: usageOf(response.usage) });
        break;
      }
      case 'error': {
        const message = typeof event.message === 'string' ? event.message : isRecord(event.error) ? String(event.error.message) : data;
        throw new UpstreamError(`openai-responses stream error: ${message}`, 502, { body: data });
      }
      default:
        break;
    }
    return out;
  });
}

export const openaiResponsesOutbound = {
  api: 'openai-responses',
  buildRequest,
  parseResponse,
  createStreamParser,
} satisfies OutboundWire;
