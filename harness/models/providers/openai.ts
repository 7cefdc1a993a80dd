// `openai/<model>`: Chat Completions by default, the Responses API by option, over HTTP
// through upstream-http.ts; any OpenAI-compatible base URL (vLLM, Ollama, llama.cpp,
// OpenRouter). No retries here: the bridge retries, with its policy and its records.
import type { StreamEvent } from '../canonical.ts';
import type { ModelProvider, ProviderCall } from '../provider.ts';
import { openaiChatOutbound, openaiResponsesOutbound } from '../wire.ts';
import { asUpstreamError, joinUrl, postJson, sseEvents } from './upstream-http.ts';

export interface OpenAIProviderOptions {
  /** @default $OPENAI_API_KEY, else 'no-key' */
  readonly apiKey?: string;
  /** With the version, as the SDK takes it. @default $OPENAI_BASE_URL, else https://api.openai.com/v1 */
  readonly baseURL?: string;
  /** @default 'chat' */
  readonly api?: 'chat' | 'responses';
}

/** The public API's, as the official SDK has it; an empty setting falls back to it too. */
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export function createOpenAIProvider(options: OpenAIProviderOptions = {}): ModelProvider {
  const responses = options.api === 'responses';
  const wire = responses ? openaiResponsesOutbound : openaiChatOutbound;
  const url = joinUrl((options.baseURL ?? process.env.OPENAI_BASE_URL) || DEFAULT_BASE_URL, responses ? '/responses' : '/chat/completions');
  const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey ?? process.env.OPENAI_API_KEY ?? 'no-key'}` };
  // As the SDK did: an organisation or project set in the environment goes with every call.
  if (process.env.OPENAI_ORG_ID) headers['openai-organization'] = process.env.OPENAI_ORG_ID;
  if (process.env.OPENAI_PROJECT_ID) headers['openai-project'] = process.env.OPENAI_PROJECT_ID;
  const send = (body: unknown, signal: AbortSignal): Promise<Response> => postJson({ provider: 'openai', url, headers, body, signal });
  return {
    name: 'openai',
    passthrough: { api: responses ? 'openai-responses' : 'openai-chat', wire, send },
    async *stream(call: ProviderCall): AsyncGenerator<StreamEvent> {
      const body = { ...(wire.buildRequest({ ...call.request, stream: true }, call.model) as Record<string, unknown>), stream: true };
      const parse = wire.createStreamParser();
      const response = await send(body, call.signal);
      try {
        for await (const event of sseEvents(response)) yield* parse(event);
        if (!responses) yield* parse({ data: '[DONE]' });
      } catch (err) {
        throw asUpstreamError(err, 'openai', call.signal);
      }
    },
  };
}
