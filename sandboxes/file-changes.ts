// Which files a turn created, modified or deleted, whoever wrote them (an edit tool, a shell
// redirect, `mv`, a build). A snapshot is one `find` inside the sandbox listing every entry
// under a root with its type, size, mtime, ctime and inode; two snapshots are compared on the
// host. Not `docker diff`: that is relative to the image rather than the turn, misses
// volumes, and walks both trees on overlay2.
import { posix } from 'node:path';
import type { Sandbox } from './sandbox.ts';
import { SandboxError } from './errors.ts';

export type FileKind = 'file' | 'symlink' | 'fifo' | 'socket' | 'block' | 'char' | 'other';

export interface FileEntry {
  readonly kind: FileKind;
  readonly size: number;
  /** Seconds since the epoch as find prints them (nanosecond digits); compared as text. */
  readonly mtime: string;
  /** Changes with any write or metadata change (chmod, rename, `touch -d`), and cannot be set back. */
  readonly ctime: string;
  readonly inode: string;
}

export interface FileManifest {
  /** Absolute, normalised. */
  readonly root: string;
  /** Every non-directory entry under the root, by path relative to it. */
  readonly entries: ReadonlyMap<string, FileEntry>;
}

export interface FileChanges {
  readonly created: readonly string[];
  readonly modified: readonly string[];
  readonly deleted: readonly string[];
}

export interface SnapshotOptions {
  /** Who lists the tree. Take both snapshots of a turn as the same user. @default the image's USER */
  readonly user?: string;
  /**
   * Name patterns (find's `-name` globs, matched against each entry's own name) left out
   * together with everything under them. Replaces the default; `[]` lists `.git` too.
   * @default ['.git']
   */
  readonly exclude?: readonly string[];
  /** @default 120_000 */
  readonly timeoutMs?: number;
}

const DEFAULT_EXCLUDE = ['.git'];
const DEFAULT_TIMEOUT_MS = 120_000;
/** Type, size, mtime, ctime, inode and path, NUL-terminated: names may hold spaces and newlines. */
const FORMAT = '%y %s %T@ %C@ %i %P\\0';
const KINDS: Readonly<Record<string, FileKind>> = { f: 'file', l: 'symlink', p: 'fifo', s: 'socket', b: 'block', c: 'char' };

// Exit codes of the script's own checks; any other non-zero exit comes from find and is
// tolerated (a directory the user cannot read: its entries are simply not listed).
const NOT_A_DIRECTORY = 66;
const UNREADABLE = 77;
const NO_GNU_FIND = 69;
const SCRIPT = [
  `[ -d "$1" ] || exit ${NOT_A_DIRECTORY}`,
  `[ -r "$1" ] && [ -x "$1" ] || exit ${UNREADABLE}`,
  `find "$1" -maxdepth 0 -printf '' 2>/dev/null || exit ${NO_GNU_FIND}`,
  'find -H "$@" 2>/dev/null',
  'exit 0',
].join('\n');

/**
 * Lists every file under `root` in the sandbox. Directories are not entries: a new directory
 * shows through the files it holds, and an empty one is not reported. `find` runs with
 * `-xdev` (mounts below the root are not walked) and without following links below the root
 * (a symlink is an entry of its own; the root itself may be a link to a directory). Its
 * output is parsed as it streams, so the tree's size is not bounded by exec's output cap.
 *
 * Directories the user cannot read are skipped without an error, so their files are missing
 * from the snapshot (and appear as created if a later snapshot can read them). Names that are
 * not UTF-8 are decoded with U+FFFD replacements.
 *
 * @throws SandboxError `CB_BAD_SPEC` for a relative root or one the user cannot read;
 *   `CB_PATH_NOT_FOUND` when the root is not a directory; `CB_SANDBOX_FAILED` when the image
 *   has no GNU find or the listing times out.
 *
 * @example
 * const before = await snapshotFiles(sandbox, '/work');
 * await agent.continue(turn);
 * const { created, modified, deleted } = diffManifests(before, await snapshotFiles(sandbox, '/work'));
 */
