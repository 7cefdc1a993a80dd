// What an agent changed in the task's working directory, attempt by attempt. A snapshot copies
// the directory to the host through the sandbox's archive download (the image needs nothing)
// or, once the workdir proved large, through one in-sandbox listing (workspace-manifest.ts:
// find's signatures of every entry, and a tar of only the files changed since the previous
// snapshot, hard-linking the rest on the host; an image without GNU find or tar, or a sandbox
// that cannot stream a process, keeps the download). Either way the host holds a full copy, hashed and compared here, and each
// attempt's change is written as a git-style unified diff. Snapshots are taken after the
// task's set-up, after each attempt, and again after scoring when another attempt follows, so
// every attempt's changes are relative to the state just before it. A snapshot that fails
// never fails the sample: the attempt records `{ error }` instead.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { formatPatch, structuredPatch, type StructuredPatch } from 'diff';
import type { Sandbox } from '../../sandboxes/index.ts';
import type { AttemptRecord, WorkspaceChangesRecord } from '../log/schema.ts';
import { writeTextAtomic } from '../log/writer.ts';
import { ManifestUnavailable, snapshotByManifest, type ManifestEntry } from './workspace-manifest.ts';
import { manifestPath, saveState } from './workspace-state.ts';

/**
 * Entries never snapshotted, by name, at any depth. They are version-control internals,
 * installed dependencies, caches and agents' own state: bulky, rewritten as a side effect of
 * running anything, and not part of the patch a reader wants to see. A change inside one of
 * them is not reported. (They are still copied out of the sandbox when the whole workdir is
 * downloaded in one go; they are just not read.)
 */
export const EXCLUDED_NAMES: ReadonlySet<string> = new Set([
  // version control
  '.git',
  '.hg',
  '.svn',
  // dependencies and virtual environments
  'node_modules',
  '.venv',
  'venv',
  // caches
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.ruff_cache',
  '.tox',
  '.cache',
  '.npm',
  // agents' own state
  '.codex',
  '.claude',
  '.gemini',
  '.opencode',
]);

/**
 * From this many files (or bytes) in the previous snapshot, `auto` lists in the sandbox. Below
 * it the archive download is quicker on a local Docker engine: it is served inside dockerd,
 * while the listing pays for an exec and its processes (about 110 against 150 ms on a 3-file
 * workdir, but 12 s against 3 s for an attempt changing one file of 2,000; bench/README.md).
 */
export const LISTING_MIN_FILES = 500;
export const LISTING_MIN_BYTES = 8 * 1024 * 1024;

export interface WorkspaceLimits {
  /** Larger files are compared by size and hash and never diffed. @default 1 MiB */
  readonly maxDiffFileBytes: number;
  /** An attempt's diff stops growing here; files that do not fit are named in a closing marker. @default 256 KiB */
  readonly maxDiffBytes: number;
  /** A workdir with more files than this (outside the excluded names) is not snapshotted. @default 50_000 */
  readonly maxFiles: number;
  /** Each of created/modified/deleted keeps this many paths in result.json; the rest are counted. @default 1000 */
  readonly maxListed: number;
  /** Time the line diff of one file may take before it is given up (the event loop is shared with the bridge). @default 500 */
  readonly diffTimeoutMs: number;
}

export const DEFAULT_WORKSPACE_LIMITS: WorkspaceLimits = {
  maxDiffFileBytes: 1024 * 1024,
  maxDiffBytes: 256 * 1024,
  maxFiles: 50_000,
  maxListed: 1000,
  diffTimeoutMs: 500,
};

export interface SnapshotEntry {
  readonly kind: 'file' | 'symlink';
  readonly size: number;
  /** Git's file mode: `100644`, `100755` or `120000` (a symlink). */
  readonly mode: string;
  /** sha1 of the content; a symlink's content is its target. */
  readonly hash: string;
  readonly target?: string;
}

