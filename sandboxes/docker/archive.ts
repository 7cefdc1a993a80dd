// Tar archives are how files cross the engine boundary (putArchive/getArchive). Packing and
// extraction are archives/'s, the one packer and the one safe extractor (the cache's too), both
// node-tar; what is the sandboxes' own is here: which host entries go in (links checked, owned by
// root, modes and mtimes kept, contents streamed one file at a time), the top directory stripped
// on the way out, SandboxError codes. Reading one file uses node-tar's parser.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser } from 'tar';
import { extractSafely, kindOf, linkStaysInside, packEntries, type PackEntry } from '../../archives/index.ts';
import { SandboxError } from '../errors.ts';

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
  return packEntries([{ name, mode, content }]);
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
 * Pack a host file or directory under `prefix` (a relative archive path), owned by root, modes
 * and mtimes as on the host. The tree is checked first, so a refused link means nothing at all
 * is sent; file contents are then streamed from disk one at a time.
 */
export function packPath(hostPath: string, prefix: string, options: TreeOptions = {}): Readable {
  return packEntries(pathEntries(hostPath, prefix, options));
}

/** What packPath packs, as entries (to pack with others in one archive). */
export async function* pathEntries(hostPath: string, prefix: string, options: TreeOptions = {}): AsyncGenerator<PackEntry> {
  for (const e of await listHostTree(resolve(hostPath), prefix, options)) {
    const header = { name: e.name, mode: e.mode, mtime: e.mtime };
    if (e.type === 'file') yield { ...header, content: { path: e.abs, size: e.size } };
    else yield { ...header, type: e.type, linkname: e.linkname }; // the target checked, not read again
  }
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

/**
 * Stream-extract an archive into `hostDir` (archives/ extractSafely). Entries that would land
 * or point outside it are refused (CB_ARCHIVE_ESCAPE, naming the entry): the first refusal
 * stops the extraction, and the promise settles only once node-tar has finished the writes it
 * had begun. Devices and fifos are skipped; owners are not copied, modes and mtimes are.
 */
export async function extractTo(archive: Readable, hostDir: string, options: ExtractOptions): Promise<void> {
  const where = options.where;
  await extractSafely(archive, hostDir, {
    // Decided on the first entry: a directory archive's top level goes, a lone file keeps its name.
    strip: (first) => (options.stripTopDir && first.kind === 'directory' ? 1 : 0),
    refuse: (raw, reason) =>
      new SandboxError('CB_ARCHIVE_ESCAPE', `Refused archive entry "${raw}" from ${where}: ${reason}. Nothing outside the target is ever written.`),
    notTar: (detail) => new Error(`${where} is not a valid tar archive: ${detail}`),
  });
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
        if (first && kind === 'file') {
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