export async function snapshotFiles(sandbox: Sandbox, root: string, options: SnapshotOptions = {}): Promise<FileManifest> {
  if (!root.startsWith('/')) throw new SandboxError('CB_BAD_SPEC', `snapshotFiles: the root must be an absolute path (got "${root}")`);
  const dir = posix.normalize(root).replace(/(.)\/$/, '$1');
  const prune = (options.exclude ?? DEFAULT_EXCLUDE).flatMap((p, i) => [...(i ? ['-o'] : []), '-name', p]);
  const findArgs = [dir, '-xdev', ...(prune.length ? ['(', ...prune, ')', '-prune', '-o'] : []), '-printf', FORMAT];

  const entries = new Map<string, FileEntry>();
  let pending = '';
  const result = await sandbox.exec(['/bin/sh', '-c', SCRIPT, 'sh', ...findArgs], {
    ...(options.user === undefined ? {} : { user: options.user }),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // Records are taken from the stream; what exec keeps is only for error messages.
    maxOutputBytes: 64 * 1024,
    onOutput: (chunk, stream) => {
      if (stream !== 'stdout') return;
      const records = (pending + chunk).split('\0');
      pending = records.pop()!;
      for (const record of records) addRecord(entries, record);
    },
  });

  const where = `${dir} in sandbox ${sandbox.spec.sampleId}${options.user === undefined ? '' : ` (as ${options.user})`}`;
  if (result.timedOut) throw new SandboxError('CB_SANDBOX_FAILED', `Listing ${where} took over ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms; it was stopped.`);
  switch (result.exitCode) {
    case 0:
      break;
    case NOT_A_DIRECTORY:
      throw new SandboxError('CB_PATH_NOT_FOUND', `Cannot snapshot ${where}: no such directory.`);
    case UNREADABLE:
      throw new SandboxError('CB_BAD_SPEC', `Cannot snapshot ${where}: the user cannot read that directory.`);
    case NO_GNU_FIND:
      throw new SandboxError('CB_SANDBOX_FAILED', `Cannot snapshot ${where}: the image has no GNU find (findutils) with -printf.`, { kind: 'task' });
    default:
      throw new SandboxError('CB_SANDBOX_FAILED', `Cannot snapshot ${where}: exit ${result.exitCode}: ${result.stderr.trim() || '(no output)'}`);
  }
  if (pending !== '') throw new SandboxError('CB_SANDBOX_FAILED', `Cannot snapshot ${where}: the listing ended mid-record.`);
  return { root: dir, entries };
}

function addRecord(entries: Map<string, FileEntry>, record: string): void {
  // Five space-free fields, then the path, which may hold anything but NUL.
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const space = record.indexOf(' ', at);
    fields.push(record.slice(at, space));
    at = space + 1;
  }
  const [type, size, mtime, ctime, inode] = fields as [string, string, string, string, string];
  const path = record.slice(at);
  if (type === 'd' || path === '') return;
  entries.set(path, { kind: KINDS[type] ?? 'other', size: Number(size), mtime, ctime, inode });
}

/**
 * What changed between two snapshots of the same root, as sorted paths relative to it:
 * created = only in `after`; deleted = only in `before`; modified = in both with another
 * kind, size, mtime, ctime or inode. So `mv a b` is `a` deleted and `b` created; a chmod, a
 * backdated `touch -d` or `cp -p` over a file are modifications (ctime); reading is not.
 * A path that was a directory and is now a file is created (and the reverse, deleted).
 */
export function diffManifests(before: FileManifest, after: FileManifest): FileChanges {
  if (before.root !== after.root) throw new TypeError(`diffManifests: snapshots of different roots (${before.root} and ${after.root})`);
  const created: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  for (const [path, now] of after.entries) {
    const was = before.entries.get(path);
    if (!was) created.push(path);
    else if (was.kind !== now.kind || was.size !== now.size || was.mtime !== now.mtime || was.ctime !== now.ctime || was.inode !== now.inode) modified.push(path);
  }
  for (const path of before.entries.keys()) if (!after.entries.has(path)) deleted.push(path);
  return { created: created.sort(), modified: modified.sort(), deleted: deleted.sort() };
}
