// The bridge's HTTP server: one per run, node:http. Every request is matched to a wire API,
// authenticated by its sample token, parsed into the canonical model, sent through the
// session's call (filters, retries, refusals, accounting) and answered in the same API,
// streaming when asked. Errors are answered in the API's own shape; no request can crash it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collect } from '../models/canonical.ts';
import type { ModelProvider } from '../models/provider.ts';
import { UpstreamError } from '../models/provider.ts';
import type { InboundWire, WireApi } from '../models/wire.ts';
import { WireError } from '../models/wire.ts';
import { formatSse, SSE_KEEPALIVE } from '../models/sse.ts';
import { AdaptiveLimit } from './adaptive-limit.ts';
import { modelCall, routeModel, type CallRecord } from './call.ts';
import { mcpError, serveMcp } from './mcp.ts';
import { servePassthrough } from './passthrough.ts';
import { priceTable, type PriceTable } from './pricing.ts';
import type { RetryPolicy } from './retry.ts';
import { guessApi, matchRoute, tokenOf } from './routes.ts';
import { BridgeSession, type SessionOptions } from './session.ts';
import { newInput, OutputRecorder } from './transcript.ts';

export interface BridgeOptions {
  readonly inbound: Readonly<Record<WireApi, InboundWire>>;
  readonly providers: Readonly<Record<string, ModelProvider>>;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default 3 */
  readonly retryRefusals?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly prices?: PriceTable;
  /** Largest request body accepted. @default 32 MiB */
  readonly maxBodyBytes?: number;
  /** While a response is held back or slow to start, a keep-alive this often. @default 5000 */
  readonly keepAliveMs?: number;
  /** Record full request and response bodies in the session's events. @default false */
  readonly logBodies?: boolean;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface Bridge extends AsyncDisposable {
  readonly port: number;
  readonly host: string;
  /** `http://host:port` */
  readonly url: string;
  open(options: SessionOptions): BridgeSession;
  closeSession(session: BridgeSession): void;
  close(): Promise<void>;
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const sessions = new Map<string, BridgeSession>();
  // What each session's calls have already recorded of their input (see transcript.ts).
  const recorded = new WeakMap<BridgeSession, Set<string>>();
  const limits = new Map<string, AdaptiveLimit>();
  const deps = {
    providers: options.providers,
    prices: options.prices ?? priceTable(),
    retryPolicy: options.retryPolicy,
    retryRefusals: options.retryRefusals ?? 3,
    sleep: options.sleep,
    limitFor: (provider: string): AdaptiveLimit => {
      let limit = limits.get(provider);
      if (!limit) limits.set(provider, (limit = new AdaptiveLimit()));
      return limit;
    },
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Last resort: whatever went wrong, answer (if still possible) and keep serving.
      if (!res.headersSent) sendError(res, options.inbound[guessApi(req.url ?? '', req.headers)], 500, `cagebench bridge: ${(err as Error).message}`);
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const route = matchRoute(req.method ?? 'GET', url, req.headers);
    const fallback = options.inbound[guessApi(url, req.headers)];
    if (!route) return sendError(res, fallback, 404, `cagebench bridge: no route for ${req.method} ${url.split('?')[0]}`);
    if (route.kind === 'hello') return void res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : '{"ok":true}');
    if (route.kind === 'mcp') return handleMcp(req, res, url);
    const wire = options.inbound[route.api];
    const token = tokenOf(req.headers, url);
    const session = token === undefined ? undefined : sessions.get(token);
    if (!session) return sendError(res, wire, 401, token === undefined ? 'cagebench bridge: no API key given' : 'cagebench bridge: unknown API key (not a live sample token)');
    if (route.kind === 'models') return sendJson(res, 200, modelList(route.api, session));

    const body = await readBody(req, options.maxBodyBytes ?? 32 * 1024 * 1024).catch((err: WireError) => err);
    if (body instanceof WireError) return sendError(res, wire, body.status, body.message);
    const type = String(req.headers['content-type'] ?? 'application/json');
    if (!/json/i.test(type)) return sendError(res, wire, 415, `cagebench bridge: content-type must be application/json (got ${type})`);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return sendError(res, wire, 400, `cagebench bridge: the body is not valid JSON (${(err as Error).message})`);
    }
    if (route.kind === 'count_tokens') return sendJson(res, 200, { input_tokens: Math.ceil(body.length / 4) });

