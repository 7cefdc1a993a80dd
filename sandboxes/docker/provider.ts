// The Docker provider: turns a SandboxSpec into a running container with limits, labels,
// read-only mounts and the chosen network; removes whatever a failed start left behind.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import type { Architecture, ImageSource, NetworkMode, PrepareImageOptions, ProviderCapabilities, Sandbox, SandboxEndpoint, SandboxProvider, SandboxSpec, StartOptions } from '../sandbox.ts';
import { SandboxError, engineMessage, engineStatus } from '../errors.ts';
import { createLabels } from '../labels.ts';
import { registerForTeardown } from '../teardown.ts';
import { sweep } from '../sweep.ts';
import { connectEngine, pingFresh, type Engine, type EngineOptions } from './client.ts';
import { DockerSandbox } from './docker-sandbox.ts';
import { ImageStore } from './images.ts';
import { ModelOnlyNetworks } from './model-only.ts';
import { isPodman, podmanRuntimes, PODMAN_HOST_NAME, type EngineVersion } from './podman.ts';
import { EngineVolumes, NO_COPY } from './volumes.ts';

/** PID 1 of every sandbox: idle, and quick to stop. Needs only a POSIX sh and sleep. */
const KEEPALIVE = ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"];

export interface DockerProviderOptions extends EngineOptions {
  /** An engine already connected (tests, or a caller sharing one). */
  readonly engine?: Engine;
  /** Remove live sandboxes on SIGINT/SIGTERM and on a crash. @default true */
  readonly teardownOnExit?: boolean;
  /** IPv4 range the per-sample model-only /28 subnets come from. @default $CAGEBENCH_SUBNET_POOL or 10.213.0.0/16 */
  readonly subnetPool?: string;
}

export async function createDockerProvider(options: DockerProviderOptions = {}): Promise<DockerProvider> {
  const engine = options.engine ?? (await connectEngine(options));
  // An engine started with --bridge=none (no default bridge) has neither `bridge` nor `model-only` (whose relay sits on it).
  const bridge = await engine.docker.getNetwork('bridge').inspect().then(() => true, () => false);
  // Podman behind the Docker API (podman system service) differs in a few answers: see podman.ts.
  const podman = isPodman(await engine.docker.version().then((v) => v as EngineVersion, () => undefined));
  const capabilities = dockerCapabilities(engine, await engineInfo(engine), { bridge, podman });
  return new DockerProvider(engine, { teardownOnExit: options.teardownOnExit ?? true, subnetPool: options.subnetPool, capabilities, podman });
}

/** The part of the engine's /info that capabilities come from. */
export interface EngineInfo {
  readonly Architecture?: string;
  readonly Runtimes?: Record<string, unknown>;
  readonly CgroupVersion?: string;
  readonly MemoryLimit?: boolean;
  readonly CpuCfsQuota?: boolean;
  readonly PidsLimit?: boolean;
}

async function engineInfo(engine: Engine): Promise<EngineInfo> {
  try {
    return (await engine.docker.info()) as EngineInfo;
  } catch (cause) {
    throw new SandboxError('CB_ENGINE_UNREACHABLE', `The Docker engine at ${engine.address} did not answer /info: ${engineMessage(cause)}`, { cause });
  }
}

/**
 * What a Docker engine can do, from its /info: a remote engine cannot bind-mount this machine's
 * paths. `podman`: the engine is Podman, whose /info lists runtimes it may not have (only those
 * installed count).
 */
export function dockerCapabilities(engine: Engine, info: EngineInfo, about: { readonly bridge?: boolean; readonly podman?: boolean } = {}): ProviderCapabilities {
  const arch = architectureOf(info.Architecture);
  return {
    bindMounts: engine.isLocal,
    // Filled through a helper container's archive upload, so any engine can (volumes.ts).
    volumes: true,
    networks: about.bridge === false ? ['none'] : ['none', 'bridge', 'model-only'],
    architectures: arch ? [arch] : [],
    runtimes: about.podman ? podmanRuntimes(info.Runtimes, engine.isLocal) : Object.keys(info.Runtimes ?? { runc: {} }).sort(),
    prebuild: true,
    // The engine reports each as false when the kernel lacks the cgroup controller.
    limits: { cpus: info.CpuCfsQuota !== false, memory: info.MemoryLimit !== false, pids: info.PidsLimit !== false },
  };
}

