// The only module that imports dockerode. Everything else takes an `Engine` from here,
// so tests and providers can pass their own and nothing holds a module-level singleton.
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { SandboxError } from '../errors.ts';

export type { Container, Network, Exec } from 'dockerode';
export type Dockerode = Docker;

export interface EngineOptions {
  /** Engine address, e.g. `unix:///var/run/docker.sock` or `tcp://host:2375`. @default $DOCKER_HOST or the default socket */
  readonly host?: string;
  /** Give up on the first /_ping after this long. @default 5000 */
  readonly pingTimeoutMs?: number;
  /**
   * TLS for a `tcp://` address, as the docker CLI takes it: the directory holding `ca.pem` (the
   * CA that signed the engine's certificate) and this client's `cert.pem` and `key.pem`.
   * `false`: plain HTTP. @default $DOCKER_CERT_PATH (or ~/.docker) when $DOCKER_TLS_VERIFY is set, else plain HTTP
   */
  readonly tls?: { readonly certPath: string } | false;
}

/** What a TLS connection to the engine presents and trusts. */
export interface EngineTls {
  readonly certPath: string;
  readonly ca: Buffer;
  /** Absent when the directory holds no client certificate (an engine with --tlsverify then refuses). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface Engine {
  readonly docker: Docker;
  /** The address used, for messages. */
  readonly address: string;
  /** True when the engine runs on this machine (bind mounts of host paths work). */
  readonly isLocal: boolean;
  /** Set when the engine is spoken to over TLS (a `tcp://` address with DOCKER_TLS_VERIFY). */
  readonly tls?: EngineTls;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

const ADDRESS_FORMS = 'unix:///path/to/docker.sock or tcp://HOST:PORT (e.g. tcp://127.0.0.1:2375)';

/**
 * The engine address (`$DOCKER_HOST`) as dockerode options. A malformed one is a config
 * error that says which forms work, rather than a TypeError from URL or a ping of nowhere.
 */
export function parseEngineAddress(address: string, from: 'DOCKER_HOST' | 'option' = 'DOCKER_HOST'): Docker.DockerOptions {
  const bad = (why: string): SandboxError =>
    new SandboxError(
      'CB_BAD_SPEC',
      from === 'DOCKER_HOST'
        ? `DOCKER_HOST=${address} ${why}. Use ${ADDRESS_FORMS}, or unset DOCKER_HOST for the default socket.`
        : `The engine address ${address} ${why}. Use ${ADDRESS_FORMS}.`,
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address)?.[1]?.toLowerCase();
  if (scheme === 'unix') {
    const socketPath = address.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw bad('does not name a socket by its absolute path');
    return { socketPath };
  }
  // `http://` is what `tcp://` means to the engine's API; TLS (DOCKER_TLS_VERIFY) is added by connectEngine.
  if (scheme !== 'tcp' && scheme !== 'http') throw bad(scheme ? `has an unsupported scheme "${scheme}://"` : 'is not an address');
  let url: URL;
  try {
    url = new URL(`http://${address.slice(scheme.length + 3)}`);
  } catch {
    throw bad('is not a valid host:port');
  }
  if (!url.hostname) throw bad('names no host');
  if (url.pathname !== '/' || url.search || url.username) throw bad('has more than a host and port');
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 2375), protocol: 'http' };
}

/**
 * The TLS files for a tcp:// engine: from `option` when given, else from DOCKER_TLS_VERIFY
 * (any non-empty value) and DOCKER_CERT_PATH (default ~/.docker), as the docker CLI reads them.
 */
