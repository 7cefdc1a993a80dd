// What the two OpenAI wire APIs (Chat Completions and Responses) share: the error body,
// number fields, data URLs, message content, tool results, reasoning effort, the canonical
// request an inbound wire builds, usage numbers and upstream body errors.
import type { ContentPart, GenerationConfig, Message, ModelRequest, ToolChoice, ToolSpec, Usage } from '../canonical.ts';
import { array, atLeast, invalid, isRecord, optional, optionalBoolean, record, type Json } from './fields.ts';
import { WireError } from './wire-error.ts';

/** Token counts and `n`. */
export const optionalCount = optional(atLeast(1));
/** Temperature and top_p. */
export const optionalNonNegative = optional(atLeast(0));

/** A tool's JSON Schema; OpenAI lets function tools omit it, meaning "no arguments". */
export function parameters(value: unknown, path: string): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return { type: 'object', properties: {} };
  return record(value, path);
}

/** `data:image/png;base64,AAAA` -> base64 image; any other URL stays a URL. */
export function imageFromUrl(url: string): ContentPart & { type: 'image' } {
  const match = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s.exec(url);
  if (match) return { type: 'image', mediaType: match[1]!, data: match[3]! };
  return { type: 'image', url };
}

export function imageToUrl(part: ContentPart & { type: 'image' }): string {
  if (part.data !== undefined) return `data:${part.mediaType ?? 'image/png'};base64,${part.data}`;
  return part.url ?? '';
}

/** Message content: a string (empty: no parts) or an array of parts, each read by `read` with its path. */
export function contentParts(content: unknown, path: string, read: (part: Json, at: string) => ContentPart[]): ContentPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return array(content, path).flatMap((raw, i) => {
    const at = `${path}[${i}]`;
    return read(record(raw, at), at);
  });
}

/** A message being built; its content still grows. */
export type DraftMessage = { role: Message['role']; content: ContentPart[] };

/** A tool result joins the last user message if that holds only tool results, else starts one. */
export function pushToolResult(messages: DraftMessage[], part: ContentPart): void {
  const last = messages.at(-1);
  if (last?.role === 'user' && last.content.length > 0 && !last.content.some((p) => p.type !== 'tool_result')) last.content.push(part);
  else messages.push({ role: 'user', content: [part] });
}

type Effort = NonNullable<NonNullable<GenerationConfig['reasoning']>['effort']>;
const EFFORTS: readonly string[] = ['minimal', 'low', 'medium', 'high'];

/**
 * An OpenAI reasoning effort in canonical terms. `none` (reasoning off) and `xhigh` have no
 * canonical value: `none` is dropped, `xhigh` becomes `high`; both are noted in `dropped`.
 */
export function parseEffort(value: unknown, path: string, dropped: string[]): Effort | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && EFFORTS.includes(value)) return value as Effort;
  if (value === 'none') {
    dropped.push(`${path}: "none" (reasoning off) has no canonical value; the provider default applies`);
    return undefined;
  }
  if (value === 'xhigh') {
    dropped.push(`${path}: "xhigh" sent as "high"`);
    return 'high';
  }
  throw invalid(path, 'one of none, minimal, low, medium, high, xhigh', value);
}

/** What an inbound wire parsed from a request body in its own API's terms. */
export interface OpenaiRequestParts {
  readonly model: string;
  readonly system: readonly string[];
  readonly messages: readonly Message[];
  readonly tools: readonly ToolSpec[];
  readonly toolChoice: ToolChoice | undefined;
  readonly maxTokens: number | undefined;
  readonly stop?: readonly string[] | undefined;
  readonly effort: Effort | undefined;
  readonly dropped: readonly string[];
}

/**
 * The canonical request from what an inbound wire parsed. `temperature`, `top_p` and `stream`,
 * which both APIs name alike, are read from the body here (after everything else); what is
 * unset is left out.
 */
export function openaiRequest(body: Json, context: { readonly stream?: boolean }, parts: OpenaiRequestParts): ModelRequest {
  const temperature = optionalNonNegative(body.temperature, 'temperature');
  const topP = optionalNonNegative(body.top_p, 'top_p');
  const { maxTokens, stop, effort, toolChoice, dropped } = parts;
  return {
    model: parts.model,
    ...(parts.system.length ? { system: parts.system.join('\n\n') } : {}),
    messages: parts.messages,
    tools: parts.tools,
    ...(toolChoice ? { toolChoice } : {}),
    config: {
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(temperature === undefined ? {} : { temperature }),
      ...(topP === undefined ? {} : { topP }),
      ...(stop?.length ? { stop } : {}),
      ...(effort ? { reasoning: { effort } } : {}),
    },
    stream: optionalBoolean(body.stream, 'stream') ?? context.stream ?? false,
    ...(dropped.length ? { dropped } : {}),
  };
}

/** Canonical reasoning settings as an OpenAI effort; a thinking budget picks the nearest level. */
export function effortOf(config: GenerationConfig): Effort | undefined {
  const reasoning = config.reasoning;
  if (!reasoning) return undefined;
  if (reasoning.effort) return reasoning.effort;
  if (reasoning.budgetTokens === undefined) return undefined;
  return reasoning.budgetTokens <= 2048 ? 'low' : reasoning.budgetTokens <= 16_384 ? 'medium' : 'high';
}

/** Canonical usage from OpenAI's counts (prompt tokens include the cached ones, as canonical). */
export function usageFrom(input: unknown, output: unknown, cached: unknown, reasoning: unknown): Usage {
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { inputTokens: n(input), outputTokens: n(output), cacheReadTokens: n(cached), cacheWriteTokens: 0, reasoningTokens: n(reasoning) };
}

/** The error body both OpenAI APIs use, with the type and code OpenAI gives each status. */
export function renderOpenaiError(status: number, message: string): { error: { message: string; type: string; param: null; code: string | null } } {
  const [type, code] =
    status === 401
      ? ['authentication_error', 'invalid_api_key']
      : status === 403
        ? ['permission_error', null]
        : status === 404
          ? ['not_found_error', null]
          : status === 429
            ? ['rate_limit_error', 'rate_limit_exceeded']
            : status >= 500
              ? ['server_error', null]
              : ['invalid_request_error', null];
  return { error: { message, type, param: null, code } };
}

/** Text parts of a canonical message, each as it is. */
export function texts(content: readonly ContentPart[]): string[] {
  return content.flatMap((p) => (p.type === 'text' ? [p.text] : []));
}

/** Upstream bodies that do not parse are the provider's fault: a 502 naming what, not a 400. */
export function fromUpstream<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof WireError && err.status === 400) throw new WireError(`${what}: ${err.message}`, 502);
    throw err;
  }
}

/** A JSON body from an SSE `data:` field, or a 502 naming the event. */
export function parseJsonData(data: string, what: string): Json {
  try {
    const value: unknown = JSON.parse(data);
    if (isRecord(value)) return value;
  } catch {
    // reported below
  }
  throw new WireError(`${what}: the upstream sent an event that is not a JSON object: ${data.slice(0, 200)}`, 502);
}
