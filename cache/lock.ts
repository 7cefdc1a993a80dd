// Cross-process locks over the shared cache directory, on node:fs alone. A lock is the
// directory `<path>.lock`: mkdir is atomic, so one process creates it, then writes its
// owner id inside. The holder touches the directory's mtime while it runs, so a long
// download keeps its lock and a lock whose holder died goes stale and is taken over.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheError } from './errors.ts';

export interface LockOptions {
  /** How long to wait for another holder before giving up. @default 1_800_000 (30 min: a slow 175 MB download) */
  readonly waitMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  readonly onWait?: () => void;
  /** Told when the lock was lost while held (its holder stalled past the stale time). */
  readonly log?: (warning: string) => void;
}

/** Timings fixed in production; tests shrink them so that staleness shows in milliseconds. @internal */
export interface LockTimings {
  /** A lock untouched for this long is taken to be left by a dead process. @default 30_000 */
  readonly staleMs?: number;
  /** How often the holder touches its lock. @default staleMs / 3 */
  readonly refreshMs?: number;
}

const STALE_MS = 30_000;
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 1_000;
const OWNER_FILE = 'owner';

/** Runs `fn` while holding the lock named by `path` (the file itself need not exist). */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions & LockTimings = {}): Promise<T> {
  const lockDir = `${path}.lock`;
  const staleMs = options.staleMs ?? STALE_MS;
  const id = `${hostname()}/${process.pid}/${randomUUID()}`;
  const attempt = async (): Promise<boolean> => {
    try {
      await mkdir(dirname(path), { recursive: true });
      return await tryLock(lockDir, id, staleMs);
    } catch (err) {
      throw new CacheError('CB_CACHE_IO', `Could not take the cache lock ${lockDir}: ${(err as Error).message}`, { cause: err });
    }
  };
  const deadline = Date.now() + (options.waitMs ?? 1_800_000);
  let pollMs = POLL_MIN_MS;
  let waited = false;
  while (!(await attempt())) {
    if (Date.now() >= deadline) {
      throw new CacheError('CB_CACHE_IO', `Gave up waiting for the cache lock ${lockDir}, held by another process; remove it if no cagebench is running.`);
    }
    if (!waited) options.onWait?.();
    waited = true;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
    pollMs = Math.min(POLL_MAX_MS, pollMs * 2);
  }
  // Losing the lock is not fatal: every write ends in an atomic rename that tolerates a rival.
  const fresh = keepFresh(lockDir, id, options.refreshMs ?? staleMs / 3, (why) =>
    options.log?.(`The cache lock ${lockDir} was lost while held (${why}); carrying on.`),
  );
  try {
    return await fn();
  } finally {
    await fresh.stop();
    await release(lockDir, id).catch(() => undefined); // the next taker clears what is left
  }
}

/** One attempt: true when the lock is now ours, false while another holder keeps it fresh. */
async function tryLock(lockDir: string, id: string, staleMs: number): Promise<boolean> {
  // Twice at most: a stale lock cleared (or a lock released) is retried at once.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(lockDir);
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      if (!(await clearIfStale(lockDir, staleMs))) return false;
      continue;
    }
    try {
      await writeFile(join(lockDir, OWNER_FILE), id);
    } catch (err) {
      await rm(lockDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    return true;
  }
  return false;
}

/**
 * Whether `lockDir` is gone now: it vanished, or it was stale and we removed it.
 * Takeovers go one at a time through a second lock, `<lockDir>.takeover`: two waiters that
 * both saw the lock stale would otherwise both remove "it", the later one removing the
 * fresh lock the earlier one had just taken. The stale check is repeated under that lock.
 */
async function clearIfStale(lockDir: string, staleMs: number): Promise<boolean> {
  const seen = await statIfAny(lockDir);
  if (!seen) return true;
  if (!isStale(seen.mtimeMs, staleMs)) return false;
  const guard = `${lockDir}.takeover`;
  try {
    await mkdir(guard);
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    // Another waiter is taking over. One that died doing so left its guard: clear that once stale.
    const left = await statIfAny(guard);
    if (left && isStale(left.mtimeMs, staleMs)) await removeIf(guard, async (moved) => (await statIfAny(moved))?.ino === left.ino);
    return false;
  }
  try {
    const now = await statIfAny(lockDir);
    if (!now) return true;
    if (!isStale(now.mtimeMs, staleMs)) return false;
    const owner = await readOwner(lockDir);
    // The same directory with the same owner: a lock taken meanwhile is put back, not deleted.
    return await removeIf(lockDir, async (moved) => (await statIfAny(moved))?.ino === now.ino && (await readOwner(moved)) === owner);
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}

/** Removes our lock, unless it was lost while held (then it is someone else's, or gone). */
async function release(lockDir: string, id: string): Promise<void> {
  if ((await readOwner(lockDir)) !== id) return;
  await removeIf(lockDir, async (moved) => (await readOwner(moved)) === id);
}

/**
 * Removes `dir` if `isMeant` says what was there is the directory meant. `dir` is first
 * renamed to a name no one else uses and checked there, so a directory that replaced it
 * between a caller's look and this removal is put back instead. True when `dir` is gone.
 */
async function removeIf(dir: string, isMeant: (moved: string) => Promise<boolean>): Promise<boolean> {
  const aside = `${dir}.${randomUUID()}.removing`;
  try {
    await rename(dir, aside);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return true;
    throw err;
  }
  if (await isMeant(aside)) {
    await rm(aside, { recursive: true, force: true });
    return true;
  }
  // Someone else's: back it goes. If yet another lock took the name meanwhile, the holder of
  // this one sees it gone at its next refresh and carries on with a warning.
  await rename(aside, dir).catch(() => rm(aside, { recursive: true, force: true }));
  return false;
}

/** Touches the lock every `refreshMs` while held; tells `onLost` once if it is no longer ours. */
function keepFresh(lockDir: string, id: string, refreshMs: number, onLost: (why: string) => void): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = (): void => {
    timer = setTimeout(() => (refreshing = refresh()), refreshMs);
    timer.unref();
  };
  const refresh = async (): Promise<void> => {
    let owner: string | undefined;
    try {
      owner = await readOwner(lockDir);
      if (owner === id) {
        const now = new Date();
        await utimes(lockDir, now, now);
      }
    } catch {
      // A passing failure (EIO, EMFILE, removed between the read and the touch): the next
      // tick looks again, and a lock gone or taken over meanwhile shows there.
      if (!stopped) schedule();
      return;
    }
    if (stopped) return;
    if (owner === id) return schedule();
    onLost(owner === undefined ? 'it was removed' : `another process took it over: ${owner}`);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await refreshing;
    },
  };
}

async function readOwner(lockDir: string): Promise<string | undefined> {
  try {
    return await readFile(join(lockDir, OWNER_FILE), 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function statIfAny(path: string): Promise<{ ino: bigint; mtimeMs: number } | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return { ino: s.ino, mtimeMs: Number(s.mtimeMs) };
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

const isStale = (mtimeMs: number, staleMs: number): boolean => Date.now() - mtimeMs > staleMs;

const errorCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;
