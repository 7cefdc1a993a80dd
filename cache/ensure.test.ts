import { execFile } from 'node:child_process';
import { lstat, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentCache, type AgentCacheOptions, type DownloadProgress } from './index.ts';
import { buildTgz, publishClaude, sri, startRegistry, type FakeRegistry, type TarEntry } from './test-support/registry.ts';
import { tempDir } from './test-support/temp.ts';

const run = promisify(execFile);
let registry: FakeRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(() => registry.close());

async function cacheWith(extra: Partial<AgentCacheOptions> = {}) {
  const warnings: string[] = [];
  const dir = extra.dir ?? (await tempDir('ensure'));
  const cache = createAgentCache({ registry: { registry: registry.url }, log: (w) => warnings.push(w), ...extra, dir });
  return { cache, warnings, dir };
}

/** Everything under `dir`, relative, dot-directories included. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

/** Publishes a claude_code version whose linux-x64 build is `entries`. */
async function publishClaudeWith(version: string, entries: readonly TarEntry[], integrity?: string): Promise<void> {
  await publishClaude(registry, version, []);
  const tgz = await buildTgz(entries);
  registry.publish('@anthropic-ai/claude-code-linux-x64', version, tgz, integrity === undefined ? {} : { integrity });
}

describe('ensure', () => {
  it('downloads, verifies and extracts once, into <dir>/<agent>/<version>/<platform>/, then serves from disk', async () => {
    await publishClaude(registry, '1.0.0');
    const progress: DownloadProgress[] = [];
    const times = [new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z')];
    const { cache, dir } = await cacheWith({ onProgress: (p) => progress.push(p), now: () => times.shift() ?? new Date('2026-01-03T00:00:00Z') });

    const entry = await cache.ensure('claude_code', { version: '1.0.0', platform: 'linux-x64' });
    expect(entry).toMatchObject({
      agent: 'claude_code',
      version: '1.0.0',
      platform: 'linux-x64',
      package: '@anthropic-ai/claude-code-linux-x64@1.0.0',
      dir: join(dir, 'claude_code', '1.0.0', 'linux-x64', 'files'),
      entrypoint: join(dir, 'claude_code', '1.0.0', 'linux-x64', 'files', 'claude'),
      pathDirs: [],
      integrity: expect.stringMatching(/^sha512-/),
      downloadedAt: '2026-01-01T00:00:00.000Z',
    });
    // Only what the table keeps (package/claude), executable, and it runs.
    expect(await tree(entry.dir)).toEqual(['claude']);
    expect((await stat(entry.entrypoint)).mode & 0o777).toBe(0o755);
    expect((await run(entry.entrypoint, ['--version'])).stdout.trim()).toBe('1.0.0 (Claude Code)');
    expect(entry.size).toBe((await stat(entry.entrypoint)).size);
    const meta = JSON.parse(await readFile(join(dir, 'claude_code', '1.0.0', 'linux-x64', 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ package: entry.package, version: '1.0.0', platform: 'linux-x64', size: entry.size, integrity: entry.integrity });
    expect(progress.at(-1)).toMatchObject({ agent: 'claude_code', version: '1.0.0', platform: 'linux-x64', totalBytes: progress.at(-1)!.receivedBytes });

    // A second ensure (another cache object on the same dir) reads the disk: no download, last use updated.
    const again = await createAgentCache({ dir, registry: { registry: registry.url }, now: () => new Date('2026-02-01T00:00:00Z') }).ensure('claude_code', { version: '1.0.0', platform: 'linux-x64' });
    expect(registry.tarballGets('@anthropic-ai/claude-code-linux-x64').filter((r) => r.url.includes('1.0.0'))).toHaveLength(1);
    expect(again).toMatchObject({ downloadedAt: '2026-01-01T00:00:00.000Z', lastUsedAt: '2026-02-01T00:00:00.000Z' });
    expect(await cache.list()).toEqual([expect.objectContaining({ version: '1.0.0', lastUsedAt: '2026-02-01T00:00:00.000Z' })]);
    // No temp dirs, locks released.
    expect((await tree(join(dir, 'claude_code'))).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it('shares one download between concurrent callers in a process', async () => {
    await publishClaude(registry, '1.0.1');
    registry.slowTarballs(20);
    try {
      const { cache } = await cacheWith();
      const entries = await Promise.all([1, 2, 3].map(() => cache.ensure('claude_code', { version: '1.0.1', platform: 'linux-x64' })));
      expect(new Set(entries.map((e) => e.entrypoint)).size).toBe(1);
      expect(registry.tarballGets().filter((r) => r.url.includes('1.0.1'))).toHaveLength(1);
    } finally {
      registry.slowTarballs(0);
    }
  });

  it('keeps the whole vendor/<triple>/ of a Codex platform build, with codex-path on PATH', async () => {
    const triple = 'package/vendor/x86_64-unknown-linux-musl';
    registry.publish('@openai/codex', '0.169.0', await buildTgz([{ name: 'package/bin/codex.js', content: '' }]));
    registry.tag('@openai/codex', 'latest', '0.169.0');
    registry.publish(
      '@openai/codex',
      '0.169.0-linux-x64',
      await buildTgz([
        { name: 'package/package.json', content: '{}' },
        { name: `${triple}/bin/codex`, content: '#!/bin/sh\necho codex-cli 0.169.0\n', mode: 0o755 },
        { name: `${triple}/bin/codex-code-mode-host`, content: 'x', mode: 0o755 },
        { name: `${triple}/codex-path/rg`, content: 'rg', mode: 0o755 },
        { name: `${triple}/codex-resources/voice/lib.so`, content: 'lib', mode: 0o644 },
        { name: `${triple}/codex-package.json`, content: '{"layoutVersion":1}' },
        { name: 'package/vendor/aarch64-unknown-linux-musl/bin/codex', content: 'other triple' },
      ]),
    );
    const { cache } = await cacheWith();
    const entry = await cache.ensure('codex_cli', { version: 'latest', platform: 'linux-x64-musl' });
    expect(entry.version).toBe('0.169.0');
    expect(entry.package).toBe('@openai/codex@0.169.0-linux-x64');
    expect(await tree(entry.dir)).toEqual(['bin', 'bin/codex', 'bin/codex-code-mode-host', 'codex-package.json', 'codex-path', 'codex-path/rg', 'codex-resources', 'codex-resources/voice', 'codex-resources/voice/lib.so']);
    expect(entry.entrypoint).toBe(join(entry.dir, 'bin/codex'));
    expect(entry.pathDirs).toEqual([join(entry.dir, 'codex-path')]);
    expect((await stat(join(entry.dir, 'codex-resources/voice/lib.so'))).mode & 0o777).toBe(0o644);
    expect((await run(entry.entrypoint)).stdout.trim()).toBe('codex-cli 0.169.0');
  });

  it('stores nothing when the tarball does not match the registry integrity', async () => {
    const good = await buildTgz([{ name: 'package/claude', content: 'genuine', mode: 0o755 }]);
    await publishClaudeWith('1.1.0', [{ name: 'package/claude', content: 'tampered', mode: 0o755 }], sri(good));
    const { cache, dir } = await cacheWith();
    await expect(cache.ensure('claude_code', { version: '1.1.0', platform: 'linux-x64' })).rejects.toMatchObject({
      code: 'CB_CACHE_INTEGRITY',
      kind: 'infra',
      message: expect.stringContaining('@anthropic-ai/claude-code-linux-x64@1.1.0 does not match'),
    });
    expect(await tree(join(dir, 'claude_code'))).toEqual(['1.1.0']);
    expect(await cache.list()).toEqual([]);
  });

  it('refuses a build published without a sha2 integrity', async () => {
    await publishClaudeWith('1.1.1', [{ name: 'package/claude', content: 'x', mode: 0o755 }], 'sha1-AAAA');
    const { cache } = await cacheWith();
    await expect(cache.ensure('claude_code', { version: '1.1.1', platform: 'linux-x64' })).rejects.toMatchObject({ code: 'CB_CACHE_INTEGRITY', message: expect.stringContaining('no sha256/384/512') });
  });

  const escapes: Array<[string, TarEntry[]]> = [
    ['a .. path', [{ name: 'package/../../evil', content: 'x' }]],
    ['an absolute path', [{ name: '/tmp/cagebench-evil', content: 'x' }]],
    ['a symlink pointing out', [{ name: 'package/claude', type: 'symlink', linkname: '/bin/sh' }]],
    ['a relative symlink climbing out', [{ name: 'package/claude', type: 'symlink', linkname: '../../../../etc/passwd' }]],
    ['a symlink outside what is kept', [{ name: 'package/link', type: 'symlink', linkname: '../../x' }, { name: 'package/claude', content: 'x', mode: 0o755 }]],
    ['a hard link pointing out', [{ name: 'package/claude', type: 'link', linkname: '../../../etc/passwd' }]],
    [
      'a write through a symlinked directory',
      [
        { name: 'package/claude', type: 'symlink', linkname: '.' },
        { name: 'package/claude/claude', content: 'x' },
      ],
    ],
  ];

  it.each(escapes)('refuses %s and stores nothing', async (_label, entries) => {
    const version = `2.0.${escapes.findIndex(([l]) => l === _label)}`;
    await publishClaudeWith(version, entries);
    const { cache, dir } = await cacheWith();
    await expect(cache.ensure('claude_code', { version, platform: 'linux-x64' })).rejects.toMatchObject({ code: 'CB_CACHE_ESCAPE', message: expect.stringContaining('Nothing was stored') });
    expect(await tree(join(dir, 'claude_code'))).toEqual([version]);
    await expect(lstat('/tmp/cagebench-evil')).rejects.toThrow();
  });

  it('refuses a build without the program where the table expects it', async () => {
    await publishClaudeWith('2.1.0', [{ name: 'package/cli.js', content: 'x' }]);
    const { cache, dir } = await cacheWith();
    await expect(cache.ensure('claude_code', { version: '2.1.0', platform: 'linux-x64' })).rejects.toMatchObject({ code: 'CB_CACHE_LAYOUT', message: expect.stringContaining('has no claude') });
    expect(await tree(join(dir, 'claude_code'))).toEqual(['2.1.0']);
  });

  it('says which build is missing when a platform lacks the version', async () => {
    await publishClaude(registry, '2.2.0', ['linux-x64']);
    const { cache } = await cacheWith();
    await expect(cache.ensure('claude_code', { version: '2.2.0', platform: 'linux-arm64-musl' })).rejects.toMatchObject({
      code: 'CB_CACHE_REGISTRY',
      message: expect.stringContaining('@anthropic-ai/claude-code-linux-arm64-musl'),
    });
    await expect(cache.ensure('claude_code', { version: '2.2.0', platform: 'darwin-arm64' as 'linux-x64' })).rejects.toMatchObject({ code: 'CB_CACHE_UNSUPPORTED_PLATFORM' });
  });

  it('keeps the package whole for a JS bundle, with links inside it', async () => {
    registry.publish(
      '@google/gemini-cli',
      '0.61.0',
      await buildTgz([
        { name: 'package/package.json', content: '{"bin":{"gemini":"bundle/gemini.js"}}' },
        { name: 'package/bundle/gemini.js', content: '#!/usr/bin/env node\nconsole.log("0.61.0")\n', mode: 0o755 },
        { name: 'package/bundle/alias.js', type: 'symlink', linkname: 'gemini.js' },
        { name: 'package/bundle/copy.js', type: 'link', linkname: 'package/bundle/gemini.js' },
      ]),
    );
    const { cache } = await cacheWith();
    const entry = await cache.ensure('gemini_cli', { version: 'stable', platform: 'linux-arm64' });
    expect(await tree(entry.dir)).toEqual(['bundle', 'bundle/alias.js', 'bundle/copy.js', 'bundle/gemini.js', 'package.json']);
    expect(await readlink(join(entry.dir, 'bundle/alias.js'))).toBe('gemini.js');
    expect((await stat(join(entry.dir, 'bundle/copy.js'))).ino).toBe((await stat(entry.entrypoint)).ino);
    expect((await run(process.execPath, [entry.entrypoint])).stdout.trim()).toBe('0.61.0');
  });

  it('extracts the Codex ACP bundle alone: its declared dependencies are neither fetched nor installed', async () => {
    const pkg = '@agentclientprotocol/codex-acp';
    const deps = { '@openai/codex': '^0.166.0', zod: '^4.0.0' };
    registry.publish(
      pkg,
      '2.6.0',
      await buildTgz([
        { name: 'package/package.json', content: JSON.stringify({ name: pkg, version: '2.6.0', type: 'module', bin: { 'codex-acp': 'dist/index.js' }, dependencies: deps }) },
        { name: 'package/dist/index.js', content: "#!/usr/bin/env node\nimport process from 'node:process';\nconsole.log(`codex-acp 2.6.0 via ${process.env.CODEX_PATH}`);\n", mode: 0o755 },
        { name: 'package/README.md', content: 'readme' },
      ]),
      { dependencies: deps, manifest: { bin: { 'codex-acp': 'dist/index.js' } } },
    );
    const { cache, dir } = await cacheWith();
    const before = registry.requests.length;
    const entry = await cache.ensure('codex_acp', { version: 'latest', platform: 'linux-x64-musl' });
    expect(entry).toMatchObject({
      version: '2.6.0',
      package: `${pkg}@2.6.0`,
      dir: join(dir, 'codex_acp', '2.6.0', 'linux-x64-musl', 'files'),
      entrypoint: join(entry.dir, 'dist/index.js'),
      pathDirs: [],
      integrity: expect.stringMatching(/^sha512-/),
    });
    expect(await tree(entry.dir)).toEqual(['README.md', 'dist', 'dist/index.js', 'package.json']);
    const { stdout } = await run(process.execPath, [entry.entrypoint], { env: { ...process.env, CODEX_PATH: '/opt/codex/bin/codex' } });
    expect(stdout.trim()).toBe('codex-acp 2.6.0 via /opt/codex/bin/codex');
    // One packument and one tarball: nothing of @openai/codex or zod.
    expect(registry.requests.slice(before).map((r) => decodeURIComponent(r.url))).toEqual([`/${pkg}`, `/${pkg}/-/codex-acp-2.6.0.tgz`]);
  });

  describe('offline', () => {
    it('never touches the network and names the command that fetches what is missing', async () => {
      await publishClaude(registry, '3.0.0');
      const { cache, dir } = await cacheWith({ offline: true });
      const before = registry.requests.length;
      const err = await cache.ensure('claude_code', { version: '3.0.0', platform: 'linux-x64' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CB_CACHE_OFFLINE_MISSING', kind: 'config' });
      expect((err as Error).message).toContain('cagebench download claude_code --version 3.0.0 --platform linux-x64');
      expect((err as Error).message).toContain(dir);
      expect(registry.requests.length).toBe(before);
    });

    it('serves cached entries, and a tag as the newest cached version for that platform', async () => {
      await publishClaude(registry, '3.1.0', ['linux-x64', 'linux-arm64']);
      await publishClaude(registry, '3.2.0', ['linux-arm64']);
      const { dir } = await cacheWith();
      const online = createAgentCache({ dir, registry: { registry: registry.url } });
      await online.ensure('claude_code', { version: '3.1.0', platform: 'linux-x64' });
      await online.ensure('claude_code', { version: '3.2.0', platform: 'linux-arm64' });

      const before = registry.requests.length;
      const warnings: string[] = [];
      const offline = createAgentCache({ dir, env: { CAGEBENCH_OFFLINE: '1' }, log: (w) => warnings.push(w) });
      expect(offline.offline).toBe(true);
      await expect(offline.ensure('claude_code', { version: '3.1.0', platform: 'linux-x64' })).resolves.toMatchObject({ version: '3.1.0' });
      await expect(offline.ensure('claude_code', { version: 'latest', platform: 'linux-x64' })).resolves.toMatchObject({ version: '3.1.0' });
      await expect(offline.ensure('claude_code', { version: 'stable', platform: 'linux-arm64' })).resolves.toMatchObject({ version: '3.2.0' });
      expect(warnings).toEqual([expect.stringContaining('newest cached version, 3.1.0'), expect.stringContaining('newest cached version, 3.2.0')]);
      expect(registry.requests.length).toBe(before);
    });
  });

  it('sends the .npmrc token for the registry host as Authorization: Bearer', async () => {
    await publishClaude(registry, '4.0.0');
    const home = await tempDir('npmrc');
    const userconfig = join(home, 'user-npmrc');
    await writeFile(userconfig, `registry=${registry.url}\n//127.0.0.1:${registry.port}/:_authToken=\${CB_TEST_TOKEN}\n`);
    const before = registry.requests.length;
    const cache = createAgentCache({
      dir: await tempDir('auth'),
      env: { HOME: home, npm_config_userconfig: userconfig, CB_TEST_TOKEN: 's3cret' },
      cwd: home,
      log: () => undefined,
    });
    await cache.ensure('claude_code', { version: '4.0.0', platform: 'linux-x64' });
    const sent = registry.requests.slice(before);
    expect(sent.map((r) => r.url)).toEqual(['/@anthropic-ai%2fclaude-code', '/@anthropic-ai%2fclaude-code-linux-x64', '/@anthropic-ai/claude-code-linux-x64/-/claude-code-linux-x64-4.0.0.tgz']);
    expect(sent.map((r) => r.authorization)).toEqual(['Bearer s3cret', 'Bearer s3cret', 'Bearer s3cret']);
  });
});
