// `anthropic/<model>`: the Messages API (or any server that speaks it) over HTTP, through
// upstream-http.ts. No retries here: the bridge retries, with its policy and its records.
import type { StreamEvent } from '../canonical.ts';
import type { ModelProvider, ProviderCall } from '../provider.ts';
import { anthropicOutbound } from '../wire.ts';
import { asUpstreamError, joinUrl, postJson, sseEvents } from './upstream-http.ts';

export interface AnthropicProviderOptions {
  /** @default $ANTHROPIC_API_KEY, else 'no-key' */
  readonly apiKey?: string;
  /** @default $ANTHROPIC_BASE_URL, else https://api.anthropic.com */
  readonly baseURL?: string;
}

/** The public API's, as the official SDK has it; an empty setting falls back to it too. */
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const API_VERSION = '2023-06-01';

export function createAnthropicProvider(options: AnthropicProviderOptions = {}): ModelProvider {
  const url = joinUrl((options.baseURL ?? process.env.ANTHROPIC_BASE_URL) || DEFAULT_BASE_URL, '/v1/messages');
  const headers = { 'x-api-key': options.apiKey ?? process.env.ANTHROPIC_API_KEY ?? 'no-key', 'anthropic-version': API_VERSION };
  const send = (body: unknown, signal: AbortSignal): Promise<Response> => postJson({ provider: 'anthropic', url, headers, body, signal });
  return {
    name: 'anthropic',
    passthrough: { api: 'anthropic', wire: anthropicOutbound, send },
    async *stream(call: ProviderCall): AsyncGenerator<StreamEvent> {
      const body = { ...(anthropicOutbound.buildRequest({ ...call.request, stream: true }, call.model) as Record<string, unknown>), stream: true };
      const parse = anthropicOutbound.createStreamParser();
      const response = await send(body, call.signal);
      try {
        for await (const event of sseEvents(response)) yield* parse(event);
      } catch (err) {
        throw asUpstreamError(err, 'anthropic', call.signal);
      }
    },
  };
}
