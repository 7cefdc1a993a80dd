// Workspace snapshots made inside the sandbox: one process lists the workdir with find (type,
// mode, size, mtime, ctime, inode, link target of every entry) and streams, after the list, a
// tar of only the regular files whose inode changed since the previous snapshot (find's
// `-newerct`). The host builds the snapshot directory from the previous
// one (hard links for entries the listing shows unchanged) plus the files in that tar, so what
// compareSnapshots and saveState read is the same as after a whole-workdir archive download,
// at the cost of one exec instead of an archive GET of everything (which this engine serves
// through a re-exec of dockerd per call). A file the listing shows changed but the tar lacks
// (a directory moved into place keeps its files' ctimes) is fetched by a second, targeted tar.
//
// Needs GNU find (-printf, -newerct), tar and date in the image, and `spawn` on the sandbox;
// without them (a busybox image) the caller falls back to the archive download.
import { chmod, copyFile, link, mkdir, mkdtemp, rename, rm, symlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { extractSafely } from '../../archives/index.ts';
import type { Sandbox } from '../../sandboxes/index.ts';
import { UNSAVED_NAMES } from './workspace-state.ts';
import { DEFAULT_WORKSPACE_LIMITS, scanHostDir, WorkspaceError, type Snapshot, type SnapshotEntry, type WorkspaceLimits } from './workspace.ts';

/** One entry of an in-sandbox listing. `unsaved`: a cache or an agent's state, listed but not walked. */
export interface ManifestEntry {
  readonly kind: 'file' | 'dir' | 'symlink' | 'other' | 'unsaved';
  /** Permission bits (find's %m). */
  readonly mode: number;
  readonly size: number;
  /** As find prints them (seconds, fractional); compared as text. */
  readonly mtime: string;
  readonly ctime: string;
  readonly inode: string;
  readonly target?: string;
}

/** What a listing adds to a Snapshot: the entries with their signatures, and the sandbox's clock when it began. */
export interface ListedState {
  readonly manifest: ReadonlyMap<string, ManifestEntry>;
  /** Seconds since the epoch (with nanoseconds) by the sandbox's clock, taken before the listing. */
  readonly clock: number;
}

/** Raised when the image lacks what the in-sandbox listing needs: use the archive download instead. */
export class ManifestUnavailable extends Error {
  override readonly name = 'ManifestUnavailable';
}

/**
 * Files changed since the previous listing's clock less this go into the tar: the kernel stamps
 * ctimes from a clock that lags `date` by up to a tick. A file the filter still misses is found by
 * comparing the listings and fetched by the second tar, so this only saves that round trip.
 */
const CLOCK_SLACK_SEC = 0.05;

const NOT_A_DIRECTORY = 66;
const NO_TOOLS = 69;

const prune = (): string => [...UNSAVED_NAMES].map((n) => `-name '${n}'`).join(' -o ');

/**
 * `$1` the root, `$2` the earliest ctime (epoch seconds) whose files go into the tar, or empty
 * for every file. Prints `NOW <secs>\0`, then per entry `<type> <mode> <size> <mtime> <ctime>
 * <inode> <path>\0<link target>\0`, then `END\0`, then the tar. Caches and agents' state
 * (UNSAVED_NAMES) are listed as type `u` and not walked.
 */
export const LISTING_SCRIPT = [
  `[ -d "$1" ] || exit ${NOT_A_DIRECTORY}`,
  `for t in find tar date; do command -v "$t" >/dev/null 2>&1 || exit ${NO_TOOLS}; done`,
  `find "$1" -maxdepth 0 -newerct @0 -printf '' 2>/dev/null || exit ${NO_TOOLS}`,
  `printf 'NOW %s\\0' "$(date +%s.%N)"`,
  `find "$1" -xdev -mindepth 1 \\( ${prune()} \\) -prune -printf 'u 0 0 0 0 0 %P\\0\\0' -o -printf '%y %m %s %T@ %C@ %i %P\\0%l\\0' 2>/dev/null`,
  `printf 'END\\0'`,
  `cd "$1" || exit ${NOT_A_DIRECTORY}`,
  `if [ -n "$2" ]; then set -- -newerct "@$2"; else set --; fi`,
  `find . -xdev \\( ${prune()} \\) -prune -o -type f "$@" -print0 2>/dev/null | tar -cf - --null --no-recursion -T - 2>/dev/null`,
  'exit 0',
].join('\n');

/** `$1` the root; stdin the NUL-separated paths (relative) whose files are wanted. */
const FETCH_SCRIPT = `cd "$1" || exit ${NOT_A_DIRECTORY}\ntar -cf - --null --no-recursion -T - 2>/dev/null\nexit 0`;

type Spawner = Pick<Sandbox, 'spawn'>;

const KINDS: Readonly<Record<string, ManifestEntry['kind']>> = { f: 'file', d: 'dir', l: 'symlink', u: 'unsaved' };

/** Run `script` as root with `stdin`, parse its listing (when `listing`), and extract its tar into `dest`. */
async function runTar(sandbox: Spawner, args: readonly string[], script: string, dest: string, options: { listing: boolean; stdin?: Buffer }): Promise<{ clock?: number; entries?: Map<string, ManifestEntry> }> {
  if (!sandbox.spawn) throw new ManifestUnavailable('the sandbox cannot stream a process (no spawn)');
  const proc = await sandbox.spawn(['/bin/sh', '-c', script, 'sh', ...args], { user: '0' });
  proc.stdin.on('error', () => undefined);
  proc.stdin.end(options.stdin ?? Buffer.alloc(0));
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  const tar = new PassThrough();
  tar.on('error', () => undefined); // torn down by a failed extraction, which reports the cause
  let clock: number | undefined;
  const entries = new Map<string, ManifestEntry>();
  let inHeader = options.listing;
  let ended = !options.listing;
  let pending: Buffer = Buffer.alloc(0);
  let fields: string | undefined; // an entry's first record, waiting for its link target
  let bad: string | undefined;
  // GNU tar writes an archive of no files as zero blocks, which node-tar calls no archive at all.
  let tarBytes = false;
  const toTar = (chunk: Buffer): void => {
    if (!tarBytes && chunk.some((b) => b !== 0)) tarBytes = true;
    tar.write(chunk);
  };
  const onData = (chunk: Buffer): void => {
    if (!inHeader) return toTar(chunk);
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const nul = pending.indexOf(0, at);
      if (nul < 0) break;
      const record = pending.subarray(at, nul).toString('utf8');
      at = nul + 1;
      if (clock === undefined) {
        clock = Number(record.startsWith('NOW ') ? record.slice(4) : NaN);
        if (!Number.isFinite(clock)) bad = `the listing began with "${record.slice(0, 40)}"`;
      } else if (fields === undefined) {
        if (record === 'END') {
          inHeader = false;
          ended = true;
          toTar(pending.subarray(at));
          pending = Buffer.alloc(0);
          return;
        }
        fields = record;
      } else {
        addEntry(entries, fields, record);
        fields = undefined;
      }
    }
    pending = pending.subarray(at);
  };
  proc.stdout.on('data', onData);
  proc.stdout.on('end', () => tar.end());
  const extraction = extractSafely(tar as Readable, dest, {
    fileMode: (mode) => (mode ?? 0o644) | 0o600,
    refuse: (raw, reason) => new WorkspaceError(`refused entry "${raw}" of the workdir's listing: ${reason}`),
    notTar: (detail) => new WorkspaceError(`the workdir's listing did not end in a tar archive: ${detail}`),
  }).then(
    () => undefined,
    (err: unknown) => err,
  );
  const exit = await proc.exited;
  const failed = await extraction;
  if (exit.exitCode === NOT_A_DIRECTORY) throw Object.assign(new WorkspaceError('the workdir does not exist'), { code: 'CB_PATH_NOT_FOUND' });
  if (exit.exitCode === NO_TOOLS) throw new ManifestUnavailable('the image has no GNU find (-printf, -newerct), tar or date');
  if (exit.exitCode !== 0) throw new WorkspaceError(`listing the workdir exited ${exit.exitCode}: ${stderr.trim() || '(no output)'}`);
  if (bad) throw new WorkspaceError(bad);
  if (!ended) throw new WorkspaceError('the workdir listing ended early');
  if (failed && tarBytes) throw failed;
  return options.listing ? { clock, entries } : {};
}

