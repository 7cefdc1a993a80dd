import { describe, expect, it } from 'vitest';
import type { Arm, EpochResult, TaskResults } from './arm.ts';
import { compareArms } from './compare.ts';
import { formatComparison } from './format.ts';
import { seededRandom } from './stats.ts';

/** An arm from per-task epoch outcomes: 1 pass, 0 fail, 'e' an infra error. */
function arm(runId: string, tasks: Record<string, readonly (0 | 1 | 'e')[]>, extra: Partial<Arm> = {}): Arm {
  const list: TaskResults[] = Object.entries(tasks).map(([taskId, epochs]) => ({
    taskId,
    suite: 's',
    epochs: epochs.map((x, i): EpochResult => (x === 'e' ? { epoch: i + 1, outcome: 'error', errorKind: 'infra', durationMs: 1000 } : { epoch: i + 1, outcome: x ? 'pass' : 'fail', score: x, durationMs: 1000, costUsd: 0.01, tokens: 100 })),
  }));
  const epochs = Math.max(...Object.values(tasks).map((e) => e.length));
  return { path: `/runs/${runId}`, kind: 'run', runId, agent: 'a', createdAt: '', epochs, tasks: list, pending: 0, ...extra };
}

const same = (n: number, row: readonly (0 | 1)[]): Record<string, readonly (0 | 1)[]> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${String(i).padStart(3, '0')}`, row]));

describe('compareArms', () => {
  it('identical runs pass with a zero-width interval', () => {
    const tasks = { ...same(6, [1, 1, 1]), ...same(0, []), u1: [0, 0, 0], u2: [1, 0, 1] } as const;
    const c = compareArms(arm('b', tasks), arm('c', tasks), { minPairs: 5 });
    expect(c.verdict).toBe('PASS');
    expect(c.pairs).toBe(8);
    expect(c.delta?.mean).toBe(0);
    expect(c.newlyBroken).toEqual([]);
  });

  it('a broken half of the tasks fails, lists what broke, and pairs per task (epochs are not pooled)', () => {
    const base: Record<string, (0 | 1)[]> = {};
    const cand: Record<string, (0 | 1)[]> = {};
    for (let i = 0; i < 12; i++) {
      base[`t${i}`] = [1, 1, 1];
      cand[`t${i}`] = i % 2 ? [0, 0, 0] : [1, 1, 1];
    }
    const c = compareArms(arm('b', base), arm('c', cand));
    expect(c.verdict).toBe('FAIL');
    expect(c.pairs).toBe(12);
    expect(c.delta!.mean).toBeCloseTo(-0.5, 12);
    // sd of d (six −1, six 0) = sqrt(0.25·12/11); t over 12 tasks, df 11 — not over 36 epochs.
    expect(c.delta!.stderr).toBeCloseTo(Math.sqrt((0.25 * 12) / 11) / Math.sqrt(12), 12);
    expect(c.newlyBroken.map((t) => t.taskId).sort()).toEqual(['t1', 't11', 't3', 't5', 't7', 't9']);
    expect(c.tasks[0]!.base).toMatchObject({ passes: 3, valid: 3 });
    expect(c.passAtK.map((r) => r.k)).toEqual([1, 2, 3]);
    expect(c.passHatK[2]).toMatchObject({ base: 1, cand: 0.5, delta: -0.5 });
    expect(formatComparison(c)).toMatch(/^FAIL {2}the candidate is worse/);
    expect(formatComparison(c)).toContain('t1  base 3/3 → cand 0/3  (−100.0 pts)');
  });

  it('an inconclusive run warns and says how many tasks would rule out the drop', () => {
    const base: Record<string, (0 | 1)[]> = {};
    const cand: Record<string, (0 | 1)[]> = {};
    for (let i = 0; i < 12; i++) {
      base[`t${i}`] = [1, 0, 1];
      cand[`t${i}`] = i === 0 ? [0, 0, 1] : i === 1 ? [1, 1, 1] : [1, 0, 1];
    }
    const c = compareArms(arm('b', base), arm('c', cand));
    expect(c.verdict).toBe('WARN');
    expect(c.sizing!.options[0]).toMatchObject({ epochs: 3 });
    expect(c.sizing!.options.map((o) => o.epochs)).toEqual([3, 5, 10]);
    expect(c.sizing!.options[0]!.tasks).toBeGreaterThan(12);
    expect(c.reasons[0]).toMatch(/needs about \d+ tasks × 3 epochs or \d+ tasks × 5 epochs/);
  });

  it('too many errors or too few pairs is INVALID, and errors never count as fails', () => {
    const base = same(12, [1, 1]);
    const cand = { ...same(12, [1, 1]), t000: ['e', 'e'], t001: ['e', 1] } as Record<string, (0 | 1 | 'e')[]>;
    const c = compareArms(arm('b', base), arm('c', cand));
    // 3 errors of 24 samples: 12.5% > 10%.
    expect(c.verdict).toBe('INVALID');
    expect(c.reasons[0]).toMatch(/candidate has 3 error sample\(s\) of 24/);
    expect(c.unpaired.noValidEpoch).toEqual(['t000']);
    // t001's error epoch is left out: its mean is 1 over its one valid epoch.
    expect(c.tasks.find((t) => t.taskId === 't001')!.cand).toMatchObject({ passes: 1, valid: 1, total: 2, mean: 1 });
    expect(compareArms(arm('b', base), arm('c', cand), { maxErrorRate: 0.2 }).verdict).toBe('PASS');
    expect(compareArms(arm('b', same(3, [1])), arm('c', same(3, [1]))).verdict).toBe('INVALID');
  });

  it('one epoch per task gives the exact McNemar test', () => {
    const base: Record<string, (0 | 1)[]> = {};
    const cand: Record<string, (0 | 1)[]> = {};
    for (let i = 0; i < 20; i++) {
      base[`t${i}`] = [i < 14 ? 1 : 0];
      cand[`t${i}`] = [i < 6 ? 0 : i < 14 ? 1 : i < 16 ? 1 : 0];
    }
    const c = compareArms(arm('b', base), arm('c', cand));
    expect(c.mcnemar).toEqual({ b: 6, c: 2, p: expect.closeTo(0.2890625, 9) });
  });

  it('the task bootstrap is seeded: the same seed gives the same interval', () => {
    const base = same(30, [1, 0]);
    const cand = Object.fromEntries(Object.keys(base).map((k, i) => [k, i % 3 ? [1, 0] : [0, 0]])) as Record<string, (0 | 1)[]>;
    const a = compareArms(arm('b', base), arm('c', cand), { interval: 'bootstrap', bootstrap: { seed: 7 } });
    const b = compareArms(arm('b', base), arm('c', cand), { interval: 'bootstrap', bootstrap: { seed: 7 } });
    expect(a.bootstrap!.ci).toEqual(b.bootstrap!.ci);
    expect(a.gate).toEqual(a.bootstrap!.ci);
    expect(a.bootstrap!.ci[0]).toBeLessThan(a.delta!.mean);
  });

  it('names tasks present in one arm only and tasks whose digest changed', () => {
    const b = arm('b', { ...same(10, [1]), gone: [1] });
    const c = arm('c', { ...same(10, [1]), added: [0] });
    const changed: Arm = { ...c, tasks: c.tasks.map((t) => (t.taskId === 't000' ? { ...t, digest: 'new' } : t)) };
    const base: Arm = { ...b, tasks: b.tasks.map((t) => (t.taskId === 't000' ? { ...t, digest: 'old' } : t)) };
    const r = compareArms(base, changed);
    expect(r.unpaired).toEqual({ baseOnly: ['gone'], candOnly: ['added'], noValidEpoch: [] });
    expect(r.tasks.find((t) => t.taskId === 't000')!.changed).toBe(true);
    expect(r.reasons.some((line) => /1 task\(s\) changed/.test(line))).toBe(true);
  });
});

describe('the gate, simulated (seeded)', () => {
  // Per-task pass rates p_i ~ Beta(½, ½) (bimodal, as real suites are): sin²(πU/2).
  function simulate(random: () => number, tasks: number, epochs: number, drop: number): { base: Arm; cand: Arm } {
    const base: Record<string, (0 | 1)[]> = {};
    const cand: Record<string, (0 | 1)[]> = {};
    for (let i = 0; i < tasks; i++) {
      const p = Math.sin((Math.PI * random()) / 2) ** 2;
      const q = Math.max(0, p - drop);
      base[`t${i}`] = Array.from({ length: epochs }, () => (random() < p ? 1 : 0));
      cand[`t${i}`] = Array.from({ length: epochs }, () => (random() < q ? 1 : 0));
    }
    return { base: arm('b', base), cand: arm('c', cand) };
  }

  it('under the null, the false-fail rate stays at or below α = 0.05', () => {
    const random = seededRandom(2026);
    const reps = 400;
    let fails = 0;
    for (let r = 0; r < reps; r++) {
      const { base, cand } = simulate(random, 100, 5, 0);
      if (compareArms(base, cand).verdict === 'FAIL') fails++;
    }
    expect(fails / reps).toBeLessThanOrEqual(0.05);
  });

  it('a planted 10-point drop on 100 tasks × 5 epochs is caught', () => {
    const random = seededRandom(11);
    const reps = 200;
    let caught = 0;
    for (let r = 0; r < reps; r++) {
      const { base, cand } = simulate(random, 100, 5, 0.1);
      if (compareArms(base, cand).verdict === 'FAIL') caught++;
    }
    expect(caught / reps).toBeGreaterThanOrEqual(0.9);
  });
});

describe('per-task flags', () => {
  it('with K ≥ 5, a task that went 5/5 → 0/5 is flagged after the BH correction; K < 5 flags nothing', () => {
    const base = { ...same(20, [1, 1, 0, 1, 0]), broke: [1, 1, 1, 1, 1] } as Record<string, (0 | 1)[]>;
    const cand = { ...same(20, [1, 0, 1, 1, 0]), broke: [0, 0, 0, 0, 0] } as Record<string, (0 | 1)[]>;
    const c = compareArms(arm('b', base), arm('c', cand));
    expect(c.flagged.map((t) => t.taskId)).toEqual(['broke']);
    expect(c.flagged[0]!.barnard!.p).toBeCloseTo(0.00195, 4);
    expect(c.tasks.find((t) => t.taskId === 't000')!.barnard!.q).toBe(1);
    expect(formatComparison(c)).toContain("changed on their own (Barnard's exact test, BH q < 0.1; 1):");
    const short = compareArms(arm('b', { ...same(20, [1, 1]), broke: [1, 1] }), arm('c', { ...same(20, [1, 1]), broke: [0, 0] }));
    expect(short.flagged).toEqual([]);
    expect(short.tasks.every((t) => t.barnard === undefined)).toBe(true);
  });
});
