// The wire formats: the contract each implements, in both directions, and the four of them.
// - inbound (the bridge serves it to agents): parse a request, render a response, render a
//   stream of events as that API's SSE, render an error in that API's shape;
// - outbound (a provider speaks it upstream): build a request, parse a response, parse a
//   stream of that API's SSE events into canonical events.
// Each API has one file per side in wire/: `<api>-inbound.ts` and `<api>-outbound.ts`, and
// `<api>-common.ts` for what both sides share. Every parser checks fields with wire/fields.ts.
import type { ModelRequest, ModelResponse, StreamEvent } from './canonical.ts';

export { WireError } from './wire/wire-error.ts';

export { anthropicInbound } from './wire/anthropic-inbound.ts';
export { anthropicOutbound } from './wire/anthropic-outbound.ts';
export { openaiChatInbound } from './wire/openai-chat-inbound.ts';
export { openaiChatOutbound } from './wire/openai-chat-outbound.ts';
export { openaiResponsesInbound } from './wire/openai-responses-inbound.ts';
export { openaiResponsesOutbound } from './wire/openai-responses-outbound.ts';
export { geminiInbound } from './wire/gemini-inbound.ts';
export { geminiOutbound } from './wire/gemini-outbound.ts';

export type WireApi = 'anthropic' | 'openai-chat' | 'openai-responses' | 'gemini';

/** One server-sent event as written on the wire. */
export interface SseEvent {
  readonly event?: string;
  readonly data: string;
}

export interface InboundWire {
  readonly api: WireApi;
  /** `body` is the parsed JSON; `model` comes from the URL where the API puts it there (Gemini). */
  parseRequest(body: unknown, context: { readonly model?: string; readonly stream?: boolean }): ModelRequest;
  renderResponse(response: ModelResponse): unknown;
  /**
   * Turns canonical events into this API's SSE events, statefully (one per response). `body`
   * is the request as the agent sent it, for APIs whose stream depends on it (OpenAI Chat's
   * `stream_options.include_usage`).
   */
  createStreamRenderer(body?: unknown): (event: StreamEvent) => readonly SseEvent[];
  /** An error body in this API's shape, for this HTTP status. */
  renderError(status: number, message: string): unknown;
}

export interface OutboundWire {
  readonly api: WireApi;
  buildRequest(request: ModelRequest, upstreamModel: string): unknown;
  parseResponse(body: unknown): ModelResponse;
  /** Turns this API's SSE events into canonical events, statefully (one per response). */
  createStreamParser(): (event: SseEvent) => readonly StreamEvent[];
}