    let request;
    try {
      request = wire.parseRequest(json, { model: route.model, stream: route.stream });
    } catch (err) {
      if (err instanceof WireError) return sendError(res, wire, err.status, err.message);
      throw err;
    }
    const limit = session.limitReached();
    if (limit) {
      session.markLimit(limit);
      session.options.onEvent?.({ type: 'model.limit', reason: limit });
      return sendError(res, wire, 400, `cagebench: ${limit} for this sample; no more model calls are allowed`);
    }
    await serveCall(req, res, wire, session, request, json);
  }

  /** Host tools: the sample's token names whose tools these are. */
  async function handleMcp(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const token = tokenOf(req.headers, url);
    const session = token === undefined ? undefined : sessions.get(token);
    if (!session) return mcpError(res, 401, -32001, token === undefined ? 'cagebench bridge: no token given (Authorization: Bearer <sample token>)' : 'cagebench bridge: unknown token (not a live sample token)');
    if (!session.options.tools?.length) return mcpError(res, 404, -32601, 'cagebench bridge: this sample has no host tools');
    let body: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req, options.maxBodyBytes ?? 32 * 1024 * 1024).catch((err: WireError) => err);
      if (raw instanceof WireError) return mcpError(res, raw.status, -32600, raw.message);
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        return mcpError(res, 400, -32700, `cagebench bridge: the body is not valid JSON (${(err as Error).message})`);
      }
    }
    await serveMcp(req, res, session, body);
  }

  async function serveCall(req: IncomingMessage, res: ServerResponse, wire: InboundWire, session: BridgeSession, request: Parameters<typeof modelCall>[1], rawBody: unknown): Promise<void> {
    const started = performance.now();
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('the client went away'));
    });
    const record: CallRecord = { requestedModel: request.model, retries: 0, refusalRetries: 0 };
    let seen = recorded.get(session);
    if (!seen) recorded.set(session, (seen = new Set()));
    const input = newInput(request, seen);
    const output = new OutputRecorder();
    const events = tap(modelCall(session, request, deps, record, abort.signal), (event) => output.add(event));
    let firstByteMs: number | undefined;
    let error: { status: number; message: string } | undefined;
    const keepAliveMs = options.keepAliveMs ?? 5000;
    const sseHeaders = (): void => {
      if (res.headersSent) return;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      firstByteMs ??= performance.now() - started;
    };
    let keepAlive: NodeJS.Timeout | undefined;
    const armKeepAlive = (): void => {
      clearTimeout(keepAlive);
      keepAlive = setTimeout(() => {
        sseHeaders();
        res.write(wire.api === 'anthropic' ? formatSse({ event: 'ping', data: '{"type":"ping"}' }) : SSE_KEEPALIVE);
        armKeepAlive();
      }, keepAliveMs).unref();
    };
    const responseLog: unknown[] = [];
    const routed = routeModel(session, request.model);
    const passthrough = deps.providers[routed.provider]?.passthrough;
    // Bytes straight through when the agent speaks the provider's API and nothing needs the
    // whole response (a filter changes requests; a refusal check holds answers back).
    const direct = passthrough?.api === wire.api && deps.retryRefusals === 0 && !session.options.filter && isRecord(rawBody);
    try {
      if (direct) {
        record.route = routed.route;
        await servePassthrough(res, {
          session,
          deps,
          record,
          passthrough: passthrough!,
          providerName: routed.provider,
          upstreamModel: routed.model,
          requestedModel: request.model,
          body: rawBody as Record<string, unknown>,
          signal: abort.signal,
          onFirstByte: () => (firstByteMs ??= performance.now() - started),
          log: options.logBodies ? (chunk) => responseLog.push(chunk) : undefined,
          onEvent: (event) => output.add(event),
        });
      } else if (request.stream) {
        const render = wire.createStreamRenderer(rawBody);
        armKeepAlive();
        for await (const event of events) {
          sseHeaders();
          for (const sse of render(event)) {
            res.write(formatSse(sse));
            if (options.logBodies) responseLog.push(sse);
          }
          armKeepAlive();
        }
        res.end();
      } else {
        const response = await collect(events);
        const rendered = wire.renderResponse(response);
        if (options.logBodies) responseLog.push(rendered);
        firstByteMs = performance.now() - started;
        sendJson(res, 200, rendered);
      }
    } catch (err) {
      const status = err instanceof UpstreamError ? (err.status === 0 ? 502 : err.status) : err instanceof WireError ? err.status : 502;
      error = { status, message: (err as Error).message };
      if (abort.signal.aborted) res.destroy();
      else if (!res.headersSent) sendError(res, wire, status, `upstream: ${error.message}`);
      else {
        // Headers are gone: tell the agent inside the stream, in its API's way.
        // Anthropic names the event; OpenAI sends it as data; Gemini's SDK (what Gemini CLI
        // uses) raises an error only for the bare error JSON, so that one goes unframed.
        const body = JSON.stringify(wire.renderError(status, `upstream: ${error.message}`));
        res.end(wire.api === 'gemini' ? `${body}\n` : formatSse(wire.api === 'anthropic' ? { event: 'error', data: body } : { data: body }));
      }
    } finally {
      clearTimeout(keepAlive);
      session.options.onEvent?.({
        type: 'model.call',
        api: wire.api,
        passthrough: direct || undefined,
        requestedModel: record.requestedModel,
        route: record.route ?? routed.route,
        stream: request.stream,
        stopReason: record.stopReason,
        usage: record.usage,
        costUsd: record.costUsd,
        unpriced: record.unpriced || undefined,
        latencyMs: Math.round(performance.now() - started),
        firstByteMs: firstByteMs === undefined ? undefined : Math.round(firstByteMs),
        retries: record.retries,
        refusalRetries: record.refusalRetries,
        filter: record.filter,
        dropped: request.dropped?.length ? request.dropped : undefined,
        error,
        transcript: { input, output: output.output() },
        ...(options.logBodies ? { requestBody: rawBody, responseBody: responseLog } : {}),
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const close = async (): Promise<void> => {
    sessions.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port: address.port,
    host,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    open(sessionOptions) {
      if (!/^[^/\s]+\/\S+$/.test(sessionOptions.model)) throw new WireError(`model must be provider/model (got "${sessionOptions.model}")`);
      const session = new BridgeSession(sessionOptions);
      sessions.set(session.token, session);
      return session;
    },
    closeSession(session) {
      sessions.delete(session.token);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Passes a stream through, showing each event to `see` on the way. */
async function* tap<T>(events: AsyncGenerator<T>, see: (event: T) => void): AsyncGenerator<T> {
  for await (const event of events) {
    see(event);
    yield event;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new WireError(`cagebench bridge: request body larger than ${max} bytes`, 413));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendError(res: ServerResponse, wire: InboundWire | undefined, status: number, message: string): void {
  if (res.headersSent) return void res.end();
  sendJson(res, status, wire ? wire.renderError(status, message) : { error: { message } });
}

function modelList(api: WireApi, session: BridgeSession): unknown {
  const ids = [...new Set([session.options.model.split('/').slice(1).join('/'), ...Object.keys(session.options.aliases ?? {})])];
  const created = Math.floor(Date.now() / 1000);
  if (api === 'anthropic') {
    const data = ids.map((id) => ({ type: 'model', id, display_name: id, created_at: new Date(created * 1000).toISOString() }));
    return { data, has_more: false, first_id: ids[0], last_id: ids.at(-1) };
  }
  if (api === 'gemini') return { models: ids.map((id) => ({ name: `models/${id}`, displayName: id, supportedGenerationMethods: ['generateContent', 'streamGenerateContent'] })) };
  return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'cagebench' })) };
}
