// The workdir as a scorer saw it, saved so `cagebench rescore` can score it again without the
// agent. What is saved is the change from the state right after the task's set-up (which a
// fresh sandbox of the same task reproduces) to the state after an attempt: created and
// modified entries go into `artifacts/workspace-<n>.tar` (modes and mtimes kept), and
// `artifacts/workspace-<n>.json` (a StateManifest) lists them with the deleted paths and what
// was left out. Both are made from the host copies the WorkspaceTracker downloads anyway, so
// saving costs no archive download from the sandbox. Restoring is a POSIX sh script run as
// root in the fresh sandbox: a modified file is rewritten in place (it keeps its owner), a
// created one is given to the agent's uid:gid, as if the agent had made it.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extractSafely, packEntries, type PackEntry } from '../../archives/index.ts';
import { shellQuote } from '../models/providers/mock.ts';
import { writeJsonAtomic } from '../log/writer.ts';
import type { Snapshot } from './workspace.ts';
import { EXCLUDED_NAMES } from './workspace.ts';

export const STATE_FORMAT = 1;
/** Above this many bytes of file content the state is not saved (dependency trees first, see saveState). */
export const STATE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Excluded names (EXCLUDED_NAMES) whose contents are never saved: caches a verifier rebuilds
 * and agents' own state. The others (version control, installed dependencies) are saved when
 * they changed and fit, since a verifier may well read them (`git log`, `node_modules`).
 */
export const UNSAVED_NAMES: ReadonlySet<string> = new Set(['__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.tox', '.cache', '.npm', '.codex', '.claude', '.gemini', '.opencode']);

export type StateEntryKind = 'file' | 'dir' | 'symlink';

export interface StateNotSaved {
  readonly path: string;
  /** `cache`: a cache or an agent's state (UNSAVED_NAMES); `size`: over the size limit; `unreadable`: it could not be copied out of the sandbox. */
  readonly reason: 'cache' | 'size' | 'unreadable';
  readonly bytes?: number;
}

/** `artifacts/workspace-<n>.json`: what `workspace-<n>.tar` holds and how to apply it. */
export interface StateManifest {
  readonly format: typeof STATE_FORMAT;
  readonly attempt: number;
  /** The workdir in the sandbox; every path is relative to it. */
  readonly root: string;
  /** What the state is relative to: the workdir right after the task's set-up. */
  readonly base: 'setup';
  /** The agent's uid and gid: created entries are given to them on restore. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Created or modified entries, in the tar too; parents before children. */
  readonly entries: readonly { readonly path: string; readonly kind: StateEntryKind; readonly mode: number; readonly target?: string }[];
  /** Bytes of file content in the tar. */
  readonly bytes: number;
  /** Paths gone since the set-up (a removed directory once, not each file in it). */
  readonly deleted: readonly string[];
  /** What exists after the attempt but is not in the tar, and why: a restore does not bring it back. */
  readonly notSaved: readonly StateNotSaved[];
}

interface Entry {
  readonly kind: StateEntryKind;
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly target?: string;
}

/** Every entry under `dir` but UNSAVED_NAMES (reported) and the top-level names in `unknown`. */
async function walk(dir: string | undefined, unknown: ReadonlySet<string>): Promise<{ entries: Map<string, Entry>; unsaved: string[] }> {
  const entries = new Map<string, Entry>();
  const unsaved: string[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    for (const d of await readdir(abs, { withFileTypes: true })) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (!rel && unknown.has(d.name)) continue;
      if (UNSAVED_NAMES.has(d.name)) {
        unsaved.push(path);
        continue;
      }
      const full = join(abs, d.name);
      const st = await lstat(full);
      const base = { mode: st.mode & 0o7777, size: st.size, mtimeMs: Math.floor(st.mtimeMs / 1000) * 1000 };
      if (st.isDirectory()) {
        entries.set(path, { kind: 'dir', ...base, size: 0 });
        await visit(full, path);
      } else if (st.isSymbolicLink()) entries.set(path, { kind: 'symlink', ...base, target: await readlink(full) });
      else if (st.isFile()) entries.set(path, { kind: 'file', ...base });
      // fifos, sockets, devices: no content to save
    }
  };
  if (dir) await visit(dir, '');
  return { entries, unsaved };
}

/** The top-most excluded directory a path lies in (`repo/.git`), or '' for the workdir proper. */
function groupOf(path: string): string {
  const parts = path.split('/');
  const i = parts.findIndex((p) => EXCLUDED_NAMES.has(p));
  return i < 0 ? '' : parts.slice(0, i + 1).join('/');
}