export function engineTls(option: EngineOptions['tls']): EngineTls | undefined {
  if (option === false) return undefined;
  const fromEnv = option === undefined;
  if (fromEnv && !process.env.DOCKER_TLS_VERIFY) return undefined;
  const certPath = option?.certPath ?? (process.env.DOCKER_CERT_PATH || join(homedir(), '.docker'));
  const where = fromEnv ? `DOCKER_CERT_PATH=${certPath} (DOCKER_TLS_VERIFY is set)` : `the TLS directory ${certPath}`;
  const file = (name: string): Buffer | undefined => (existsSync(join(certPath, name)) ? readFileSync(join(certPath, name)) : undefined);
  const ca = file('ca.pem');
  if (!ca) throw new SandboxError('CB_BAD_SPEC', `${where} has no ca.pem (the CA that signed the engine's certificate). Put ca.pem, cert.pem and key.pem there, or unset DOCKER_TLS_VERIFY for plain HTTP.`);
  const cert = file('cert.pem');
  const key = file('key.pem');
  if (Boolean(cert) !== Boolean(key)) throw new SandboxError('CB_BAD_SPEC', `${where} has ${cert ? 'cert.pem but no key.pem' : 'key.pem but no cert.pem'}: the client certificate needs both.`);
  return { certPath, ca, ...(cert && key ? { cert, key } : {}) };
}

/** Connect and check that the engine answers; otherwise say how to start one. */
export async function connectEngine(options: EngineOptions = {}): Promise<Engine> {
  // An empty DOCKER_HOST means unset, as it does to the docker CLI.
  const address = options.host ?? (process.env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`);
  const plain = parseEngineAddress(address, options.host === undefined ? 'DOCKER_HOST' : 'option');
  // TLS applies to tcp:// addresses only; its default port is 2376, as the docker CLI's.
  const tls = plain.socketPath === undefined ? engineTls(options.tls) : undefined;
  const explicitPort = /:\d+\/?$/.test(address.replace(/^[a-z]+:\/\/\[[^\]]*\]/i, ''));
  const parsed: Docker.DockerOptions = tls
    ? { ...plain, protocol: 'https', port: explicitPort ? plain.port : 2376, ca: tls.ca, ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}) }
    : plain;
  const docker = new Docker(parsed);
  const timeoutMs = options.pingTimeoutMs ?? 5000;
  try {
    await withTimeout(docker.ping(), timeoutMs);
  } catch (cause) {
    if (tls && isTlsFailure(cause)) {
      throw new SandboxError(
        'CB_ENGINE_UNREACHABLE',
        `The Docker engine at ${address} did not complete the TLS handshake with the certificates in ${tls.certPath}` +
          `${tls.cert ? '' : ' (it holds no client certificate: cert.pem and key.pem)'}: ${(cause as Error).message}. ` +
          `The engine needs a client certificate signed by the CA it trusts (--tlscacert), and ca.pem must be the CA that signed the engine's certificate.`,
        { cause },
      );
    }
    throw new SandboxError(
      'CB_ENGINE_UNREACHABLE',
      `No Docker engine answers at ${address}. Run scripts/setup.sh (as root it installs and ` +
        `starts one), start your engine (e.g. 'sudo systemctl start docker'), or point ` +
        `DOCKER_HOST at a running engine.`,
      { cause },
    );
  }
  const isLocal = parsed.socketPath !== undefined || ['localhost', '127.0.0.1', '::1'].includes(parsed.host ?? '');
  return { docker, address: tls && !explicitPort ? `${address.replace(/\/$/, '')}:2376` : address, isLocal, ...(tls ? { tls } : {}) };
}

/** A refused or failed TLS handshake (as against a refused connection or a timeout). */
function isTlsFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^(ERR_SSL|ERR_TLS|EPROTO|ECONNRESET|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|CERT_)/.test(code) || /certificate|SSL|TLS|socket hang up/i.test(message);
}

/**
 * Whether the engine answers /_ping on a new connection within `timeoutMs`. Not through the
 * client's keep-alive pool: a dockerd shutting down removes its socket at once but goes on
 * answering on connections already open, so a pooled ping would call it alive.
 */
export function pingFresh(engine: Engine, timeoutMs: number): Promise<boolean> {
  const { socketPath, host, port } = parseEngineAddress(engine.address, 'option');
  const tls = engine.tls;
  const request = tls ? httpsRequest : httpRequest;
  const secure = tls ? { ca: tls.ca, ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}) } : {};
  return new Promise((resolve) => {
    const req = request({ socketPath, host, port, path: '/_ping', agent: false, timeout: timeoutMs, headers: { Connection: 'close' }, ...secure }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
