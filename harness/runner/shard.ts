// Shards: `--shard i/n` runs one n-th of a run's tasks, so each job of a CI matrix runs one
// shard and `cagebench merge` joins them into the whole run.
//
// Assignment: the run's task ids (after --task and --limit) are sorted by code unit (no
// locale, so every machine sorts alike) and dealt round-robin: the task at sorted position p
// goes to shard (p mod n) + 1. Shards then differ by at most one task, even for a 13-task
// suite in 3 shards (5, 4, 4), which a hash of the id mod n does not promise for small suites;
// the order the tasks were found in does not matter, only the set. A task is assigned whole:
// all its epochs run in its shard, because the epochs of a task are one cluster for the
// statistics (compare pairs by task). Each shard records the whole run's task list and a
// digest of it, so merge can check that the shards split the same tasks.
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { ShardRecord } from '../log/schema.ts';

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

/** What --shard must be (options.ts checks the form, parseShard the range). */
export const SHARD_RULE = 'must be i/n with 1 <= i <= n, e.g. --shard 2/3 (the second of three shards)';

/** `"2/3"` → `{ index: 2, count: 3 }`; anything else is a ConfigError naming --shard. */
export function parseShard(spec: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!match || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    const why = match && count >= 1 && (index < 1 || index > count) ? `: the shard number must be between 1 and ${count}` : '';
    throw new ConfigError(`--shard "${spec}"${why}: it ${SHARD_RULE}.`);
  }
  return { index, count };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** Task ids in code-unit order: the same on every machine and in every locale. */
function sortedIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Each task id's shard (1-based) when `ids` are split into `count` shards. */
export function assignShards(ids: readonly string[], count: number): Map<string, number> {
  return new Map(sortedIds(ids).map((id, position) => [id, (position % count) + 1]));
}

/** sha256 over the tasks' ids and digests in the given order: equal for shards of one run. */
export function taskListDigest(tasks: readonly { readonly id: string; readonly digest: string }[]): string {
  const hash = createHash('sha256');
  for (const t of tasks) hash.update(`${t.id}\0${t.digest}\n`);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The tasks of one shard, in the run's order, and what run.json records about the split.
 * `tasks` is the whole run's selection (after --task and --limit).
 */
export function shardTasks<T extends { readonly id: string; readonly digest: string }>(tasks: readonly T[], shard: Shard): { readonly tasks: T[]; readonly record: ShardRecord } {
  const assigned = assignShards(tasks.map((t) => t.id), shard.count);
  return {
    tasks: tasks.filter((t) => assigned.get(t.id) === shard.index),
    record: { index: shard.index, count: shard.count, allTasks: tasks.map((t) => t.id), tasksDigest: taskListDigest(tasks) },
  };
}

/** One line for people: `shard 2/3: 4 of 13 tasks`, or that the shard has none. */
export function shardLine(record: ShardRecord, tasks: number): string {
  const name = `shard ${record.index}/${record.count}`;
  if (tasks === 0) return `${name} has no tasks (${record.allTasks.length} task(s) dealt over ${record.count} shards): nothing to run`;
  return `${name}: ${tasks} of ${record.allTasks.length} task(s) (dealt by sorted task id; 'cagebench merge' joins the shards)`;
}
