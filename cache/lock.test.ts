// The cross-process lock: exclusion between processes, takeover of a stale lock (one taker
// at a time), a held lock kept fresh, giving up after waitMs, and a lock lost while held.
// Stale times are shrunk to milliseconds through the internal timing options.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { CacheError } from './errors.ts';
import { withLock } from './lock.ts';
import { tempDir } from './test-support/temp.ts';

const child = fileURLToPath(new URL('./test-support/lock-child.ts', import.meta.url));

function startChild(args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
  const printed = (word: string) =>
    Promise.race([
      new Promise<void>((resolve) => proc.stdout.on('data', () => stdout.includes(word) && resolve())),
      exited.then((r) => Promise.reject(new Error(`lock-child exited (${r.code}) before ${word}: ${r.stderr}`))),
    ]);
  return { proc, exited, printed };
}

/** Backdates the lock directory, as if its holder had stopped touching it `ageMs` ago. */
async function age(lockDir: string, ageMs: number): Promise<void> {
  const then = new Date(Date.now() - ageMs);
  await utimes(lockDir, then, then);
}

describe('withLock', () => {
  it('lets one process at a time in, across two processes', { timeout: 60_000 }, async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    const log = join(dir, 'log');
    const children = [startChild([path, 'turns', log]), startChild([path, 'turns', log])];
    await Promise.all(children.map((c) => c.printed('READY')));
    for (const c of children) c.proc.stdin.end('go\n');
    const results = await Promise.all(children.map((c) => c.exited));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });

    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(40);
    // Every enter is followed by the exit of the same process: no two holders at once.
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^enter \d+$/);
      expect(lines[i + 1]).toBe(lines[i]!.replace('enter', 'exit'));
    }
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(2);
    // They did contend (both started on the same signal), and onWait told them.
    const waits = results.map((r) => Number(/WAITED (\d+)/.exec(r.stdout)![1]));
    expect(waits[0]! + waits[1]!).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['log']);
  });

  it('takes over the lock of a killed process once it goes stale, after waiting', { timeout: 30_000 }, async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    const holder = startChild([path, 'hold']);
    await holder.printed('HELD');
    const childOwner = await readFile(join(`${path}.lock`, 'owner'), 'utf8');
    let waits = 0;
    const taken = withLock(path, async () => readFile(join(`${path}.lock`, 'owner'), 'utf8'), { staleMs: 300, onWait: () => waits++ });
    await sleep(100);
    holder.proc.kill('SIGKILL');
    await holder.exited;
    const ownerInside = await taken;
    expect(ownerInside).not.toBe(childOwner);
    expect(ownerInside).toContain(`/${process.pid}/`);
    expect(waits).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a stale lock at once, with or without an owner file', async () => {
    const dir = await tempDir('lock');
    for (const [name, owner] of [
      ['with-owner', 'somehost/1/dead'],
      ['empty', undefined], // a holder that died between mkdir and writing its id
    ] as const) {
      const lockDir = join(dir, `${name}.lock`);
      await mkdir(lockDir);
      if (owner) await writeFile(join(lockDir, 'owner'), owner);
      await age(lockDir, 2_000);
      let waited = false;
      const inside = await withLock(join(dir, name), async () => readFile(join(lockDir, 'owner'), 'utf8'), { staleMs: 1_000, onWait: () => (waited = true) });
      expect(inside).toContain(`/${process.pid}/`);
      expect(waited).toBe(false);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('lets only one of many waiters that all find the same stale lock take it over at a time', async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    await mkdir(`${path}.lock`);
    await writeFile(join(`${path}.lock`, 'owner'), 'somehost/1/dead');
    await age(`${path}.lock`, 5_000);
    let inside = 0;
    let most = 0;
    const holders: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(
          path,
          async () => {
            most = Math.max(most, ++inside);
            holders.push(await readFile(join(`${path}.lock`, 'owner'), 'utf8'));
            await sleep(20);
            inside--;
          },
          { staleMs: 1_000 },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(new Set(holders).size).toBe(8);
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a held lock fresh, so a waiter with the same stale time never takes it over', async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    const warnings: string[] = [];
    const staleMs = 600;
    let rival: Promise<unknown> | undefined;
    await withLock(
      path,
      async () => {
        rival = withLock(path, async () => 'taken', { staleMs, waitMs: 1_500 });
        rival.catch(() => undefined);
        for (let i = 0; i < 6; i++) {
          await sleep(300);
          const { mtimeMs } = await stat(`${path}.lock`);
          expect(Date.now() - mtimeMs).toBeLessThan(staleMs);
        }
      },
      { staleMs, log: (w) => warnings.push(w) },
    );
    await expect(rival).rejects.toThrow(/^Gave up waiting for the cache lock/);
    expect(warnings).toEqual([]);
  });

  it('gives up after waitMs, saying whose lock to remove, having called onWait once', async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    let waits = 0;
    const err = await withLock(path, () => withLock(path, async () => 'taken', { waitMs: 400, onWait: () => waits++ }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(CacheError);
    expect(err).toMatchObject({
      code: 'CB_CACHE_IO',
      kind: 'infra',
      message: `Gave up waiting for the cache lock ${path}.lock, held by another process; remove it if no cagebench is running.`,
    });
    expect(waits).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('warns and carries on when the lock is lost while held, and leaves the new holder its lock', async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    const lockDir = `${path}.lock`;
    const warnings: string[] = [];
    const result = await withLock(
      path,
      async () => {
        await rm(lockDir, { recursive: true });
        await mkdir(lockDir);
        await writeFile(join(lockDir, 'owner'), 'otherhost/2/rival');
        await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 5_000 });
        return 'finished';
      },
      { refreshMs: 20, log: (w) => warnings.push(w) },
    );
    expect(result).toBe('finished');
    expect(warnings).toEqual([`The cache lock ${lockDir} was lost while held (another process took it over: otherhost/2/rival); carrying on.`]);
    expect(await readFile(join(lockDir, 'owner'), 'utf8')).toBe('otherhost/2/rival');
  });

  it('releases the lock when fn throws, and wraps a lock that cannot be made', async () => {
    const dir = await tempDir('lock');
    const path = join(dir, 'shared');
    await expect(withLock(path, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await readdir(dir)).toEqual([]);
    await writeFile(join(dir, 'file'), '');
    await expect(withLock(join(dir, 'file', 'inner'), async () => 'taken')).rejects.toMatchObject({ code: 'CB_CACHE_IO' });
  });
});
