// `cagebench download` and `cagebench cache list|clean`: the agent cache from the command
// line. Pre-downloading makes offline runs and CI preflights possible.
import { BUILD_NAMES, createAgentCache, isAgentName, isPlatform, PLATFORMS, type CacheEntry, type DownloadProgress, type Platform } from '../../cache/index.ts';
import { ConfigError } from '../errors.ts';

export interface DownloadOptions {
  readonly agents: readonly string[];
  /** @default 'stable' */
  readonly version?: string;
  /** @default the host's platform */
  readonly platforms?: readonly string[];
  readonly offline?: boolean;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly log?: (line: string) => void;
}

export function hostPlatform(): Platform {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  // glibc reports its version in the process report; musl does not.
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  return `linux-${arch}${glibc ? '' : '-musl'}` as Platform;
}

function checkAgents(agents: readonly string[]): void {
  if (!agents.length) throw new ConfigError(`name at least one agent: ${BUILD_NAMES.join(', ')}`);
  for (const agent of agents) {
    if (!isAgentName(agent)) throw new ConfigError(`unknown agent "${agent}"; known: ${BUILD_NAMES.join(', ')}`);
  }
}

export async function downloadAgents(options: DownloadOptions): Promise<CacheEntry[]> {
  checkAgents(options.agents);
  const platforms = options.platforms?.length ? options.platforms : [hostPlatform()];
  for (const p of platforms) if (!isPlatform(p)) throw new ConfigError(`--platform must be one of ${PLATFORMS.join(', ')} (got "${p}")`);
  const cache = createAgentCache({ offline: options.offline, onProgress: options.onProgress, log: options.log });
  const entries: CacheEntry[] = [];
  for (const agent of options.agents) {
    for (const platform of platforms) {
      entries.push(await cache.ensure(agent as never, { version: (options.version ?? 'stable') as never, platform: platform as Platform }));
    }
  }
  return entries;
}

export async function listCache(): Promise<{ dir: string; entries: CacheEntry[] }> {
  const cache = createAgentCache();
  return { dir: cache.dir, entries: await cache.list() };
}

export async function cleanCache(options: { agent?: string; all?: boolean; log?: (line: string) => void }): Promise<CacheEntry[]> {
  if (!options.agent && !options.all) throw new ConfigError('cache clean: give --agent NAME, or --all to remove every entry');
  if (options.agent) checkAgents([options.agent]);
  const cache = createAgentCache({ log: options.log });
  return cache.remove({ agent: options.agent as never, all: options.all });
}
