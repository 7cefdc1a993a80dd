// One side of a comparison: per task, the outcome and score of each epoch, and what the
// samples cost. Read from a run directory or from a saved baseline file (baseline.ts), so
// `compare` treats both the same.
import { stat } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import type { Outcome, ResultRecord } from '../log/schema.ts';
import type { RunView } from '../log/reader.ts';
import { readRunDir } from '../log/reader.ts';
import { readBaselineFile } from './baseline.ts';

export interface EpochResult {
  readonly epoch: number;
  readonly outcome: Outcome;
  /** Present for pass and fail; an error has none and is left out of every statistic. */
  readonly score?: number;
  /** For errors: infra, agent, timeout, limit, task. */
  readonly errorKind?: string;
  readonly costUsd?: number;
  /** Input + output tokens the bridge counted. */
  readonly tokens?: number;
  readonly durationMs: number;
}

export interface TaskResults {
  readonly taskId: string;
  readonly suite: string;
  /** The task's content digest: a changed task makes its pair suspect. */
  readonly digest?: string;
  readonly epochs: readonly EpochResult[];
}

export interface Arm {
  /** What the user named: a run directory or a baseline file. */
  readonly path: string;
  readonly kind: 'run' | 'baseline';
  readonly runId: string;
  readonly agent: string;
  readonly model?: string;
  readonly createdAt: string;
  /** Epochs the run planned per task (K). */
  readonly epochs: number;
  readonly tasks: readonly TaskResults[];
  /** Samples planned but without a result (an interrupted run). */
  readonly pending: number;
}

/** A run directory or a baseline file, whichever `path` is. */
export async function loadArm(path: string): Promise<Arm> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ConfigError(`${path} does not exist: give a run directory or a baseline file (cagebench baseline save RUN -o baseline.json)`);
  return info.isDirectory() ? armFromRun(await readRunDir(path), path) : readBaselineFile(path);
}

/** A run's arm; `view` may be a run just finished (its results in memory, no summary yet). */
export function armFromRun(view: Pick<RunView, 'dir' | 'run' | 'results'>, path: string = view.dir): Arm {
  const digests = new Map(view.run.tasks.map((t) => [t.id, t.digest]));
  const byTask = new Map<string, { suite: string; epochs: EpochResult[] }>();
  for (const r of view.results) {
    const task = byTask.get(r.taskId) ?? { suite: r.suite, epochs: [] };
    task.epochs.push(epochOf(r));
    byTask.set(r.taskId, task);
  }
  const epochs = view.run.config.epochs ?? 1;
  return {
    path,
    kind: 'run',
    runId: view.run.runId,
    agent: view.run.config.agent,
    ...(view.run.config.model ? { model: view.run.config.model } : {}),
    createdAt: view.run.createdAt,
    epochs,
    tasks: [...byTask].map(([taskId, t]) => ({ taskId, suite: t.suite, ...(digests.get(taskId) ? { digest: digests.get(taskId) } : {}), epochs: t.epochs })),
    pending: Math.max(0, view.run.tasks.length * epochs - view.results.length),
  };
}

function epochOf(r: ResultRecord): EpochResult {
  return {
    epoch: r.epoch,
    outcome: r.outcome,
    ...(r.outcome !== 'error' ? { score: r.score ?? (r.outcome === 'pass' ? 1 : 0) } : {}),
    ...(r.error ? { errorKind: r.error.kind } : {}),
    ...(r.usage ? { costUsd: r.usage.costUsd, tokens: r.usage.inputTokens + r.usage.outputTokens } : {}),
    durationMs: r.timings.durationMs,
  };
}

/** Epochs that count: pass and fail. */
export function validEpochs(task: TaskResults): readonly EpochResult[] {
  return task.epochs.filter((e) => e.outcome !== 'error');
}