/** `x86_64`/`amd64` → `x64`, `aarch64`/`arm64` → `arm64`. */
export function architectureOf(machine: string | undefined): Architecture | undefined {
  if (machine === 'x86_64' || machine === 'amd64') return 'x64';
  if (machine === 'aarch64' || machine === 'arm64') return 'arm64';
  return undefined;
}

export class DockerProvider implements SandboxProvider {
  readonly name = 'docker';
  readonly images: ImageStore;
  /** The volumes of `SandboxSpec.volumes` on this engine, filled once each. */
  readonly volumes: EngineVolumes;
  readonly capabilities: ProviderCapabilities;
  private readonly live = new Set<DockerSandbox>();
  /** Containers whose removal failed (the engine was gone): removed again by reap() and close(). */
  private readonly leftovers = new Set<string>();
  /** Starts between image and registration: close() waits for them so none slips past it. */
  private readonly creating = new Set<Promise<unknown>>();
  private closed = false;
  private readonly networks = new Map<string, ModelOnlyNetworks>();
  private readonly unregister: (() => void) | undefined;

  constructor(
    readonly engine: Engine,
    private readonly options: { teardownOnExit: boolean; subnetPool?: string; capabilities?: ProviderCapabilities; podman?: boolean },
  ) {
    // Without /info (a caller building one by hand): this machine's architecture, every runtime unknown but runc.
    this.capabilities = options.capabilities ?? dockerCapabilities(engine, { Architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64' });
    this.images = new ImageStore(engine);
    this.volumes = new EngineVolumes(engine);
    this.unregister = options.teardownOnExit ? registerForTeardown({ stop: () => this.close() }) : undefined;
  }

  get location(): string {
    return `the ${this.options.podman ? 'Podman' : 'Docker'} engine at ${this.engine.address}`;
  }

  /** Pull-free: an image the engine has, or the Dockerfile's build (once, under a lock). */
  prepareImage(source: ImageSource, options: PrepareImageOptions = {}): Promise<string> {
    return this.images.ensure(source, options);
  }

  async saveImage(ref: string): Promise<Readable> {
    try {
      return (await this.engine.docker.getImage(ref).get()) as Readable;
    } catch (cause) {
      throw new SandboxError(engineStatus(cause) === 404 ? 'CB_IMAGE_NOT_FOUND' : 'CB_ENGINE_UNREACHABLE', `Saving image "${ref}" from ${this.location} failed: ${engineMessage(cause)}`, { cause });
    }
  }

  async loadImage(tar: Readable): Promise<void> {
    try {
      const reply = (await this.engine.docker.loadImage(tar, { quiet: true })) as Readable;
      // The engine reports a failed load in the body's JSON lines, not in the status.
      let body = '';
      for await (const chunk of reply) body += String(chunk);
      const failed = /"error(?:Detail)?"\s*:\s*(?:\{[^}]*"message"\s*:\s*)?"([^"]+)"/.exec(body);
      if (failed) throw new Error(failed[1]);
    } catch (cause) {
      throw new SandboxError('CB_ENGINE_UNREACHABLE', `Loading an image into ${this.location} failed: ${engineMessage(cause)}`, { cause });
    }
  }

  get liveCount(): number {
    return this.live.size;
  }

  async start(spec: SandboxSpec, options: StartOptions = {}): Promise<Sandbox> {
    validateSpec(spec, this.engine);
    if (spec.runtime !== undefined && !this.capabilities.runtimes.includes(spec.runtime)) {
      throw new SandboxError(
        'CB_BAD_SPEC',
        `Sandbox spec for ${spec.sampleId}: runtime "${spec.runtime}" is not one the Docker engine at ${this.engine.address} offers ` +
          `(it offers ${this.capabilities.runtimes.map((r) => `"${r}"`).join(', ') || 'none'}). Register it with the engine (dockerd --add-runtime, or "runtimes" in daemon.json), or choose one of those.`,
      );
    }
    this.assertOpen(spec);
    const image = await this.images.ensure(spec.source, { buildTimeoutMs: spec.buildTimeoutMs, onBuildLog: options.onBuildLog });
    this.assertOpen(spec); // a build can be long; do not start anything once closing began
    const creation = this.create(spec, image);
    this.creating.add(creation);
    try {
      return await creation;
    } finally {
      this.creating.delete(creation);
    }
  }

