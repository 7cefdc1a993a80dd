// `cagebench bridge serve`: the bridge on its own, with one session, until interrupted.
// For a local agent (Claude Code, Codex) against any model, and for testing the bridge.
import { baseUrls, createBridge, loadFilter } from '../bridge/index.ts';
import { ConfigError } from '../errors.ts';
import { checkPricesFile } from '../runner/validate.ts';

export interface BridgeServeOptions {
  readonly model: string;
  readonly host?: string;
  readonly port?: number;
  readonly aliases?: Readonly<Record<string, string>>;
  readonly filter?: string;
  readonly retryRefusals?: number;
  readonly pricesFile?: string;
  readonly logBodies?: boolean;
  readonly json?: boolean;
  readonly openai?: { readonly baseURL?: string; readonly api?: 'chat' | 'responses' };
  readonly out: NodeJS.WritableStream;
  readonly signal: AbortSignal;
}

export async function bridgeServe(options: BridgeServeOptions): Promise<number> {
  for (const [name, route] of Object.entries({ '--model': options.model, ...options.aliases })) {
    if (!/^[^/\s]+\/\S+$/.test(route)) throw new ConfigError(`${name === '--model' ? '--model' : `--model-alias ${name}`} must be provider/model, e.g. mock/echo (got "${route}")`);
  }
  if (options.pricesFile) await checkPricesFile(options.pricesFile);
  const filter = options.filter ? await loadFilter(options.filter) : undefined;
  await using bridge = await createBridge({ host: options.host, port: options.port, retryRefusals: options.retryRefusals, pricesFile: options.pricesFile, logBodies: options.logBodies, openai: options.openai }).catch(
    (err: unknown) => {
      throw listenError(err, options.host ?? '127.0.0.1', options.port) ?? err;
    },
  );
  const session = bridge.open({
    sampleId: 'serve',
    model: options.model,
    aliases: options.aliases,
    filter,
    onEvent: options.json ? undefined : (e) => e.type === 'model.call' && options.out.write(`${JSON.stringify(e)}\n`),
  });
  const urls = baseUrls(bridge.url);
  if (options.json) {
    options.out.write(`${JSON.stringify({ token: session.token, urls })}\n`);
  } else {
    options.out.write(
      `cagebench bridge on ${bridge.url}, every call to ${options.model}\n` +
        `  token      ${session.token}\n` +
        `  anthropic  ANTHROPIC_BASE_URL=${urls.anthropic} ANTHROPIC_API_KEY=<token>\n` +
        `  openai     OPENAI_BASE_URL=${urls.openai} OPENAI_API_KEY=<token>\n` +
        `  gemini     GOOGLE_GEMINI_BASE_URL=${urls.gemini} GEMINI_API_KEY=<token>\n` +
        `Ctrl-C to stop.\n`,
    );
  }
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const t = session.totals;
  if (!options.json) options.out.write(`cagebench bridge: ${t.requests} call(s), ${t.usage.inputTokens} in / ${t.usage.outputTokens} out tokens, $${t.costUsd.toFixed(4)}\n`);
  return 0;
}

/** Why the bridge could not listen, as a line a person can act on; undefined for other errors. */
function listenError(err: unknown, host: string, port: number | undefined): ConfigError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const at = `${host}:${port ?? 0}`;
  const other = port === undefined ? '' : `, give another --port, or leave --port out for any free one`;
  if (code === 'EADDRINUSE') return new ConfigError(`--port ${port}: ${at} is already in use. Stop what listens there${other}.`, { cause: err });
  if (code === 'EACCES') return new ConfigError(`--port ${port}: not allowed to listen on ${at} (ports below 1024 need privileges)${other}.`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new ConfigError(`--host ${host} is not an address of this machine. Give one it has, e.g. 127.0.0.1 or 0.0.0.0.`, { cause: err });
  return undefined;
}
