// An agent build as a volume (SandboxSpec.volumes): for an engine that cannot bind-mount this
// machine's files but keeps volumes (a remote one), the cache entry is shipped once per engine
// and mounted read-only where the bind mount would be. The name says which build it holds —
// agent, version, platform — and ends in a digest of the entry as it is on disk, so a build that
// changed (downloaded again, extracted anew, edited) never reuses a volume of the old one.
import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { agentMount } from '../../agents/index.ts';
import type { CacheEntry } from '../../cache/index.ts';
import type { SandboxVolume } from '../../sandboxes/index.ts';

export async function buildVolume(entry: CacheEntry): Promise<SandboxVolume> {
  const digest = await treeDigest(entry.dir, entry.integrity);
  const name = `cagebench-build-${entry.agent}-${entry.version}-${entry.platform}-${digest.slice(0, 16)}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
  return { name, source: entry.dir, target: agentMount(entry).target };
}

/**
 * SHA-256 of the registry's integrity of what was extracted and of every entry of the tree: its
 * path, type, mode, size, mtime and link target (lstat only: no file is read, so a build of
 * hundreds of MB costs milliseconds, once per run).
 */
export async function treeDigest(root: string, integrity = ''): Promise<string> {
  const hash = createHash('sha256').update(`integrity ${integrity}\n`);
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
      const link = type === 'l' ? await readlink(join(root, path)) : '';
      hash.update(`${JSON.stringify(path)} ${type} ${(st.mode & 0o7777).toString(8)} ${type === 'f' ? st.size : 0} ${Math.floor(st.mtimeMs)} ${JSON.stringify(link)}\n`);
      if (type === 'd') await visit(path);
    }
  };
  await visit('');
  return hash.digest('hex');
}