function addEntry(entries: Map<string, ManifestEntry>, record: string, target: string): void {
  // Six space-free fields, then the path, which may hold anything but NUL.
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < 6; i++) {
    const space = record.indexOf(' ', at);
    if (space < 0) return;
    parts.push(record.slice(at, space));
    at = space + 1;
  }
  const path = record.slice(at);
  if (!path) return;
  const [type, mode, size, mtime, ctime, inode] = parts as [string, string, string, string, string, string];
  const kind = KINDS[type] ?? 'other';
  entries.set(path, { kind, mode: parseInt(mode, 8), size: Number(size), mtime, ctime, inode, ...(kind === 'symlink' ? { target } : {}) });
}

function unchanged(a: ManifestEntry | undefined, b: ManifestEntry): boolean {
  return !!a && a.kind === b.kind && a.mode === b.mode && a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.inode === b.inode;
}

/** find's `%T@` (seconds with a fraction) as a Date. */
function timeOf(t: string): Date {
  const seconds = Number(t);
  return new Date(Number.isFinite(seconds) ? seconds * 1000 : 0);
}

export interface ManifestSnapshotOptions {
  readonly limits?: WorkspaceLimits;
  readonly tempDir?: string;
}

/**
 * Snapshot `root` with one in-sandbox listing: only files changed since `previous` (when it
 * has a listing) cross the engine boundary; the others are hard-linked from its directory.
 *
 * @throws ManifestUnavailable when the image or the sandbox cannot list (fall back to the archive download)
 */