  private async create(spec: SandboxSpec, image: string): Promise<Sandbox> {
    // Found on the engine, or filled now (once per name; a first sample on the engine pays it), from the sandbox's own image.
    const volumes = await Promise.all((spec.volumes ?? []).map(async (v) => ({ content: await this.volumes.contentOf(v, { image, runId: spec.runId, ...(this.options.podman ? { run: KEEPALIVE } : {}) }), target: v.target })));
    this.assertOpen(spec);
    const mode: NetworkMode = spec.network ?? 'none';
    const network = mode === 'model-only' ? await this.modelOnly(spec.runId).attach(spec.sampleId, spec.endpointPort!) : undefined;
    // On the default bridge (a task that needs the outside world) the host's endpoint is at the bridge's gateway.
    const endpoint = mode === 'bridge' && spec.endpointPort !== undefined ? { host: this.options.podman ? PODMAN_HOST_NAME : await this.bridgeGateway(), port: spec.endpointPort } : network?.endpoint;
    const { limits = {}, mounts = [] } = spec;
    let container;
    try {
      container = await this.engine.docker.createContainer({
        Image: image,
        Entrypoint: KEEPALIVE,
        Cmd: [],
        Labels: createLabels({ runId: spec.runId, sampleId: spec.sampleId, role: 'sandbox' }),
        WorkingDir: spec.workdir,
        Env: Object.entries(sandboxEnv(spec, endpoint)).map(([k, v]) => `${k}=${v}`),
        StopTimeout: 1,
        HostConfig: {
          ...(spec.runtime !== undefined ? { Runtime: spec.runtime } : {}),
          NetworkMode: network?.name ?? mode,
          NanoCpus: limits.cpus ? Math.round(limits.cpus * 1e9) : undefined,
          Memory: limits.memoryMb ? limits.memoryMb * 1024 * 1024 : undefined,
          // No swap beyond the limit, so a memory hog is killed rather than slowed.
          MemorySwap: limits.memoryMb ? limits.memoryMb * 1024 * 1024 : undefined,
          PidsLimit: limits.pids,
          Mounts: [
            ...mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: true })),
            ...volumes.map((v) => ({ Type: 'volume' as const, Source: v.content, Target: v.target, ReadOnly: true, VolumeOptions: NO_COPY })),
          ],
        },
      });
      await container.start();
    } catch (cause) {
      // A failed start leaves nothing behind; a cleanup failure never hides the cause. The
      // network goes back for reuse only once no container of this start can be on it.
      const removed = container ? await container.remove({ force: true, v: true }).then(() => true, () => false) : true;
      if (removed) await network?.release().catch(() => undefined);
      if (engineStatus(cause) === 404 && /image/i.test(engineMessage(cause))) {
        throw new SandboxError('CB_IMAGE_NOT_FOUND', `Image "${image}" disappeared from the engine while starting ${spec.sampleId}: ${engineMessage(cause)}`, { cause });
      }
      throw new SandboxError('CB_SANDBOX_FAILED', `Could not start the sandbox for ${spec.sampleId} from ${image}: ${engineMessage(cause)}`, { cause });
    }
    const sandbox = new DockerSandbox(this.engine, container, spec, image, network, (removed) => {
      this.live.delete(sandbox);
      if (!removed) this.leftovers.add(sandbox.id);
    }, endpoint);
    this.live.add(sandbox);
    return sandbox;
  }

  /** Whether the engine answers /_ping on a new connection within `timeoutMs`. Never throws. */
  ping(timeoutMs = 3_000): Promise<boolean> {
    return pingFresh(this.engine, timeoutMs);
  }

  /** Remove the containers whose removal failed earlier (call once the engine answers again). */
  async reap(): Promise<void> {
    await Promise.allSettled(
      [...this.leftovers].map(async (id) => {
        await this.engine.docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch((err: unknown) => {
            if (engineStatus(err) !== 404) throw err;
          });
        this.leftovers.delete(id);
      }),
    );
  }

  /** Remove the containers and networks labelled with `runId` (a killed process left them). */
  async sweep(runId: string): Promise<void> {
    await sweep(this.engine, { runId });
  }

  private gateway: Promise<string> | undefined;

  /** The default bridge's gateway address: the host as containers on that network reach it. */
  private bridgeGateway(): Promise<string> {
    this.gateway ??= this.engine.docker
      .getNetwork('bridge')
      .inspect()
      .then((info: { IPAM?: { Config?: { Gateway?: string; Subnet?: string }[] } }) => {
        // The engine lists no Gateway for its default bridge on some versions: it is then the subnet's first address.
        const v4 = info.IPAM?.Config?.find((c) => (c.Subnet ?? c.Gateway ?? '').includes('.'));
        const gateway = v4?.Gateway ?? (v4?.Subnet ? firstHost(v4.Subnet) : undefined);
        if (!gateway) throw new SandboxError('CB_SANDBOX_FAILED', `The engine's default bridge network has no IPv4 gateway; a sandbox on it cannot reach the host's endpoint.`);
        return gateway;
      });
    this.gateway.catch(() => (this.gateway = undefined));
    return this.gateway;
  }

  private assertOpen(spec: SandboxSpec): void {
    if (this.closed) throw new SandboxError('CB_SANDBOX_STOPPED', `Not starting ${spec.sampleId}: the sandbox provider is closing (interrupted, or the run ended).`);
  }

  /** Refuse new starts, let those already creating finish, stop every live sandbox, remove the relays. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.volumes.close();
    await Promise.allSettled([...this.creating]);
    await Promise.allSettled([...this.live].map((s) => s.stop()));
    await this.reap();
    const networks = [...this.networks.values()];
    this.networks.clear();
    await Promise.allSettled(networks.map((n) => n.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
    this.unregister?.();
  }

  private modelOnly(runId: string): ModelOnlyNetworks {
    let networks = this.networks.get(runId);
    if (!networks) {
      networks = new ModelOnlyNetworks(this.engine, runId, this.options.subnetPool, this.options.podman ? { name: PODMAN_HOST_NAME, extraHosts: [] } : undefined);
      this.networks.set(runId, networks);
    }
    return networks;
  }
}

/** The spec's environment, plus where the host's endpoint is when the sandbox has one. */
function sandboxEnv(spec: SandboxSpec, endpoint: SandboxEndpoint | undefined): Record<string, string> {
  if (!endpoint) return { ...spec.env };
  return { CAGEBENCH_ENDPOINT: `${endpoint.host}:${endpoint.port}`, ...spec.env };
}

