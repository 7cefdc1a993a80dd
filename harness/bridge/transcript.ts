// A compact transcript of each model call for its `model.call` event, enough to rebuild the
// conversation (harness/log/trajectory.ts) without logging whole bodies: only the input that
// is new since the session's earlier calls, and the response's text, reasoning and tool calls.
// Agents resend their whole history on every call; recording only what follows the last
// assistant message (and each tool result once) keeps every event small.
import { createHash } from 'node:crypto';
import type { ContentPart, ModelRequest, StreamEvent } from '../models/canonical.ts';
import type { ModelTranscriptRecord } from '../log/schema.ts';

/** Longest text kept per field (a tool result, a message, the response's text). */
export const TRANSCRIPT_TEXT_LIMIT = 16 * 1024;
const SYSTEM_LIMIT = 8 * 1024;

type Input = ModelTranscriptRecord['input'];
type Output = ModelTranscriptRecord['output'];
type ToolCall = NonNullable<Output['toolCalls']>[number];

export function clip(text: string, limit = TRANSCRIPT_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n[cagebench: truncated, ${text.length - limit} more characters]`;
}

function textOf(parts: readonly ContentPart[]): string {
  return parts
    .map((p) => (p.type === 'text' ? p.text : p.type === 'image' ? '[image]' : p.type === 'tool_result' ? textOf(p.content) : ''))
    .filter((t) => t !== '')
    .join('\n');
}

/**
 * The input of `request` not recorded before in this session. `seen` is the session's memory:
 * keys of system prompts, user messages (by position and text, so an identical retry is not
 * recorded twice but the same prompt sent again later is) and tool results (by call id).
 */
export function newInput(request: ModelRequest, seen: Set<string>): Input {
  const fresh = (key: string): boolean => {
    const digest = createHash('sha256').update(key).digest('base64url');
    return !seen.has(digest) && Boolean(seen.add(digest));
  };
  const system = request.system && fresh(`system:${request.system}`) ? clip(request.system, SYSTEM_LIMIT) : undefined;
  const lastAssistant = request.messages.findLastIndex((m) => m.role === 'assistant');
  const user: string[] = [];
  const context: string[] = [];
  const toolResults: { callId: string; content: string; isError?: boolean }[] = [];
  for (const [i, message] of request.messages.entries()) {
    if (i <= lastAssistant || message.role !== 'user') continue;
    const results = message.content.filter((p) => p.type === 'tool_result');
    for (const r of results) {
      if (fresh(`result:${r.callId}`)) toolResults.push({ callId: r.callId, content: clip(textOf(r.content)), ...(r.isError ? { isError: true } : {}) });
    }
    const text = textOf(message.content.filter((p) => p.type !== 'tool_result'));
    if (!text || !fresh(`user:${i}:${text}`)) continue;
    (results.length ? context : user).push(clip(text));
  }
  return {
    ...(system === undefined ? {} : { system }),
    ...(user.length ? { user } : {}),
    ...(toolResults.length ? { toolResults } : {}),
    ...(context.length ? { context } : {}),
  };
}

/** Folds a response's canonical events, as they pass, into its transcript output. */
export class OutputRecorder {
  private readonly blocks: ({ kind: 'text' | 'reasoning'; text: string } | { kind: 'tool'; id: string; name: string; json: string })[] = [];

  add(event: StreamEvent): void {
    switch (event.type) {
      case 'block_start':
        this.blocks[event.index] = event.block.type === 'tool_call' ? { kind: 'tool', id: event.block.id, name: event.block.name, json: '' } : { kind: event.block.type, text: '' };
        break;
      case 'text_delta':
      case 'reasoning_delta': {
        const b = this.blocks[event.index];
        if (b && b.kind !== 'tool') b.text += event.text;
        break;
      }
      case 'tool_arguments_delta': {
        const b = this.blocks[event.index];
        if (b?.kind === 'tool') b.json += event.json;
        break;
      }
    }
  }

  output(): Output {
    const blocks = this.blocks.filter(Boolean);
    const join = (kind: 'text' | 'reasoning'): string =>
      blocks
        .flatMap((b) => (b.kind === kind ? [b.text] : []))
        .filter((t) => t !== '')
        .join('\n');
    const text = join('text');
    const reasoning = join('reasoning');
    const toolCalls = blocks.flatMap((b): ToolCall[] => (b.kind === 'tool' ? [{ id: b.id, name: b.name, arguments: argumentsOf(b.json) }] : []));
    return {
      ...(text ? { text: clip(text) } : {}),
      ...(reasoning ? { reasoning: clip(reasoning) } : {}),
      ...(toolCalls.length ? { toolCalls } : {}),
    };
  }
}

/** A tool call's arguments as an object, its long strings cut; `{ raw }` when not a JSON object. */
function argumentsOf(json: string): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = json.trim() === '' ? {} : JSON.parse(json);
  } catch {
    return { raw: clip(json) };
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (clipStrings(value) as Record<string, unknown>) : { raw: clip(json) };
}

function clipStrings(value: unknown): unknown {
  if (typeof value === 'string') return clip(value);
  if (Array.isArray(value)) return value.map(clipStrings);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clipStrings(v)]));
  return value;
}
