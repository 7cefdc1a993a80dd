import { describe, expect, it } from 'vitest';
import { barnardExact, benjaminiHochberg, clusterBootstrap, mcnemarExact, normalQuantile, pairedDifference, passAtK, passHatK, studentTCdf, studentTQuantile, tasksNeeded } from './stats.ts';

describe('Student t', () => {
  it('quantiles match the tables', () => {
    // t_{0.975} by df, from standard tables (R: qt(0.975, df)).
    const table: [number, number][] = [[1, 12.706205], [2, 4.302653], [5, 2.570582], [10, 2.228139], [30, 2.042272], [88, 1.987290], [1000, 1.962339]];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 5);
    expect(studentTQuantile(0.95, 4)).toBeCloseTo(2.131847, 5);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.228139, 5);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(2.228139, 10)).toBeCloseTo(0.975, 6);
  });
});

describe('paired difference', () => {
  it('the mean of per-task differences with a t interval over tasks', () => {
    const d = pairedDifference([0.2, -0.1, 0.0, 0.3, 0.1]);
    expect(d.mean).toBeCloseTo(0.1, 12);
    // sd = 0.158114, se = 0.0707107, t_{0.975,4} = 2.776445
    expect(d.stderr).toBeCloseTo(0.0707107, 6);
    expect(d.ci[0]).toBeCloseTo(0.1 - 2.776445 * 0.0707107, 5);
    expect(d.ci[1]).toBeCloseTo(0.1 + 2.776445 * 0.0707107, 5);
    expect(() => pairedDifference([])).toThrow(/at least one task/);
  });
});

describe('McNemar, exact', () => {
  it('matches the reference values', () => {
    expect(mcnemarExact(8, 2)).toBeCloseTo(0.109375, 9);
    expect(mcnemarExact(6, 0)).toBeCloseTo(0.03125, 9);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 5)).toBe(1);
  });
});

describe('pass@k and pass^k', () => {
  it('follow their formulas', () => {
    // n = 5, c = 2: pass@1 = 0.4, pass@2 = 1 - C(3,2)/C(5,2) = 0.7, pass@4 = 1 (n - c < k).
    expect(passAtK(5, 2, 1)).toBeCloseTo(0.4, 12);
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    expect(passAtK(5, 2, 4)).toBe(1);
    expect(passAtK(5, 0, 3)).toBe(0);
    // pass^k: C(c,k)/C(n,k): C(4,2)/C(5,2) = 0.6; C(2,3) = 0.
    expect(passHatK(5, 4, 2)).toBeCloseTo(0.6, 12);
    expect(passHatK(5, 2, 3)).toBe(0);
    expect(passHatK(5, 5, 5)).toBe(1);
    expect(() => passAtK(3, 4, 1)).toThrow(/0 <= c <= n/);
  });
});

describe('normal quantile and sizing', () => {
  it('matches the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.8)).toBeCloseTo(0.841621, 6);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
  });

  it('tasks needed for a 5-point drop match the reference figures (σ² = .125, α = .05, power .8)', () => {
    // ../shared/reference/ci-regression.md §1 gives N = 793/269/165/86 for K = 1/3/5/10 at ω = .05
    // and 856/332/228/149 at ω = .15, rounded to the nearest task (269.5 → 269); a sample size
    // is rounded up, so ours is that or one more.
    const need = (epochs: number, omega: number) => tasksNeeded({ delta: 0.05, epochs, omega2: omega ** 2, sigma2Base: 0.125, sigma2Cand: 0.125 });
    expect([1, 3, 5, 10].map((k) => need(k, 0.05))).toEqual([793, 270, 165, 87]);
    expect([1, 3, 5, 10].map((k) => need(k, 0.15))).toEqual([856, 333, 228, 150]);
  });

  it('the task bootstrap of a constant difference is that constant', () => {
    const { ci } = clusterBootstrap([0.2, 0.2, 0.2], { samples: 200 });
    expect(ci[0]).toBeCloseTo(0.2, 12);
    expect(ci[1]).toBeCloseTo(0.2, 12);
  });
});

describe('per-task flags', () => {
  it("Barnard's exact test matches scipy.stats.barnard_exact", () => {
    // ../shared/reference/ci-regression.md §1: 3/3 → 0/3: 0.031, 5/5 → 0/5: 0.002, 5/5 → 1/5: 0.014.
    expect(barnardExact(3, 3, 0, 3)).toBeCloseTo(0.03125, 6);
    expect(barnardExact(5, 5, 0, 5)).toBeCloseTo(0.00195, 4);
    // 5/5 → 1/5: 4/5 → 0/5 has exactly the same Wald statistic (0.8/√0.096). scipy's floating
    // point drops that tie and reports 0.014; the test's definition (|T| ≥ |T_obs|) keeps it,
    // and the largest chance is then at π = ½: 2·(1 + 5 + 5)/1024.
    expect(barnardExact(5, 5, 1, 5)).toBeCloseTo(22 / 1024, 9);
    expect(barnardExact(2, 5, 2, 5)).toBe(1);
  });

  it('Benjamini–Hochberg q-values', () => {
    // R: p.adjust(c(0.01, 0.04, 0.03, 0.2), "BH") = 0.04 0.0533 0.0533 0.2
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.2]);
    expect(q[0]).toBeCloseTo(0.04, 12);
    expect(q[1]).toBeCloseTo(0.0533333, 6);
    expect(q[2]).toBeCloseTo(0.0533333, 6);
    expect(q[3]).toBeCloseTo(0.2, 12);
  });
});
