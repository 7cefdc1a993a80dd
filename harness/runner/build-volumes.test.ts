// Agent builds as volumes: named from agent, version, platform and a digest of the entry on
// disk (a changed build gets another name); placed without a copy where the sandbox mounts the
// volume, copied where its spec lacks it.
import { describe, expect, it } from 'vitest';
import { chmod, lutimes, mkdir, mkdtemp, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry } from '../../cache/index.ts';
import type { Sandbox, SandboxSpec } from '../../sandboxes/index.ts';
import { buildVolume, treeDigest } from './build-volumes.ts';
import { placeBuilds, type RunBuilds } from './builds.ts';

async function entryDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cb-build-volume-'));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'claude'), 'binary');
  await chmod(join(dir, 'bin', 'claude'), 0o755);
  await symlink('bin/claude', join(dir, 'claude'));
  const then = new Date('2026-01-01T00:00:00Z');
  await lutimes(join(dir, 'claude'), then, then);
  for (const p of ['bin/claude', 'bin', '']) await utimes(join(dir, p), then, then);
  return dir;
}

function entry(dir: string, over: Partial<CacheEntry> = {}): CacheEntry {
  return { agent: 'claude_code', version: '2.1.3', platform: 'linux-x64', dir, entrypoint: join(dir, 'bin', 'claude'), pathDirs: [], package: '@anthropic-ai/claude-code@2.1.3', size: 6, integrity: 'sha512-abc', downloadedAt: '', lastUsedAt: '', ...over };
}

describe('buildVolume', () => {
  it('names the volume from agent, version, platform and the digest, mounted where the bind mount would be', async () => {
    const dir = await entryDir();
    const volume = await buildVolume(entry(dir));
    expect(volume).toEqual({ name: expect.stringMatching(/^cagebench-build-claude_code-2\.1\.3-linux-x64-[0-9a-f]{16}$/), source: dir, target: '/opt/cagebench/agents/claude_code' });
    expect((await buildVolume(entry(dir, { version: '1.0.0+build/7' }))).name).toMatch(/^cagebench-build-claude_code-1\.0\.0_build_7-linux-x64-/);
  });

  it('the same tree gives the same digest; a changed file, mode, link or integrity gives another', async () => {
    const a = await entryDir();
    const b = await entryDir();
    expect(await treeDigest(a, 'i')).toBe(await treeDigest(b, 'i'));
    const seen = new Set([await treeDigest(a, 'i'), await treeDigest(a, 'other integrity')]);
    await writeFile(join(b, 'bin', 'claude'), 'binary2');
    seen.add(await treeDigest(b, 'i'));
    await chmod(join(a, 'bin', 'claude'), 0o700);
    seen.add(await treeDigest(a, 'i'));
    await writeFile(join(a, 'extra'), '');
    seen.add(await treeDigest(a, 'i'));
    expect(seen.size).toBe(5);
  });
});

describe('placeBuilds with volumes', () => {
  const builds = (e: CacheEntry, name: string): RunBuilds => ({
    mounts: [],
    volumes: [{ name, source: e.dir, target: '/opt/cagebench/agents/claude_code' }],
    shipped: [e],
    copies: [],
    installed: {},
    platform: 'linux-x64',
    forPlatform: async () => [],
    platformOf: async () => 'linux-x64',
    release: async () => undefined,
  });
  const sandbox = (spec: Partial<SandboxSpec>, uploads: string[]): Sandbox => ({ spec: { source: { image: 'x' }, runId: 'r', sampleId: 's', ...spec }, upload: async (_host: string, target: string) => void uploads.push(target) }) as unknown as Sandbox;

  it('copies nothing into a sandbox that mounts the volume, and says so', async () => {
    const e = entry(await entryDir());
    const b = builds(e, 'vol-a');
    const uploads: string[] = [];
    const events: unknown[] = [];
    await placeBuilds(sandbox({ volumes: b.volumes }, uploads), b, { uid: 0, gid: 0, home: '/root', path: '/usr/bin' } as never, (type, fields) => events.push({ type, ...fields }));
    expect(uploads).toEqual([]);
    expect(events).toEqual([{ type: 'agent.install', source: 'volume', volumes: ['vol-a'] }]);
  });

  it('copies the build into a sandbox whose spec lacks the volume', async () => {
    const e = entry(await entryDir());
    const uploads: string[] = [];
    await placeBuilds(sandbox({}, uploads), builds(e, 'vol-b'), { uid: 0, gid: 0, home: '/root', path: '/usr/bin' } as never, () => undefined);
    expect(uploads).toEqual(['/opt/cagebench/agents/claude_code']);
  });
});
