// One entry point for every way a user names tasks: a Harbor task directory, a folder of them
// (a suite named after the folder), or a cagebench suite file (.yaml / .yml).
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import picomatch from 'picomatch';
import { TaskLoadError, collectProblems, displayPath, type TaskProblem } from './errors.ts';
import { HARBOR_CONFIG_FILE, isHarborTaskDir, loadHarborSuite, loadHarborTask } from './load-harbor.ts';
import { loadSuite } from './load-suite.ts';
import type { Task } from './task.ts';

export interface LoadTasksOptions {
  /**
   * A glob on task ids (picomatch: `fix-*`, `{a,b}`, `!slow-*`). Harbor task directories it
   * does not select are not even read; a suite file is always validated whole.
   * @default every task
   */
  readonly filter?: string;
  /** Tasks built elsewhere (defined in code), taken after those at `paths`, held to the same filter and unique ids. */
  readonly extra?: readonly Task[];
}

/**
 * The tasks at `paths`, in order, each validated. Every problem found in every path is
 * reported in one TaskLoadError; so is a task id defined in two places. A task named twice
 * (say, its folder and itself) is loaded once.
 */
export async function loadTasks(paths: readonly string[], options: LoadTasksOptions = {}): Promise<Task[]> {
  const selected = options.filter === undefined ? () => true : picomatch(options.filter, { dot: true });
  const unique = [...new Set(paths.map((p) => resolve(p)))];
  const results = await Promise.allSettled(unique.map((path) => loadPath(path, selected)));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length > 0) throw new TaskLoadError(collectProblems(failures));

  const loaded = [...results.flatMap((r) => (r as PromiseFulfilledResult<Task[]>).value), ...(options.extra ?? [])].filter((t) => selected(t.id));
  const tasks: Task[] = [];
  const byId = new Map<string, Task>();
  const problems: TaskProblem[] = [];
  for (const task of loaded) {
    const first = byId.get(task.id);
    if (!first) {
      byId.set(task.id, task);
      tasks.push(task);
    } else if (first.origin !== task.origin) {
      problems.push({
        file: task.origin,
        text: `defines task "${task.id}", and so does ${displayPath(first.origin)}: task ids must be unique in a run (rename one, or load only one of them)`,
      });
    } // else: the same task named twice (its folder and itself)
  }
  if (problems.length > 0) throw new TaskLoadError(problems);
  return tasks;
}

async function loadPath(path: string, selected: (id: string) => boolean): Promise<Task[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw TaskLoadError.at(path, undefined, 'does not exist: expected a Harbor task directory, a folder of them, or a suite .yaml file');
  if (info.isFile()) {
    const ext = extname(path).toLowerCase();
    if (ext === '.yaml' || ext === '.yml') return loadSuite(path);
    if (basename(path) === HARBOR_CONFIG_FILE) return selected(basename(dirname(path))) ? [await loadHarborTask(dirname(path))] : [];
    throw TaskLoadError.at(path, undefined, 'is not a task: expected a Harbor task directory (with task.toml), a folder of them, or a suite .yaml/.yml file');
  }
  if (!info.isDirectory()) throw TaskLoadError.at(path, undefined, 'is neither a file nor a directory');
  if (await isHarborTaskDir(path)) return selected(basename(path)) ? [await loadHarborTask(path)] : [];
  return loadHarborSuite(path, { filter: selected });
}
