// Which wire API a request speaks, from its method and path. Query strings are ignored
// (Claude Code sends `?beta=true`); Gemini puts the model and the streaming choice in the path.
import type { WireApi } from '../models/wire.ts';

export type Route =
  | { readonly kind: 'generate'; readonly api: WireApi; readonly model?: string; readonly stream?: boolean }
  | { readonly kind: 'count_tokens'; readonly api: 'anthropic' }
  | { readonly kind: 'models'; readonly api: WireApi }
  | { readonly kind: 'hello' }
  /** Host tools over MCP (streamable HTTP), any method: mcp.ts answers what it does not serve. */
  | { readonly kind: 'mcp' };

export function matchRoute(method: string, url: string, headers: Readonly<Record<string, string | string[] | undefined>>): Route | undefined {
  const path = url.split('?')[0]!.replace(/\/+$/, '');
  if (method === 'HEAD' && path === '/api/hello') return { kind: 'hello' };
  if (method === 'GET' && (path === '/api/hello' || path === '')) return { kind: 'hello' };
  if (path === '/mcp') return { kind: 'mcp' };
  if (method === 'GET' && path === '/v1/models') return { kind: 'models', api: headers['anthropic-version'] ? 'anthropic' : 'openai-chat' };
  if (method === 'GET' && path === '/v1beta/models') return { kind: 'models', api: 'gemini' };
  if (method !== 'POST') return undefined;
  if (path === '/v1/messages') return { kind: 'generate', api: 'anthropic' };
  if (path === '/v1/messages/count_tokens') return { kind: 'count_tokens', api: 'anthropic' };
  if (path === '/v1/chat/completions') return { kind: 'generate', api: 'openai-chat' };
  if (path === '/v1/responses') return { kind: 'generate', api: 'openai-responses' };
  const gemini = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (gemini) return { kind: 'generate', api: 'gemini', model: decodeURIComponent(gemini[1]!), stream: gemini[2] === 'streamGenerateContent' };
  return undefined;
}

/** The API a failing request most likely speaks, to answer it in that API's error shape. */
export function guessApi(url: string, headers: Readonly<Record<string, string | string[] | undefined>>): WireApi {
  if (url.startsWith('/v1beta') || headers['x-goog-api-key']) return 'gemini';
  if (url.startsWith('/v1/messages') || headers['anthropic-version'] || headers['x-api-key']) return 'anthropic';
  if (url.startsWith('/v1/responses')) return 'openai-responses';
  return 'openai-chat';
}

/** The per-sample token, wherever the agent's SDK puts its API key. */
export function tokenOf(headers: Readonly<Record<string, string | string[] | undefined>>, url: string): string | undefined {
  const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
  const bearer = one(headers.authorization)?.match(/^Bearer\s+(.+)$/i)?.[1];
  return one(headers['x-api-key']) ?? bearer ?? one(headers['x-goog-api-key']) ?? new URL(url, 'http://x').searchParams.get('key') ?? undefined;
}
