// `--engine ADDRESS[,capacity=N][,certs=DIR]` (repeatable, or `engines:` in a config file):
// the Docker engines a run spreads its samples over, each connected as the docker CLI would
// (TLS from the directory's ca.pem, cert.pem and key.pem) and joined in one ProviderPool.
import { isAbsolute, resolve } from 'node:path';
import { connectEngine, createDockerProvider, ProviderPool, type PoolMember, type SandboxProvider } from '../../sandboxes/index.ts';
import { ConfigError } from '../errors.ts';

export interface EngineSpec {
  /** `unix:///path/docker.sock` or `tcp://HOST:PORT`. */
  readonly address: string;
  /** Sandboxes it runs at once. @default 4 */
  readonly capacity: number;
  /** TLS: the directory with ca.pem, cert.pem and key.pem (absolute). */
  readonly certs?: string;
}

export const DEFAULT_ENGINE_CAPACITY = 4;

const FORM = 'ADDRESS[,capacity=N][,certs=DIR], e.g. tcp://10.0.0.5:2376,capacity=8,certs=/etc/docker-b';

/** Parse each `--engine` value; a bad one is a config error naming it and the form. */
export function parseEngines(values: readonly string[]): EngineSpec[] {
  const specs = values.map(parseEngine);
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.address)) throw new ConfigError(`--engine ${spec.address} is given twice: give each engine once, with its whole capacity.`);
    seen.add(spec.address);
  }
  return specs;
}

function parseEngine(value: string): EngineSpec {
  const [address = '', ...settings] = value.split(',').map((part) => part.trim());
  const bad = (why: string): ConfigError => new ConfigError(`--engine ${value}: ${why}. Give ${FORM}.`);
  if (!/^(unix|tcp):\/\/\S+$/.test(address)) throw bad('the address must start with unix:// or tcp://');
  let capacity = DEFAULT_ENGINE_CAPACITY;
  let certs: string | undefined;
  for (const setting of settings) {
    const [key, val] = [setting.slice(0, setting.indexOf('=')), setting.slice(setting.indexOf('=') + 1)];
    if (key === 'capacity' && /^[1-9]\d*$/.test(val)) capacity = Number(val);
    else if (key === 'capacity') throw bad(`capacity must be a whole number of sandboxes, 1 or more (got "${val}")`);
    else if (key === 'certs' && val) certs = isAbsolute(val) ? val : resolve(val);
    else throw bad(`"${setting}" is not a setting (capacity=N or certs=DIR)`);
  }
  if (certs && !address.startsWith('tcp://')) throw bad('certs= is for a tcp:// address (TLS)');
  return { address, capacity, ...(certs ? { certs } : {}) };
}

/** Back to the flag's form (certs made absolute), as run.json records it for `resume`. */
export function formatEngine(spec: EngineSpec): string {
  return [spec.address, `capacity=${spec.capacity}`, ...(spec.certs ? [`certs=${spec.certs}`] : [])].join(',');
}

/**
 * Connect every engine and pool them. An engine that does not answer now fails the run before
 * it starts (as the one engine of $DOCKER_HOST does), naming it.
 */
export async function openEnginePool(specs: readonly EngineSpec[], options: { readonly note?: (line: string) => void } = {}): Promise<SandboxProvider> {
  const settled = await Promise.allSettled(
    specs.map(async (spec): Promise<PoolMember> => {
      const engine = await connectEngine({ host: spec.address, ...(spec.certs ? { tls: { certPath: spec.certs } } : spec.address.startsWith('tcp://') ? { tls: false } : {}) });
      return { name: spec.address, capacity: spec.capacity, provider: await createDockerProvider({ engine }) };
    }),
  );
  const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [`${specs[i]!.address}: ${(r.reason as Error).message}`] : []));
  const members = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed.length) {
    await Promise.allSettled(members.map((m) => m.provider.close()));
    throw new ConfigError(`${failed.length === 1 ? 'An engine' : `${failed.length} engines`} of --engine did not answer:\n  ${failed.join('\n  ')}\nStart it, fix its address or certificates, or leave it out.`);
  }
  return new ProviderPool(members, {
    onMember: ({ name, state }) => options.note?.(state === 'out' ? `engine ${name} stopped answering: it is out of the pool, and its samples run again on the others` : `engine ${name} answers again: it is back in the pool`),
  });
}
