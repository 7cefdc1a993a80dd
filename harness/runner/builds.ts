// The agent builds a run needs (from the agent cache), fetched once per run before any
// sample starts, leased so no other run evicts them meanwhile, and handed to every sample
// as read-only mounts (a local engine), as volumes filled once per engine and mounted
// read-only at the same paths (a remote one), or as entries to copy in (a provider with neither).
import { AGENT_SOURCES, createAgentCache, isAgentName, isSandboxSpec, type AgentName, type CacheEntry, type Platform } from '../../cache/index.ts';
import { posix } from 'node:path';
import { AGENTS_ROOT, AgentError, agentMount, agentPaths, copyAgent, type AgentInSandbox } from '../../agents/index.ts';
import type { BindMount, Identity, Sandbox, SandboxProvider, SandboxVolume } from '../../sandboxes/index.ts';
import { ConfigError } from '../errors.ts';
import { buildVolume } from './build-volumes.ts';

export interface RunBuilds {
  /** For a local engine; empty for a remote one. */
  readonly mounts: readonly BindMount[];
  /** For an engine that cannot bind-mount but keeps volumes (a remote one): filled once per engine, mounted read-only. */
  readonly volumes: readonly SandboxVolume[];
  /** The cache entry of each of `volumes`, in order: copied into a sandbox whose spec lacks its volume. */
  readonly shipped: readonly CacheEntry[];
  /** For a provider with neither: copy these into each sandbox. */
  readonly copies: readonly CacheEntry[];
  readonly installed: Readonly<Record<string, AgentInSandbox>>;
  /**
   * `--agent-version auto|sandbox`: look for the agent's own program on the sandbox's PATH
   * first. `auto` falls back to the cached stable build (in `installed`); `sandbox` has none.
   */
  readonly lookup?: { readonly build: string; readonly command: string; readonly mode: 'auto' | 'sandbox' };
  /** The platform of the builds above: the engine's architecture, glibc. */
  readonly platform: Platform;
  /** The same builds for another platform (a musl image), fetched on first need and leased. */
  forPlatform(platform: Platform): Promise<readonly CacheEntry[]>;
  /** A sandbox's platform, probed once per image in the run (samples of one task share it). */
  platformOf(sandbox: Sandbox): Promise<Platform>;
  release(): Promise<void>;
}

/** The sandboxes' platform, from the provider (images run on its engine's own architecture). */
function enginePlatform(provider: SandboxProvider): Platform {
  const arch = provider.capabilities.architectures[0] ?? 'x64';
  return `linux-${arch}`; // glibc; a sample whose image is musl gets the -musl builds copied in (placeBuilds)
}