/** `172.17.0.0/16` → `172.17.0.1`. */
function firstHost(subnet: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(subnet);
  if (!m) return undefined;
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const host = n + 1;
  return [host >>> 24, (host >>> 16) & 255, (host >>> 8) & 255, host & 255].join('.');
}

function validateSpec(spec: SandboxSpec, engine: Engine): void {
  const bad = (field: string, why: string): never => {
    throw new SandboxError('CB_BAD_SPEC', `Sandbox spec for ${spec.sampleId}: ${field} ${why}`);
  };
  if (!spec.runId) bad('runId', 'must be a non-empty string');
  if (!spec.sampleId) bad('sampleId', 'must be a non-empty string');
  const mode = spec.network ?? 'none';
  if (!['none', 'bridge', 'model-only'].includes(mode)) bad('network', `must be none, bridge or model-only (got "${mode}")`);
  if (mode === 'model-only') {
    const port = spec.endpointPort;
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      bad('endpointPort', `must be a TCP port 1-65535 for the model-only network (got ${String(port)})`);
    }
  }
  const { cpus, memoryMb, pids } = spec.limits ?? {};
  if (cpus !== undefined && !(cpus > 0)) bad('limits.cpus', `must be > 0 (got ${cpus})`);
  if (memoryMb !== undefined && !(Number.isInteger(memoryMb) && memoryMb >= 6)) bad('limits.memoryMb', `must be an integer >= 6 (got ${memoryMb})`);
  if (pids !== undefined && !(Number.isInteger(pids) && pids > 0)) bad('limits.pids', `must be a positive integer (got ${pids})`);
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    if (!isAbsolute(m.source)) bad(`mounts[${i}].source`, `must be an absolute host path (got "${m.source}")`);
    if (!m.target.startsWith('/')) bad(`mounts[${i}].target`, `must be an absolute sandbox path (got "${m.target}")`);
    if (engine.isLocal && !existsSync(m.source)) bad(`mounts[${i}].source`, `does not exist on the host: ${m.source}`);
  }
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v.name)) bad(`volumes[${i}].name`, `must be a volume name of letters, digits, _ . - (got "${v.name}")`);
    if (!isAbsolute(v.source) || !existsSync(v.source)) bad(`volumes[${i}].source`, `must be an absolute path of an existing host directory (got "${v.source}")`);
    if (!v.target.startsWith('/')) bad(`volumes[${i}].target`, `must be an absolute sandbox path (got "${v.target}")`);
  }
}
