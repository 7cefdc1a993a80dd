// Tar archives are how files cross the engine boundary (putArchive/getArchive). Packing
// streams from disk with tar-stream. Reading and extraction use node-tar (npm's own), the one
// extractor cagebench has (cache/extract.ts uses it too): it never writes through a symlink,
// and on top of its checks this file refuses, naming the entry, anything that would land or
// point outside the target: `..`, absolute names, links that point out.
// tar-stream speaks streamx, not Node streams: wrap at the edges with Readable.from.
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { extract, Parser, type ReadEntry } from 'tar';
import tar from 'tar-stream';
import { SandboxError } from '../errors.ts';

function toNode(stream: AsyncIterable<unknown>): Readable {
  return Readable.from(stream, { objectMode: false });
}

/** `name` normalised inside the archive root, or null when it would escape it. */
export function insideRoot(name: string): string | null {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return null;
  const normal = posix.normalize(name);
  if (normal === '..' || normal.startsWith('../')) return null;
  return normal === '.' ? '' : normal.replace(/\/$/, '');
}

/**
 * True when a symlink at `name` pointing at `target` stays inside the archive root.
 * `x/..` is `.` only while `x` is a real directory; when `x` is itself a link it can climb
 * anywhere, so `..` may only lead the target (where it climbs the link's own directories).
 */
export function linkStaysInside(name: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  const named = parts.findIndex((p) => p !== '..');
  if (named !== -1 && parts.indexOf('..', named) !== -1) return false;
  return insideRoot(posix.join(posix.dirname(name), target)) !== null;
}

function escape(entry: string, why: string, where: string): SandboxError {
  return new SandboxError(
    'CB_ARCHIVE_ESCAPE',
    `Refused archive entry "${entry}" from ${where}: ${why}. Nothing outside the target is ever written.`,
  );
}

/**
 * A host link that points out of the directory being copied (a task's solution/, tests/ or
 * environment/): named as `<dir>/<path>` with the directory's parent, so the task author
 * finds it, and told how to fix it. The task's to fix, so never retried.
 */
function linkOut(root: string, rel: string, target: string): SandboxError {
  const dir = basename(root) || root;
  const abs = join(root, rel);
  return new SandboxError(
    'CB_ARCHIVE_ESCAPE',
    `Refused to copy ${dir}/${rel} (in ${dirname(root)}): it is a symlink to "${target}", which points outside ${dir}/, ` +
      `and only what is inside ${dir}/ is copied into a sandbox. Replace the link with a copy of its target ` +
      `(cp --remove-destination "$(readlink -f '${abs}')" '${abs}') or make it point to a file inside ${dir}/.`,
  );
}

/** A one-file archive: `name` is the path relative to where the archive is put. */
export function packFile(name: string, content: Uint8Array, mode = 0o644): Readable {
  const pack = tar.pack();
  pack.entry({ name, mode, size: content.length }, Buffer.from(content));
  pack.finalize();
  return toNode(pack);
}

export interface HostEntry {
  readonly abs: string;
  readonly name: string;
  readonly type: 'directory' | 'file' | 'symlink';
  readonly mode: number;
  readonly mtime: Date;
  readonly size: number;
  readonly linkname?: string;
}

export interface TreeOptions {
  /** Leave out paths (relative to the root, `/`-separated) for which this is true. */
  readonly ignore?: (relPath: string, isDirectory: boolean) => boolean;
  /** False when nothing under an ignored directory can be wanted: skip it whole. @default false */
  readonly descendIgnored?: boolean;
}

/**
 * Why the host directory `root` cannot be copied into a sandbox (a link pointing out of it:
 * the message names the file), or undefined when it can. Lets `tasks check` say so before
 * any run, with the very rule the copy applies.
 */
export async function copyProblem(root: string): Promise<string | undefined> {
  try {
    await listHostTree(root, '');
    return undefined;
  } catch (err) {
    if (err instanceof SandboxError && err.code === 'CB_ARCHIVE_ESCAPE') return err.message;
    throw err;
  }
}

