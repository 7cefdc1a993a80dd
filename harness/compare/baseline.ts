// A saved baseline: the per-epoch outcomes of a run, small enough to commit next to the suite
// (`cagebench baseline save RUN -o baseline.json`), so a pull request compares against the
// main branch's numbers without keeping its run directory.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { writeTextAtomic } from '../log/writer.ts';
import { HARNESS_VERSION } from '../version.ts';
import type { Arm, TaskResults } from './arm.ts';

export const BASELINE_FORMAT = 'cagebench-baseline';
export const BASELINE_VERSION = 1;

export interface BaselineFile {
  readonly format: typeof BASELINE_FORMAT;
  readonly version: typeof BASELINE_VERSION;
  readonly savedAt: string;
  readonly harness: string;
  readonly runId: string;
  readonly agent: string;
  readonly model?: string;
  readonly createdAt: string;
  readonly epochs: number;
  readonly pending: number;
  readonly tasks: readonly TaskResults[];
}

export function toBaseline(arm: Arm): BaselineFile {
  return {
    format: BASELINE_FORMAT,
    version: BASELINE_VERSION,
    savedAt: new Date().toISOString(),
    harness: HARNESS_VERSION,
    runId: arm.runId,
    agent: arm.agent,
    ...(arm.model ? { model: arm.model } : {}),
    createdAt: arm.createdAt,
    epochs: arm.epochs,
    pending: arm.pending,
    tasks: arm.tasks,
  };
}

/** One line per task keeps the file diff-friendly in a repository. */
export function renderBaseline(baseline: BaselineFile): string {
  const { tasks, ...head } = baseline;
  const lines = tasks.map((t) => `    ${JSON.stringify(t)}`);
  const top = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${top},\n  "tasks": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

export async function writeBaseline(path: string, arm: Arm): Promise<BaselineFile> {
  const baseline = toBaseline(arm);
  await writeTextAtomic(path, renderBaseline(baseline));
  return baseline;
}

export async function readBaselineFile(path: string): Promise<Arm> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path} is not a baseline file (${(err as Error).message}): give a run directory or a file from 'cagebench baseline save RUN -o FILE'`);
  }
  const file = parsed as Partial<BaselineFile>;
  if (file?.format !== BASELINE_FORMAT) throw new ConfigError(`${path}: format must be "${BASELINE_FORMAT}" (got ${JSON.stringify(file?.format)}): make it with 'cagebench baseline save RUN -o FILE'`);
  if (file.version !== BASELINE_VERSION) throw new ConfigError(`${path}: baseline version ${String(file.version)} is not one this cagebench reads (${BASELINE_VERSION}): save it again with this version`);
  if (!Array.isArray(file.tasks) || typeof file.runId !== 'string' || typeof file.agent !== 'string' || !Number.isInteger(file.epochs)) {
    throw new ConfigError(`${path}: a baseline needs runId, agent, epochs and tasks: save it again with 'cagebench baseline save'`);
  }
  for (const [i, t] of file.tasks.entries()) {
    if (typeof t?.taskId !== 'string' || !Array.isArray(t.epochs)) throw new ConfigError(`${path}: tasks[${i}] needs taskId and epochs`);
    for (const [j, e] of t.epochs.entries()) {
      if (!['pass', 'fail', 'error'].includes(e?.outcome) || !Number.isInteger(e.epoch)) throw new ConfigError(`${path}: tasks[${i}].epochs[${j}] needs an integer epoch and an outcome of pass, fail or error`);
      if (e.outcome !== 'error' && typeof e.score !== 'number') throw new ConfigError(`${path}: tasks[${i}].epochs[${j}] is a ${e.outcome} without a score`);
    }
  }
  return {
    path,
    kind: 'baseline',
    runId: file.runId,
    agent: file.agent,
    ...(file.model ? { model: file.model } : {}),
    createdAt: file.createdAt ?? '',
    epochs: file.epochs!,
    pending: file.pending ?? 0,
    tasks: file.tasks,
  };
}