export async function prepareBuilds(
  names: readonly string[],
  options: { readonly version: string; readonly offline: boolean; readonly provider: SandboxProvider; readonly log: (line: string) => void },
): Promise<RunBuilds> {
  for (const name of names) if (!isAgentName(name)) throw new ConfigError(`The agent asks for an unknown build "${name}".`);
  const cache = createAgentCache({ offline: options.offline, log: options.log });
  const platform = enginePlatform(options.provider);
  const entries: CacheEntry[] = [];
  const releases: (() => Promise<void>)[] = [];
  const own = names[0]!;
  const lookup = isSandboxSpec(options.version) ? { build: own, command: AGENT_SOURCES[own as AgentName].command, mode: options.version } : undefined;
  for (const [i, name] of names.entries()) {
    // `sandbox` brings no build of the agent itself; `auto` brings stable in case the image has none.
    if (i === 0 && lookup?.mode === 'sandbox') continue;
    // The version applies to the agent's own build (the first); helpers follow stable, or for
    // Node the version CAGEBENCH_NODE_VERSION names (e.g. 24.x).
    const version = i === 0 && !lookup ? options.version : name === 'node' ? (process.env.CAGEBENCH_NODE_VERSION ?? 'stable') : 'stable';
    const entry = await cache.ensure(name as never, { version: version as never, platform });
    releases.push(await cache.acquire(entry));
    entries.push(entry);
  }
  // Mounted where the provider can bind-mount this machine's files, shipped once per engine as
  // volumes where it keeps them, copied into every sandbox otherwise.
  const local = options.provider.capabilities.bindMounts;
  const volumes = !local && options.provider.capabilities.volumes ? await Promise.all(entries.map(buildVolume)) : [];
  const others = new Map<Platform, Promise<CacheEntry[]>>();
  const forPlatform = (other: Platform): Promise<CacheEntry[]> => {
    let pending = others.get(other);
    if (!pending) {
      pending = (async () => {
        const found: CacheEntry[] = [];
        for (const entry of entries) {
          const e = await cache.ensure(entry.agent, { version: entry.version as never, platform: other }).catch((cause: unknown) => {
            throw new AgentError('CB_AGENT_FAILED', `The sandbox is ${other}, and ${entry.agent} ${entry.version} has no build for it: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, kind: 'task' });
          });
          releases.push(await cache.acquire(e));
          found.push(e);
        }
        return found;
      })();
      others.set(other, pending);
    }
    return pending;
  };
  const platforms = new Map<string, Promise<Platform>>();
  const platformOf = (sandbox: Sandbox): Promise<Platform> => {
    const image = JSON.stringify(sandbox.spec.source);
    let probe = platforms.get(image);
    if (!probe) {
      probe = sandbox.platform();
      platforms.set(image, probe);
      probe.catch(() => platforms.delete(image)); // a failed probe is tried again by the next sample
    }
    return probe;
  };
  return {
    mounts: local ? entries.map(agentMount) : [],
    volumes,
    shipped: volumes.length ? entries : [],
    copies: local || volumes.length ? [] : entries,
    installed: Object.fromEntries(entries.map((e) => [e.agent, agentPaths(e)])),
    ...(lookup ? { lookup } : {}),
    platform,
    forPlatform,
    platformOf,
    release: async () => {
      await Promise.allSettled(releases.map((r) => r()));
    },
  };
}

/**
 * Put the builds into one started sandbox and say where the agent's programs are: copies for
 * a provider that can neither bind-mount nor keep volumes, and for `auto|sandbox` the agent's own program when the image has it.
 */
export async function placeBuilds(
  sandbox: Sandbox,
  builds: RunBuilds,
  identity: Identity,
  emit: (type: string, fields: Record<string, unknown>) => void,
): Promise<Readonly<Record<string, AgentInSandbox>>> {
  let installed = builds.installed;
  const entries = builds.mounts.length + builds.volumes.length + builds.copies.length;
  const platform = entries ? await builds.platformOf(sandbox) : builds.platform;
  if (platform !== builds.platform) {
    // A musl image: the mounted glibc builds cannot run there; copy in the platform's own.
    const root = `${AGENTS_ROOT}-${platform}`;
    const copied = await builds.forPlatform(platform);
    installed = Object.fromEntries(await Promise.all(copied.map(async (e) => [e.agent, await copyAgent(sandbox, e, root)] as const)));
    emit('agent.install', { source: 'cache', platform, copied: copied.map((e) => `${e.agent} ${e.version}`) });
  } else {
    // A volume the sandbox was started without (a spec made elsewhere) is copied in instead.
    const mounted = new Set((sandbox.spec.volumes ?? []).map((v) => v.name));
    const unmounted = builds.shipped.filter((_, i) => !mounted.has(builds.volumes[i]!.name));
    for (const entry of [...builds.copies, ...unmounted]) await copyAgent(sandbox, entry);
    const used = builds.volumes.filter((v) => mounted.has(v.name));
    if (used.length) emit('agent.install', { source: 'volume', volumes: used.map((v) => v.name) });
  }
  const lookup = builds.lookup;
  if (!lookup) return installed;
  // On the PATH the agent's user gets, as that user.
  const found = await sandbox.exec(['sh', '-c', 'command -v "$1"', 'sh', lookup.command], identity.user ? { user: identity.user } : {});
  const binary = found.exitCode === 0 ? found.stdout.trim() : '';
  if (binary.startsWith('/')) {
    emit('agent.install', { build: lookup.build, source: 'sandbox', binary });
    return { ...installed, [lookup.build]: { binary, path: [posix.dirname(binary)] } };
  }
  if (lookup.mode === 'sandbox') {
    throw new AgentError(
      'CB_AGENT_FAILED',
      `--agent-version sandbox: the sandbox has no "${lookup.command}" on its PATH. Install it in the task's image, or use --agent-version auto (falls back to the cached build), stable, latest or X.Y.Z.`,
      { kind: 'task' },
    );
  }
  emit('agent.install', { build: lookup.build, source: 'cache', binary: installed[lookup.build]?.binary, reason: `no "${lookup.command}" on the sandbox's PATH` });
  return installed;
}
