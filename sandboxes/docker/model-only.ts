// The `model-only` network mode. Each sample gets its own internal bridge network on which
// the host has no address (inhibit_ipv4), so no host port and no other sample is reachable.
// One relay container per run and endpoint port (socat on a locally built image) sits on
// the default bridge and joins every sample network at a fixed address; it forwards that
// one port to the host. Docker's `--internal` alone would leave every host port open
// through the gateway address.
import { randomBytes } from 'node:crypto';
import type { SandboxEndpoint } from '../sandbox.ts';
import { SandboxError, engineMessage, engineStatus } from '../errors.ts';
import { createLabels } from '../labels.ts';
import type { Engine } from './client.ts';

export const RELAY_IMAGE = 'cagebench/relay:bookworm';
/** Relay's name on every sample network, for agents that prefer a host name. */
export const ENDPOINT_ALIAS = 'cagebench-endpoint';
/** Pool the per-sample /28 subnets are carved from; override with CAGEBENCH_SUBNET_POOL. */
const DEFAULT_POOL = '10.213.0.0/16';
const SUBNET_PREFIX = 28;
const MAX_SUBNET_TRIES = 64;

/** How the relay names the host it forwards to, and the /etc/hosts entries that make the name resolve. */
export interface RelayHost {
  readonly name: string;
  readonly extraHosts: readonly string[];
}
/** dockerd resolves `host-gateway` to its bridge's gateway (or --host-gateway-ip). */
export const DOCKER_RELAY_HOST: RelayHost = { name: 'host.docker.internal', extraHosts: ['host.docker.internal:host-gateway'] };

export interface SampleNetwork {
  readonly name: string;
  readonly endpoint: SandboxEndpoint;
  /** Detach the relay and remove the network. Idempotent. */
  release(): Promise<void>;
}

interface Pool {
  readonly base: number;
  readonly blocks: number;
}

function parsePool(cidr: string): Pool {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  const bits = m ? Number(m[5]) : NaN;
  if (!m || !(bits >= 8 && bits <= SUBNET_PREFIX)) {
    throw new SandboxError('CB_BAD_SPEC', `CAGEBENCH_SUBNET_POOL must be an IPv4 CIDR of size /8 to /${SUBNET_PREFIX} (got "${cidr}")`);
  }
  const base = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (base & mask) >>> 0, blocks: 2 ** (SUBNET_PREFIX - bits) };
}

