// Gemini content parts <-> canonical content parts, for requests and responses alike.
//
// Reasoning needs care. Gemini's own reasoning state is a `thoughtSignature`, which sits on a
// thought part or, more often, on the part that follows the thinking (a functionCall, a text).
// Gemini CLI drops thought parts from its history and keeps only the other parts, with their
// signatures. So when the bridge renders reasoning for an agent, each reasoning part goes out
// twice: as a visible thought part, and packed (text, signature, encrypted data) into the
// `thoughtSignature` of the next non-thought part. Parsing unpacks it, so the reasoning of a
// non-Gemini model (an Anthropic signature, an OpenAI encrypted item) survives the agent's turn.
// A bare signature (empty text, nothing else: Gemini's own) travels unpacked, where Gemini puts it.
import { z } from 'zod';
import type { ContentPart } from '../canonical.ts';
import { array, check, isRecord, nonEmptyString, optional, optionalString, record, string, type Json } from './fields.ts';
import type { GeminiBlob, GeminiFileData, GeminiPart } from './gemini-common.ts';
import { WireError } from './wire-error.ts';

export type ReasoningPart = Extract<ContentPart, { type: 'reasoning' }>;
type ToolResultPart = Extract<ContentPart, { type: 'tool_result' }>;

// ---------------------------------------------------------------------------------------------
// Reasoning packed into a signature

/**
 * Gemini 3 refuses a model turn whose first function call has no signature; for history it did
 * not write, its documentation offers these placeholders. Sent upstream when a call has none;
 * read as no signature at all (they carry no reasoning).
 */
export const PLACEHOLDER_SIGNATURE = 'skip_thought_signature_validator';
const PLACEHOLDERS = new Set([PLACEHOLDER_SIGNATURE, 'context_engineering_is_the_way_to_go']);

/** A signature worth keeping: a string that is not a placeholder. */
export function realSignature(value: unknown): string | undefined {
  return typeof value === 'string' && !PLACEHOLDERS.has(value) ? value : undefined;
}

/** `.` and `:` never occur in base64, so no real signature starts with this. */
const PACKED = 'cagebench.reasoning:';

export function packReasoning(parts: readonly ReasoningPart[]): string {
  const plain = parts.map((p) => ({
    text: p.text,
    ...(p.signature !== undefined && { signature: p.signature }),
    ...(p.encrypted !== undefined && { encrypted: p.encrypted }),
    ...(p.redacted && { redacted: true }),
  }));
  return PACKED + Buffer.from(JSON.stringify(plain), 'utf8').toString('base64url');
}

