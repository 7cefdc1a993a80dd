// Writing the run directory. A JSON record (or an attempt's diff) is written whole or not at
// all (temp file, fsync, rename in the same directory, fsync of the directory), so a crash
// or a power cut leaves the old file or the new one, never half of one; events are appended
// with a synchronous write each, so a killed process keeps every event up to the kill.
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EventRecord } from './schema.ts';

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Write a whole file or nothing: a temp file beside it, then a rename. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const file = await open(temp, 'w');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** Make a rename durable. Some filesystems refuse to fsync a directory: the rename stands anyway. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** An append-only events.jsonl. */
export class EventLog {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  append(type: string, fields: Record<string, unknown> = {}): void {
    if (this.fd === undefined) return;
    const record: EventRecord = { t: new Date().toISOString(), type, ...fields };
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Keep a sample's directory as history before it runs again (`resume` re-running an infra
 * error, or a result.json it could not read): moved whole to `history/<sample>/<n>`.
 * Returns that path, relative to the run directory.
 */
export async function moveToHistory(runDir: string, sampleId: string): Promise<string> {
  await mkdir(join(runDir, 'history', sampleId), { recursive: true });
  const relative = join('history', sampleId, String((await historyOf(runDir, sampleId)).length + 1));
  await rename(samplePaths(runDir, sampleId).dir, join(runDir, relative));
  return relative;
}

/** The earlier tries of a sample kept by moveToHistory, oldest first, relative to the run directory. */
export async function historyOf(runDir: string, sampleId: string): Promise<string[]> {
  const entries = await readdir(join(runDir, 'history', sampleId)).catch(() => [] as string[]);
  return entries
    .map(Number)
    .filter(Number.isInteger)
    .sort((x, y) => x - y)
    .map((n) => join('history', sampleId, String(n)));
}

export function samplePaths(runDir: string, sampleId: string) {
  const dir = join(runDir, 'samples', sampleId);
  return {
    dir,
    result: join(dir, 'result.json'),
    events: join(dir, 'events.jsonl'),
    agent: join(dir, 'agent'),
    verifier: join(dir, 'verifier'),
    artifacts: join(dir, 'artifacts'),
  };
}
