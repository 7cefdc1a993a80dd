// The Gemini API spoken upstream: the path for a model, build GenerateContentRequests, parse
// responses and SSE streams. The decisions both sides make are in gemini-common.ts.
import { randomUUID } from 'node:crypto';
import { ZERO_USAGE, type ContentPart, type ModelRequest, type ModelResponse, type StopReason, type StreamEvent, type Usage } from '../canonical.ts';
import type { OutboundWire, SseEvent } from '../wire.ts';
import { describe, invalid, isRecord } from './fields.ts';
import type { GeminiContent, GeminiRequest } from './gemini-common.ts';
import { PLACEHOLDER_SIGNATURE, readParts, realSignature, renderParts, responseIds, unpackReasoning, type CallIds } from './gemini-parts.ts';
import { WireError } from './wire-error.ts';

/** The path for a model: `/v1beta/models/<model>:generateContent`, or the SSE stream. */
export function geminiPath(model: string, stream: boolean): string {
  const name = encodeURIComponent(model.replace(/^models\//, ''));
  return `/v1beta/models/${name}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
}

// ---------------------------------------------------------------------------------------------
// Build requests

function buildRequest(request: ModelRequest): GeminiRequest {
  const names = new Map<string, string>();
  for (const m of request.messages) for (const p of m.content) if (p.type === 'tool_call') names.set(p.id, p.name);
  const toolName = (p: Extract<ContentPart, { type: 'tool_result' }>): string => {
    const name = p.name ?? names.get(p.callId);
    if (name === undefined) throw new WireError(`the tool result for call "${p.callId}" has no tool name and answers no earlier tool call; Gemini needs the name`);
    return name;
  };
  const contents = request.messages
    .map((m): GeminiContent => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: renderParts(m.content, { pack: false, toolName }) }))
    .filter((c) => c.parts.length > 0);
  for (const c of contents) {
    const firstCall = c.role === 'model' ? c.parts.find((p) => p.functionCall) : undefined;
    if (firstCall && firstCall.thoughtSignature === undefined) firstCall.thoughtSignature = PLACEHOLDER_SIGNATURE;
  }

  const body: GeminiRequest = { contents };
  if (request.system !== undefined && request.system !== '') body.systemInstruction = { parts: [{ text: request.system }] };
  if (request.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((t) => ({
          name: t.name,
          ...(t.description !== undefined && { description: t.description }),
          parametersJsonSchema: t.parameters,
        })),
      },
    ];
  }
  const choice = request.toolChoice;
  if (choice) {
    body.toolConfig = {
      functionCallingConfig:
        choice.type === 'tool' ? { mode: 'ANY', allowedFunctionNames: [choice.name] } : { mode: choice.type === 'required' ? 'ANY' : choice.type === 'none' ? 'NONE' : 'AUTO' },
    };
  }
  const { maxTokens, temperature, topP, stop, reasoning } = request.config;
  const generation: NonNullable<GeminiRequest['generationConfig']> = {
    ...(maxTokens !== undefined && { maxOutputTokens: maxTokens }),
    ...(temperature !== undefined && { temperature }),
    ...(topP !== undefined && { topP }),
    ...(stop !== undefined && stop.length > 0 && { stopSequences: [...stop] }),
  };
  // Gemini refuses a budget and a level together: the budget, being exact, wins.
  if (reasoning?.budgetTokens !== undefined) generation.thinkingConfig = { thinkingBudget: reasoning.budgetTokens, includeThoughts: true };
  else if (reasoning?.effort !== undefined) generation.thinkingConfig = { thinkingLevel: reasoning.effort.toUpperCase(), includeThoughts: true };
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  return body;
}

// ---------------------------------------------------------------------------------------------
// Parse what Gemini answers

function parseUsage(value: unknown): Usage {
  if (!isRecord(value)) return ZERO_USAGE;
  const count = (key: string): number => {
    const n = value[key];
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
  };
  const thoughts = count('thoughtsTokenCount');
  return {
    // Tokens of built-in tool prompts (search results) are input Gemini counts apart.
    inputTokens: count('promptTokenCount') + count('toolUsePromptTokenCount'),
    outputTokens: count('candidatesTokenCount') + thoughts,
    cacheReadTokens: count('cachedContentTokenCount'),
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  };
}

/** Content filters: the model was stopped, or the prompt blocked, for what it would say. */
const REFUSALS = new Set(['SAFETY', 'RECITATION', 'LANGUAGE', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);

/** STOP is tool_use when a function call came; MALFORMED_FUNCTION_CALL, OTHER and the rest are errors. */
function stopReasonOf(finishReason: string | undefined, sawToolCall: boolean): StopReason {
  if (finishReason === undefined || finishReason === 'STOP' || finishReason === 'FINISH_REASON_UNSPECIFIED') return sawToolCall ? 'tool_use' : 'end_turn';
  if (finishReason === 'MAX_TOKENS') return 'max_tokens';
  return REFUSALS.has(finishReason) ? 'refusal' : 'error';
}

/** A prompt Gemini blocked: no candidates, a `promptFeedback.blockReason`. */
function isBlockedPrompt(body: Record<string, unknown>): boolean {
  return isRecord(body.promptFeedback) && typeof body.promptFeedback.blockReason === 'string';
}

/** The first candidate; a body that is not a GenerateContentResponse is a 502. */
function parseResponse(body: unknown): ModelResponse {
  if (!isRecord(body)) throw invalid('the Gemini response', 'a JSON object', body, 502);
  const id = typeof body.responseId === 'string' && body.responseId !== '' ? body.responseId : `gemini-${randomUUID()}`;
  const model = typeof body.modelVersion === 'string' ? body.modelVersion : '';
  const usage = parseUsage(body.usageMetadata);
  if (body.candidates !== undefined && !Array.isArray(body.candidates)) throw invalid('candidates', 'an array', body.candidates, 502);
  const candidate: unknown = body.candidates?.[0];
  if (candidate === undefined) return { id, model, content: [], stopReason: isBlockedPrompt(body) ? 'refusal' : 'error', usage };
  if (!isRecord(candidate)) throw invalid('candidates[0]', 'an object', candidate, 502);
  const parts = isRecord(candidate.content) && candidate.content.parts !== undefined ? candidate.content.parts : [];
  const content = readParts(parts, { path: 'candidates[0].content', role: 'model', ids: responseIds(id), dropped: [], status: 502 });
  const finishReason = typeof candidate.finishReason === 'string' ? candidate.finishReason : undefined;
  return { id, model, content, stopReason: stopReasonOf(finishReason, content.some((p) => p.type === 'tool_call')), usage };
}

// Streams (`:streamGenerateContent?alt=sse`): every SSE event is a whole
// GenerateContentResponse with no event name. Text and thoughts arrive piecewise; a function
// call arrives whole (Gemini does not stream arguments); the last chunk has the finishReason and
// the usage.

/**
 * Gemini chunks -> canonical events. Consecutive text parts make one text block, consecutive
 * thought parts one reasoning block (until one carries a signature); each function call is a
 * block of its own; a signature on any other part becomes a reasoning block of its own before
 * it. The chunk with a finishReason closes everything and stops (Gemini sends the usage with
 * it); anything after is ignored. An `{error}` chunk (an error after the headers) stops with
 * stopReason "error".
 */
function createStreamParser(): (event: SseEvent) => readonly StreamEvent[] {
  let ids: CallIds | undefined;
  let stopped = false;
  let usage: Usage = ZERO_USAGE;
  let next = 0;
  let open: { index: number; type: 'text' | 'reasoning'; signed: boolean } | undefined;
  let thoughtsSincePart = 0;
  let sawToolCall = false;

  const close = (out: StreamEvent[]): void => {
    if (open) out.push({ type: 'block_end', index: open.index });
    open = undefined;
  };
  const openBlock = (type: 'text' | 'reasoning', out: StreamEvent[]): { index: number; type: 'text' | 'reasoning'; signed: boolean } => {
    close(out);
    open = { index: next++, type, signed: false };
    out.push({ type: 'block_start', index: open.index, block: { type } });
    return open;
  };
  const wholeReasoning = (parts: readonly ContentPart[], out: StreamEvent[]): void => {
    close(out);
    for (const p of parts) {
      if (p.type !== 'reasoning') continue;
      const index = next++;
      out.push({ type: 'block_start', index, block: { type: 'reasoning' } });
      out.push({ type: 'reasoning_delta', index, text: p.text, ...(p.signature !== undefined && { signature: p.signature }) });
      out.push({ type: 'block_end', index });
    }
  };
  const stop = (out: StreamEvent[], stopReason: StopReason): void => {
    close(out);
    stopped = true;
    out.push({ type: 'stop', stopReason, usage });
  };

  function part(raw: unknown, index: number, out: StreamEvent[]): void {
    const path = `candidates[0].content.parts[${index}]`;
    if (!isRecord(raw)) throw invalid(path, 'an object', raw, 502);
    const { thought, thoughtSignature, ...rest } = raw;
    if (thoughtSignature !== undefined && typeof thoughtSignature !== 'string') throw invalid(`${path}.thoughtSignature`, 'a string', thoughtSignature, 502);
    const signature = realSignature(thoughtSignature);
    if (thought === true) {
      const unpacked = signature === undefined ? undefined : unpackReasoning(signature);
      if (unpacked) {
        wholeReasoning(unpacked, out);
        thoughtsSincePart += unpacked.length;
        return;
      }
      if (rest.text !== undefined && typeof rest.text !== 'string') throw invalid(`${path}.text`, 'a string', rest.text, 502);
      const text = rest.text ?? '';
      let block = open;
      if (block?.type !== 'reasoning' || block.signed) {
        block = openBlock('reasoning', out);
        thoughtsSincePart++;
      }
      if (text !== '' || signature !== undefined) out.push({ type: 'reasoning_delta', index: block.index, text, ...(signature !== undefined && { signature }) });
      if (signature !== undefined) block.signed = true;
      return;
    }
    if (signature !== undefined) {
      const unpacked = unpackReasoning(signature);
      if (!unpacked) wholeReasoning([{ type: 'reasoning', text: '', signature }], out);
      // Packed reasoning after thought parts repeats what they streamed.
      else if (thoughtsSincePart === 0) wholeReasoning(unpacked, out);
    }
    thoughtsSincePart = 0;
    if (Object.keys(rest).length === 0) return; // a signature alone
    for (const p of readParts([rest], { path: 'candidates[0].content', offset: index, role: 'model', ids: ids!, dropped: [], status: 502 })) {
      if (p.type === 'text') {
        const block = open?.type === 'text' ? open : openBlock('text', out);
        out.push({ type: 'text_delta', index: block.index, text: p.text });
      } else if (p.type === 'tool_call') {
        close(out);
        const at = next++;
        sawToolCall = true;
        out.push({ type: 'block_start', index: at, block: { type: 'tool_call', id: p.id, name: p.name } });
        out.push({ type: 'tool_arguments_delta', index: at, json: p.arguments });
        out.push({ type: 'block_end', index: at });
      }
      // Images and the rest have no place in a canonical stream.
    }
  }

  return (sse) => {
    if (stopped) return [];
    const data = sse.data.trim();
    if (data === '' || data === '[DONE]') return [];
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new WireError(`a Gemini stream event is not JSON (got ${describe(data)})`, 502);
    }
    if (!isRecord(chunk)) throw invalid('a Gemini stream event', 'a JSON object', chunk, 502);
    const out: StreamEvent[] = [];
    if (!ids) {
      const id = typeof chunk.responseId === 'string' && chunk.responseId !== '' ? chunk.responseId : `gemini-${randomUUID()}`;
      ids = responseIds(id);
      out.push({ type: 'start', id, model: typeof chunk.modelVersion === 'string' ? chunk.modelVersion : '' });
    }
    if (chunk.error !== undefined) {
      stop(out, 'error');
      return out;
    }
    if (chunk.usageMetadata !== undefined) usage = parseUsage(chunk.usageMetadata);
    if (chunk.candidates !== undefined && !Array.isArray(chunk.candidates)) throw invalid('candidates', 'an array', chunk.candidates, 502);
    const candidate: unknown = chunk.candidates?.[0];
    if (candidate === undefined) {
      if (isBlockedPrompt(chunk)) stop(out, 'refusal');
      return out;
    }
    if (!isRecord(candidate)) throw invalid('candidates[0]', 'an object', candidate, 502);
    const parts = isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const [i, raw] of parts.entries()) part(raw, i, out);
    if (typeof candidate.finishReason === 'string') stop(out, stopReasonOf(candidate.finishReason, sawToolCall));
    return out;
  };
}

export const geminiOutbound: OutboundWire = {
  api: 'gemini',
  /** The model goes in the path (`geminiPath`), not the body. */
  buildRequest: (request) => buildRequest(request),
  parseResponse,
  createStreamParser,
};
