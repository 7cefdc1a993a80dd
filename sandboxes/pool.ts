// A pool of providers (Docker engines, local or remote) behind one SandboxProvider. Each
// member has a capacity; a sandbox starts on the member in service with the most free
// capacity among those offering its network mode and runtime. Images are prepared on a member the first time a sandbox there needs them, once
// per member. A member that stops answering is taken out: a start there moves to another
// member, and a sandbox that was running there fails with CB_ENGINE_LOST, which the runner
// answers by running the sample again elsewhere. A member taken out comes back once it answers
// a probe (`ping`, and at most every PROBE_EVERY_MS while samples start).
import { SandboxError } from './errors.ts';
import type {
  ExecOptions,
  FileToWrite,
  ImageSource,
  PrepareImageOptions,
  ProviderCapabilities,
  Sandbox,
  SandboxProcess,
  SandboxProvider,
  SandboxSpec,
  SpawnOptions,
  StartOptions,
} from './sandbox.ts';

export interface PoolMember {
  /** How the pool names it in messages, results and the summary: its address, usually. */
  readonly name: string;
  /** How many sandboxes it runs at once. */
  readonly capacity: number;
  readonly provider: SandboxProvider;
}

export interface PoolOptions {
  /** A member was taken out (it did not answer), or came back. */
  readonly onMember?: (event: { readonly name: string; readonly state: 'out' | 'back' }) => void;
  /** How long a member's probe may take. @default 3000 */
  readonly pingTimeoutMs?: number;
}

const PROBE_EVERY_MS = 15_000;

interface MemberState {
  readonly member: PoolMember;
  busy: number;
  out: boolean;
  lastProbe: number;
  probing?: Promise<boolean>;
  /** Image references prepared there, by source. */
  readonly images: Map<string, Promise<string>>;
  /** The ones that are ready, by source. */
  readonly ready: Map<string, string>;
}

