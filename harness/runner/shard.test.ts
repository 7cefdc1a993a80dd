import { describe, expect, it } from 'vitest';
import { checkRunOptions } from '../config-schema.ts';
import { resolveConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { planSamples } from './plan.ts';
import { assignShards, parseShard, shardLine, shardTasks, taskListDigest } from './shard.ts';
import type { Task } from '../../tasks/index.ts';
import { checkShards } from '../commands/merge.ts';
import type { RunRecord } from '../log/schema.ts';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `task-${String(i).padStart(2, '0')}`);
const tasksOf = (list: readonly string[]) => list.map((id) => ({ id, digest: `d-${id}` }));

/** A seeded shuffle (mulberry32), so the test is the same every time. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let a = seed;
  const random = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('parseShard', () => {
  it('reads i/n', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard(' 10/12 ')).toEqual({ index: 10, count: 12 });
  });

  it.each(['0/3', '4/3', '3', '1/0', '-1/3', 'a/b', '1.5/3', '', '2/3/4', '1 of 3'])('refuses %j, naming --shard', (spec) => {
    expect(() => parseShard(spec)).toThrow(ConfigError);
    expect(() => parseShard(spec)).toThrow(/^--shard ".*".*i\/n with 1 <= i <= n/);
  });

  it('says which number is out of range', () => {
    expect(() => parseShard('4/3')).toThrow('--shard "4/3": the shard number must be between 1 and 3');
  });

  it('is checked with every run option: flags, config files and run() name it', () => {
    expect(() => checkRunOptions({ shard: '1-3' }, { file: 'the command line', flags: true })).toThrow('--shard must be i/n with 1 <= i <= n');
    expect(() => checkRunOptions({ shard: 3 }, { file: 'eval.yaml' })).toThrow(/shard/);
    expect(() => resolveConfig({ agent: 'oracle', paths: ['x'], shard: '5/4' })).toThrow('--shard "5/4": the shard number must be between 1 and 4');
    expect(resolveConfig({ agent: 'oracle', paths: ['x'], shard: '2/4' })).toMatchObject({ shard: { index: 2, count: 4 }, record: { shard: '2/4' } });
  });
});

describe('shard assignment', () => {
  it('covers every task exactly once across shards 1..n, and balances within one task', () => {
    for (const total of [0, 1, 2, 5, 13, 40, 101]) {
      for (const count of [1, 2, 3, 4, 7, 16]) {
        const tasks = tasksOf(ids(total));
        const parts = Array.from({ length: count }, (_, i) => shardTasks(tasks, { index: i + 1, count }).tasks.map((t) => t.id));
        const seen = parts.flat();
        expect(seen.sort()).toEqual(ids(total).sort());
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('13 tasks in 3 shards: 5, 4, 4', () => {
    const tasks = tasksOf(ids(13));
    expect([1, 2, 3].map((index) => shardTasks(tasks, { index, count: 3 }).tasks.length)).toEqual([5, 4, 4]);
  });

  it('depends on the set of ids only: not on their order, the same on every call', () => {
    const list = [...ids(20), 'Zeta', 'alpha', 'émile', 'a_b', 'a-b', 'A'];
    const base = assignShards(list, 4);
    for (const seed of [1, 2, 3, 42]) expect(assignShards(shuffled(list, seed), 4)).toEqual(base);
    // Code-unit order, never the locale's: uppercase before lowercase, accents last.
    expect(base.get('A')).toBe(1);
    expect(base.get('Zeta')).toBe(2);
    expect(base.get('a-b')).toBe(3);
    expect(base.get('émile')).toBe((list.length - 1) % 4 + 1);
  });

  it("keeps the run's order inside a shard", () => {
    const order = ['c', 'a', 'e', 'b', 'd', 'f'];
    // sorted a b c d e f → shard 1 of 2: a c e
    expect(shardTasks(tasksOf(order), { index: 1, count: 2 }).tasks.map((t) => t.id)).toEqual(['c', 'a', 'e']);
  });

  it('puts every epoch of a task in its shard', () => {
    const tasks = tasksOf(ids(7)) as unknown as Task[];
    const samplesByShard = [1, 2, 3].map((index) => planSamples(shardTasks(tasks, { index, count: 3 }).tasks, 4));
    const shardOfTask = new Map<string, number>();
    samplesByShard.forEach((samples, i) =>
      samples.forEach((s) => {
        expect(shardOfTask.get(s.task.id) ?? i).toBe(i);
        shardOfTask.set(s.task.id, i);
      }),
    );
    expect(samplesByShard.flat()).toHaveLength(7 * 4);
    expect(new Set(samplesByShard.flat().map((s) => s.id)).size).toBe(7 * 4);
  });

  it('records the whole split; shards of one run agree on it', () => {
    const tasks = tasksOf(['b', 'a', 'c']);
    const records = [1, 2].map((index) => shardTasks(tasks, { index, count: 2 }).record);
    expect(records[0]).toEqual({ index: 1, count: 2, allTasks: ['b', 'a', 'c'], tasksDigest: taskListDigest(tasks) });
    expect(records[1]!.tasksDigest).toBe(records[0]!.tasksDigest);
    expect(taskListDigest([{ id: 'b', digest: 'other' }, ...tasks.slice(1)])).not.toBe(records[0]!.tasksDigest);
    expect(taskListDigest(tasks)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('an empty shard says so', () => {
    const { tasks, record } = shardTasks(tasksOf(['a', 'b']), { index: 3, count: 3 });
    expect(tasks).toEqual([]);
    expect(shardLine(record, 0)).toBe('shard 3/3 has no tasks (2 task(s) dealt over 3 shards): nothing to run');
    expect(shardLine(shardTasks(tasksOf(ids(13)), { index: 2, count: 3 }).record, 4)).toMatch(/^shard 2\/3: 4 of 13 task\(s\)/);
  });
});

describe('merge: which shards belong together', () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  const shard = (index: number, count = 2, over: { config?: Record<string, unknown>; tasks?: string[]; allTasks?: string[] } = {}) => {
    const allTasks = over.allTasks ?? all;
    const split = shardTasks(tasksOf(allTasks), { index, count });
    const tasks = (over.tasks ?? split.tasks.map((t) => t.id)).map((id) => ({ id, suite: 's', origin: `/x/${id}`, digest: `d-${id}` }));
    const run = { version: 1, runId: `r${index}`, createdAt: '', harness: { name: 'cagebench', version: '1.0.0', node: 'v20' }, config: { agent: 'oracle', paths: [`/ci-${index}/tasks`], epochs: 2, shard: `${index}/${count}`, concurrency: index, ...over.config }, tasks, shard: split.record } as RunRecord;
    return { dir: `/runs/shard-${index}`, view: { dir: `/runs/shard-${index}`, run, results: [] }, shard: split.record };
  };

  it('accepts a complete set, whatever paths and concurrency each job had', () => {
    expect(checkShards([shard(1), shard(2)], false)).toEqual({ missing: [] });
  });

  it('names a missing shard and the dirs given; --allow-partial lets it through', () => {
    expect(() => checkShards([shard(2, 3)], false)).toThrow('shard(s) 1/3, 3/3 missing: given /runs/shard-2 (shard 2/3)');
    expect(checkShards([shard(2, 3)], true)).toEqual({ missing: [1, 3] });
  });

  it('refuses a shard given twice, shards of different splits, task lists or settings', () => {
    expect(() => checkShards([shard(1), { ...shard(1), dir: '/runs/again' }, shard(2)], true)).toThrow('shard 1/2 in /runs/shard-1 and /runs/again');
    expect(() => checkShards([shard(1, 2), shard(2, 3)], true)).toThrow('the shards are of different splits');
    expect(() => checkShards([shard(1), shard(2, 2, { allTasks: ['a', 'b'] })], true)).toThrow('the shards split different task lists');
    expect(() => checkShards([shard(1), shard(2, 2, { config: { epochs: 3 } })], false)).toThrow('epochs: 2 in /runs/shard-1, 3 in /runs/shard-2');
    expect(() => checkShards([shard(1), shard(2, 2, { tasks: ['a', 'b'] })], false)).toThrow('/runs/shard-2 (shard 2/2) does not hold the tasks dealt to it');
  });
});