export interface SaveStateOptions {
  /** The snapshot right after the set-up, and the one the scorer is about to see. */
  readonly base: Snapshot;
  readonly after: Snapshot;
  readonly attempt: number;
  readonly root: string;
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Where the tar goes; the manifest goes beside it (`.json`). */
  readonly tarPath: string;
  readonly limitBytes?: number;
}

export type SaveStateResult = { readonly saved: true; readonly files: number; readonly bytes: number; readonly manifest: StateManifest } | { readonly saved: false; readonly reason: string };

/**
 * Save what changed from `base` to `after`. Files the snapshots hashed are compared by hash;
 * inside excluded directories (never hashed) by size, mode and mtime. When the workdir proper
 * changed by more than the limit, nothing is saved; an excluded directory that does not fit
 * in what is left is not saved and is named in the manifest.
 */
export async function saveState(options: SaveStateOptions): Promise<SaveStateResult> {
  const limit = options.limitBytes ?? STATE_LIMIT_BYTES;
  const { base, after } = options;
  // A snapshot copied entry by entry leaves out the top-level excluded names and what it could not read.
  const unknown = new Set([...base.skipped, ...after.skipped, ...(base.piecewise || after.piecewise ? EXCLUDED_NAMES : [])]);
  const [before, now] = await Promise.all([walk(base.dir, unknown), walk(after.dir, unknown)]);
  const written: [string, Entry][] = [];
  for (const [path, e] of now.entries) {
    const b = before.entries.get(path);
    if (b && b.kind === e.kind && b.mode === e.mode && sameContent(path, b, e, base, after)) continue;
    written.push([path, e]);
  }
  // A removed directory once, not each path in it.
  const deleted = [...before.entries.keys()].filter((p) => !now.entries.has(p) && (parentOf(p) === '' || now.entries.has(parentOf(p))));
  // Sizes by group: the workdir proper must fit; excluded directories are added smallest first while they fit.
  const bytesOf = new Map<string, number>();
  for (const [path, e] of written) bytesOf.set(groupOf(path), (bytesOf.get(groupOf(path)) ?? 0) + (e.kind === 'file' ? e.size : 0));
  const own = bytesOf.get('') ?? 0;
  if (own > limit) return { saved: false, reason: `the files changed since the set-up hold ${mib(own)}, over the ${mib(limit)} limit` };
  let total = own;
  const dropped = new Map<string, number>();
  for (const [group, bytes] of [...bytesOf].filter(([g]) => g !== '').sort((x, y) => x[1] - y[1])) {
    if (total + bytes <= limit) total += bytes;
    else dropped.set(group, bytes);
  }
  const kept = written.filter(([p]) => !dropped.has(groupOf(p))).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const notSaved: StateNotSaved[] = [
    ...[...dropped].map(([path, bytes]) => ({ path, reason: 'size' as const, bytes })),
    ...now.unsaved.map((path) => ({ path, reason: 'cache' as const })),
    ...[...new Set([...base.skipped, ...after.skipped])].map((path) => ({ path, reason: 'unreadable' as const })),
  ];
  const manifest: StateManifest = {
    format: STATE_FORMAT,
    attempt: options.attempt,
    root: options.root,
    base: 'setup',
    ...(options.owner ? { owner: { uid: options.owner.uid, gid: options.owner.gid } } : {}),
    entries: kept.map(([path, e]) => ({ path, kind: e.kind, mode: e.mode, ...(e.target === undefined ? {} : { target: e.target }) })),
    bytes: total,
    deleted: deleted.filter((p) => !dropped.has(groupOf(p))).sort(),
    notSaved,
  };
  await writeTar(options.tarPath, after.dir, kept);
  await writeJsonAtomic(manifestPath(options.tarPath), manifest);
  return { saved: true, files: kept.filter(([, e]) => e.kind === 'file').length, bytes: total, manifest };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function sameContent(path: string, b: Entry, e: Entry, base: Snapshot, after: Snapshot): boolean {
  if (e.kind === 'dir') return true;
  if (e.kind === 'symlink') return b.target === e.target;
  const [hb, ha] = [base.entries.get(path)?.hash, after.entries.get(path)?.hash];
  if (hb !== undefined && ha !== undefined) return hb === ha;
  return b.size === e.size && b.mtimeMs === e.mtimeMs;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `workspace-<n>.tar` → `workspace-<n>.json`. */
export function manifestPath(tarPath: string): string {
  return tarPath.replace(/\.tar$/, '.json');
}

/** Write the tar whole or not at all (a temp file, then a rename). */
async function writeTar(tarPath: string, dir: string | undefined, entries: readonly [string, Entry][]): Promise<void> {
  const temp = `${tarPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const packed = entries.map(([path, e]): PackEntry => {
    const header = { name: path, mode: e.mode, mtime: new Date(e.mtimeMs) };
    if (e.kind === 'dir') return { ...header, type: 'directory' };
    if (e.kind === 'symlink') return { ...header, type: 'symlink', linkname: e.target! };
    return { ...header, content: { path: join(dir!, ...path.split('/')), size: e.size } };
  });
  try {
    // No entries (a state of deletions only): node-tar writes nothing, so the end-of-archive blocks are written here.
    if (packed.length) await pipeline(packEntries(packed), createWriteStream(temp));
    else await writeFile(temp, Buffer.alloc(1024));
    await rename(temp, tarPath);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Names of the staging directory's parts: the tar's files, and the script that applies them. */
const STAGED_FILES = 'files';
const STAGED_SCRIPT = 'restore.sh';

/**
 * Lay out a saved state on the host for upload: `<dir>/files/` holds the tar's entries,
 * `<dir>/restore.sh` the script that applies them once the directory is at `staging` in the
 * sandbox. Run it as root: `sh <staging>/restore.sh`. It removes the staging directory.
 */
export async function stageState(tarPath: string, manifest: StateManifest, dir: string, staging: string): Promise<void> {
  await mkdir(join(dir, STAGED_FILES), { recursive: true });
  // A state of deletions only: nothing to extract.
  if (manifest.entries.length) await extractSafely(createReadStream(tarPath), join(dir, STAGED_FILES), {
    fileMode: (mode) => mode ?? 0o644,
    refuse: (raw, reason) => new Error(`${tarPath}: refused entry "${raw}": ${reason}`),
    notTar: (detail) => new Error(`${tarPath} is not a valid tar archive: ${detail}`),
  });
  await writeFile(join(dir, STAGED_SCRIPT), restoreScript(manifest, staging));
}

/** The sh script that applies `manifest` to its root from the files staged at `staging`. */
export function restoreScript(manifest: StateManifest, staging: string): string {
  const q = shellQuote;
  const owner = manifest.owner ? `${manifest.owner.uid}:${manifest.owner.gid}` : '';
  const lines = [
    'set -e',
    `W=${q(manifest.root)}`,
    `S=${q(`${staging}/${STAGED_FILES}`)}`,
    `O=${q(owner)}`,
    'own() { [ -z "$O" ] || chown -h "$O" "$1"; }',
    // A directory that is there stays (its mode is set last); anything else in its place goes.
    'd() { if [ -d "$W/$1" ] && [ ! -L "$W/$1" ]; then :; else rm -rf "$W/$1"; mkdir -p "$W/$1"; own "$W/$1"; fi; }',
    // A file that is there is rewritten in place, keeping its owner; a new one is moved in and given to the agent.
    'f() { if [ -f "$W/$1" ] && [ ! -L "$W/$1" ]; then cat "$S/$1" > "$W/$1"; touch -r "$S/$1" "$W/$1"; else rm -rf "$W/$1"; mv -f "$S/$1" "$W/$1"; own "$W/$1"; fi; chmod "$2" "$W/$1"; }',
    'l() { rm -rf "$W/$1"; ln -s "$2" "$W/$1"; own "$W/$1"; }',
    'mkdir -p "$W"',
  ];
  for (const path of manifest.deleted) lines.push(`rm -rf -- "$W"/${q(path)}`);
  for (const e of manifest.entries) {
    if (e.kind === 'dir') lines.push(`d ${q(e.path)}`);
    else if (e.kind === 'file') lines.push(`f ${q(e.path)} ${e.mode.toString(8).padStart(4, '0')}`);
    else lines.push(`l ${q(e.path)} ${q(e.target ?? '')}`);
  }
  // Directory modes last, deepest first: a read-only directory must not stop what goes into it.
  for (const e of [...manifest.entries].reverse()) if (e.kind === 'dir') lines.push(`chmod ${e.mode.toString(8).padStart(4, '0')} "$W"/${q(e.path)}`);
  lines.push(`rm -rf ${q(staging)}`);
  return `${lines.join('\n')}\n`;
}
