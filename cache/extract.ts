// Unpacks a gzipped npm tarball into a directory with node-tar (npm's own extractor, the one
// cagebench has: sandboxes/docker/archive.ts uses it too), keeping only the part of the package
// the agent table names. node-tar never writes through a symlink and refuses `..`; on top of
// that, any entry that would land or point outside the target (an absolute name, a symlink or
// hard link pointing out of the package or of what is kept of it) fails the whole extraction.
// The name checks are the same as sandboxes/docker/archive.ts's, written again here: cache/
// imports nothing of ours.
import { chmod, mkdir } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract, type ReadEntry } from 'tar';
import { CacheError } from './errors.ts';

/** `name` normalised inside the archive root ('' for the root), or null when it would escape. */
export function insideRoot(name: string): string | null {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\')) return null;
  const normal = posix.normalize(name);
  if (normal === '..' || normal.startsWith('../')) return null;
  return normal === '.' || normal === './' ? '' : normal.replace(/\/$/, '');
}

/**
 * True when a symlink at `name` pointing at `target` stays inside the root. `x/..` is `.`
 * only while `x` is a real directory; when `x` is itself a link it can climb anywhere, so
 * `..` may only lead the target.
 */
export function linkStaysInside(name: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\\')) return false;
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  const named = parts.findIndex((p) => p !== '..');
  if (named !== -1 && parts.indexOf('..', named) !== -1) return false;
  return insideRoot(posix.join(posix.dirname(name), target)) !== null;
}

export interface ExtractRules {
  /** Directory inside the archive whose contents land in the target, with a trailing `/`. */
  readonly root: string;
  /** Paths under `root` to keep (files or directories); all when absent. */
  readonly keep?: readonly string[];
}

export interface ExtractResult {
  readonly files: number;
  readonly bytes: number;
}

function refuse(entry: string, why: string, where: string): CacheError {
  return new CacheError('CB_CACHE_ESCAPE', `Refused tarball entry "${entry}" of ${where}: ${why}. Nothing was stored.`);
}

/**
 * The entry's path relative to the target, or undefined when it is not kept. `root` is cut
 * component by component from the name as the archive gives it, exactly as node-tar's `strip`
 * cuts it, so what is judged here is where node-tar writes.
 */
function keptPath(raw: string, rootParts: readonly string[], keep: readonly string[] | undefined): string | undefined {
  const parts = raw.split('/');
  if (parts.length <= rootParts.length || rootParts.some((p, i) => parts[i] !== p)) return undefined;
  const rel = insideRoot(parts.slice(rootParts.length).join('/'));
  if (!rel) return undefined;
  if (!keep) return rel;
  return keep.some((k) => {
    const item = k.replace(/\/$/, '');
    return rel === item || rel.startsWith(`${item}/`);
  })
    ? rel
    : undefined;
}

const FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIR_TYPES: ReadonlySet<string> = new Set(['Directory', 'GNUDumpDir']);

