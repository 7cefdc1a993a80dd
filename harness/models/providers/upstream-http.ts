// The one way upstream for the HTTP providers: POST a JSON body, and turn whatever fails into
// an UpstreamError the bridge's retry policy reads (status, Retry-After, body). A connection
// that fails or drops is status 0. No retries here: the bridge retries, with its records.
//
// undici's `fetch`, not its `request`: the passthrough contract is a web Response that the
// bridge streams back to the agent, and fetch makes one whose body follows the abort signal;
// `request` would need a Node-stream-to-web-stream bridge to give the same thing.
import { fetch } from 'undici';
import { parseRetryAfter, UpstreamError } from '../provider.ts';
import { createSseParser } from '../sse.ts';
import type { SseEvent } from '../wire.ts';

export interface JsonPost {
  /** Names the provider in error messages: `openai`, `anthropic`. */
  readonly provider: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly signal: AbortSignal;
}

/** `base` + `path` as the official SDKs join them: one slash between, whatever `base` ends with. */
export function joinUrl(base: string, path: string): string {
  return base + (base.endsWith('/') && path.startsWith('/') ? path.slice(1) : path);
}

/** The response when its status is 2xx; otherwise, or when no response came, an UpstreamError. */
export async function postJson(post: JsonPost): Promise<Response> {
  let response;
  try {
    response = await fetch(post.url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...post.headers },
      body: JSON.stringify(post.body),
      signal: post.signal,
    });
  } catch (err) {
    throw asUpstreamError(err, post.provider, post.signal);
  }
  if (response.ok) return response as unknown as Response; // undici's Response is the web Response Node's types name
  const body = await response.text().catch((err: unknown) => `(the error body could not be read: ${(err as Error).message})`);
  throw new UpstreamError(`${post.provider}: ${response.status} ${errorDetail(body)}`, response.status, {
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    body,
  });
}

/** The SSE events of a response body, as they arrive; a last event with no blank line after it counts. */
export async function* sseEvents(response: Response): AsyncGenerator<SseEvent> {
  if (!response.body) return;
  const events = createSseParser();
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) yield* events(decoder.decode(chunk, { stream: true }));
  yield* events(`${decoder.decode()}\n\n`);
}

/**
 * Any failure as an UpstreamError: one already is; one with an HTTP-like status (a WireError
 * from a wire parser) keeps it; anything else (abort, refused or dropped connection) is 0.
 */
export function asUpstreamError(err: unknown, provider: string, signal?: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number') return new UpstreamError(`${provider}: ${(err as Error).message}`, status, { cause: err });
  if (signal?.aborted) return new UpstreamError(`${provider}: the request was aborted`, 0, { cause: err });
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a reset socket, a bad URL) is its cause.
  const cause = (err as Error | undefined)?.cause;
  const reason = cause instanceof Error ? cause.message : (err as Error | undefined)?.message ?? String(err);
  return new UpstreamError(`${provider}: connection failed: ${reason}`, 0, { cause: err });
}

/** What an error body says, for the message: its `error.message` when it has one (both APIs do), else its text. */
function errorDetail(body: string): string {
  if (!body) return 'status code (no body)';
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } } | null)?.error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return body.length > 500 ? `${body.slice(0, 500)}…` : body;
}
