// The only module that imports dockerode. Everything else takes an `Engine` from here,
// so tests and providers can pass their own and nothing holds a module-level singleton.
import { request as httpRequest } from 'node:http';
import Docker from 'dockerode';
import { SandboxError } from '../errors.ts';

export type { Container, Network, Exec } from 'dockerode';
export type Dockerode = Docker;

export interface EngineOptions {
  /** Engine address, e.g. `unix:///var/run/docker.sock` or `tcp://host:2375`. @default $DOCKER_HOST or the default socket */
  readonly host?: string;
  /** Give up on the first /_ping after this long. @default 5000 */
  readonly pingTimeoutMs?: number;
}

export interface Engine {
  readonly docker: Docker;
  /** The address used, for messages. */
  readonly address: string;
  /** True when the engine runs on this machine (bind mounts of host paths work). */
  readonly isLocal: boolean;
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
  // `http://` is what `tcp://` means to the engine's API; TLS (https, DOCKER_TLS_VERIFY) is not supported.
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

/** Connect and check that the engine answers; otherwise say how to start one. */
export async function connectEngine(options: EngineOptions = {}): Promise<Engine> {
  // An empty DOCKER_HOST means unset, as it does to the docker CLI.
  const address = options.host ?? (process.env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`);
  const parsed = parseEngineAddress(address, options.host === undefined ? 'DOCKER_HOST' : 'option');
  const docker = new Docker(parsed);
  const timeoutMs = options.pingTimeoutMs ?? 5000;
  try {
    await withTimeout(docker.ping(), timeoutMs);
  } catch (cause) {
    throw new SandboxError(
      'CB_ENGINE_UNREACHABLE',
      `No Docker engine answers at ${address}. Run scripts/setup.sh (as root it installs and ` +
        `starts one), start your engine (e.g. 'sudo systemctl start docker'), or point ` +
        `DOCKER_HOST at a running engine.`,
      { cause },
    );
  }
  const isLocal = parsed.socketPath !== undefined || ['localhost', '127.0.0.1', '::1'].includes(parsed.host ?? '');
  return { docker, address, isLocal };
}

/**
 * Whether the engine answers /_ping on a new connection within `timeoutMs`. Not through the
 * client's keep-alive pool: a dockerd shutting down removes its socket at once but goes on
 * answering on connections already open, so a pooled ping would call it alive.
 */
export function pingFresh(engine: Engine, timeoutMs: number): Promise<boolean> {
  const { socketPath, host, port } = parseEngineAddress(engine.address, 'option');
  return new Promise((resolve) => {
    const req = httpRequest({ socketPath, host, port, path: '/_ping', agent: false, timeout: timeoutMs, headers: { Connection: 'close' } }, (res) => {
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
