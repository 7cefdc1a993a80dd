// OpenAI Responses (`POST /v1/responses`), both ways: Codex speaks only this API inbound
// (openai-responses-inbound.ts); the openai provider can speak it upstream
// (openai-responses-outbound.ts).
//
// Namespace tools: Codex groups some functions under `{type: "namespace", name, tools}` and
// dispatches a call on its (namespace, name) pair. Canonical tools are flat, so each child
// becomes one tool named the way Codex flattens names itself (`ToolName::canonical_flat_name`:
// `<namespace>__<name>`, stray underscores at the join trimmed). The inbound wire remembers
// every flattened name it has parsed and splits it back into `namespace` + `name` when a
// model calls it, so Codex finds its tool; other names are never split.
//
// Encrypted reasoning: whole responses carry it in the canonical reasoning part's `encrypted`.
// The canonical stream has no field for it yet, so stream events carry it on the reasoning
// delta as `encrypted` (see `ReasoningDeltaWithEncrypted`), which `collect()` does not keep.
//
// This file holds what both sides read and write the same way: message content, function
// outputs, reasoning text, namespaced call names, usage and stop reasons.
import type { ContentPart, StopReason, StreamEvent, Usage } from '../canonical.ts';
import { array, invalid, isRecord, nonEmptyString, optionalString, record, string, type Json } from './fields.ts';
import { contentParts, imageFromUrl, usageFrom } from './openai-common.ts';

/** A canonical reasoning delta that also carries OpenAI's `encrypted_content`. */
export type ReasoningDeltaWithEncrypted = Extract<StreamEvent, { type: 'reasoning_delta' }> & { readonly encrypted?: string };

/** Codex's flat name for a namespaced tool: `multi_agent_v1` + `spawn_agent` -> `multi_agent_v1__spawn_agent`. */
export function flatToolName(namespace: string, name: string): string {
  return `${namespace.replace(/_+$/, '')}__${name.replace(/^_+/, '')}`;
}

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

/** Message content: a string, or input_text / output_text / refusal / input_image parts. */
export function messageContent(content: unknown, path: string, dropped: string[]): ContentPart[] {
  return contentParts(content, path, (part, at) => {
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return [{ type: 'text', text: string(part.text, `${at}.text`) }];
      case 'refusal':
        return [{ type: 'text', text: string(part.refusal, `${at}.refusal`) }];
      case 'input_image': {
        if (typeof part.image_url === 'string' && part.image_url !== '') return [imageFromUrl(part.image_url)];
        dropped.push(`${at}: an image by file_id is not supported`);
        return [];
      }
      case 'input_file':
      case 'input_audio':
        dropped.push(`${at}: ${part.type} parts are not supported`);
        return [];
      default:
        throw invalid(`${at}.type`, 'one of input_text, output_text, refusal, input_image, input_file', part.type);
    }
  });
}

export function toolOutput(output: unknown, path: string, dropped: string[]): ContentPart[] {
  if (typeof output === 'string') return output === '' ? [] : [{ type: 'text', text: output }];
  return messageContent(output, path, dropped);
}

/** The summary texts (or, without a summary, the raw reasoning texts), one paragraph each. */
export function reasoningText(item: Json, path: string): string {
  const pieces = (value: unknown, key: string): string[] =>
    value === undefined || value === null ? [] : array(value, `${path}.${key}`).map((raw, i) => string(record(raw, `${path}.${key}[${i}]`).text, `${path}.${key}[${i}].text`));
  const summary = pieces(item.summary, 'summary');
  return (summary.length ? summary : pieces(item.content, 'content')).join('\n\n');
}

export function responsesUsage(usage: Usage): Json {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

export function usageOf(u: unknown): Usage {
  const usage = isRecord(u) ? u : {};
  const input = isRecord(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const output = isRecord(usage.output_tokens_details) ? usage.output_tokens_details : {};
  return usageFrom(usage.input_tokens, usage.output_tokens, input.cached_tokens, output.reasoning_tokens);
}

/** The stop reason a final response object states, given what its output held. */
export function stopReasonOf(response: Json, sawToolCall: boolean, sawRefusal: boolean): StopReason {
  const incomplete = isRecord(response.incomplete_details) ? response.incomplete_details.reason : undefined;
  if (response.status === 'failed') return 'error';
  if (response.status === 'incomplete') return incomplete === 'content_filter' ? 'refusal' : 'max_tokens';
  if (sawRefusal) return 'refusal';
  if (sawToolCall) return 'tool_use';
  return 'end_turn';
}

export function callName(item: Json, path: string): string {
  const name = nonEmptyString(item.name, `${path}.name`);
  const namespace = optionalString(item.namespace, `${path}.namespace`);
  return namespace ? flatToolName(namespace, name) : name;
}

/** An output item as canonical parts; `refusal` is set when a message held a refusal part. */
export function outputParts(item: Json, path: string, flags: { refusal: boolean }): ContentPart[] {
  switch (item.type) {
    case 'reasoning': {
      const encrypted = optionalString(item.encrypted_content, `${path}.encrypted_content`);
      return [{ type: 'reasoning', text: reasoningText(item, path), ...(encrypted ? { encrypted } : {}) }];
    }
    case 'message':
      return array(item.content, `${path}.content`).flatMap((raw, i): ContentPart[] => {
        const part = record(raw, `${path}.content[${i}]`);
        if (part.type === 'output_text') return [{ type: 'text', text: string(part.text, `${path}.content[${i}].text`) }];
        if (part.type === 'refusal') {
          flags.refusal = true;
          return [{ type: 'text', text: string(part.refusal, `${path}.content[${i}].refusal`) }];
        }
        return [];
      });
    case 'function_call':
      return [{ type: 'tool_call', id: nonEmptyString(item.call_id, `${path}.call_id`), name: callName(item, path), arguments: string(item.arguments ?? '', `${path}.arguments`) }];
    case 'custom_tool_call':
      return [{ type: 'tool_call', id: nonEmptyString(item.call_id, `${path}.call_id`), name: callName(item, path), arguments: JSON.stringify({ input: item.input ?? '' }) }];
    default:
      return [];
  }
}