/** A workdir's state, held in a host directory until the next snapshot has been compared. */
export interface Snapshot {
  /** The host directory holding the files (read back for the diff), or undefined for an empty workdir. */
  readonly dir: string | undefined;
  /** Paths relative to the workdir, `/`-separated. */
  readonly entries: ReadonlyMap<string, SnapshotEntry>;
  /** Top-level entries that could not be copied out (a link out of the workdir, say): not compared. */
  readonly skipped: readonly string[];
  readonly bytes: number;
  /** Copied entry by entry (the one-piece download was refused): top-level excluded names are not in `dir`. */
  readonly piecewise?: boolean;
  /** Made by an in-sandbox listing (workspace-manifest.ts): its entries' signatures, so the next snapshot copies out only what changed. */
  readonly manifest?: ReadonlyMap<string, ManifestEntry>;
  /** The sandbox's clock (epoch seconds) when that listing began. */
  readonly clock?: number;
}

export interface WorkspaceChanges {
  readonly created: readonly string[];
  readonly modified: readonly string[];
  readonly deleted: readonly string[];
  /** Git-style unified diff of every change; empty when nothing changed. */
  readonly diff: string;
  /** The diff leaves out files that did not fit `maxDiffBytes` (named in its last line). */
  readonly truncated: boolean;
  /** Top-level entries either snapshot could not read, so not compared. */
  readonly skipped: readonly string[];
}

/** Raised when a snapshot cannot be taken; its message goes into the attempt's record. */
export class WorkspaceError extends Error {
  override readonly name = 'WorkspaceError';
}

const excluded = (name: string): boolean => EXCLUDED_NAMES.has(name);

