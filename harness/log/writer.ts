// Writing the run directory. A JSON record (or an attempt's diff) is written whole or not at
// all (temp file and rename in the same directory); events are appended with a synchronous
// write each, so a killed process keeps every event up to the kill.
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
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
