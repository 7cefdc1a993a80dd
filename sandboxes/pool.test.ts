// The pool's own decisions, over in-memory members: where a sandbox starts, what a member
// that stops answering does to starts and to running sandboxes, what the pool declares.
// harness/e2e/engine-pool.test.ts runs it over two real engines, one killed mid-run.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { SandboxError } from './errors.ts';
import { ProviderPool, commonCapabilities } from './pool.ts';
import type { ExecResult, ImageSource, ProviderCapabilities, Sandbox, SandboxProvider, SandboxSpec } from './sandbox.ts';

const FULL: ProviderCapabilities = {
  bindMounts: true,
  volumes: true,
  networks: ['none', 'bridge', 'model-only'],
  architectures: ['x64'],
  runtimes: ['runc', 'runsc'],
  prebuild: true,
  limits: { cpus: true, memory: true, pids: true },
};

/** A member whose engine can be switched off: then every call fails and ping says no. */
class FakeEngine implements SandboxProvider {
  readonly name = 'fake';
  up = true;
  /** While up, readFile fails with this: the sandbox's own error. */
  ownError: Error | undefined;
  started = 0;
  prepared: string[] = [];
  constructor(
    readonly location: string,
    readonly capabilities: ProviderCapabilities = FULL,
  ) {}
  /** Named images it has; undefined: every one. */
  images: Set<string> | undefined;
  async prepareImage(source: ImageSource): Promise<string> {
    if (!this.up) throw new Error('connect ECONNREFUSED');
    if ('image' in source && this.images && !this.images.has(source.image)) throw new SandboxError('CB_IMAGE_NOT_FOUND', `no ${source.image}`, { kind: 'task' });
    this.prepared.push(JSON.stringify(source));
    return 'image' in source ? source.image : 'built';
  }
  async saveImage(ref: string): Promise<Readable> {
    return Readable.from([Buffer.from(ref)]);
  }
  async loadImage(tar: Readable): Promise<void> {
    let name = '';
    for await (const chunk of tar) name += String(chunk);
    (this.images ??= new Set()).add(name);
  }
  async start(spec: SandboxSpec): Promise<Sandbox> {
    if (!this.up) throw new Error('connect ECONNREFUSED');
    const id = `${this.location}-${++this.started}`;
    const fail = async (): Promise<never> => {
      throw new Error('socket hang up');
    };
    const engine = this;
    const sandbox: Sandbox = {
      id,
      spec,
      image: 'img',
      async exec(): Promise<ExecResult> {
        if (!engine.up) return fail();
        return { exitCode: 0, stdout: id, stderr: '', timedOut: false, truncated: false, durationMs: 1 };
      },
      readFile: async () => {
        if (!engine.up) return fail();
        if (engine.ownError) throw engine.ownError;
        return Buffer.from(id);
      },
      writeFile: async () => (engine.up ? undefined : fail()),
      upload: async () => (engine.up ? undefined : fail()),
      download: async () => (engine.up ? undefined : fail()),
      platform: async () => 'linux-x64',
      stop: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
    return sandbox;
  }
  async ping(): Promise<boolean> {
    return this.up;
  }
  async close(): Promise<void> {}
}

const spec = (n: number): SandboxSpec => ({ source: { image: 'debian:bookworm-slim' }, runId: 'pool-test', sampleId: `s${n}` });

describe('ProviderPool', () => {
  it('starts each sandbox on the member with the most free capacity, and waits when all are full', async () => {
    const a = new FakeEngine('a');
    const b = new FakeEngine('b');
    const pool = new ProviderPool([
      { name: 'a', capacity: 2, provider: a },
      { name: 'b', capacity: 1, provider: b },
    ]);
    const s1 = await pool.start(spec(1));
    const s2 = await pool.start(spec(2));
    const s3 = await pool.start(spec(3));
    // a has 2 free, then 1 (a tie with b goes to the first listed), then b.
    expect([s1.runsOn, s2.runsOn, s3.runsOn]).toEqual(['a', 'a', 'b']);
    expect(pool.members().map((m) => m.busy)).toEqual([2, 1]);
    let fourth: Sandbox | undefined;
    const waiting = pool.start(spec(4)).then((s) => (fourth = s));
    await new Promise((r) => setTimeout(r, 20));
    expect(fourth).toBeUndefined();
    await s3.stop();
    await waiting;
    expect(fourth!.runsOn).toBe('b');
    await s3.stop(); // idempotent: frees its slot once
    expect(pool.members().map((m) => m.busy)).toEqual([2, 1]);
  });

  it('takes out a member whose start fails because it stopped answering, and starts on another', async () => {
    const a = new FakeEngine('a');
    const b = new FakeEngine('b');
    const notes: string[] = [];
    const pool = new ProviderPool(
      [
        { name: 'a', capacity: 4, provider: a },
        { name: 'b', capacity: 1, provider: b },
      ],
      { onMember: (e) => notes.push(`${e.name} ${e.state}`) },
    );
    a.up = false;
    const s = await pool.start(spec(1));
    expect(s.runsOn).toBe('b');
    expect(notes).toEqual(['a out']);
    expect(pool.members().map((m) => m.inService)).toEqual([false, true]);
    // Back once a probe finds it answering.
    a.up = true;
    expect(await pool.ping()).toBe(true);
    expect(notes).toEqual(['a out', 'a back']);
    expect((await pool.start(spec(2))).runsOn).toBe('a');
  });

  it('fails a running sandbox whose member stopped answering with CB_ENGINE_LOST, and keeps a live member\'s own errors as they are', async () => {
    const a = new FakeEngine('a');
    const b = new FakeEngine('b');
    const pool = new ProviderPool([
      { name: 'a', capacity: 1, provider: a },
      { name: 'b', capacity: 1, provider: b },
    ]);
    const onA = await pool.start(spec(1));
    const onB = await pool.start(spec(2));
    expect((await onA.exec('true')).stdout).toBe(onA.id);
    a.up = false;
    await expect(onA.exec('true')).rejects.toMatchObject({ code: 'CB_ENGINE_LOST', kind: 'infra', message: expect.stringContaining('The engine a stopped answering') });
    await expect(onA.readFile('/x')).rejects.toMatchObject({ code: 'CB_ENGINE_LOST' });
    expect(pool.members()[0]!.inService).toBe(false);
    // b answers: its sandbox's error is its own.
    b.ownError = new Error('no such file');
    await expect(onB.readFile('/nope')).rejects.toBe(b.ownError);
    expect(pool.members()[1]!.inService).toBe(true);
  });

  it('says so when no member answers, so the run\'s breaker waits for one', async () => {
    const a = new FakeEngine('a');
    const pool = new ProviderPool([{ name: 'a', capacity: 1, provider: a }]);
    a.up = false;
    await expect(pool.start(spec(1))).rejects.toMatchObject({ code: 'CB_ENGINE_UNREACHABLE', kind: 'infra' });
    expect(await pool.ping()).toBe(false);
    a.up = true;
    expect(await pool.ping()).toBe(true);
    expect((await pool.start(spec(2))).runsOn).toBe('a');
  });

  it('prepares an image once per member, on the member a sandbox starts on', async () => {
    const a = new FakeEngine('a');
    const b = new FakeEngine('b');
    const pool = new ProviderPool([
      { name: 'a', capacity: 3, provider: a },
      { name: 'b', capacity: 1, provider: b },
    ]);
    const started = await Promise.all([1, 2, 3, 4].map((n) => pool.start({ ...spec(n), source: { dockerfile: '/tasks/t/environment' } })));
    expect(started.map((s) => s.runsOn).sort()).toEqual(['a', 'a', 'a', 'b']);
    expect(a.prepared).toHaveLength(1);
    expect(b.prepared).toHaveLength(1);
    expect(await pool.prepareImage({ dockerfile: '/tasks/t/environment' })).toBe('built');
    expect([a.prepared.length, b.prepared.length]).toEqual([1, 1]);
  });

  it('copies an image a member lacks from one that has it, once, and starts there from it', async () => {
    const a = new FakeEngine('a');
    const b = new FakeEngine('b');
    b.images = new Set(['debian:bookworm-slim']);
    const pool = new ProviderPool([
      { name: 'a', capacity: 1, provider: a },
      { name: 'b', capacity: 2, provider: b },
    ]);
    const source = { image: 'cagebench/sandbox:bookworm' };
    const started = await Promise.all([1, 2, 3].map((n) => pool.start({ ...spec(n), source })));
    expect(started.map((s) => s.runsOn).sort()).toEqual(['a', 'b', 'b']);
    expect([...b.images]).toEqual(['debian:bookworm-slim', 'cagebench/sandbox:bookworm']);
    // Nobody has it: the member's own error stands.
    await expect(new ProviderPool([{ name: 'b', capacity: 1, provider: b }]).start({ ...spec(4), source: { image: 'nowhere:1' } })).rejects.toMatchObject({ code: 'CB_IMAGE_NOT_FOUND' });
  });

  it('sends a sample asking for a runtime or network mode only to members that offer it', async () => {
    const gvisor = new FakeEngine('a');
    const plain = new FakeEngine('b', { ...FULL, runtimes: ['runc'], networks: ['none'] });
    const pool = new ProviderPool([
      { name: 'a', capacity: 1, provider: gvisor },
      { name: 'b', capacity: 4, provider: plain },
    ]);
    expect(pool.capabilities.runtimes).toEqual(['runc', 'runsc']);
    expect(pool.capabilities.networks).toEqual(['none', 'bridge', 'model-only']);
    const first = await pool.start({ ...spec(1), runtime: 'runsc' });
    expect(first.runsOn).toBe('a');
    // a is full: the next runsc sample waits for it rather than land on b.
    let second: Sandbox | undefined;
    const waiting = pool.start({ ...spec(2), runtime: 'runsc' }).then((s) => (second = s));
    expect((await pool.start({ ...spec(3), network: 'none' })).runsOn).toBe('b');
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBeUndefined();
    await first.stop();
    await waiting;
    expect(second!.runsOn).toBe('a');
    // With a gone, nothing else can run runsc: the start fails as an outage of the engines that can.
    gvisor.up = false;
    await second!.stop();
    await expect(pool.start({ ...spec(4), network: 'bridge' })).rejects.toMatchObject({ code: 'CB_ENGINE_UNREACHABLE', message: expect.stringContaining('the "bridge" network') });
  });

  it('offers what every member offers for how samples are prepared, and any member\'s networks and runtimes; refuses a bad member list', () => {
    const remote: ProviderCapabilities = { ...FULL, bindMounts: false, networks: ['none'], runtimes: ['runc'], limits: { cpus: true, memory: false, pids: true } };
    expect(commonCapabilities([FULL, remote])).toEqual({ ...remote, networks: FULL.networks, runtimes: FULL.runtimes });
    expect(commonCapabilities([FULL, { ...remote, volumes: false }]).volumes).toBe(false);
    expect(new ProviderPool([{ name: 'a', capacity: 1, provider: new FakeEngine('a') }, { name: 'b', capacity: 1, provider: new FakeEngine('b', remote) }]).capabilities.bindMounts).toBe(false);
    expect(() => new ProviderPool([])).toThrow(/at least one engine/);
    expect(() => new ProviderPool([{ name: 'a', capacity: 0, provider: new FakeEngine('a') }])).toThrow(/capacity 0/);
    expect(() => new ProviderPool([{ name: 'a', capacity: 1, provider: new FakeEngine('a') }, { name: 'a', capacity: 1, provider: new FakeEngine('a') }])).toThrow(/twice/);
  });
});
