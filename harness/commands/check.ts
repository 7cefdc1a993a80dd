// `cagebench tasks check`: load and validate tasks; with the oracle, prove each one is sound
// by running its reference solution (which must pass) and nothing at all (which must not).
import { mkdtemp, stat } from 'node:fs/promises';
import { copyProblem } from '../../sandboxes/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKeyUses, type Task } from '../../tasks/index.ts';
import type { ResultRecord } from '../log/schema.ts';
import { readJson, samplePaths } from '../log/writer.ts';
import { run, type RunOptions, type RunOutcome } from '../runner/run.ts';
import { loadSelectedTasks } from '../runner/validate.ts';
import { loadTools } from '../tools/load.ts';

export interface CheckOptions extends RunOptions {
  /** Also run `oracle` and `nop` on every task. */
  readonly oracle?: boolean;
  readonly concurrency?: number;
  /** Where the oracle and nop runs are written. @default a new temp directory */
  readonly out?: string;
  readonly task?: string;
  /** With `oracle`: the grader model of model_graded scorers that name none (`--grader-model`). */
  readonly graderModel?: string;
}

export interface TaskProblem {
  readonly taskId: string;
  readonly origin: string;
  readonly problem: string;
}

/** What cagebench does with the task.toml keys of one or more Harbor tasks (the same for all of them). */
export interface KeyReport {
  readonly taskIds: readonly string[];
  /** `honoured: [agent].timeout_sec, ...`, `ignored: version (...)`: see formatKeyUses. */
  readonly lines: readonly string[];
}

export interface CheckResult {
  readonly tasks: readonly Task[];
  /** Harbor tasks' keys; tasks whose reports are the same share one. */
  readonly keys: readonly KeyReport[];
  readonly problems: readonly TaskProblem[];
  readonly runs: readonly RunOutcome[];
}

export async function checkTasks(paths: readonly string[], options: CheckOptions = {}): Promise<CheckResult> {
  // A --task that matches nothing is an error, never "0 task(s) valid".
  const tasks = await loadSelectedTasks(paths, options.task);
  const keys = keyReports(tasks);
  const copies = [...(await copyProblems(tasks)), ...(await toolProblems(tasks))];
  if (!options.oracle) return { tasks, keys, problems: copies, runs: [] };
  const out = options.out ?? (await mkdtemp(join(tmpdir(), 'cagebench-check-')));
  const base = { paths, task: options.task, concurrency: options.concurrency, out, retries: 1, graderModel: options.graderModel };
  const oracle = await run({ ...base, agent: 'oracle', runId: `check-oracle-${Date.now()}` }, options);
  if (oracle.summary.status === 'interrupted') return { tasks, keys, problems: copies, runs: [oracle] };
  const nop = await run({ ...base, agent: 'nop', runId: `check-nop-${Date.now()}` }, options);
  const origin = new Map(tasks.map((t) => [t.id, t.origin]));
  const problems: TaskProblem[] = [...copies];
  const results = async (o: RunOutcome): Promise<ResultRecord[]> => {
    const ids = tasks.map((t) => `${t.id}__e1`);
    return (await Promise.all(ids.map((id) => readJson<ResultRecord>(samplePaths(o.runDir, id).result)))).filter((r): r is ResultRecord => !!r);
  };
  for (const r of await results(oracle)) {
    if (r.outcome === 'pass') continue;
    const why = r.outcome === 'error' ? `${r.error?.kind} error: ${r.error?.message.split('\n')[0]}` : `score ${r.score ?? 0} (${r.attempts.at(-1)?.explanation?.split('\n')[0] ?? 'no explanation'})`;
    problems.push({ taskId: r.taskId, origin: origin.get(r.taskId) ?? '', problem: `oracle does not pass: ${why}` });
  }
  for (const r of await results(nop)) {
    if (r.outcome === 'pass') problems.push({ taskId: r.taskId, origin: origin.get(r.taskId) ?? '', problem: 'nop passes: the verifier does not test the task' });
    if (r.outcome === 'error') problems.push({ taskId: r.taskId, origin: origin.get(r.taskId) ?? '', problem: `nop ends in an error rather than a fail: ${r.error?.kind}: ${r.error?.message.split('\n')[0]}` });
  }
  return { tasks, keys, problems, runs: [oracle, nop] };
}

/** Tasks whose host tools files do not load (a file without tools, two tools with one name, ...). */
async function toolProblems(tasks: readonly Task[]): Promise<TaskProblem[]> {
  const problems: TaskProblem[] = [];
  for (const task of tasks) {
    if (!task.tools?.length) continue;
    await loadTools(task.tools, `task ${task.id}`).catch((err: unknown) => problems.push({ taskId: task.id, origin: task.origin, problem: (err as Error).message }));
  }
  return problems;
}

/**
 * The task directories that go into a sandbox (solution, tests, a Docker build context, task
 * files) and hold a link out of themselves: the copy refuses them, so every sample of the
 * task would end in a task error. Said before any run.
 */
async function copyProblems(tasks: readonly Task[]): Promise<TaskProblem[]> {
  const problems: TaskProblem[] = [];
  for (const task of tasks) {
    const dirs = new Set<string>();
    if (task.solution?.kind === 'script') dirs.add(task.solution.dir);
    if (task.scorer.type === 'verifier') dirs.add(task.scorer.testsDir);
    if ('dockerfile' in task.environment.source && task.environment.source.dockerfile) dirs.add(task.environment.source.dockerfile);
    for (const file of task.files) if (file.source) dirs.add(file.source);
    for (const dir of dirs) {
      if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
      const problem = await copyProblem(dir);
      if (problem) problems.push({ taskId: task.id, origin: task.origin, problem });
    }
  }
  return problems;
}

/** One report per distinct set of key uses, in the order tasks were loaded. */
export function keyReports(tasks: readonly Task[]): KeyReport[] {
  const byLines = new Map<string, { taskIds: string[]; lines: string[] }>();
  for (const task of tasks) {
    if (!task.keys) continue;
    const lines = formatKeyUses(task.keys);
    const id = lines.join('\n');
    const entry = byLines.get(id);
    if (entry) entry.taskIds.push(task.id);
    else byLines.set(id, { taskIds: [task.id], lines });
  }
  return [...byLines.values()];
}
