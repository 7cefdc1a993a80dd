// Where a task lives, as a path a CI system can point at: relative to the checkout so a
// GitHub annotation lands on the file in the pull request's diff, and a CTRF `filePath` opens
// in a viewer. A Harbor task is a directory (its task.toml is the file); a suite task lives in
// its suite's YAML file.
import { isAbsolute, relative, sep } from 'node:path';
import type { TaskRef } from '../../log/schema.ts';

/** `<dir>/task.toml` or `<suite>.yaml`, relative to `root`; `<task>/task.toml` when the task is elsewhere or unknown. */
export function taskFilePath(taskId: string, ref: Pick<TaskRef, 'origin'> | undefined, root: string): string {
  const fallback = `${taskId}/task.toml`;
  if (!ref?.origin || !isAbsolute(ref.origin)) return fallback;
  const rel = relative(root, ref.origin);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return fallback;
  const posix = rel.split(sep).join('/');
  return /\.ya?ml$/i.test(posix) ? posix : `${posix}/task.toml`;
}

/** The checkout a CI job runs in: GitHub's and GitLab's workspace variables, else the working directory. */
export function checkoutRoot(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_WORKSPACE || env.CI_PROJECT_DIR || process.cwd();
}
