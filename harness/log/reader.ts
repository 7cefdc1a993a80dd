// Reading a run directory back: run.json, summary.json and every finished sample's
// result.json. One reader for everything that looks at a finished run (compare, reports,
// rescore, CI outputs), so they agree on what "the run's results" are.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { ConfigError } from '../errors.ts';
import type { ResultRecord, RunRecord, SummaryRecord } from './schema.ts';
import { readJson, samplePaths } from './writer.ts';

export interface RunView {
  /** Absolute path of the run directory. */
  readonly dir: string;
  readonly run: RunRecord;
  /** Absent while the run is still going (or when it crashed before writing it). */
  readonly summary?: SummaryRecord;
  /** Finished samples (those with a result.json), by task id then epoch. */
  readonly results: readonly ResultRecord[];
}

export async function readRunDir(path: string): Promise<RunView> {
  const dir = resolve(path);
  const run = await readJson<RunRecord>(join(dir, 'run.json')).catch((err: Error) => {
    throw new ConfigError(`${join(dir, 'run.json')} is not valid JSON (${err.message}): is the run directory damaged?`);
  });
  if (!run) throw new ConfigError(`${dir} is not a cagebench run directory (it has no run.json): give the directory a run wrote (<out>/<run-id>)`);
  const summary = await readJson<SummaryRecord>(join(dir, 'summary.json')).catch(() => undefined);
  const ids = await readdir(join(dir, 'samples')).catch(() => [] as string[]);
  // A few at a time: a 10,000-sample run's files all in flight at once cost 150 MB of memory.
  const reads = pLimit(32);
  const found = await Promise.all(
    ids.map((id) =>
      reads(() => readJson<ResultRecord>(samplePaths(dir, id).result).catch(() => undefined)), // unreadable = not finished (resume redoes it)
    ),
  );
  const results = found.filter((r): r is ResultRecord => r !== undefined).sort((a, b) => (a.taskId === b.taskId ? a.epoch - b.epoch : a.taskId < b.taskId ? -1 : 1));
  return { dir, run, ...(summary ? { summary } : {}), results };
}
