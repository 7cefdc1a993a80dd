// The cache directory's layout and its meta.json records.
//
//   <dir>/<agent>/<version>/<platform>/meta.json     what, from where, when, how big
//   <dir>/<agent>/<version>/<platform>/files/        the package's kept files (what a sandbox mounts)
//   <dir>/<agent>/<version>/.tmp-<platform>-<host>-<pid>-<hex>/   a download in progress, renamed into place
//   <dir>/.locks/<agent>/...                         cross-process locks (lock.ts)
//   <dir>/.leases/<agent>/<version>/<platform>/      "in use" leases (leases.ts)
//   <dir>/.trash/                                    evicted entries, moved out atomically, then deleted
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BUILD_NAMES, PLATFORMS, type AgentName, type Platform } from './agents.ts';

export interface EntryMeta {
  readonly agent: AgentName;
  /** The npm package (and, for Codex, its suffixed version) the files came from. */
  readonly package: string;
  readonly version: string;
  readonly platform: Platform;
  /** Bytes of the kept files. */
  readonly size: number;
  /** The registry's SRI string that the tarball matched. */
  readonly integrity: string;
  readonly downloadedAt: string;
  readonly lastUsedAt: string;
}

export interface EntryKey {
  readonly agent: AgentName;
  readonly version: string;
  readonly platform: Platform;
}

export const entryDir = (root: string, k: EntryKey): string => join(root, k.agent, k.version, k.platform);
export const filesDir = (root: string, k: EntryKey): string => join(entryDir(root, k), 'files');
export const leaseDir = (root: string, k: EntryKey): string => join(root, '.leases', k.agent, k.version, k.platform);
export const entryLockPath = (root: string, k: EntryKey): string => join(root, '.locks', k.agent, `${k.version}@${k.platform}`);
export const evictLockPath = (root: string, agent: string, platform: string): string => join(root, '.locks', agent, `evict@${platform}`);
/** Names this host in temp dirs: a pid says whether a download is abandoned only on its own host. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
export const tempPrefix = (platform: string): string => `.tmp-${platform}-${HOST_TAG}-`;

export function newTempDir(root: string, k: EntryKey): string {
  return join(root, k.agent, k.version, `${tempPrefix(k.platform)}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `path` whole or not at all: a temp file beside it, then a rename. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function isMeta(value: unknown, k: EntryKey): value is EntryMeta {
  const m = value as Partial<EntryMeta> | null;
  return (
    !!m &&
    m.agent === k.agent &&
    m.version === k.version &&
    m.platform === k.platform &&
    typeof m.package === 'string' &&
    typeof m.size === 'number' &&
    typeof m.integrity === 'string' &&
    typeof m.downloadedAt === 'string' &&
    typeof m.lastUsedAt === 'string'
  );
}

/** The entry's record, or undefined when it is absent or not one of ours. */
export async function readMeta(root: string, k: EntryKey): Promise<EntryMeta | undefined> {
  const text = await readFile(join(entryDir(root, k), 'meta.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isMeta(value, k) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function writeMeta(dir: string, meta: EntryMeta): Promise<void> {
  await writeJsonAtomic(join(dir, 'meta.json'), meta);
}

async function subdirs(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/** Every complete entry under `root`, optionally of one agent and platform. */
export async function scanEntries(root: string, filter: { agent?: AgentName; platform?: Platform } = {}): Promise<EntryMeta[]> {
  const found: EntryMeta[] = [];
  const agents = filter.agent ? [filter.agent] : BUILD_NAMES;
  for (const agent of agents) {
    for (const version of await subdirs(join(root, agent))) {
      for (const platform of await subdirs(join(root, agent, version))) {
        if (!(PLATFORMS as readonly string[]).includes(platform)) continue;
        if (filter.platform && platform !== filter.platform) continue;
        const meta = await readMeta(root, { agent, version, platform: platform as Platform });
        if (meta) found.push(meta);
      }
    }
  }
  return found;
}

/**
 * Takes an entry out of the cache with one rename, so a reader never sees half of it. Returns
 * its place in the trash, for the caller to delete once it no longer holds a lock.
 */
export async function trashEntry(root: string, k: EntryKey): Promise<string> {
  const trash = join(root, '.trash');
  await mkdir(trash, { recursive: true });
  const target = join(trash, `${k.agent}-${k.version}-${k.platform}-${randomBytes(4).toString('hex')}`);
  await rename(entryDir(root, k), target);
  await rm(leaseDir(root, k), { recursive: true, force: true });
  return target;
}

/** Size in bytes of the regular files under `path` (links not followed). */
export async function treeSize(path: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await lstat(join(e.parentPath, e.name))).size;
  }
  return total;
}
