// GitHub Actions workflow commands that put the most regressed tasks on the pull request's
// diff: `::error file=<task>/task.toml,title=…::message`. GitHub shows at most 10 error
// annotations per step and drops the rest silently, so we print 10 and one ::notice that
// counts what was left out. Escaping is exactly the Actions toolkit's
// (packages/core/src/command.ts), or a task id with a comma or newline breaks the command.
import type { Comparison } from '../../compare/compare.ts';
import type { TaskRef } from '../../log/schema.ts';
import { movement, pts } from './markdown.ts';
import { taskFilePath } from './paths.ts';

export const MAX_ERROR_ANNOTATIONS = 10;

/** Data (the message): % first, then CR and LF. */
export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: as data, plus `:` and `,`, which separate properties. */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function command(name: string, properties: Readonly<Record<string, string>>, message: string): string {
  const props = Object.entries(properties).map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',');
  return `::${name}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

export interface AnnotationOptions {
  /** The candidate run's tasks, for where each lives. */
  readonly tasks?: readonly Pick<TaskRef, 'id' | 'origin'>[];
  /** Paths are made relative to this (the checkout). */
  readonly root: string;
  readonly max?: number;
}

/** ::error lines for the most regressed tasks, and a ::notice counting the others. */
export function annotations(c: Comparison, options: AnnotationOptions): string[] {
  const max = options.max ?? MAX_ERROR_ANNOTATIONS;
  const refs = new Map(options.tasks?.map((t) => [t.id, t]));
  const regressed = c.tasks.filter((t) => t.diff < 0);
  const broken = new Set(c.newlyBroken.map((t) => t.taskId));
  const lines = regressed.slice(0, max).map((t) => {
    const title = `cagebench: ${t.taskId} regressed ${pts(t.diff)} pts`;
    const why = broken.has(t.taskId) ? 'newly broken: every epoch passed in the base, none in the candidate' : 'lower score than the base';
    const message = `${t.taskId}: ${movement(t)} (Δ ${pts(t.diff)} pts), ${why}.${t.changed ? '\nThe task itself changed between the runs.' : ''}\nRun verdict: ${c.verdict}.`;
    return command('error', { file: taskFilePath(t.taskId, refs.get(t.taskId), options.root), title }, message);
  });
  const rest = regressed.length - lines.length;
  if (rest > 0) lines.push(command('notice', { title: 'cagebench: more regressed tasks' }, `${rest} more task(s) regressed and are not annotated (GitHub shows ${max} error annotations per step): see the job summary or the pull request comment.`));
  return lines;
}
