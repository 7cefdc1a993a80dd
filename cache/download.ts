// Fetching one entry: the platform build's tarball streamed through the integrity hash
// into the extractor (or, for bundles, npm install), all inside a temp directory beside the
// target, which is renamed into place only once verified and complete. On any failure the
// temp directory is removed: nothing is stored.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { agentSource, platformBuild, type AgentName, type Platform } from './agents.ts';
import { CacheError } from './errors.ts';
import { extractTarball } from './extract.ts';
import type { RegistryConfig } from './npm-config.ts';
import { npmInstall } from './npm-install.ts';
import type { Packument, RegistryClient } from './registry.ts';
import { entryDir, newTempDir, readMeta, treeSize, writeMeta, type EntryKey, type EntryMeta } from './store.ts';
import { HashTap, parseIntegrity } from './verify.ts';

export interface DownloadProgress {
  readonly agent: AgentName;
  readonly version: string;
  readonly platform: Platform;
  readonly receivedBytes: number;
  /** From the registry's Content-Length, when it sends one. */
  readonly totalBytes?: number;
}

export interface FetchContext {
  readonly root: string;
  readonly client: RegistryClient;
  /** Memoised by the cache. */
  readonly packument: (name: string) => Promise<Packument>;
  readonly env: NodeJS.ProcessEnv;
  /** Set only when the cache was given one: npm installs are pointed at it. */
  readonly registry?: RegistryConfig;
  readonly now: () => Date;
  readonly onProgress?: (progress: DownloadProgress) => void;
}

const PROGRESS_INTERVAL_MS = 100;

/** Errors from below (undici, the file system, node-tar) as a CacheError saying what failed. */
export function asCacheError(err: unknown, what: string): CacheError {
  if (err instanceof CacheError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('UND_ERR') || code.startsWith('ECONN') || code === 'ETIMEDOUT' || code === 'EPIPE') {
    return new CacheError('CB_CACHE_REGISTRY', `The download of ${what} failed: ${e.message}`, { cause: err });
  }
  if (e?.syscall !== undefined) return new CacheError('CB_CACHE_IO', `Storing ${what} in the cache failed: ${e.message}`, { cause: err });
  return new CacheError('CB_CACHE_LAYOUT', `${what} is not a valid package tarball: ${e?.message ?? String(err)}`, { cause: err });
}

/** Download, verify, extract (or npm install) into a temp dir beside the target; rename into place. */
export async function fetchEntry(ctx: FetchContext, key: EntryKey): Promise<EntryMeta> {
  const { agent, version, platform } = key;
  const source = agentSource(agent);
  const build = platformBuild(agent, platform);
  const buildVersion = `${version}${build.versionSuffix ?? ''}`;
  const doc = await ctx.packument(build.package);
  const pv = Object.hasOwn(doc.versions, buildVersion) ? doc.versions[buildVersion] : undefined;
  if (!pv?.dist?.tarball) {
    throw new CacheError('CB_CACHE_UNKNOWN_VERSION', `The registry has no ${platform} build of ${agent} ${version} (${build.package}@${buildVersion}).`);
  }
  const what = `${build.package}@${buildVersion}`;
  const integrity = parseIntegrity(pv.dist.integrity, what);
  const tmp = newTempDir(ctx.root, key);
  await mkdir(join(tmp, 'files'), { recursive: true });
  try {
    if (source.install === 'npm') {
      await npmInstall({
        pkg: build.package,
        version: buildVersion,
        platform,
        into: join(tmp, 'files'),
        integrity: integrity.sri,
        env: ctx.env,
        ...(ctx.registry ? { registry: ctx.registry } : {}),
      });
    } else {
      const tarball = await ctx.client.tarball(pv.dist.tarball);
      let lastReport = 0;
      const report = (receivedBytes: number, final = false): void => {
        if (!ctx.onProgress) return;
        const t = Date.now();
        if (!final && t - lastReport < PROGRESS_INTERVAL_MS) return;
        lastReport = t;
        ctx.onProgress({ agent, version, platform, receivedBytes, ...(tarball.totalBytes !== undefined ? { totalBytes: tarball.totalBytes } : {}) });
      };
      const tap = new HashTap(integrity, (n) => report(n));
      tarball.body.on('error', (err) => tap.destroy(err));
      try {
        const rules = { root: build.root ?? 'package/', ...(build.keep ? { keep: build.keep } : {}) };
        await extractTarball(tarball.body.pipe(tap), join(tmp, 'files'), rules, what);
      } catch (err) {
        tarball.body.destroy();
        throw asCacheError(err, what);
      }
      tap.verify(what);
      report(tap.bytes, true);
    }
    const program = await stat(join(tmp, 'files', source.entrypoint)).catch(() => undefined);
    if (!program?.isFile()) {
      throw new CacheError('CB_CACHE_LAYOUT', `${what} has no ${source.entrypoint} where the agent table expects its program; nothing was stored.`);
    }
    const at = ctx.now().toISOString();
    const meta: EntryMeta = { agent, package: what, version, platform, size: await treeSize(join(tmp, 'files')), integrity: integrity.sri, downloadedAt: at, lastUsedAt: at };
    await writeMeta(tmp, meta);
    try {
      await rename(tmp, entryDir(ctx.root, key));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // Another process finished the same entry first (its lock was lost): use theirs.
      const theirs = await readMeta(ctx.root, key);
      if (!theirs) throw err;
      await rm(tmp, { recursive: true, force: true });
      return theirs;
    }
    return meta;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw asCacheError(err, what);
  }
}