/** Walk `root` (lstat only, no contents) and refuse the whole tree if a link points out. */
export async function listHostTree(root: string, prefix: string, options: TreeOptions = {}): Promise<HostEntry[]> {
  const entries: HostEntry[] = [];
  const visit = async (abs: string, name: string): Promise<void> => {
    const st = await lstat(abs);
    const rel = relative(root, abs).split(sep).join('/');
    const ignored = rel !== '' && options.ignore?.(rel, st.isDirectory()) === true;
    if (ignored && !(st.isDirectory() && options.descendIgnored)) return;
    const base = { abs, name, mode: st.mode & 0o7777, mtime: st.mtime, size: st.size };
    if (st.isDirectory()) {
      if (name && !ignored) entries.push({ ...base, type: 'directory' });
      for (const child of (await readdir(abs)).sort()) await visit(join(abs, child), name ? `${name}/${child}` : child);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      if (!linkStaysInside(rel, target)) throw linkOut(root, rel, target);
      entries.push({ ...base, type: 'symlink', linkname: target });
    } else if (st.isFile()) {
      entries.push({ ...base, type: 'file' });
    }
    // Sockets, fifos and devices are skipped: they cannot be copied meaningfully.
  };
  await visit(root, prefix.replace(/\/$/, ''));
  return entries;
}

/**
 * Pack a host file or directory under `prefix` (a relative archive path). The tree is
 * checked first, so a refused link means nothing at all is sent; file contents are then
 * streamed from disk one at a time.
 */
export function packPath(hostPath: string, prefix: string, options: TreeOptions = {}): Readable {
  const pack = tar.pack();
  const write = async (): Promise<void> => {
    for (const e of await listHostTree(resolve(hostPath), prefix, options)) {
      const header = { name: e.name, mode: e.mode, mtime: e.mtime };
      if (e.type === 'directory') pack.entry({ ...header, type: 'directory' });
      else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.linkname });
      else {
        await new Promise<void>((done, fail) => {
          const entry = pack.entry({ ...header, size: e.size }, (err) => (err ? fail(err) : done()));
          createReadStream(e.abs).on('error', fail).pipe(entry);
        });
      }
    }
    pack.finalize();
  };
  write().catch((err: unknown) => pack.destroy(err as Error));
  return toNode(pack);
}

export interface ExtractOptions {
  /**
   * Engine archives of a directory hold one top-level entry named after it; drop that
   * level so the directory's contents land in the target. A lone file keeps its name.
   */
  readonly stripTopDir?: boolean;
  /** Named in error messages. */
  readonly where: string;
}

const FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIR_TYPES: ReadonlySet<string> = new Set(['Directory', 'GNUDumpDir']);

/** `raw` without its first `strip` components, as node-tar's `strip` cuts it; null when it escapes. */
function stripped(raw: string, strip: number): string | null {
  return insideRoot(raw.split('/').slice(strip).join('/'));
}

/** Why node-tar refused or failed an entry, as our error: its path checks and symlink refusals are escapes. */
function tarProblem(root: string, code: string, message: string, data: Record<string, unknown>, name: string, where: string): Error {
  const err = data instanceof Error ? (data as NodeJS.ErrnoException & { symlink?: string }) : undefined;
  if (err?.code === 'TAR_SYMLINK_ERROR') {
    return escape(name, `it runs through the symlink ${relative(root, err.symlink ?? '') || '.'}`, where);
  }
  if (err?.syscall !== undefined) return err; // the disk's own error (ENOSPC, EACCES), as it came
  if (code === 'TAR_ENTRY_ERROR') return escape(name, message, where);
  return new Error(`${where} is not a valid tar archive: ${message} (${code})`);
}

/**
 * Stream-extract an archive into `hostDir` with node-tar. Entries that would land or point
 * outside it are refused (CB_ARCHIVE_ESCAPE, naming the entry): the first refusal stops the
 * extraction, and the promise settles only once node-tar has finished the writes it had begun.
 * Devices and fifos are skipped; owners are not copied, modes and mtimes are.
 */