/** The reasoning packed in a signature, or undefined for any other signature (Gemini's own). */
export function unpackReasoning(signature: string): ReasoningPart[] | undefined {
  if (!signature.startsWith(PACKED)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(signature.slice(PACKED.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((p) => isRecord(p) && typeof p.text === 'string')) return undefined;
  return (value as Json[]).map((p) => ({
    type: 'reasoning',
    text: p.text as string,
    ...(typeof p.signature === 'string' && { signature: p.signature }),
    ...(typeof p.encrypted === 'string' && { encrypted: p.encrypted }),
    ...(p.redacted === true && { redacted: true }),
  }));
}

/** Gemini's own reasoning state: a signature and nothing else. */
export function isBareSignature(p: ReasoningPart): p is ReasoningPart & { signature: string } {
  return p.text === '' && p.signature !== undefined && p.encrypted === undefined && !p.redacted;
}

const hasPayload = (p: ReasoningPart): boolean => p.text !== '' || p.signature !== undefined || p.encrypted !== undefined || p.redacted === true;

/**
 * Collects the reasoning since the last non-thought part and says which signature the next
 * one carries. `pack: false` (upstream to Gemini) keeps only bare signatures: Gemini can verify
 * nothing else.
 */
export class ReasoningCarry {
  private pending: ReasoningPart[] = [];
  constructor(private readonly pack: boolean) {}

  add(part: ReasoningPart): void {
    if (this.pack ? hasPayload(part) : isBareSignature(part)) this.pending.push(part);
  }

  /** The signature for the next non-thought part; clears what was pending. */
  take(): { thoughtSignature?: string } {
    const pending = this.pending;
    this.pending = [];
    const last = pending.at(-1);
    if (!last) return {};
    if (!this.pack || (pending.length === 1 && isBareSignature(last))) return last.signature === undefined ? {} : { thoughtSignature: last.signature };
    return { thoughtSignature: packReasoning(pending) };
  }

  /** At the end of a message: what no thought part showed rides on empty thought parts. */
  flush(): GeminiPart[] {
    const rest = this.pending.filter((p) => p.text === '');
    this.pending = [];
    return rest.map((p) => ({ text: '', thought: true, thoughtSignature: isBareSignature(p) ? p.signature : packReasoning([p]) }));
  }
}

/** A visible thought part for a reasoning part, or nothing when it has no text. */
export function thoughtPart(p: ReasoningPart): GeminiPart | undefined {
  return p.text === '' ? undefined : { text: p.text, thought: true, ...(p.signature !== undefined && { thoughtSignature: p.signature }) };
}

// ---------------------------------------------------------------------------------------------
// Canonical -> Gemini

/**
 * Tool arguments are JSON text in the canonical model and an object (`args`) in Gemini. Text
 * that is not a JSON object (a model's broken output) becomes `{}`: Gemini's args is a Struct
 * and cannot hold anything else.
 */
export function argumentsToArgs(text: string): Json {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

export function imageToPart(part: Extract<ContentPart, { type: 'image' }>): { inlineData: GeminiBlob } | { fileData: GeminiFileData } {
  if (part.data !== undefined) return { inlineData: { mimeType: part.mediaType ?? 'image/png', data: part.data } };
  const url = part.url ?? '';
  const dataUrl = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (dataUrl) return { inlineData: { mimeType: dataUrl[1]!, data: dataUrl[2]! } };
  return { fileData: { ...(part.mediaType !== undefined && { mimeType: part.mediaType }), fileUri: url } };
}

/**
 * A tool result's text goes in `response.output` (`response.error` when it is an error), the
 * way Gemini CLI writes them; its images go in `functionResponse.parts`.
 */
export function toolResultToPart(part: ToolResultPart, name: string): GeminiPart {
  const text = part.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
  const media = part.content.flatMap((c) => (c.type === 'image' ? [imageToPart(c)] : []));
  return {
    functionResponse: {
      id: part.callId,
      name,
      response: part.isError ? { error: text } : { output: text },
      ...(media.length > 0 && { parts: media }),
    },
  };
}

export interface RenderPartsOptions {
  /** Pack all reasoning into signatures (for agents), or keep only bare ones (for Gemini). */
  readonly pack: boolean;
  /** The tool name for a tool result (Gemini needs it). */
  readonly toolName: (part: ToolResultPart) => string;
}

export function renderParts(content: readonly ContentPart[], options: RenderPartsOptions): GeminiPart[] {
  const carry = new ReasoningCarry(options.pack);
  const out: GeminiPart[] = [];
  for (const part of content) {
    switch (part.type) {
      case 'reasoning': {
        // Upstream, reasoning Gemini cannot verify (encrypted, redacted) is not sent.
        if (!options.pack && (part.encrypted !== undefined || part.redacted)) break;
        const thought = thoughtPart(part);
        if (thought) out.push(thought);
        carry.add(part);
        break;
      }
      case 'text':
        // Gemini CLI counts a turn with an empty text part as invalid and drops it.
        if (part.text !== '') out.push({ text: part.text, ...carry.take() });
        break;
      case 'image':
        out.push({ ...imageToPart(part), ...carry.take() });
        break;
      case 'tool_call':
        out.push({ functionCall: { id: part.id, name: part.name, args: argumentsToArgs(part.arguments) }, ...carry.take() });
        break;
      case 'tool_result':
        out.push(toolResultToPart(part, options.toolName(part)));
        break;
    }
  }
  out.push(...carry.flush());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gemini -> canonical

/** Ids for function calls and responses, which Gemini may leave out. */
export interface CallIds {
  call(name: string, id: string | undefined): string;
  result(name: string, id: string | undefined): string;
}

/**
 * Ids for a whole conversation: a call without an id gets `call_<n>`, n counting every call in
 * order (so ids stay the same as the history grows); a response takes the id of the earliest
 * unanswered call with its id, else with its name.
 */
export function conversationIds(): CallIds {
  let count = 0;
  const open: { id: string; name: string }[] = [];
  const answer = (index: number): string => open.splice(index, 1)[0]!.id;
  return {
    call(name, id) {
      const callId = id ?? `call_${count}`;
      count++;
      open.push({ id: callId, name });
      return callId;
    },
    result(name, id) {
      const byId = id === undefined ? -1 : open.findIndex((c) => c.id === id);
      if (byId !== -1) return answer(byId);
      const byName = open.findIndex((c) => c.name === name);
      if (byName !== -1) return answer(byName);
      return id ?? `call_${count++}`;
    },
  };
}

/** Ids for one response: Gemini's when given, else `call_<responseId>_<n>`, unique across turns. */
export function responseIds(responseId: string): CallIds {
  let count = 0;
  return {
    call: (_name, id) => id ?? `call_${responseId}_${count++}`,
    result: (_name, id) => id ?? `call_${responseId}_${count++}`,
  };
}

export interface ReadPartsOptions {
  readonly path: string;
  readonly role: 'user' | 'model';
  readonly ids: CallIds;
  /** Where to list what was dropped. */
  readonly dropped: string[];
  /** 400 for a request, 502 for an upstream response. */
  readonly status: number;
  /** The index of the first part, for messages (a stream reads one part at a time). */
  readonly offset?: number;
}

const optionalRecord = optional(record);
const base64 = check(z.string(), 'a base64 string');

const IGNORED_PART_FIELDS = ['executableCode', 'codeExecutionResult', 'videoMetadata', 'toolCall', 'toolResponse'];

/** Gemini parts -> canonical parts, validating as it goes. */
export function readParts(parts: unknown, options: ReadPartsOptions): ContentPart[] {
  const { path, role, ids, dropped, status } = options;
  const list = array(parts, `${path}.parts`, status);
  const out: ContentPart[] = [];
  // Reasoning read from thought parts since the last other part: a packed signature on the
  // next part replaces it (same reasoning, with what a thought part cannot show).
  let thoughtsFrom = -1;
  for (const [i, value] of list.entries()) {
    const at = `${path}.parts[${i + (options.offset ?? 0)}]`;
    const raw = record(value, at, status);
    if (raw.thoughtSignature !== undefined) string(raw.thoughtSignature, `${at}.thoughtSignature`, status);
    if (raw.thought === true && raw.text !== undefined) string(raw.text, `${at}.text`, status);
    if (raw.thought === true && role === 'user') {
      dropped.push(`${at}: a thought part in a user turn`);
      continue;
    }
    let signature = realSignature(raw.thoughtSignature);
    if (signature !== undefined && role === 'user') {
      dropped.push(`${at}.thoughtSignature: a signature in a user turn`);
      signature = undefined;
    }

    if (raw.thought === true) {
      if (thoughtsFrom === -1) thoughtsFrom = out.length;
      const unpacked = signature === undefined ? undefined : unpackReasoning(signature);
      if (unpacked) out.push(...unpacked);
      else out.push({ type: 'reasoning', text: typeof raw.text === 'string' ? raw.text : '', ...(signature !== undefined && { signature }) });
      continue;
    }

    const converted = readPart(raw, at);
    if (signature !== undefined) {
      const unpacked = unpackReasoning(signature);
      if (!unpacked) out.push({ type: 'reasoning', text: '', signature });
      else if (thoughtsFrom === -1) out.push(...unpacked);
      else out.splice(thoughtsFrom, out.length - thoughtsFrom, ...unpacked);
    }
    thoughtsFrom = -1;
    out.push(...converted);
  }
  return out;

  function readPart(raw: Json, at: string): ContentPart[] {
    if (raw.functionCall !== undefined) {
      const call = record(raw.functionCall, `${at}.functionCall`, status);
      if (role !== 'model') throw new WireError(`${at}.functionCall must be in a "model" turn (it is in a "${role}" turn)`, status);
      const name = nonEmptyString(call.name, `${at}.functionCall.name`, status);
      const id = optionalString(call.id, `${at}.functionCall.id`, status) || undefined;
      const args = optionalRecord(call.args, `${at}.functionCall.args`, status);
      return [{ type: 'tool_call', id: ids.call(name, id), name, arguments: JSON.stringify(args ?? {}) }];
    }
    if (raw.functionResponse !== undefined) {
      const res = record(raw.functionResponse, `${at}.functionResponse`, status);
      if (role !== 'user') throw new WireError(`${at}.functionResponse must be in a "user" turn (it is in a "${role}" turn)`, status);
      const name = nonEmptyString(res.name, `${at}.functionResponse.name`, status);
      const id = optionalString(res.id, `${at}.functionResponse.id`, status) || undefined;
      const { text, isError } = responseText(optionalRecord(res.response, `${at}.functionResponse.response`, status) ?? {});
      const media = res.parts === undefined ? [] : readMedia(res.parts, `${at}.functionResponse.parts`);
      const content: ContentPart[] = [...(text === '' ? [] : [{ type: 'text' as const, text }]), ...media];
      return [{ type: 'tool_result', callId: ids.result(name, id), name, content, ...(isError && { isError: true }) }];
    }
    if (raw.inlineData !== undefined || raw.fileData !== undefined) return readMedia([raw], at, true);
    if (raw.text !== undefined) {
      const text = string(raw.text, `${at}.text`, status);
      return text === '' ? [] : [{ type: 'text', text }];
    }
    const ignored = IGNORED_PART_FIELDS.find((f) => raw[f] !== undefined);
    if (ignored) {
      dropped.push(`${at}.${ignored}`);
      return [];
    }
    // A part with only a signature (Gemini's end-of-turn marker) carries reasoning alone.
    if (raw.thoughtSignature !== undefined) return [];
    throw new WireError(`${at} must have one of text, inlineData, fileData, functionCall, functionResponse (got keys: ${Object.keys(raw).join(', ') || 'none'})`, status);
  }

  /** inlineData and fileData parts: images; other media types are dropped and listed. */
  function readMedia(items: unknown, at: string, single = false): ContentPart[] {
    return array(items, at, status).flatMap((value, j): ContentPart[] => {
      const p = single ? at : `${at}[${j}]`;
      const item = record(value, p, status);
      if (item.inlineData !== undefined) {
        const blob = record(item.inlineData, `${p}.inlineData`, status);
        const mimeType = nonEmptyString(blob.mimeType, `${p}.inlineData.mimeType`, status);
        const data = base64(blob.data, `${p}.inlineData.data`, status);
        if (!mimeType.startsWith('image/')) {
          dropped.push(`${p}.inlineData (${mimeType}: only images are carried)`);
          return [];
        }
        return [{ type: 'image', mediaType: mimeType, data }];
      }
      if (item.fileData !== undefined) {
        const file = record(item.fileData, `${p}.fileData`, status);
        const fileUri = nonEmptyString(file.fileUri, `${p}.fileData.fileUri`, status);
        const mimeType = optionalString(file.mimeType, `${p}.fileData.mimeType`, status) || undefined;
        if (mimeType !== undefined && !mimeType.startsWith('image/')) {
          dropped.push(`${p}.fileData (${mimeType}: only images are carried)`);
          return [];
        }
        return [{ type: 'image', ...(mimeType !== undefined && { mediaType: mimeType }), url: fileUri }];
      }
      dropped.push(`${p}: a part with neither inlineData nor fileData`);
      return [];
    });
  }
}

/**
 * A function response's text: `{output}` or `{error}` (how Gemini CLI writes them) gives that
 * value (an error marks the result as one); any other object is sent as its JSON.
 */
function responseText(response: Json): { text: string; isError: boolean } {
  const keys = Object.keys(response);
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only === 'output' || only === 'error') {
    const value = response[only];
    return { text: typeof value === 'string' ? value : JSON.stringify(value), isError: only === 'error' };
  }
  return { text: keys.length === 0 ? '' : JSON.stringify(response), isError: false };
}