export class ProviderPool implements SandboxProvider {
  readonly name = 'pool';
  readonly capabilities: ProviderCapabilities;
  private readonly states: MemberState[];
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    members: readonly PoolMember[],
    private readonly options: PoolOptions = {},
  ) {
    if (!members.length) throw new SandboxError('CB_BAD_SPEC', 'An engine pool needs at least one engine.');
    const names = new Set<string>();
    for (const m of members) {
      if (names.has(m.name)) throw new SandboxError('CB_BAD_SPEC', `The engine ${m.name} is in the pool twice: give each engine once.`);
      names.add(m.name);
      if (!Number.isInteger(m.capacity) || m.capacity < 1) throw new SandboxError('CB_BAD_SPEC', `The engine ${m.name} has capacity ${m.capacity}: give a whole number of sandboxes, 1 or more.`);
    }
    this.states = members.map((member) => ({ member, busy: 0, out: false, lastProbe: 0, images: new Map(), ready: new Map() }));
    this.capabilities = commonCapabilities(members.map((m) => m.provider.capabilities));
  }

  get location(): string {
    return `the engine pool (${this.states.map((s) => `${s.member.name} ×${s.member.capacity}`).join(', ')})`;
  }

  /** Sandboxes it can run at once with every member in service. */
  get capacity(): number {
    return this.states.reduce((n, s) => n + s.member.capacity, 0);
  }

  /** The members, in service or taken out, and their sandboxes running now. */
  members(): { readonly name: string; readonly capacity: number; readonly busy: number; readonly inService: boolean }[] {
    return this.states.map((s) => ({ name: s.member.name, capacity: s.member.capacity, busy: s.busy, inService: !s.out }));
  }

  async start(spec: SandboxSpec, options: StartOptions = {}): Promise<Sandbox> {
    for (;;) {
      if (this.closed) throw new SandboxError('CB_SANDBOX_STOPPED', 'The engine pool is closed: no sandbox starts.');
      this.probeOutMembers();
      const able = this.states.filter((s) => fits(s.member.provider.capabilities, spec));
      if (!able.length) throw new SandboxError('CB_BAD_SPEC', `No engine of the pool offers ${needsOf(spec)}.`);
      const state = this.pick(able);
      if (!state) {
        if (able.every((s) => s.out)) {
          throw new SandboxError('CB_ENGINE_UNREACHABLE', `No engine of the pool that offers ${needsOf(spec)} answers: ${able.map((s) => s.member.name).join(', ')} ${able.length === 1 ? 'was' : 'were'} taken out.`);
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      state.busy++;
      let sandbox: Sandbox;
      try {
        // Started from the image prepared (or copied) there, whatever the source named.
        const image = await this.prepareOn(state, spec.source, { buildTimeoutMs: spec.buildTimeoutMs, onBuildLog: options.onBuildLog });
        sandbox = await state.member.provider.start(state.member.provider.prepareImage ? { ...spec, source: { image } } : spec, options);
      } catch (err) {
        this.release(state);
        // The member went away under the start: take it out and start on another.
        if (!(await this.probe(state))) continue;
        throw err;
      }
      return this.wrap(sandbox, state);
    }
  }

  /** Prepare on every member in service (each builds once); the reference from the first that succeeds. */
  async prepareImage(source: ImageSource, options: PrepareImageOptions = {}): Promise<string> {
    const serving = this.states.filter((s) => !s.out);
    if (!serving.length) throw new SandboxError('CB_ENGINE_UNREACHABLE', 'No engine of the pool answers: no image can be prepared.');
    const settled = await Promise.allSettled(serving.map((s) => this.prepareOn(s, source, options)));
    const ok = settled.find((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled');
    if (ok) return ok.value;
    throw (settled[0] as PromiseRejectedResult).reason;
  }

  /** True while at least one member answers; members are taken out or brought back by what they answer. */
  async ping(timeoutMs?: number): Promise<boolean> {
    const answers = await Promise.all(this.states.map((s) => this.probe(s, timeoutMs)));
    return answers.some(Boolean);
  }

  async reap(): Promise<void> {
    await Promise.allSettled(this.states.filter((s) => !s.out).map((s) => s.member.provider.reap?.()));
  }

  async sweep(runId: string): Promise<void> {
    await Promise.all(this.states.map((s) => s.member.provider.sweep?.(runId)));
  }

  close(): Promise<void> {
    return this.shut((provider) => provider.close());
  }

  /** As close(), and each member lets go of its exit handlers too. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shut((provider) => {
      const dispose = (provider as Partial<AsyncDisposable>)[Symbol.asyncDispose];
      return dispose ? dispose.call(provider) : provider.close();
    });
  }

  private async shut(end: (provider: SandboxProvider) => PromiseLike<void>): Promise<void> {
    this.closed = true;
    this.wakeWaiters();
    await Promise.allSettled(this.states.map((s) => end(s.member.provider)));
  }

  /** Starts waiting for room look again: a slot freed, a member came back or went, the pool closed. */
  private wakeWaiters(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Of `able`, the member in service with the most free capacity (the first listed on a tie), if any is free. */
  private pick(able: readonly MemberState[]): MemberState | undefined {
    let best: MemberState | undefined;
    for (const s of able) {
      const free = s.member.capacity - s.busy;
      if (s.out || free <= 0) continue;
      if (!best || free > best.member.capacity - best.busy) best = s;
    }
    return best;
  }

  private release(state: MemberState): void {
    state.busy--;
    this.wakeWaiters();
  }

  private prepareOn(state: MemberState, source: ImageSource, options: PrepareImageOptions): Promise<string> {
    const { provider } = state.member;
    const fallback = 'image' in source ? source.image : source.dockerfile;
    if (!provider.prepareImage) return Promise.resolve(fallback);
    const key = JSON.stringify(source);
    let prepared = state.images.get(key);
    if (!prepared) {
      prepared = provider.prepareImage(source, options).catch((err: unknown) => this.copyTo(state, source, options, err));
      state.images.set(key, prepared);
      prepared.then((ref) => state.ready.set(key, ref), () => undefined);
      // A failed preparation is not kept: the next sample there tries again.
      prepared.catch(() => state.images.delete(key));
    }
    return prepared;
  }

  /**
   * An image the member lacks (`CB_IMAGE_NOT_FOUND`), or cannot build for want of its base
   * image (`CB_BASE_IMAGE_MISSING`), is copied from a member in service that has it or builds
   * it (`docker save | docker load`); otherwise `err` stands.
   */
  private async copyTo(state: MemberState, source: ImageSource, options: PrepareImageOptions, err: unknown): Promise<string> {
    const { provider } = state.member;
    const code = (err as { code?: unknown }).code;
    if ((code !== 'CB_IMAGE_NOT_FOUND' && code !== 'CB_BASE_IMAGE_MISSING') || !provider.loadImage) throw err;
    for (const other of this.states) {
      if (other === state || other.out || !other.member.provider.saveImage) continue;
      // Its ready image, or one it makes now: never through its own copying (two members would wait on each other).
      const ref = other.ready.get(JSON.stringify(source)) ?? (await other.member.provider.prepareImage?.(source, options).catch(() => undefined));
      const tar = ref && (await other.member.provider.saveImage(ref).catch(() => undefined));
      if (!ref || !tar) continue;
      options.onBuildLog?.(`copying image ${ref} from ${other.member.name} to ${state.member.name}`);
      await provider.loadImage(tar);
      return ref;
    }
    throw err;
  }

  /** Probe the member (once at a time); takes it out or brings it back. */
  private probe(state: MemberState, timeoutMs = this.options.pingTimeoutMs ?? 3_000): Promise<boolean> {
    state.probing ??= (async () => {
      const ok = (await state.member.provider.ping?.(timeoutMs)) ?? true;
      state.lastProbe = Date.now();
      if (ok === state.out) {
        state.out = !ok;
        // Work a member held when it went may be left there: reap it once it is back.
        if (ok) void state.member.provider.reap?.();
        this.options.onMember?.({ name: state.member.name, state: ok ? 'back' : 'out' });
        this.wakeWaiters();
      }
      return ok;
    })().finally(() => (state.probing = undefined));
    return state.probing;
  }

  /** Members taken out are probed again now and then, so one that came back takes samples again. */
  private probeOutMembers(): void {
    const now = Date.now();
    for (const s of this.states) if (s.out && !s.probing && now - s.lastProbe >= PROBE_EVERY_MS) void this.probe(s);
  }

  /** The member's sandbox, whose failures are checked against the member's health. */
  private wrap(inner: Sandbox, state: MemberState): Sandbox {
    let released = false;
    const name = state.member.name;
    const guard = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (err) {
        if (await this.probe(state)) throw err;
        throw new SandboxError('CB_ENGINE_LOST', `The engine ${name} stopped answering while sandbox ${inner.id.slice(0, 12)} ran there; it is out of the pool: ${(err as Error).message}`, { cause: err });
      }
    };
    const sandbox: Sandbox = {
      id: inner.id,
      spec: inner.spec,
      image: inner.image,
      runsOn: name,
      ...(inner.endpoint ? { endpoint: inner.endpoint } : {}),
      exec: (cmd, options?: ExecOptions) => guard(() => inner.exec(cmd, options)),
      ...(inner.spawn ? { spawn: (argv: readonly string[], options?: SpawnOptions): Promise<SandboxProcess> => guard(() => inner.spawn!(argv, options)) } : {}),
      readFile: (path) => guard(() => inner.readFile(path)),
      writeFile: (path, content, options) => guard(() => inner.writeFile(path, content, options)),
      ...(inner.writeFiles ? { writeFiles: (files: readonly FileToWrite[]) => guard(() => inner.writeFiles!(files)) } : {}),
      upload: (hostPath, target) => guard(() => inner.upload(hostPath, target)),
      download: (path, hostDir) => guard(() => inner.download(path, hostDir)),
      platform: () => guard(() => inner.platform()),
      ...(inner.snapshot ? { snapshot: (repo: string, tag: string) => guard(() => inner.snapshot!(repo, tag)) } : {}),
      stop: async () => {
        try {
          await inner.stop();
        } finally {
          if (!released) {
            released = true;
            this.release(state);
          }
        }
      },
      [Symbol.asyncDispose]: () => sandbox.stop(),
    };
    return sandbox;
  }
}

/**
 * What the pool offers. Network modes and runtimes: what any member offers, since a sample
 * asking for one starts only on a member that has it (`fits`). The rest shapes how the runner
 * prepares every sample (mounts or volumes for the agent's builds, the builds' architecture,
 * limits): only what every member offers, so a sample runs the same wherever it lands.
 */
export function commonCapabilities(all: readonly ProviderCapabilities[]): ProviderCapabilities {
  const both = <T>(lists: readonly (readonly T[])[]): T[] => lists.reduce<T[]>((acc, l) => acc.filter((x) => l.includes(x)), [...(lists[0] ?? [])]);
  const any = <T>(lists: readonly (readonly T[])[]): T[] => [...new Set(lists.flat())];
  return {
    bindMounts: all.every((c) => c.bindMounts),
    volumes: all.every((c) => c.volumes),
    networks: any(all.map((c) => c.networks)),
    architectures: both(all.map((c) => c.architectures)),
    runtimes: any(all.map((c) => c.runtimes)).sort(),
    prebuild: all.every((c) => c.prebuild),
    limits: {
      cpus: all.every((c) => c.limits.cpus),
      memory: all.every((c) => c.limits.memory),
      pids: all.every((c) => c.limits.pids),
    },
  };
}

/** Whether a member with these capabilities can start the spec: its network mode and runtime. */
function fits(capabilities: ProviderCapabilities, spec: SandboxSpec): boolean {
  return capabilities.networks.includes(spec.network ?? 'none') && (spec.runtime === undefined || capabilities.runtimes.includes(spec.runtime));
}

function needsOf(spec: SandboxSpec): string {
  return `the "${spec.network ?? 'none'}" network${spec.runtime ? ` and the runtime "${spec.runtime}"` : ''}`;
}