export async function extractTo(archive: Readable, hostDir: string, options: ExtractOptions): Promise<void> {
  const root = resolve(hostDir);
  await mkdir(root, { recursive: true });
  const where = options.where;
  const names = new WeakMap<ReadEntry, string>(); // as the archive gives them: node-tar's strip rewrites entry.path
  let strip: number | undefined;
  let failure: Error | undefined;
  let inputEnded = false;
  await new Promise<void>((done, fail) => {
    /** Keep the first problem, let go of the archive, and end node-tar's input; 'close' follows its pending writes. */
    const stop = (err: Error): false => {
      if (failure) return false;
      failure = err;
      setImmediate(() => {
        archive.unpipe(unpack);
        archive.destroy();
        if (!inputEnded) unpack.end();
      });
      return false;
    };
    const judge = (entry: ReadEntry): boolean => {
      const raw = entry.path;
      // Judge the name as the archive gives it: stripping must not launder `/etc/x` or `../x`.
      if (insideRoot(raw) === null) return stop(escape(raw, 'path leaves the target directory', where));
      if (strip === undefined) {
        // Decided on the first entry, before node-tar places it: a directory archive's top level goes.
        strip = options.stripTopDir && DIR_TYPES.has(entry.type) ? 1 : 0;
        unpack.strip = strip;
      }
      const name = stripped(raw, strip);
      if (name === null) return stop(escape(raw, 'path leaves the target directory', where));
      if (entry.type === 'SymbolicLink') {
        const target = entry.linkpath ?? '';
        if (!linkStaysInside(name, target)) return stop(escape(raw, `symlink points outside (${target})`, where));
      } else if (entry.type === 'Link') {
        const target = entry.linkpath ?? '';
        if (insideRoot(target) === null || !stripped(target, strip)) return stop(escape(raw, `hard link points outside (${target})`, where));
      } else if (!FILE_TYPES.has(entry.type) && !DIR_TYPES.has(entry.type)) {
        return false; // devices, fifos: not materialised on the host
      }
      names.set(entry, raw);
      return true;
    };
    const unpack = extract({
      cwd: root,
      preservePaths: false, // node-tar's default, said out loud: no `..`, never through a symlink (absolute names it would only make relative: judge refuses them first)
      preserveOwner: false, // even when cagebench runs as root, files are its own, not the container user's
      filter: (_path, entry) => !failure && judge(entry as ReadEntry),
      onwarn: (code, message, data) => {
        if (code === 'TAR_ENTRY_INFO') return;
        const entry = data['entry'] as ReadEntry | undefined;
        const name = (entry && names.get(entry)) ?? entry?.path ?? '(unknown entry)';
        stop(tarProblem(root, code, message, data, name, where));
      },
    });
    unpack.on('error', (err: Error) => {
      stop(err);
      if (err.name === 'CwdError') fail(err); // nothing pending will ever end: settle now
    });
    unpack.on('abort', (err: Error) => fail(failure ?? err)); // an aborted parser never closes
    unpack.on('close', () => (failure ? fail(failure) : done()));
    archive.on('end', () => (inputEnded = true));
    archive.on('error', (err) => stop(err));
    archive.pipe(unpack);
  });
}

/** What an entry type is called in messages: `directory`, `symlink`, `file`, `link`. */
function kindOf(type: string): string {
  if (FILE_TYPES.has(type)) return 'file';
  if (DIR_TYPES.has(type)) return 'directory';
  if (type === 'SymbolicLink') return 'symlink';
  if (type === 'Link') return 'link';
  return type.toLowerCase();
}

/** Read the single regular file an engine archive of one path contains. */
export async function readSingleFile(archive: Readable, where: string): Promise<Buffer> {
  let found: Buffer | undefined;
  let kind: string | undefined;
  await new Promise<void>((done, fail) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        // Only the archive's first entry is the path asked for; later ones are inside a directory.
        const first = kind === undefined;
        kind ??= kindOf(entry.type);
        if (first && FILE_TYPES.has(entry.type)) {
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => (found = Buffer.concat(chunks)));
        } else {
          entry.resume();
        }
      },
    });
    parser.on('error', fail);
    parser.on('close', done);
    archive.on('error', fail);
    archive.pipe(parser);
  });
  if (found === undefined) {
    throw new SandboxError('CB_PATH_NOT_FOUND', `${where} is not a regular file (it is a ${kind ?? 'nothing'}); use download() for directories.`);
  }
  return found;
}
