// The second engine the outage tests stop and start: it runs containers apart from the main
// engine, goes away and comes back with its images, and leaves nothing on the machine.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { engineStatus } from '../../sandboxes/errors.ts';
import { connectEngine } from '../../sandboxes/index.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';

const IMAGE = 'debian:bookworm-slim';
const engines: SecondEngine[] = [];

afterAll(async () => {
  // Whatever a test did or failed to do, nothing of its engines stays behind.
  await Promise.allSettled(engines.map((e) => e.dispose()));
  for (const e of engines) expect(await e.residue()).toEqual([]);
});

async function start(...args: Parameters<typeof startSecondEngine>): Promise<SecondEngine> {
  const engine = await startSecondEngine(...args);
  engines.push(engine);
  return engine;
}

describe('a second dockerd', () => {
  it('runs containers the main engine never sees, stops, starts again with its images, and leaves nothing behind', async () => {
    const engine = await start();
    const main = await connectEngine({ host: 'unix:///var/run/docker.sock' });
    expect(engine.host).toBe(`unix://${join(engine.dir, 'docker.sock')}`);
    expect(engine.host).not.toBe(main.address);

    // Its own data-root and containerd; no bridge of its own (host networking untouched).
    const info = await engine.docker.info();
    expect(info.DockerRootDir).toBe(join(engine.dir, 'data'));
    expect(existsSync(join(engine.dir, 'exec', 'containerd', 'containerd.sock'))).toBe(true);
    expect((await engine.docker.listNetworks()).map((n) => n.Name).sort()).toEqual(['host', 'none']);

    const container = await engine.docker.createContainer({ Image: IMAGE, Cmd: ['echo', 'hi'], HostConfig: { NetworkMode: 'none' } });
    await container.start();
    expect((await container.wait()) as { StatusCode: number }).toMatchObject({ StatusCode: 0 });
    const logs = await container.logs({ stdout: true, stderr: true });
    expect(logs.toString()).toContain('hi');
    // The main engine knows nothing of it.
    const seen = await main.docker.getContainer(container.id).inspect().then(
      () => 200,
      (err: unknown) => engineStatus(err),
    );
    expect(seen).toBe(404);
    expect((await main.docker.listContainers({ all: true })).map((c) => c.Id)).not.toContain(container.id);

    await engine.stop();
    expect(engine.running).toBe(false);
    expect(await engine.ping()).toBe(false);
    expect(existsSync(join(engine.dir, 'docker.sock'))).toBe(false);
    await expect(engine.docker.ping()).rejects.toThrow();
    // Its dockerd, containerd and shims are gone; the main engine never noticed.
    expect((await engine.residue()).filter((r) => r.startsWith('process '))).toEqual([]);
    expect(await main.docker.ping()).toBeTruthy();

    await engine.start();
    expect(engine.running).toBe(true);
    expect(await engine.ping()).toBe(true);
    // Same data-root: the image and the exited container are still there.
    expect((await engine.docker.getImage(IMAGE).inspect()).RepoTags).toContain(IMAGE);
    expect((await engine.docker.getContainer(container.id).inspect()).State.Status).toBe('exited');

    await engine.dispose();
    expect(await engine.residue()).toEqual([]);
    expect(await engine.ping()).toBe(false);
    await engine.dispose(); // idempotent
    // The main engine's bridge survived its starts and stops (a --bridge=none dockerd in the
    // host's network namespace deletes docker0), and its containers still get a network.
    const probe = await main.docker.createContainer({ Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'bridge', AutoRemove: false } });
    try {
      await probe.start();
      expect((await probe.wait()) as { StatusCode: number }).toMatchObject({ StatusCode: 0 });
    } finally {
      await probe.remove({ force: true });
    }
  }, 120_000);

  it('dispose removes a running container and its mounts without waiting for its stop timeout', async () => {
    const engine = await start();
    const container = await engine.docker.createContainer({ Image: IMAGE, Cmd: ['sleep', 'infinity'], HostConfig: { NetworkMode: 'none' } });
    await container.start();
    // A running container means a shim process, an overlay mount and a netns file under its dir.
    const residue = await engine.residue();
    expect(residue.some((r) => r.startsWith('mount ') && r.includes('/merged'))).toBe(true);
    expect(residue.some((r) => r.startsWith('process ') && r.includes('containerd-shim'))).toBe(true);
    const started = Date.now();
    await engine.dispose();
    expect(Date.now() - started).toBeLessThan(8_000); // not dockerd's 10 s stop of `sleep`
    expect(await engine.residue()).toEqual([]);
  }, 120_000);

  it('a dockerd that cannot start fails with the tail of its log, and leaves nothing behind', async () => {
    const err = await startSecondEngine({ dockerdArgs: ['--storage-driver=no-such-driver'], images: [] }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/second engine unix:\/\/\/.*docker\.sock: dockerd exited/);
    expect(err?.message).toContain('no-such-driver');
    const dir = /unix:\/\/(\/\S+)\/docker\.sock/.exec(err?.message ?? '')?.[1];
    expect(dir && existsSync(dir)).toBe(false);
  }, 60_000);
});
