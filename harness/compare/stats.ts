// The statistics of `compare` (issue 15, first piece): Student t quantiles, the paired mean
// difference with its t interval over tasks, the exact McNemar test, pass@k and pass^k.
// Pure functions; tested against reference values (../shared/reference/ci-regression.md).
import { passAtK } from '../../scorers/metrics.ts';

/** pass@k of one task lives with the run's metrics; compare uses the same estimator. */
export { passAtK };

/** ln Γ(x), Lanczos (g = 7, n = 9): 15 significant digits for x > 0. */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta I_x(a, b), by its continued fraction (Numerical Recipes' betacf). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const step = d * c;
    f *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return (front * f) / a;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p (e.g. p = 0.975 for a two-sided 95 % interval), by bisection on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a quantile needs 0 < p < 1 (got ${p})`);
  if (!(df > 0)) throw new RangeError(`Student's t needs df > 0 (got ${df})`);
  if (p === 0.5) return 0;
  let lo = -1e6;
  let hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface PairedDifference {
  /** Tasks paired. */
  readonly n: number;
  /** Mean of (candidate − base) over tasks. */
  readonly mean: number;
  readonly stderr: number;
  /** The two-sided interval at `level`; [mean, mean] with one task (no spread to estimate). */
  readonly ci: readonly [number, number];
  readonly level: number;
}

/**
 * Paired mean difference over tasks: `diffs[i]` is task i's candidate mean minus its base mean
 * (each a mean over that task's valid epochs: epochs are never pooled as independent samples).
 */
export function pairedDifference(diffs: readonly number[], level = 0.95): PairedDifference {
  const n = diffs.length;
  if (n === 0) throw new RangeError('a paired difference needs at least one task in both arms');
  const mean = diffs.reduce((s, d) => s + d, 0) / n;
  if (n === 1) return { n, mean, stderr: Number.NaN, ci: [mean, mean], level };
  const variance = diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (n - 1);
  const stderr = Math.sqrt(variance / n);
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * stderr;
  return { n, mean, stderr, ci: [mean - half, mean + half], level };
}

/** ln C(n, k). */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * The exact McNemar test (one epoch per task, pass/fail): `b` tasks the base passed and the
 * candidate failed, `c` the reverse. Two-sided p = 2·P(X ≤ min(b, c)), X ~ Bin(b + c, ½), at most 1.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  let tail = 0;
  for (let k = 0; k <= Math.min(b, c); k++) tail += Math.exp(logChoose(n, k) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/** pass^k of one task (τ-bench): the chance that k epochs drawn without replacement all pass, C(c, k)/C(n, k). */
export function passHatK(n: number, c: number, k: number): number {
  checkK(n, c, k);
  let all = 1;
  for (let j = 0; j < k; j++) all *= (c - j) / (n - j);
  return Math.max(0, all);
}

function checkK(n: number, c: number, k: number): void {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`pass^k needs integers 1 <= k <= n and 0 <= c <= n (got n=${n}, c=${c}, k=${k})`);
  }
}

/** The standard normal quantile Φ⁻¹(p), by Acklam's rational approximation (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a quantile needs 0 < p < 1 (got ${p})`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    return -normalQuantile(1 - p);
  }
  return x;
}

/** A small seeded generator (mulberry32): the same seed gives the same bootstrap, so a verdict is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapInterval {
  readonly ci: readonly [number, number];
  readonly level: number;
  readonly samples: number;
  readonly seed: number;
}

/**
 * Percentile interval of the mean difference by resampling whole tasks (each task's d_i
 * already averages its epochs, so a task is resampled with all of them: a cluster bootstrap).
 */
