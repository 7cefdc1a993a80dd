// OpenAI Chat Completions (`POST /v1/chat/completions`), both ways: OpenCode and the
// openai-compatible agents speak it inbound (openai-chat-inbound.ts); openai-compatible
// providers speak it upstream (openai-chat-outbound.ts). Reasoning text rides in
// `reasoning_content`, the field openai-compatible servers use (the official API carries no
// reasoning); the official SDK ignores it.
//
// This file holds what both sides read the same way: an assistant message.
import type { ContentPart } from '../canonical.ts';
import { array, invalid, isRecord, nonEmptyString, optionalString, record, string, type Json } from './fields.ts';

/** An assistant message's content: reasoning, text and refusals, tool calls (in that order). */
export function assistantContent(m: Json, path: string, dropped: string[]): ContentPart[] {
  const content: ContentPart[] = [];
  const reasoning = m.reasoning_content ?? m.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') content.push({ type: 'reasoning', text: reasoning });
  if (typeof m.content === 'string') {
    if (m.content !== '') content.push({ type: 'text', text: m.content });
  } else if (m.content !== null && m.content !== undefined) {
    array(m.content, `${path}.content`).forEach((raw, i) => {
      const at = `${path}.content[${i}]`;
      const part = record(raw, at);
      if (part.type === 'text') content.push({ type: 'text', text: string(part.text, `${at}.text`) });
      else if (part.type === 'refusal') content.push({ type: 'text', text: string(part.refusal, `${at}.refusal`) });
      else throw invalid(`${at}.type`, 'one of text, refusal', part.type);
    });
  }
  const refusal = optionalString(m.refusal, `${path}.refusal`);
  if (refusal) content.push({ type: 'text', text: refusal });
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    array(m.tool_calls, `${path}.tool_calls`).forEach((raw, j) => {
      const at = `${path}.tool_calls[${j}]`;
      const call = record(raw, at);
      if (call.type !== undefined && call.type !== 'function') {
        dropped.push(`${at}: a ${String(call.type)} tool call is not supported`);
        return;
      }
      const fn = record(call.function, `${at}.function`);
      const args = fn.arguments === undefined || fn.arguments === null ? '' : isRecord(fn.arguments) ? JSON.stringify(fn.arguments) : string(fn.arguments, `${at}.function.arguments`);
      content.push({ type: 'tool_call', id: nonEmptyString(call.id, `${at}.id`), name: nonEmptyString(fn.name, `${at}.function.name`), arguments: args });
    });
  }
  return content;
}

/** `{[key]: value}` when the value is defined, else nothing to spread. */
export function ifDefined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
