// Unpacks a gzipped npm tarball into a directory, keeping only the part of the package the
// agent table names. The extraction and its escape checks are archives/'s, shared with the
// sandboxes; what is the cache's own is here: the package root stripped and the keep list,
// fixed modes, our gunzip, and CacheError codes.
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extractSafely, type ExtractResult } from '../archives/index.ts';
import { CacheError } from './errors.ts';

export type { ExtractResult } from '../archives/index.ts';

export interface ExtractRules {
  /** Directory inside the archive whose contents land in the target, with a trailing `/`. */
  readonly root: string;
  /** Paths under `root` to keep (files or directories); all when absent. */
  readonly keep?: readonly string[];
}

/**
 * Gunzip's output chunk size. With Node's default (16 KiB) every kept file arrives, and is
 * written, 16 KiB at a time: about 23,000 writes through the thread pool for Claude Code's
 * 381 MB binary. With 64 KiB, cache.ensure() of that build from a loopback registry took
 * 2.3 s instead of 5.0 s (tar -xzf of the same .tgz: 2.8 s); see bench/README.md. node-tar
 * would gunzip by itself, with its own chunk size: it is handed the tar instead.
 */
const GUNZIP_CHUNK = 64 * 1024;

/** Executable bits are kept, everything is readable; no setuid, no group or world write. */
const fileMode = (mode: number | undefined): number => ((mode ?? 0o644) & 0o111 ? 0o755 : 0o644);

/** True for `path` (under the root, never the root itself) when the keep list names it or a directory above it. */
function kept(path: string, keep: readonly string[] | undefined): boolean {
  if (path === '') return false;
  return (
    !keep ||
    keep.some((k) => {
      const item = k.replace(/\/$/, '');
      return path === item || path.startsWith(`${item}/`);
    })
  );
}

/**
 * Stream-extract a gzipped tarball into `dest` (created if missing). Rejects with
 * CB_CACHE_ESCAPE on the first entry that would escape, once node-tar has finished the writes
 * it had begun; the caller removes `dest` then.
 */
export async function extractTarball(gzipped: Readable, dest: string, rules: ExtractRules, where: string): Promise<ExtractResult> {
  const rootParts = rules.root.split('/').filter((p) => p !== '');
  return extractSafely(gzipped, dest, {
    strip: rootParts.length,
    // The root is matched component by component on the name as the archive gives it, the way node-tar's strip cuts it.
    keep: (path, raw) => rootParts.every((p, i) => raw.split('/')[i] === p) && kept(path, rules.keep),
    fileMode,
    dirMode: 0o755,
    mtimes: false,
    decode: {
      stream: createGunzip({ chunkSize: GUNZIP_CHUNK }),
      failed: (err) => new CacheError('CB_CACHE_INTEGRITY', `${where} is not a valid gzip stream: ${err.message}`, { cause: err }),
    },
    refuse: (raw, reason) => new CacheError('CB_CACHE_ESCAPE', `Refused tarball entry "${raw}" of ${where}: ${reason}. Nothing was stored.`),
    notTar: (detail) => new CacheError('CB_CACHE_LAYOUT', `${where} is not a valid package tarball: ${detail}`),
  });
}