export function clusterBootstrap(diffs: readonly number[], options: { samples?: number; seed?: number; level?: number } = {}): BootstrapInterval {
  const { samples = 5000, seed = 1, level = 0.95 } = options;
  const n = diffs.length;
  if (n === 0) throw new RangeError('a bootstrap needs at least one task in both arms');
  const random = seededRandom(seed);
  const means = new Float64Array(samples);
  for (let b = 0; b < samples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += diffs[Math.floor(random() * n)]!;
    means[b] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  const at = (q: number): number => means[Math.min(samples - 1, Math.max(0, Math.round(q * (samples - 1))))]!;
  return { ci: [at(tail), at(1 - tail)], level, samples, seed };
}

/**
 * Tasks needed to detect a drop of `delta` with a two-sided test at `alpha` and the given
 * power, with K epochs per arm: N = (z_{1−α/2} + z_{power})² · (ω² + (σ²_A + σ²_B)/K) / δ².
 * ω² is the across-task variance of the true per-task difference; σ² the mean within-task
 * variance of an epoch's score in each arm.
 */
export function tasksNeeded(options: { delta: number; epochs: number; omega2: number; sigma2Base: number; sigma2Cand: number; alpha?: number; power?: number }): number {
  const { delta, epochs, omega2, sigma2Base, sigma2Cand, alpha = 0.05, power = 0.8 } = options;
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.ceil((z * z * (omega2 + (sigma2Base + sigma2Cand) / epochs)) / (delta * delta));
}

/**
 * Barnard's unconditional exact test (two-sided, Wald statistic with the pooled variance) for
 * one task's 2×2 table: x1 passes of n1 in one arm, x2 of n2 in the other. The p-value is the
 * largest, over the common pass rate π, chance of a table at least as extreme; the
 * maximum is found on a grid and refined around its best point. More powerful than Fisher's
 * test for small K (5/5 → 0/5: 0.002 against Fisher's 0.008).
 */
export function barnardExact(x1: number, n1: number, x2: number, n2: number): number {
  // Tasks share few distinct tables (K = 5 has 36), so each is computed once per process.
  const key = `${x1}/${n1}:${x2}/${n2}`;
  let p = barnardCache.get(key);
  if (p === undefined) {
    if (barnardCache.size > 100_000) barnardCache.clear();
    barnardCache.set(key, (p = barnard(x1, n1, x2, n2)));
  }
  return p;
}

const barnardCache = new Map<string, number>();

function barnard(x1: number, n1: number, x2: number, n2: number): number {
  const wald = (a: number, b: number): number => {
    const p = (a + b) / (n1 + n2);
    const variance = p * (1 - p) * (1 / n1 + 1 / n2);
    return variance > 0 ? (a / n1 - b / n2) / Math.sqrt(variance) : 0;
  };
  const observed = Math.abs(wald(x1, x2)) - 1e-12;
  const extreme: [number, number][] = [];
  for (let a = 0; a <= n1; a++) for (let b = 0; b <= n2; b++) if (Math.abs(wald(a, b)) >= observed) extreme.push([a, b]);
  const c1 = Array.from({ length: n1 + 1 }, (_, k) => Math.exp(logChoose(n1, k)));
  const c2 = Array.from({ length: n2 + 1 }, (_, k) => Math.exp(logChoose(n2, k)));
  const chance = (pi: number): number => {
    let sum = 0;
    for (const [a, b] of extreme) sum += c1[a]! * c2[b]! * pi ** (a + b) * (1 - pi) ** (n1 + n2 - a - b);
    return sum;
  };
  let best = 0;
  let at = 0;
  const steps = 400;
  for (let i = 0; i <= steps; i++) {
    const value = chance(i / steps);
    if (value > best) [best, at] = [value, i / steps];
  }
  // Golden-section search on the bracket around the best grid point.
  let lo = Math.max(0, at - 1 / steps);
  let hi = Math.min(1, at + 1 / steps);
  for (let i = 0; i < 60; i++) {
    const m1 = hi - (hi - lo) / 1.618033988749895;
    const m2 = lo + (hi - lo) / 1.618033988749895;
    if (chance(m1) < chance(m2)) lo = m1;
    else hi = m2;
  }
  return Math.min(1, Math.max(best, chance((lo + hi) / 2)));
}

/** Benjamini–Hochberg q-values (adjusted p-values), in the order given. */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const q = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const [p, index] = order[rank - 1]!;
    running = Math.min(running, (p * m) / rank);
    q[index] = running;
  }
  return q;
}
