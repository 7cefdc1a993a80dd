// The one tar extractor: node-tar (npm's own) plus the checks it lacks. node-tar never writes
// through a symlink and refuses `..`; on top of that, every entry is judged by name before it
// is written, and the first one that would land or point outside the target stops the whole
// extraction, once node-tar has finished the writes it had begun. What differs between callers
// (which entries are kept, modes, mtimes, a gunzip, their own errors) is an ExtractPolicy.
import { chmod, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { extract, type ReadEntry } from 'tar';
import { insideRoot, linkStaysInside } from './names.ts';

/** An entry as the archive gives it: `path` unstripped, `kind` as kindOf() names it. */
export interface ArchiveEntry {
  readonly path: string;
  readonly kind: string;
}

export interface ExtractPolicy {
  /**
   * Leading name components dropped, exactly as node-tar's `strip` drops them: a number, or
   * decided on the archive's first entry. Names and link targets are judged both before and
   * after: stripping never launders `/etc/x` or `top/../../x`. @default 0
   */
  readonly strip?: number | ((first: ArchiveEntry) => number);
  /**
   * Whether an entry is written; `path` is where it lands, relative to the target ('' for the
   * target itself), `raw` its name in the archive. Every entry when absent. An entry left out
   * is still judged: a link pointing out fails the extraction even where nothing is kept.
   */
  readonly keep?: (path: string, raw: string) => boolean;
  /** Each file's mode from the archive's, set exactly once extraction ends (no umask). The archive's, under the umask, when absent. */
  readonly fileMode?: (mode: number | undefined) => number;
  /** The target's and each directory's mode (under the umask). The archive's when absent. */
  readonly dirMode?: number;
  /** Keep the archive's modification times, rather than the time of writing. @default true */
  readonly mtimes?: boolean;
  /** A stream the source runs through before node-tar (a gunzip), torn down with it; `failed` turns its errors into the caller's. */
  readonly decode?: { readonly stream: Transform; readonly failed: (err: Error) => Error };
  /** The caller's error for a refused entry: `raw` as the archive names it, `reason` why. */
  readonly refuse: (raw: string, reason: string) => Error;
  /** The caller's error for a stream that is no tar archive: `detail` is node-tar's message and code. */
  readonly notTar: (detail: string) => Error;
}

export interface ExtractResult {
  /** Regular files written (hard links not counted). */
  readonly files: number;
  readonly bytes: number;
}

const FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIR_TYPES: ReadonlySet<string> = new Set(['Directory', 'GNUDumpDir']);

/** What a node-tar entry type is called: `file`, `directory`, `symlink`, `link`, or the type in lower case (`fifo`). */
export function kindOf(type: string): string {
  if (FILE_TYPES.has(type)) return 'file';
  if (DIR_TYPES.has(type)) return 'directory';
  if (type === 'SymbolicLink') return 'symlink';
  if (type === 'Link') return 'link';
  return type.toLowerCase();
}

/** Why node-tar refused or failed an entry, as the caller's error: its path checks and symlink refusals are refusals. */
function tarProblem(root: string, code: string, message: string, data: Record<string, unknown>, name: string, policy: ExtractPolicy): Error {
  const err = data instanceof Error ? (data as NodeJS.ErrnoException & { symlink?: string }) : undefined;
  if (err?.code === 'TAR_SYMLINK_ERROR') return policy.refuse(name, `it runs through the symlink ${relative(root, err.symlink ?? '') || '.'}`);
  if (err?.syscall !== undefined) return err; // the disk's own error (ENOSPC, EACCES), as it came
  if (code === 'TAR_ENTRY_ERROR') return policy.refuse(name, message);
  return policy.notTar(`${message} (${code})`);
}

/**
 * Stream-extract the tar archive `source` into `dest` (created if missing) under `policy`.
 * Rejects on the first entry that would land or point outside `dest` (`policy.refuse`), once
 * node-tar has finished the writes it had begun; the source is let go of at once. A hard link
 * must point at a file this archive wrote before it. Devices and fifos are skipped; owners are
 * never copied.
 */
export async function extractSafely(source: Readable, dest: string, policy: ExtractPolicy): Promise<ExtractResult> {
  const root = resolve(dest);
  await mkdir(root, { recursive: true, ...(policy.dirMode === undefined ? {} : { mode: policy.dirMode }) });
  const decode = policy.decode?.stream;
  const decodeFailed = policy.decode?.failed;
  const names = new WeakMap<ReadEntry, string>(); // as the archive gives them: node-tar's strip rewrites entry.path
  const written = new Map<string, number>(); // files (and hard links to them) -> mode
  let strip = typeof policy.strip === 'number' ? policy.strip : undefined;
  let files = 0;
  let bytes = 0;
  let failure: Error | undefined;
  let inputEnded = false;
  await new Promise<void>((done, fail) => {
    /** Keep the first problem, let go of the source, and end node-tar's input; 'close' follows its pending writes. */
    const stop = (err: Error): false => {
      if (failure) return false;
      failure = err;
      setImmediate(() => {
        source.unpipe(decode ?? unpack);
        source.destroy();
        decode?.unpipe(unpack);
        decode?.destroy();
        if (!inputEnded) unpack.end();
      });
      return false;
    };
    /** Where a name lands relative to `root` ('' for the root), undefined when it is not kept, null when it escapes. */
    const place = (raw: string, stripping: number): string | undefined | null => {
      const path = insideRoot(raw.split('/').slice(stripping).join('/'));
      if (path === null) return null;
      return !policy.keep || policy.keep(path, raw) ? path : undefined;
    };
    const judge = (entry: ReadEntry): boolean => {
      const raw = entry.path;
      const kind = kindOf(entry.type);
      const target = entry.linkpath ?? '';
      // The name as the archive gives it; links wherever they sit, kept or not.
      const normal = insideRoot(raw);
      if (normal === null) return stop(policy.refuse(raw, 'its path leaves the target directory'));
      if (kind === 'symlink' && !linkStaysInside(normal, target)) return stop(policy.refuse(raw, `symlink points outside (${target})`));
      if (kind === 'link' && !insideRoot(target)) return stop(policy.refuse(raw, `hard link points outside (${target})`));
      if (strip === undefined) {
        // Decided on the first entry, before node-tar places it.
        strip = typeof policy.strip === 'function' ? policy.strip({ path: raw, kind }) : 0;
        unpack.strip = strip;
      }

      // Where it lands once stripped, and whether it is kept.
      const path = place(raw, strip);
      if (path === null) return stop(policy.refuse(raw, 'its path leaves the target directory'));
      if (path === undefined) return false;
      if (kind === 'directory') {
        if (policy.dirMode !== undefined) entry.mode = policy.dirMode;
      } else if (kind === 'file') {
        if (policy.fileMode) entry.mode = policy.fileMode(entry.mode);
        written.set(path, entry.mode ?? 0o644);
        files++;
        bytes += entry.size;
      } else if (kind === 'symlink') {
        // Inside the archive is not enough: it must stay inside what is written of it.
        if (!linkStaysInside(path, target)) return stop(policy.refuse(raw, `symlink points outside the kept files (${target})`));
      } else if (kind === 'link') {
        const linked = place(target, strip);
        const mode = typeof linked === 'string' ? written.get(linked) : undefined;
        if (mode === undefined) return stop(policy.refuse(raw, `hard link points outside the kept files (${target})`));
        written.set(path, mode);
      } else {
        return false; // devices and fifos are never materialised
      }
      names.set(entry, raw);
      return true;
    };
    const unpack = extract({
      cwd: root,
      ...(strip === undefined ? {} : { strip }),
      preservePaths: false, // node-tar's default, said out loud: no `..`, never through a symlink (absolute names it would only make relative: judge refuses them first)
      preserveOwner: false, // even when run as root, the files are ours, not the archive's owners'
      noMtime: policy.mtimes === false,
      filter: (_path, entry) => !failure && judge(entry as ReadEntry),
      onwarn: (code, message, data) => {
        if (code === 'TAR_ENTRY_INFO') return;
        const entry = data['entry'] as ReadEntry | undefined;
        const name = (entry && names.get(entry)) ?? entry?.path ?? '(unknown entry)';
        stop(tarProblem(root, code, message, data, name, policy));
      },
    });
    unpack.on('error', (err: Error) => {
      stop(err);
      if (err.name === 'CwdError') fail(err); // nothing pending will ever end: settle now
    });
    unpack.on('abort', (err: Error) => fail(failure ?? err)); // an aborted parser never closes
    unpack.on('close', () => (failure ? fail(failure) : done()));
    source.on('error', (err) => stop(err));
    decode?.on('error', (err) => stop(decodeFailed ? decodeFailed(err) : err));
    const input = decode ? source.pipe(decode) : source; // what node-tar reads
    input.on('end', () => (inputEnded = true));
    input.pipe(unpack);
  });
  // The modes were set on creation, under the process umask; make them exactly these.
  if (policy.fileMode) for (const [path, mode] of written) await chmod(join(root, path), mode);
  return { files, bytes };
}
