// Which samples a run consists of, and which of them are still to do: a sample whose
// result.json can be read is done, whatever happened to the process that wrote it, unless
// it ended in an infra error and the run is asked to try those again.
import { readFile } from 'node:fs/promises';
import type { Task } from '../../tasks/index.ts';
import type { ResultRecord } from '../log/schema.ts';
import { samplePaths } from '../log/writer.ts';

export interface Sample {
  /** `<task>__e<epoch>` */
  readonly id: string;
  readonly task: Task;
  readonly epoch: number;
}

export function sampleId(taskId: string, epoch: number): string {
  return `${taskId}__e${epoch}`;
}

/** Every sample of the run, epoch-major so a partial run covers every task early. */
export function planSamples(tasks: readonly Task[], epochs: number): Sample[] {
  return planOrder(tasks, epochs);
}

/** planSamples' order for anything with an id (merge plans from run.json's task refs). */
export function planOrder<T extends { readonly id: string }>(tasks: readonly T[], epochs: number): { readonly id: string; readonly task: T; readonly epoch: number }[] {
  const samples: { id: string; task: T; epoch: number }[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (const task of tasks) samples.push({ id: sampleId(task.id, epoch), task, epoch });
  }
  return samples;
}

export type SampleState =
  | { readonly state: 'todo' }
  | { readonly state: 'done'; readonly result: ResultRecord }
  /** A result.json that is not a whole JSON record (a crash while writing it, a disk that filled). */
  | { readonly state: 'unreadable'; readonly path: string; readonly reason: string };

export async function sampleState(runDir: string, sample: Sample): Promise<SampleState> {
  const path = samplePaths(runDir, sample.id).result;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'todo' };
    return { state: 'unreadable', path, reason: (err as Error).message };
  }
  try {
    const result = JSON.parse(text) as ResultRecord;
    if (typeof result?.outcome !== 'string') return { state: 'unreadable', path, reason: 'it holds no outcome' };
    return { state: 'done', result };
  } catch (err) {
    return { state: 'unreadable', path, reason: text.trim() ? `not whole JSON (${(err as Error).message})` : 'it is empty' };
  }
}