export async function snapshotByManifest(
  sandbox: Spawner,
  root: string,
  previous: (Snapshot & Partial<ListedState>) | undefined,
  options: ManifestSnapshotOptions = {},
): Promise<Snapshot & ListedState & { readonly copied: number }> {
  const limits = options.limits ?? DEFAULT_WORKSPACE_LIMITS;
  const fresh = (): Promise<string> => mkdtemp(join(options.tempDir ?? tmpdir(), 'cagebench-workspace-'));
  const prior = previous?.manifest && previous.clock !== undefined && previous.dir ? { manifest: previous.manifest, clock: previous.clock, dir: previous.dir } : undefined;
  const staging = await fresh();
  let dir: string | undefined;
  try {
    let listed: { clock?: number; entries?: Map<string, ManifestEntry> };
    try {
      listed = await runTar(sandbox, [root, prior ? (prior.clock - CLOCK_SLACK_SEC).toFixed(3) : ''], LISTING_SCRIPT, staging, { listing: true });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'CB_PATH_NOT_FOUND') return { dir: undefined, entries: new Map(), skipped: [], bytes: 0, manifest: new Map(), clock: 0, copied: 0 };
      throw err;
    }
    const manifest = listed.entries!;
    dir = await fresh();
    const reused = new Map<string, SnapshotEntry>();
    const missing: string[] = [];
    const fromStaging: string[] = [];
    for (const [path, e] of manifest) {
      const at = join(dir, ...path.split('/'));
      if (e.kind === 'dir' || e.kind === 'unsaved') await mkdir(at, { recursive: true });
      else if (e.kind === 'symlink') await symlink(e.target ?? '', at);
      else if (e.kind === 'file') {
        const staged = join(staging, ...path.split('/'));
        if (await rename(staged, at).then(() => true, () => false)) fromStaging.push(path);
        else if (prior && unchanged(prior.manifest.get(path), e)) {
          const before = join(prior.dir, ...path.split('/'));
          const linked = await link(before, at).then(() => true, () => copyFile(before, at).then(() => true, () => false));
          if (!linked) missing.push(path);
          else {
            const known = previous?.entries.get(path);
            if (known) reused.set(path, known);
          }
        } else missing.push(path);
      }
      // fifos, sockets, devices: no content, as in the archive download
    }
    if (missing.length) {
      const second = await fresh();
      try {
        await runTar(sandbox, [root], FETCH_SCRIPT, second, { listing: false, stdin: Buffer.from(missing.map((p) => `./${p}\0`).join('')) });
        for (const path of missing) {
          const ok = await rename(join(second, ...path.split('/')), join(dir, ...path.split('/'))).then(() => true, () => false);
          if (!ok) throw new WorkspaceError(`${path} is in the workdir's listing but could not be copied out`);
          fromStaging.push(path);
        }
      } finally {
        await rm(second, { recursive: true, force: true });
      }
    }
    // Modes and times as listed: files copied out now, then directories, deepest first.
    for (const path of fromStaging) {
      const e = manifest.get(path)!;
      const at = join(dir, ...path.split('/'));
      await chmod(at, e.mode);
      await utimes(at, timeOf(e.mtime), timeOf(e.mtime));
    }
    for (const [path, e] of [...manifest].filter(([, e]) => e.kind === 'dir').reverse()) {
      const at = join(dir, ...path.split('/'));
      await chmod(at, e.mode);
      await utimes(at, timeOf(e.mtime), timeOf(e.mtime));
    }
    const scanned = await scanHostDir(dir, limits, [], reused);
    return { ...scanned, manifest, clock: listed.clock!, copied: fromStaging.length };
  } catch (err) {
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}
