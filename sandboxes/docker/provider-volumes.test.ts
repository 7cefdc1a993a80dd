// SandboxSpec.volumes on the local engine, beyond the conformance suite: one fill however many
// samples start at once, a fill a killed process left half done never used, a fill the
// provider's close() cut short leaving nothing, and a sweep of the run leaving the volumes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_ROLE, LABEL_VOLUME, LABEL_VOLUME_CONTENT, LABEL_VOLUME_NAME } from '../labels.ts';
import { testRunId } from '../test-support/run-id.ts';
import { connectEngine, type Engine } from './client.ts';
import { createDockerProvider, type DockerProvider } from './provider.ts';

const IMAGE = 'debian:bookworm-slim';
let engine: Engine;
let scratch: string;
const providers: DockerProvider[] = [];
const names: string[] = [];

beforeAll(async () => {
  engine = await connectEngine();
  scratch = await mkdtemp(join(tmpdir(), 'cb-volumes-'));
});

afterAll(async () => {
  await Promise.allSettled(providers.map((p) => p.close()));
  const cleaner = await provider();
  for (const name of names) await cleaner.volumes.remove(name);
  await cleaner.close();
  await rm(scratch, { recursive: true, force: true });
});

async function provider(): Promise<DockerProvider> {
  const p = await createDockerProvider({ engine, teardownOnExit: false });
  providers.push(p);
  return p;
}

/** A host directory of `files` (name → content), and a fresh volume name for it. */
async function source(files: Record<string, string | Buffer>): Promise<{ dir: string; name: string }> {
  const dir = await mkdtemp(join(scratch, 'src-'));
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  const name = `cagebench-test-volume-${randomBytes(6).toString('hex')}`;
  names.push(name);
  return { dir, name };
}