function ipString(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** A sample network with the relay attached at its fixed address. */
interface WiredNetwork {
  readonly name: string;
  readonly block: number;
  readonly relayId: string;
  readonly endpoint: SandboxEndpoint;
}

/**
 * Per-sample networks of one run. A network released by a sample whose container is gone
 * is kept, relay attached, and handed to the next sample of the run: creating, wiring and
 * removing a network costs more than starting the container itself. Only one sample uses a
 * network at a time, so samples still never share one. close() removes them all.
 */
export class ModelOnlyNetworks {
  private readonly pool: Pool;
  private readonly inUse = new Set<number>();
  /** Relay container id by endpoint port; shared by the run's samples. */
  private readonly relays = new Map<number, Promise<string>>();
  /** Released networks ready for the next sample, by endpoint port. */
  private readonly idle = new Map<number, WiredNetwork[]>();
  /** Every network made and not yet removed, idle or not: close() removes them all. */
  private readonly made = new Set<WiredNetwork>();
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly runId: string,
    pool: string = process.env.CAGEBENCH_SUBNET_POOL || DEFAULT_POOL,
    private readonly host: RelayHost = DOCKER_RELAY_HOST,
  ) {
    this.pool = parsePool(pool);
  }

  /** A network for one sample. Call release() only once the sample's container is removed. */
  async attach(sampleId: string, port: number): Promise<SampleNetwork> {
    await this.reviveRelay(port);
    const wired = this.idle.get(port)?.pop() ?? (await this.wire(sampleId, port));
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      if (this.closed) return this.remove(wired);
      const idle = this.idle.get(port) ?? [];
      idle.push(wired);
      this.idle.set(port, idle);
    };
    return { name: wired.name, endpoint: wired.endpoint, release };
  }

  /** Remove the run's relays and its networks. */
  async close(): Promise<void> {
    this.closed = true;
    const relays = [...this.relays.values()];
    const made = [...this.made];
    this.relays.clear();
    this.idle.clear();
    await Promise.all(
      relays.map(async (p) => {
        const id = await p.catch(() => undefined);
        if (id) await this.engine.docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
      }),
    );
    await Promise.allSettled(made.map((w) => this.remove(w)));
  }

  private async wire(sampleId: string, port: number): Promise<WiredNetwork> {
    const relayId = await this.relay(port);
    const { name, block } = await this.createNetwork(sampleId);
    const subnetBase = this.pool.base + block * 2 ** (32 - SUBNET_PREFIX);
    const relayIp = ipString(subnetBase + 2); // .1 is the (unassigned) gateway
    const wired: WiredNetwork = { name, block, relayId, endpoint: { host: relayIp, port } };
    this.made.add(wired);
    try {
      await this.engine.docker.getNetwork(name).connect({
        Container: relayId,
        EndpointConfig: { IPAMConfig: { IPv4Address: relayIp }, Aliases: [ENDPOINT_ALIAS] },
      });
    } catch (cause) {
      await this.remove(wired).catch(() => undefined);
      throw new SandboxError('CB_SANDBOX_FAILED', `Could not attach the model relay to network ${name}: ${engineMessage(cause)}`, { cause });
    }
    return wired;
  }

  private async remove(wired: WiredNetwork): Promise<void> {
    const network = this.engine.docker.getNetwork(wired.name);
    await network.disconnect({ Container: wired.relayId, Force: true }).catch(() => undefined);
    await network.remove().catch((err: unknown) => {
      if (engineStatus(err) !== 404) throw err;
    });
    this.inUse.delete(wired.block);
    this.made.delete(wired);
  }

  /**
   * The relay stops when the engine does (an outage, a restart) or when it crashes: start it
   * again, which puts it back on every sample network it was on, at the same addresses. A
   * relay that is gone altogether is made anew, and the networks wired to it are dropped.
   */
  private async reviveRelay(port: number): Promise<void> {
    const relay = this.relays.get(port);
    const id = relay && (await relay.catch(() => undefined));
    if (!id) return;
    const container = this.engine.docker.getContainer(id);
    const state = await container.inspect().then(
      (info: { State?: { Running?: boolean } }) => (info.State?.Running ? 'running' : 'stopped'),
      (err: unknown) => {
        if (engineStatus(err) === 404) return 'gone' as const;
        throw new SandboxError('CB_SANDBOX_FAILED', `Could not inspect the model relay for port ${port}: ${engineMessage(err)}`, { cause: err });
      },
    );
    if (state === 'running') return;
    if (state === 'stopped') {
      await container.start().catch((err: unknown) => {
        // Started meanwhile by another sample (304), or it cannot start: the next attach asks again.
        if (engineStatus(err) !== 304) throw new SandboxError('CB_SANDBOX_FAILED', `The model relay for port ${port} did not start again: ${engineMessage(err)}`, { cause: err });
      });
      return;
    }
    if (this.relays.get(port) === relay) this.relays.delete(port);
    const stale = this.idle.get(port) ?? [];
    this.idle.delete(port);
    await Promise.allSettled(stale.map((w) => this.remove(w)));
  }

  private relay(port: number): Promise<string> {
    let relay = this.relays.get(port);
    if (!relay) {
      relay = this.startRelay(port);
      this.relays.set(port, relay);
      relay.catch(() => this.relays.delete(port));
    }
    return relay;
  }

  private async startRelay(port: number): Promise<string> {
    const { docker } = this.engine;
    let container;
    try {
      container = await docker.createContainer({
        Image: RELAY_IMAGE,
        Cmd: ['socat', `TCP-LISTEN:${port},fork,reuseaddr`, `TCP:${this.host.name}:${port}`],
        Labels: createLabels({ runId: this.runId, role: 'relay' }),
        HostConfig: {
          NetworkMode: 'bridge',
          ExtraHosts: [...this.host.extraHosts],
          Memory: 64 * 1024 * 1024,
          PidsLimit: 256,
          RestartPolicy: { Name: 'no' },
        },
      });
    } catch (cause) {
      if (engineStatus(cause) === 404) {
        throw new SandboxError(
          'CB_IMAGE_NOT_FOUND',
          `The model-only network needs the relay image ${RELAY_IMAGE}, which is not in the engine at ${this.engine.address}. Run scripts/setup.sh to build it.`,
          { cause },
        );
      }
      throw cause;
    }
    try {
      await container.start();
    } catch (cause) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new SandboxError('CB_SANDBOX_FAILED', `The model relay for port ${port} did not start: ${engineMessage(cause)}`, { cause });
    }
    return container.id;
  }

  private async createNetwork(sampleId: string): Promise<{ name: string; block: number }> {
    const start = randomBytes(4).readUInt32BE() % this.pool.blocks;
    const size = 2 ** (32 - SUBNET_PREFIX);
    let lastError: unknown;
    for (let i = 0, tries = 0; i < this.pool.blocks && tries < MAX_SUBNET_TRIES; i++) {
      const block = (start + i) % this.pool.blocks;
      if (this.inUse.has(block)) continue;
      tries++;
      const subnet = `${ipString(this.pool.base + block * size)}/${SUBNET_PREFIX}`;
      const name = `cagebench-${randomBytes(6).toString('hex')}`;
      this.inUse.add(block);
      try {
        await this.engine.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: true,
          CheckDuplicate: true,
          Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
          Labels: createLabels({ runId: this.runId, sampleId, role: 'network' }),
        });
        return { name, block };
      } catch (err) {
        this.inUse.delete(block);
        lastError = err;
        // Another process (or network) holds this subnet: try the next one.
        if (!/overlap|in use|already/i.test(engineMessage(err))) throw err;
      }
    }
    throw new SandboxError(
      'CB_NETWORK_POOL_EXHAUSTED',
      `No free /${SUBNET_PREFIX} subnet for a model-only network (pool ${ipString(this.pool.base)}, ${this.pool.blocks} blocks). ` +
        `Remove leftovers with 'cagebench sandbox cleanup', or set CAGEBENCH_SUBNET_POOL to a free IPv4 range.`,
      { cause: lastError },
    );
  }
}