/** Why node-tar refused or failed an entry, as our error: its path checks and symlink refusals are escapes. */
function tarProblem(dest: string, code: string, message: string, data: Record<string, unknown>, name: string, where: string): Error {
  const err = data instanceof Error ? (data as NodeJS.ErrnoException & { symlink?: string }) : undefined;
  if (err?.code === 'TAR_SYMLINK_ERROR') return refuse(name, `it runs through the symlink ${relative(dest, err.symlink ?? '') || '.'}`, where);
  if (err?.syscall !== undefined) return err; // the disk's own error (ENOSPC, EACCES): download.ts says what failed
  if (code === 'TAR_ENTRY_ERROR') return refuse(name, message, where);
  return new CacheError('CB_CACHE_LAYOUT', `${where} is not a valid package tarball: ${message} (${code})`);
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

/**
 * Stream-extract a gzipped tarball into `dest` (created if missing). Rejects with
 * CB_CACHE_ESCAPE on the first entry that would escape, once node-tar has finished the writes
 * it had begun; the caller removes `dest` then.
 */
export async function extractTarball(gzipped: Readable, dest: string, rules: ExtractRules, where: string): Promise<ExtractResult> {
  await mkdir(dest, { recursive: true, mode: 0o755 });
  const rootParts = rules.root.split('/').filter((p) => p !== '');
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  const names = new WeakMap<ReadEntry, string>(); // as the archive gives them: node-tar's strip rewrites entry.path
  const written = new Map<string, number>(); // kept files (and hard links to them) -> mode
  let files = 0;
  let bytes = 0;
  let failure: Error | undefined;
  let inputEnded = false;
  await new Promise<void>((done, fail) => {
    /** Keep the first problem, let go of the download, and end node-tar's input; 'close' follows its pending writes. */
    const stop = (err: Error): false => {
      if (failure) return false;
      failure = err;
      setImmediate(() => {
        gzipped.unpipe(gunzip);
        gzipped.destroy();
        gunzip.unpipe(unpack);
        gunzip.destroy();
        if (!inputEnded) unpack.end();
      });
      return false;
    };
    const judge = (entry: ReadEntry): boolean => {
      const raw = entry.path;
      const normal = insideRoot(raw);
      if (normal === null) return stop(refuse(raw, 'its path leaves the package', where));
      const target = entry.linkpath ?? '';
      // Links are judged wherever they sit, kept or not.
      if (entry.type === 'SymbolicLink' && !linkStaysInside(normal, target)) return stop(refuse(raw, `symlink points outside (${target})`, where));
      if (entry.type === 'Link' && !insideRoot(target)) return stop(refuse(raw, `hard link points outside (${target})`, where));

      const rel = keptPath(raw, rootParts, rules.keep);
      if (rel === undefined) return false;
      if (DIR_TYPES.has(entry.type)) {
        entry.mode = 0o755;
      } else if (FILE_TYPES.has(entry.type)) {
        entry.mode = fileMode(entry.mode);
        written.set(rel, entry.mode);
        files++;
        bytes += entry.size;
      } else if (entry.type === 'SymbolicLink') {
        // Inside the package is not enough: it must stay inside what is kept of it.
        if (!linkStaysInside(rel, target)) return stop(refuse(raw, `symlink points outside the kept files (${target})`, where));
      } else if (entry.type === 'Link') {
        const linked = keptPath(target, rootParts, rules.keep);
        const mode = linked === undefined ? undefined : written.get(linked);
        if (mode === undefined) return stop(refuse(raw, `hard link points outside the kept files (${target})`, where));
        written.set(rel, mode);
      } else {
        return false; // devices and fifos are never materialised
      }
      names.set(entry, raw);
      return true;
    };
    const unpack = extract({
      cwd: dest,
      strip: rootParts.length,
      preservePaths: false, // node-tar's default, said out loud: no `..`, never through a symlink (absolute names it would only make relative: judge refuses them first)
      preserveOwner: false, // even when cagebench runs as root, the cache's files are its own
      noMtime: true,
      filter: (_path, entry) => !failure && judge(entry as ReadEntry),
      onwarn: (code, message, data) => {
        if (code === 'TAR_ENTRY_INFO') return;
        const entry = data['entry'] as ReadEntry | undefined;
        const name = (entry && names.get(entry)) ?? entry?.path ?? '(unknown entry)';
        stop(tarProblem(dest, code, message, data, name, where));
      },
    });
    unpack.on('error', (err: Error) => {
      stop(err);
      if (err.name === 'CwdError') fail(err); // nothing pending will ever end: settle now
    });
    unpack.on('abort', (err: Error) => fail(failure ?? err)); // an aborted parser never closes
    unpack.on('close', () => (failure ? fail(failure) : done()));
    gzipped.on('error', (err) => stop(err));
    gunzip.on('error', (err) => stop(new CacheError('CB_CACHE_INTEGRITY', `${where} is not a valid gzip stream: ${err.message}`, { cause: err })));
    gunzip.on('end', () => (inputEnded = true));
    gzipped.pipe(gunzip).pipe(unpack);
  });
  // The modes were set on creation, under the process umask; make them exactly these.
  for (const [rel, mode] of written) await chmod(join(dest, rel), mode);
  return { files, bytes };
}
