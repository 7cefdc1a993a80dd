// Pass-through: when the agent speaks the provider's own API (and nothing needs the whole
// response: no filter, no refusal check), the agent's request goes upstream as it is, with
// only the model renamed, and the response comes back as bytes, event by event, with only
// the model name rewritten. The events are read as they pass, for usage and the stop reason.
import type { ServerResponse } from 'node:http';
import { replay, type StreamEvent } from '../models/canonical.ts';
import { UpstreamError, type Passthrough } from '../models/provider.ts';
import { createSseParser } from '../models/sse.ts';
import { costUsd, priceOf } from './pricing.ts';
import { DEFAULT_RETRY_POLICY, retryDelay, sleep } from './retry.ts';
import type { CallDeps, CallRecord } from './call.ts';
import type { BridgeSession } from './session.ts';

export interface PassthroughCall {
  readonly session: BridgeSession;
  readonly deps: CallDeps;
  readonly record: CallRecord;
  readonly passthrough: Passthrough;
  readonly providerName: string;
  readonly upstreamModel: string;
  readonly requestedModel: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  /** Called once, when the first byte of the answer goes to the agent. */
  readonly onFirstByte: () => void;
  /** Receives what was sent, when bodies are logged. */
  readonly log?: (chunk: string) => void;
  /** Sees every canonical event read from the answer (for the call's transcript). */
  readonly onEvent?: (event: StreamEvent) => void;
}

export async function servePassthrough(res: ServerResponse, call: PassthroughCall): Promise<void> {
  const { session, deps, record, passthrough, signal } = call;
  const limit = deps.limitFor(call.providerName);
  const body = { ...call.body, model: call.upstreamModel };
  let waited = 0;
  let response: Response | undefined;
  let release: () => void = () => undefined;
  for (let retry = 0; !response; retry++) {
    release = await limit.acquire();
    try {
      response = await passthrough.send(body, signal);
    } catch (err) {
      release();
      if (err instanceof UpstreamError && err.status === 429) limit.onRateLimited();
      const delay = signal.aborted ? undefined : retryDelay(err, retry + 1, waited, deps.retryPolicy ?? DEFAULT_RETRY_POLICY, deps.random);
      if (delay === undefined) throw err;
      record.retries++;
      session.options.onEvent?.({ type: 'model.retry', retry: retry + 1, status: (err as UpstreamError).status, delayMs: delay, reason: (err as Error).message });
      waited += delay;
      await (deps.sleep ?? sleep)(delay, signal);
    }
  }
  try {
    const rename = modelRenamer(call.upstreamModel, call.requestedModel);
    const parse = passthrough.wire.createStreamParser();
    let stopped = false;
    const observe = (events: readonly StreamEvent[]): void => {
      for (const e of events) {
        call.onEvent?.(e);
        if (e.type !== 'stop') continue;
        stopped = true;
        account(call, e.stopReason, e.usage);
      }
    };
    const type = response.headers.get('content-type') ?? 'application/json';
    if (!type.includes('text/event-stream')) {
      const text = rename(await response.text());
      call.onFirstByte();
      res.writeHead(response.status, { 'content-type': type, 'content-length': Buffer.byteLength(text) }).end(text);
      call.log?.(text);
      const parsed = passthrough.wire.parseResponse(JSON.parse(text));
      if (call.onEvent) for await (const e of replay(parsed)) call.onEvent(e);
      account(call, parsed.stopReason, parsed.usage);
      limit.onSuccess();
      return;
    }
    res.writeHead(response.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    call.onFirstByte();
    const decoder = new TextDecoder();
    const events = createSseParser();
    let pending = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      // Write whole events only, so a model name split across chunks is still renamed.
      const end = lastEventEnd(pending);
      if (end === 0) continue;
      const ready = rename(pending.slice(0, end));
      pending = pending.slice(end);
      res.write(ready);
      call.log?.(ready);
      for (const event of events(ready)) observe(parse(event));
    }
    pending += decoder.decode();
    if (pending) {
      res.write(rename(pending));
      for (const event of events(`${pending}\n\n`)) observe(parse(event));
    }
    // A stream that ends before its last event was cut off: the caller tells the agent so.
    if (!stopped) throw new UpstreamError('the upstream stream ended before the response was complete', 0);
    res.end();
    limit.onSuccess();
  } finally {
    release();
  }
}

function account(call: PassthroughCall, stopReason: CallRecord['stopReason'], usage: NonNullable<CallRecord['usage']>): void {
  const route = `${call.providerName}/${call.upstreamModel}`;
  const price = priceOf(call.deps.prices, route);
  call.record.stopReason = stopReason;
  call.record.usage = usage;
  call.record.costUsd = costUsd(usage, price);
  call.record.unpriced = price === undefined;
  call.session.count(usage, call.record.costUsd);
}

/** Index just past the last complete SSE event in `text` (0 when there is none yet). */
function lastEventEnd(text: string): number {
  const lf = text.lastIndexOf('\n\n');
  const crlf = text.lastIndexOf('\r\n\r\n');
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}

/** Rewrites `"model":"<upstream>"` (with or without a space) to the name the agent used. */
function modelRenamer(upstream: string, requested: string): (text: string) => string {
  if (upstream === requested) return (text) => text;
  const pattern = new RegExp(`("model"\\s*:\\s*)${escapeRegExp(JSON.stringify(upstream))}`, 'g');
  const replacement = `$1${JSON.stringify(requested).replace(/\$/g, '$$$$')}`;
  return (text) => text.replace(pattern, replacement);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
