// Tar archives are how files cross the engine boundary (putArchive/getArchive). Packing
// streams from disk; extraction streams to disk and refuses any entry that would land
// outside its target: `..`, absolute names, and links that point out.
// tar-stream speaks streamx, not Node streams: wrap at the edges with Readable.from.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, symlink, link } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

function entryPath(raw: string, isDir: boolean, stripTopDir: boolean | undefined): string | null {
  // Judge the name as the archive gives it: stripping must not launder `/etc/x` or `../x`.
  if (insideRoot(raw) === null) return null;
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (stripTopDir && (parts.length > 1 || isDir)) parts.shift();
  return insideRoot(parts.join('/'));
}

/**
 * The first existing parent of `name` under `root` that is a symlink, if any. `realDirs`
 * remembers parents already seen to be directories, so a big tree costs one lstat per
 * directory rather than one per entry and level.
 */
async function linkOnPath(root: string, name: string, realDirs: Set<string>): Promise<string | undefined> {
  const parts = name.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    if (realDirs.has(rel)) continue;
    const st = await lstat(join(root, rel)).catch(() => undefined);
    if (!st) return undefined; // the rest is created as directories
    if (st.isSymbolicLink()) return rel;
    if (st.isDirectory()) realDirs.add(rel);
  }
  return undefined;
}

/** Stream-extract an archive into `hostDir`, refusing entries that escape it. */
export async function extractTo(archive: Readable, hostDir: string, options: ExtractOptions): Promise<void> {
  const root = resolve(hostDir);
  await mkdir(root, { recursive: true });
  const extract = tar.extract();
  const realDirs = new Set<string>();
  archive.on('error', (err) => extract.destroy(err));
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = entryPath(h.name, h.type === 'directory', options.stripTopDir);
      if (name === null) throw escape(h.name, 'path leaves the target directory', options.where);
      const dest = name ? join(root, name) : root;
      // The link checks assume an entry's parents are real directories: never write through a link.
      const through = await linkOnPath(root, name, realDirs);
      if (through) throw escape(h.name, `its parent ${through} is a symlink`, options.where);
      if (h.type === 'directory') {
        await mkdir(dest, { recursive: true, mode: h.mode ?? 0o755 });
        entry.resume();
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        await mkdir(dirname(dest), { recursive: true });
        await pipeline(toNode(entry), createWriteStream(dest, { mode: h.mode ?? 0o644 }));
      } else if (h.type === 'symlink') {
        const target = h.linkname ?? '';
        if (!linkStaysInside(name, target)) throw escape(h.name, `symlink points outside (${target})`, options.where);
        await mkdir(dirname(dest), { recursive: true });
        await symlink(target, dest);
        entry.resume();
      } else if (h.type === 'link') {
        const target = entryPath(h.linkname ?? '', false, options.stripTopDir);
        if (target === null || target === '') throw escape(h.name, `hard link points outside (${h.linkname})`, options.where);
        // A hard link to a symlink is that symlink again, at a new place its text may not suit.
        const linked = await lstat(join(root, target)).catch(() => undefined);
        if (linked?.isSymbolicLink()) {
          const text = await readlink(join(root, target));
          if (!linkStaysInside(name, text)) throw escape(h.name, `hard link to a symlink that would point outside (${text})`, options.where);
        }
        await mkdir(dirname(dest), { recursive: true });
        await link(join(root, target), dest);
        entry.resume();
      } else {
        entry.resume(); // devices, fifos: not materialised on the host
      }
    }
  } catch (err) {
    archive.destroy();
    extract.destroy();
    throw err;
  }
}

/** Read the single regular file an engine archive of one path contains. */
export async function readSingleFile(archive: Readable, where: string): Promise<Buffer> {
  const extract = tar.extract();
  let found: Buffer | undefined;
  let kind: string | undefined;
  archive.on('error', (err) => extract.destroy(err));
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    // Only the archive's first entry is the path asked for; later ones are inside a directory.
    const first = kind === undefined;
    kind ??= entry.header.type;
    if (first && entry.header.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      found = Buffer.concat(chunks);
    } else {
      entry.resume();
    }
  }
  if (found === undefined) {
    throw new SandboxError('CB_PATH_NOT_FOUND', `${where} is not a regular file (it is a ${kind ?? 'nothing'}); use download() for directories.`);
  }
  return found;
}