async function volumesOf(name: string): Promise<{ Name: string; Labels: Record<string, string> }[]> {
  const { Volumes } = (await engine.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABEL_VOLUME_NAME}=${name}`] }) })) as { Volumes?: { Name: string; Labels: Record<string, string> }[] | null };
  return Volumes ?? [];
}

describe('volumes on the Docker provider', () => {
  it('six samples starting at once fill the volume once; another provider (a later run) fills nothing', async () => {
    const { dir, name } = await source({ 'agent.bin': randomBytes(2_000_000), 'version.txt': '1.0\n' });
    const runId = testRunId('volumes-once');
    const p = await provider();
    const boxes = await Promise.all(Array.from({ length: 6 }, (_, i) => p.start({ source: { image: IMAGE }, runId, sampleId: `s${i}`, volumes: [{ name, source: dir, target: '/opt/agent' }] })));
    for (const box of boxes) expect((await box.exec('cat /opt/agent/version.txt')).stdout).toBe('1.0\n');
    await Promise.all(boxes.map((b) => b.stop()));
    expect(p.volumes.fills).toBe(1);
    // The ready volume and one content volume: nothing else was made for the name.
    const made = await volumesOf(name);
    expect(made.map((v) => v.Labels[LABEL_VOLUME]).sort()).toEqual(['content', 'ready']);
    const later = await provider();
    await using box = await later.start({ source: { image: IMAGE }, runId, sampleId: 'later', volumes: [{ name, source: dir, target: '/opt/agent' }] });
    expect((await box.exec('cat /opt/agent/version.txt')).stdout).toBe('1.0\n');
    expect(later.volumes.fills).toBe(0);
    expect((await later.volumes.list()).find((v) => v.name === name)).toMatchObject({ source: dir, filledByRun: runId });
  });

  it('a half-filled volume a killed process left (no ready volume names it) is never mounted: a full one is filled', async () => {
    const { dir, name } = await source({ 'whole.txt': 'all of it\n' });
    // What a fill killed midway leaves: a content volume of the name, partly filled, and no ready volume.
    const partial = `${name}.deadbeef`;
    await engine.docker.createVolume({ Name: partial, Labels: { [LABEL_VOLUME]: 'content', [LABEL_VOLUME_NAME]: name } });
    const p = await provider();
    await using box = await p.start({ source: { image: IMAGE }, runId: testRunId('volumes-partial'), sampleId: 's', volumes: [{ name, source: dir, target: '/opt/agent' }] });
    expect((await box.exec('ls -A /opt/agent')).stdout).toBe('whole.txt\n');
    expect(p.volumes.fills).toBe(1);
    const ready = (await volumesOf(name)).find((v) => v.Labels[LABEL_VOLUME] === 'ready');
    expect(ready?.Labels[LABEL_VOLUME_CONTENT]).toMatch(new RegExp(`^${name}\\.[0-9a-f]{8}$`));
    expect(ready?.Labels[LABEL_VOLUME_CONTENT]).not.toBe(partial);
  });

  it('a ready volume whose content volume was removed by hand is dropped and filled again', async () => {
    const { dir, name } = await source({ 'x.txt': 'x\n' });
    const first = await provider();
    await (await first.start({ source: { image: IMAGE }, runId: testRunId('volumes-gone'), sampleId: 'a', volumes: [{ name, source: dir, target: '/opt/agent' }] })).stop();
    const content = (await volumesOf(name)).find((v) => v.Labels[LABEL_VOLUME] === 'content')!.Name;
    await engine.docker.getVolume(content).remove();
    const second = await provider();
    await using box = await second.start({ source: { image: IMAGE }, runId: testRunId('volumes-gone'), sampleId: 'b', volumes: [{ name, source: dir, target: '/opt/agent' }] });
    expect((await box.exec('cat /opt/agent/x.txt')).stdout).toBe('x\n');
    expect(second.volumes.fills).toBe(1);
  });

  it('close() during a fill stops it: the start fails, no ready volume, no helper left; the next provider fills it whole', async () => {
    const { dir, name } = await source({ 'big.bin': randomBytes(150 * 1024 * 1024), 'last.txt': 'end\n' });
    const runId = testRunId('volumes-close');
    const p = await provider();
    const start = p.start({ source: { image: IMAGE }, runId, sampleId: 's', volumes: [{ name, source: dir, target: '/opt/agent' }] });
    const outcome = start.then(() => undefined, (e: unknown) => e);
    // The helper container exists once the upload is under way.
    const helpers = (): Promise<unknown[]> => engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_ROLE}=volume-fill`, `${LABEL_VOLUME_NAME}=${name}`] }) });
    for (let i = 0; i < 200 && (await helpers()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await p.close();
    expect(await outcome).toMatchObject({ code: 'CB_SANDBOX_STOPPED' });
    expect(await helpers()).toEqual([]);
    expect((await volumesOf(name)).filter((v) => v.Labels[LABEL_VOLUME] === 'ready')).toEqual([]);
    const next = await provider();
    await using box = await next.start({ source: { image: IMAGE }, runId, sampleId: 'again', volumes: [{ name, source: dir, target: '/opt/agent' }] });
    expect((await box.exec('cat /opt/agent/last.txt; stat -c %s /opt/agent/big.bin')).stdout).toBe(`end\n${150 * 1024 * 1024}\n`);
  }, 120_000);

  it("a sweep of the run leaves the volumes (they are the engine's cache, not the run's)", async () => {
    const { dir, name } = await source({ 'y.txt': 'y\n' });
    const runId = testRunId('volumes-sweep');
    const p = await provider();
    await (await p.start({ source: { image: IMAGE }, runId, sampleId: 's', volumes: [{ name, source: dir, target: '/opt/agent' }] })).stop();
    await p.sweep(runId);
    expect((await volumesOf(name)).length).toBe(2);
  });

  it('refuses a bad volume spec, and a volume of the name cagebench did not make', async () => {
    const p = await provider();
    const runId = testRunId('volumes-bad');
    await expect(p.start({ source: { image: IMAGE }, runId, sampleId: 's', volumes: [{ name: 'bad name', source: scratch, target: '/opt/a' }] })).rejects.toMatchObject({ code: 'CB_BAD_SPEC' });
    await expect(p.start({ source: { image: IMAGE }, runId, sampleId: 's', volumes: [{ name: 'ok', source: join(scratch, 'missing'), target: '/opt/a' }] })).rejects.toMatchObject({ code: 'CB_BAD_SPEC' });
    const { dir, name } = await source({ 'z.txt': 'z\n' });
    await engine.docker.createVolume({ Name: name });
    await expect(p.start({ source: { image: IMAGE }, runId, sampleId: 's', volumes: [{ name, source: dir, target: '/opt/a' }] })).rejects.toMatchObject({
      code: 'CB_SANDBOX_FAILED',
      message: expect.stringContaining(`docker volume rm ${name}`),
    });
    await engine.docker.getVolume(name).remove();
  });
});
