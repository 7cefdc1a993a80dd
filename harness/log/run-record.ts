// The head every run.json starts with (a run, a centaur, a rescore, a merge), written once.
import { HARNESS_VERSION } from '../version.ts';
import { LOG_VERSION, type RunRecord, type TaskRef } from './schema.ts';

/** Format version, run id, creation time and the harness that wrote it. */
export function runRecordHead(runId: string): Pick<RunRecord, 'version' | 'runId' | 'createdAt' | 'harness'> {
  return { version: LOG_VERSION, runId, createdAt: new Date().toISOString(), harness: { name: 'cagebench', version: HARNESS_VERSION, node: process.version } };
}

/** How run.json names the tasks it ran. */
export function taskRefs(tasks: readonly Pick<TaskRef, 'id' | 'suite' | 'origin' | 'digest'>[]): TaskRef[] {
  return tasks.map((t) => ({ id: t.id, suite: t.suite, origin: t.origin, digest: t.digest }));
}