/** Hash and list the files under a host directory, leaving out excluded names. */
export async function scanHostDir(
  dir: string,
  limits: Pick<WorkspaceLimits, 'maxFiles'> = DEFAULT_WORKSPACE_LIMITS,
  skipped: readonly string[] = [],
  /** Files known unchanged since an earlier scan (hard-linked from it), by path: not hashed again. */
  known: ReadonlyMap<string, SnapshotEntry> = new Map(),
): Promise<Snapshot> {
  const entries = new Map<string, SnapshotEntry>();
  let bytes = 0;
  const visit = async (abs: string, rel: string): Promise<void> => {
    for (const d of await readdir(abs, { withFileTypes: true })) {
      if (excluded(d.name)) continue;
      const path = rel ? `${rel}/${d.name}` : d.name;
      const full = join(abs, d.name);
      if (d.isDirectory()) {
        await visit(full, path);
        continue;
      }
      if (!d.isFile() && !d.isSymbolicLink()) continue; // fifos, sockets, devices: no content
      if (entries.size >= limits.maxFiles) {
        throw new WorkspaceError(`the workdir holds more than ${limits.maxFiles} files outside ${[...EXCLUDED_NAMES].join(', ')}; not snapshotted`);
      }
      if (d.isSymbolicLink()) {
        const target = await readlink(full);
        entries.set(path, { kind: 'symlink', size: Buffer.byteLength(target), mode: '120000', target, hash: sha1(Buffer.from(target)) });
        continue;
      }
      const st = await lstat(full);
      bytes += st.size;
      const mode = st.mode & 0o111 ? '100755' : '100644';
      const same = known.get(path);
      const hash = same && same.kind === 'file' && same.size === st.size && same.mode === mode ? same.hash : await hashFile(full, st.mode);
      entries.set(path, { kind: 'file', size: st.size, mode, hash });
    }
  };
  await visit(dir, '');
  return { dir, entries, skipped, bytes };
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

async function hashFile(path: string, mode: number): Promise<string> {
  // A file the agent made unreadable is still ours to read on the host.
  if (!(mode & 0o400)) await chmod(path, (mode & 0o7777) | 0o400);
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface SnapshotOptions {
  readonly limits?: WorkspaceLimits;
  /** Where snapshot directories are made. @default os.tmpdir() */
  readonly tempDir?: string;
}

/**
 * Copy the sandbox directory `root` to a fresh host directory and scan it. A workdir that
 * does not exist is an empty snapshot (the agent may have removed it). When the one-piece
 * download is refused (a symlink pointing out of the workdir, typically inside a virtual
 * environment), each top-level entry is downloaded on its own, excluded ones are not
 * downloaded at all, and the entries still refused are reported as skipped.
 */
export async function snapshotSandboxDir(sandbox: Pick<Sandbox, 'download' | 'exec'>, root: string, options: SnapshotOptions = {}): Promise<Snapshot> {
  const limits = options.limits ?? DEFAULT_WORKSPACE_LIMITS;
  const fresh = (): Promise<string> => mkdtemp(join(options.tempDir ?? tmpdir(), 'cagebench-workspace-'));
  let dir = await fresh();
  try {
    try {
      await sandbox.download(root, dir);
      return await scanHostDir(dir, limits);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'CB_PATH_NOT_FOUND') {
        await rm(dir, { recursive: true, force: true });
        return { dir: undefined, entries: new Map(), skipped: [], bytes: 0 };
      }
      if (code === 'CB_SANDBOX_STOPPED' || err instanceof WorkspaceError) throw err;
      await rm(dir, { recursive: true, force: true });
      dir = await fresh();
      const skipped = await downloadEach(sandbox, root, dir, err);
      return { ...(await scanHostDir(dir, limits, skipped)), piecewise: true };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** `root`'s top-level entries, each downloaded on its own; returns the ones refused. */
async function downloadEach(sandbox: Pick<Sandbox, 'download' | 'exec'>, root: string, dir: string, first: unknown): Promise<string[]> {
  // POSIX sh only: `d<TAB>name` or `f<TAB>name`, NUL-separated, hidden names included.
  const list = await sandbox.exec([
    '/bin/sh',
    '-c',
    'cd "$1" || exit 1; for f in * .[!.]* ..?*; do if [ -L "$f" ] || [ ! -d "$f" ]; then [ -e "$f" ] || [ -L "$f" ] && printf "f\\t%s\\0" "$f"; else printf "d\\t%s\\0" "$f"; fi; done; exit 0',
    'sh',
    root,
  ]);
  if (list.exitCode !== 0) {
    throw new WorkspaceError(`${root} could not be copied out (${message(first)}), nor listed (${list.stderr.trim() || `exit ${list.exitCode}`})`);
  }
  const skipped: string[] = [];
  for (const item of list.stdout.split('\0').filter(Boolean)) {
    const [type, name = ''] = [item.slice(0, 1), item.slice(2)];
    if (!name || excluded(name)) continue;
    try {
      // A directory's contents land in the target; a file or link lands under its own name.
      await sandbox.download(posix.join(root, name), type === 'd' ? join(dir, name) : dir);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'CB_SANDBOX_STOPPED') throw err;
      skipped.push(name);
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
  return skipped.sort();
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function disposeSnapshot(snapshot: Snapshot | undefined): Promise<void> {
  if (snapshot?.dir) await rm(snapshot.dir, { recursive: true, force: true }).catch(() => undefined);
}

/** What changed from `before` to `after`, with a git-style diff of it. */
export async function compareSnapshots(before: Snapshot, after: Snapshot, limits: WorkspaceLimits = DEFAULT_WORKSPACE_LIMITS): Promise<WorkspaceChanges> {
  const skipped = [...new Set([...before.skipped, ...after.skipped])].sort();
  const compared = (path: string): boolean => !skipped.some((s) => path === s || path.startsWith(`${s}/`));
  const created: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  for (const [path, b] of after.entries) {
    if (!compared(path)) continue;
    const a = before.entries.get(path);
    if (!a) created.push(path);
    else if (a.kind !== b.kind || a.hash !== b.hash || a.mode !== b.mode) modified.push(path);
  }
  for (const path of before.entries.keys()) if (compared(path) && !after.entries.has(path)) deleted.push(path);

  const parts: string[] = [];
  const notShown: string[] = [];
  let size = 0;
  for (const path of [...created, ...modified, ...deleted].sort()) {
    const patch = size < limits.maxDiffBytes ? await patchFor(path, before, after, limits) : undefined;
    const bytes = patch === undefined ? Infinity : Buffer.byteLength(patch);
    if (size + bytes > limits.maxDiffBytes) {
      notShown.push(path);
      continue;
    }
    parts.push(patch!);
    size += bytes;
  }
  if (notShown.length) {
    const named = notShown.slice(0, 50).join(', ') + (notShown.length > 50 ? `, and ${notShown.length - 50} more` : '');
    parts.push(`# cagebench: diff truncated at ${limits.maxDiffBytes} bytes; ${notShown.length} changed file(s) not shown: ${named}\n`);
  }
  return { created: created.sort(), modified: modified.sort(), deleted: deleted.sort(), diff: parts.join(''), truncated: notShown.length > 0, skipped };
}

/** One path's patch: text as unified hunks, anything else as a one-line note under the git header. */
async function patchFor(path: string, before: Snapshot, after: Snapshot, limits: WorkspaceLimits): Promise<string> {
  const a = before.entries.get(path);
  const b = after.entries.get(path);
  // A file that became a link (or the reverse) is a deletion and a creation, as git shows it.
  if (a && b && a.kind !== b.kind) return (await patchOf(path, a, undefined, before, after, limits)) + (await patchOf(path, undefined, b, before, after, limits));
  return patchOf(path, a, b, before, after, limits);
}

async function patchOf(
  path: string,
  a: SnapshotEntry | undefined,
  b: SnapshotEntry | undefined,
  before: Snapshot,
  after: Snapshot,
  limits: WorkspaceLimits,
): Promise<string> {
  const oldName = a ? `a/${path}` : '/dev/null';
  const newName = b ? `b/${path}` : '/dev/null';
  const header: StructuredPatch = {
    oldFileName: oldName,
    newFileName: newName,
    oldHeader: undefined,
    newHeader: undefined,
    hunks: [],
    isGit: true,
    isCreate: !a,
    isDelete: !b,
    // Modes are shown for a creation or a deletion, and for a modification only when they changed.
    oldMode: a && (!b || a.mode !== b.mode) ? a.mode : undefined,
    newMode: b && (!a || a.mode !== b.mode) ? b.mode : undefined,
  };
  if (a && b && a.hash === b.hash) return formatPatch(header); // mode only
  const large = [a, b].find((e) => e && e.kind === 'file' && e.size > limits.maxDiffFileBytes);
  if (large) {
    return `${formatPatch(header)}# cagebench: not diffed, over ${limits.maxDiffFileBytes} bytes (${a ? a.size : 0} -> ${b ? b.size : 0} bytes)\n`;
  }
  const [oldText, newText] = await Promise.all([textOf(before, path, a), textOf(after, path, b)]);
  if (oldText === undefined || newText === undefined) return `${formatPatch(header)}Binary files ${oldName} and ${newName} differ\n`;
  const hunks = structuredPatch(oldName, newName, oldText, newText, undefined, undefined, { context: 3, timeout: limits.diffTimeoutMs });
  if (!hunks) return `${formatPatch(header)}# cagebench: not diffed, the line diff took over ${limits.diffTimeoutMs} ms\n`;
  return formatPatch({ ...header, hunks: hunks.hunks });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The entry's content as text; '' when absent; undefined when binary (a NUL byte or not UTF-8). */
async function textOf(snapshot: Snapshot, path: string, entry: SnapshotEntry | undefined): Promise<string | undefined> {
  if (!entry) return '';
  if (entry.kind === 'symlink') return entry.target ?? '';
  const bytes = await readFile(join(snapshot.dir!, ...path.split('/')));
  if (bytes.includes(0)) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export interface WorkspaceTrackerOptions {
  /** With `spawn`, snapshots are in-sandbox listings that copy out only what changed; without it (or without GNU find and tar in the image), whole-workdir archive downloads. */
  readonly sandbox: Pick<Sandbox, 'download' | 'exec'> & Partial<Pick<Sandbox, 'spawn'>>;
  /** The workdir in the sandbox; the container's working directory when undefined. */
  readonly root: string | undefined;
  /** The sample's directory: diffs go to `artifacts/attempt-<n>.diff` under it. */
  readonly sampleDir: string;
  readonly emit: (type: string, fields: Record<string, unknown>) => void;
  readonly limits?: WorkspaceLimits;
  readonly tempDir?: string;
  /** Who the agent runs as: a restored state gives it what the attempts created. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Save each attempt's state as `artifacts/workspace-<n>.tar` (for rescore). @default true */
  readonly saveState?: boolean;
  /** @default STATE_LIMIT_BYTES (64 MiB) */
  readonly stateLimitBytes?: number;
  /**
   * How snapshots are taken. `auto`: the archive download until the workdir proves large
   * (LISTING_MIN_FILES files or LISTING_MIN_BYTES), then the in-sandbox listing; `listing`: the
   * listing from the first snapshot; `archive`: never the listing. Either listing falls back to
   * the download when the image or the sandbox cannot list. @default 'auto'
   */
  readonly method?: 'auto' | 'listing' | 'archive';
}

/**
 * The trial's view: `before(n)` snapshots the state an attempt starts from, `after(n)`
 * snapshots again and returns the attempt's record (writing its diff). Neither throws.
 * The first snapshot (right after the set-up) is kept to the end: each attempt's final state
 * is saved relative to it (`state(n)`), from the same host copies, with no download of its own.
 */
export class WorkspaceTracker {
  private previous: Snapshot | undefined;
  private previousError: string | undefined;
  /** The state after the set-up, taken by the first `before`. */
  private base: { snapshot?: Snapshot; error?: string } | undefined;
  private readonly saved = new Map<number, NonNullable<AttemptRecord['state']>>();
  private root: Promise<string> | undefined;
  private readonly limits: WorkspaceLimits;
  /** Why the in-sandbox listing cannot be used here (set once it failed for want of tools): archive downloads from then on. */
  private listingUnavailable: string | undefined;

  constructor(private readonly options: WorkspaceTrackerOptions) {
    this.limits = options.limits ?? DEFAULT_WORKSPACE_LIMITS;
  }

  /** Snapshot the state attempt `attempt` starts from. */
  async before(attempt: number): Promise<void> {
    const taken = await this.take(attempt, 'start');
    if (this.previous !== this.base?.snapshot) await disposeSnapshot(this.previous);
    this.base ??= taken;
    this.previous = taken.snapshot;
    this.previousError = taken.error;
  }

  /** Snapshot the state attempt `attempt` left, and describe the change from the state it started from. */
  async after(attempt: number): Promise<WorkspaceChangesRecord> {
    const taken = await this.take(attempt, 'end');
    const start = this.previous;
    const startError = this.previousError;
    this.previous = taken.snapshot;
    this.previousError = taken.error;
    try {
      if (this.options.saveState !== false) await this.saveState(attempt, taken);
      if (taken.error) return { error: taken.error };
      if (!start) return { error: `no snapshot of the workdir before attempt ${attempt}: ${startError ?? 'none was taken'}` };
      const started = performance.now();
      const changes = await compareSnapshots(start, taken.snapshot!, this.limits);
      const diffPath = join(this.options.sampleDir, 'artifacts', `attempt-${attempt}.diff`);
      const diffFile = changes.diff ? `artifacts/attempt-${attempt}.diff` : undefined;
      // An infra retry reuses the sample directory: a diff left by the failed try must not stay.
      if (diffFile) await writeTextAtomic(diffPath, changes.diff);
      else await rm(diffPath, { force: true });
      const record = this.record(changes, diffFile);
      this.options.emit('workspace.changes', {
        attempt,
        created: changes.created.length,
        modified: changes.modified.length,
        deleted: changes.deleted.length,
        diffBytes: Buffer.byteLength(changes.diff),
        truncated: changes.truncated,
        durationMs: Math.round(performance.now() - started),
      });
      return record;
    } catch (err) {
      this.options.emit('workspace.error', { attempt, at: 'compare', message: message(err) });
      return { error: `comparing the workdir before and after attempt ${attempt} failed: ${message(err)}` };
    } finally {
      if (start !== this.base?.snapshot) await disposeSnapshot(start);
    }
  }

  /** What `after(attempt)` saved of the workdir, for the attempt's record. */
  state(attempt: number): AttemptRecord['state'] {
    return this.saved.get(attempt);
  }

  async dispose(): Promise<void> {
    if (this.previous !== this.base?.snapshot) await disposeSnapshot(this.previous);
    await disposeSnapshot(this.base?.snapshot);
    this.previous = undefined;
    this.base = undefined;
  }

  /** Save the workdir `taken` after `attempt` relative to the set-up's, or record why not. Never throws. */
  private async saveState(attempt: number, taken: { snapshot?: Snapshot; error?: string }): Promise<void> {
    const tar = `artifacts/workspace-${attempt}.tar`;
    const tarPath = join(this.options.sampleDir, tar);
    const started = performance.now();
    let outcome: NonNullable<AttemptRecord['state']>;
    try {
      if (!this.base?.snapshot) outcome = { error: `no snapshot of the workdir after the set-up: ${this.base?.error ?? 'none was taken'}` };
      else if (!taken.snapshot) outcome = { error: taken.error ?? 'no snapshot of the workdir after the attempt' };
      else {
        const root = await this.resolveRoot();
        const result = await saveState({ base: this.base.snapshot, after: taken.snapshot, attempt, root, owner: this.options.owner, tarPath, limitBytes: this.options.stateLimitBytes });
        outcome = result.saved ? { tar, manifest: `artifacts/workspace-${attempt}.json`, bytes: result.bytes } : { error: result.reason };
        this.options.emit('workspace.state', { attempt, ...(result.saved ? { entries: result.manifest.entries.length, deleted: result.manifest.deleted.length, bytes: result.bytes } : { notSaved: result.reason }), durationMs: Math.round(performance.now() - started) });
      }
    } catch (err) {
      outcome = { error: `saving the workdir after attempt ${attempt} failed: ${message(err)}` };
      this.options.emit('workspace.error', { attempt, at: 'state', message: message(err) });
    }
    // An infra retry reuses the sample directory: a state left by the failed try must not stay.
    if ('error' in outcome) await Promise.all([rm(tarPath, { force: true }), rm(manifestPath(tarPath), { force: true })]).catch(() => undefined);
    this.saved.set(attempt, outcome);
  }

  private record(changes: WorkspaceChanges, diffFile: string | undefined): WorkspaceChangesRecord {
    const max = this.limits.maxListed;
    const omitted = [changes.created, changes.modified, changes.deleted].reduce((n, list) => n + Math.max(0, list.length - max), 0);
    return {
      created: changes.created.slice(0, max),
      modified: changes.modified.slice(0, max),
      deleted: changes.deleted.slice(0, max),
      ...(diffFile && { diffFile }),
      ...(changes.truncated && { truncated: true }),
      ...(omitted > 0 && { omitted }),
      ...(changes.skipped.length > 0 && { skipped: changes.skipped }),
    };
  }

  private async take(attempt: number, at: 'start' | 'end'): Promise<{ snapshot?: Snapshot; error?: string }> {
    const started = performance.now();
    try {
      const root = await this.resolveRoot();
      const { snapshot, method } = await this.snapshot(root);
      this.options.emit('workspace.snapshot', {
        attempt,
        at,
        root,
        method,
        files: snapshot.entries.size,
        ...('copied' in snapshot && { copied: snapshot.copied }),
        bytes: snapshot.bytes,
        ...(snapshot.skipped.length > 0 && { skipped: snapshot.skipped }),
        durationMs: Math.round(performance.now() - started),
      });
      return { snapshot };
    } catch (err) {
      const error = `snapshot of the workdir at the ${at} of attempt ${attempt} failed: ${message(err)}`;
      this.options.emit('workspace.error', { attempt, at, message: message(err), durationMs: Math.round(performance.now() - started) });
      return { error };
    }
  }

  /**
   * The in-sandbox listing when the sandbox and its image allow it, else the archive download.
   * A listing that fails for another reason falls back for this snapshot only.
   */
  private async snapshot(root: string): Promise<{ snapshot: Snapshot; method: 'manifest' | 'archive' }> {
    const { sandbox } = this.options;
    const method = this.options.method ?? 'auto';
    const prev = this.previous;
    const large = !!prev && (prev.manifest !== undefined || prev.entries.size >= LISTING_MIN_FILES || prev.bytes >= LISTING_MIN_BYTES);
    if ((method === 'listing' || (method === 'auto' && large)) && sandbox.spawn && this.listingUnavailable === undefined) {
      try {
        return { snapshot: await snapshotByManifest(sandbox, root, this.previous, { limits: this.limits, tempDir: this.options.tempDir }), method: 'manifest' };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'CB_SANDBOX_STOPPED' || (err instanceof WorkspaceError && /more than \d+ files/.test(err.message))) throw err;
        if (err instanceof ManifestUnavailable) this.listingUnavailable = err.message;
        this.options.emit('workspace.listing_fallback', { root, reason: message(err) });
      }
    }
    return { snapshot: await snapshotSandboxDir(sandbox, root, { limits: this.limits, tempDir: this.options.tempDir }), method: 'archive' };
  }

  private resolveRoot(): Promise<string> {
    this.root ??= (async () => {
      const root = this.options.root ?? (await this.options.sandbox.exec('pwd')).stdout.trim();
      if (!root.startsWith('/')) throw new WorkspaceError(`the container's working directory could not be found (pwd printed "${root}")`);
      if (posix.normalize(root) === '/') {
        throw new WorkspaceError('the task names no workdir and the container works in /; the whole filesystem is not snapshotted (set the environment\'s workdir)');
      }
      return posix.normalize(root);
    })();
    return this.root;
  }
}
