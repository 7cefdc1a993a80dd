// The paired comparison of two arms (a baseline and a candidate) and its verdict. The unit is
// the task: each task's score is the mean over its valid epochs, the two arms are paired by
// task, and the gate is a t interval of the mean per-task difference. Epochs are never pooled
// as independent samples (they share a task, so they are not independent).
// The rules follow ../shared/reference/ci-regression.md §5.
import { passAtK } from '../../scorers/metrics.ts';
import { type Arm, type TaskResults, validEpochs } from './arm.ts';
import { points as pts } from './format.ts';
import { barnardExact, benjaminiHochberg, type BootstrapInterval, clusterBootstrap, mcnemarExact, pairedDifference, passHatK, tasksNeeded } from './stats.ts';

export type Verdict = 'PASS' | 'WARN' | 'FAIL' | 'INVALID';

export interface CompareOptions {
  /** Two-sided confidence level of the interval. @default 0.95 */
  readonly confidence?: number;
  /** FAIL when the interval lies entirely below −failDelta. @default 0 (significantly worse) */
  readonly failDelta?: number;
  /** WARN when the interval reaches below −warnDelta: that drop cannot be ruled out. @default 0.05 */
  readonly warnDelta?: number;
  /** INVALID with fewer tasks valid in both arms. @default 10 */
  readonly minPairs?: number;
  /** INVALID when either arm has a larger share of error samples. @default 0.1 */
  readonly maxErrorRate?: number;
  /** Which interval gates: the t interval over tasks, or the seeded task bootstrap. @default 't' */
  readonly interval?: 't' | 'bootstrap';
  /** Resamples and seed of the task bootstrap (computed when `interval` is 'bootstrap' or `bootstrap` is set). */
  readonly bootstrap?: { readonly samples?: number; readonly seed?: number };
  /** Power the WARN sizing advice aims for. @default 0.8 */
  readonly power?: number;
}

export const COMPARE_DEFAULTS = { confidence: 0.95, failDelta: 0, warnDelta: 0.05, minPairs: 10, maxErrorRate: 0.1, interval: 't', power: 0.8 } as const;

export interface ArmSide {
  readonly path: string;
  readonly kind: Arm['kind'];
  readonly runId: string;
  readonly agent: string;
  readonly model?: string;
  /** Epochs per task (K). */
  readonly epochs: number;
  readonly tasks: number;
  readonly samples: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly pending: number;
  /** Mean of per-task means over the paired tasks. */
  readonly mean: number;
  /** Per sample of the paired tasks, where the bridge counted them. */
  readonly costUsd?: number;
  readonly tokens?: number;
  readonly durationMs: number;
}

export interface TaskSide {
  readonly passes: number;
  /** Valid (pass or fail) epochs. */
  readonly valid: number;
  /** Every epoch with a result, errors included. */
  readonly total: number;
  readonly mean: number;
}

export interface TaskDelta {
  readonly taskId: string;
  readonly suite: string;
  readonly base: TaskSide;
  readonly cand: TaskSide;
  /** cand.mean − base.mean. */
  readonly diff: number;
  /** The task's digest differs between the arms: it was edited, so the pair compares different tasks. */
  readonly changed?: boolean;
  /** With at least 5 valid epochs in both arms: Barnard's exact p of the passes, and its Benjamini–Hochberg q over those tasks. */
  readonly barnard?: { readonly p: number; readonly q: number };
}

export interface KRow {
  readonly k: number;
  readonly base: number;
  readonly cand: number;
  readonly delta: number;
  /** Tasks with at least k valid epochs in both arms. */
  readonly tasks: number;
}

export interface Sizing {
  /** The drop the advice is for (warnDelta). */
  readonly delta: number;
  readonly power: number;
  /** Tasks needed at each epoch count: the current K first. */
  readonly options: readonly { readonly tasks: number; readonly epochs: number }[];
}

export interface Comparison {
  readonly verdict: Verdict;
  /** Why, one line each: the first says what decided the verdict. */
  readonly reasons: readonly string[];
  readonly options: Required<Omit<CompareOptions, 'bootstrap'>> & { readonly bootstrap?: { readonly samples: number; readonly seed: number } };
  readonly base: ArmSide;
  readonly cand: ArmSide;
  /** Tasks valid in both arms. */
  readonly pairs: number;
  /** The paired mean difference (cand − base) with its t interval; absent without pairs. */
  readonly delta?: { readonly mean: number; readonly stderr: number; readonly ci: readonly [number, number]; readonly level: number };
  readonly bootstrap?: BootstrapInterval;
  /** The interval the verdict used. */
  readonly gate?: readonly [number, number];
  /** With WARN: how large a run would rule out a drop of warnDelta. */
  readonly sizing?: Sizing;
  /** Paired tasks, most regressed first. */
  readonly tasks: readonly TaskDelta[];
  /** All valid epochs passed in the base, none in the candidate (K/K → 0/K). */
  readonly newlyBroken: readonly TaskDelta[];
  /** The reverse (0/K → K/K). */
  readonly newlyFixed: readonly TaskDelta[];
  /** Tasks whose own change is significant (Barnard, BH q < 0.1; K ≥ 5): not gating, a pointer to look. */
  readonly flagged: readonly TaskDelta[];
  readonly unpaired: { readonly baseOnly: readonly string[]; readonly candOnly: readonly string[]; readonly noValidEpoch: readonly string[] };
  readonly passAtK: readonly KRow[];
  readonly passHatK: readonly KRow[];
  /** With one valid epoch per task in both arms and pass/fail outcomes. */
  readonly mcnemar?: { readonly b: number; readonly c: number; readonly p: number };
}

export function compareArms(base: Arm, cand: Arm, options: CompareOptions = {}): Comparison {
  const o = { ...COMPARE_DEFAULTS, ...withoutUndefined(options) };
  const bootstrapWanted = o.interval === 'bootstrap' || options.bootstrap !== undefined;
  const bootstrapOptions = bootstrapWanted ? { samples: options.bootstrap?.samples ?? 5000, seed: options.bootstrap?.seed ?? 1 } : undefined;
  const resolved = { confidence: o.confidence, failDelta: o.failDelta, warnDelta: o.warnDelta, minPairs: o.minPairs, maxErrorRate: o.maxErrorRate, interval: o.interval, power: o.power, ...(bootstrapOptions ? { bootstrap: bootstrapOptions } : {}) };

  const baseTasks = new Map(base.tasks.map((t) => [t.taskId, t]));
  const candTasks = new Map(cand.tasks.map((t) => [t.taskId, t]));
  const pairedTasks: [TaskResults, TaskResults][] = [];
  const noValidEpoch: string[] = [];
  for (const [id, b] of baseTasks) {
    const c = candTasks.get(id);
    if (!c) continue;
    if (validEpochs(b).length && validEpochs(c).length) pairedTasks.push([b, c]);
    else noValidEpoch.push(id);
  }
  const tasks = withTaskFlags(
    pairedTasks.map(([b, c]): TaskDelta => {
      const bs = side(b);
      const cs = side(c);
      return { taskId: b.taskId, suite: c.suite, base: bs, cand: cs, diff: cs.mean - bs.mean, ...(b.digest && c.digest && b.digest !== c.digest ? { changed: true } : {}) };
    }),
  ).sort((x, y) => x.diff - y.diff || (x.taskId < y.taskId ? -1 : 1));
  const pairs = tasks.length;
  const pairedIds = new Set(tasks.map((t) => t.taskId));
  const baseSide = armSide(base, pairedIds, tasks.map((t) => t.base.mean));
  const candSide = armSide(cand, pairedIds, tasks.map((t) => t.cand.mean));

  const diffs = tasks.map((t) => t.diff);
  const t = pairs ? pairedDifference(diffs, o.confidence) : undefined;
  const bootstrap = pairs && bootstrapOptions ? clusterBootstrap(diffs, { ...bootstrapOptions, level: o.confidence }) : undefined;
  const gate = o.interval === 'bootstrap' ? bootstrap?.ci : t?.ci;

  const reasons: string[] = [];
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  for (const [name, arm] of [['base', baseSide], ['candidate', candSide]] as const) {
    if (arm.errorRate > o.maxErrorRate) reasons.push(`${name} has ${arm.errors} error sample(s) of ${arm.samples} (${pct(arm.errorRate)}), more than --max-error-rate ${pct(o.maxErrorRate)}: resume or re-run it`);
  }
  if (pairs < o.minPairs) reasons.push(`only ${pairs} task(s) have a valid epoch in both arms, fewer than --min-pairs ${o.minPairs}`);
  let verdict: Verdict;
  const size = (x: number): string => `${(x * 100).toFixed(1)} pts`;
  let sizing: Sizing | undefined;
  if (reasons.length || !gate) {
    verdict = 'INVALID';
  } else if (gate[1] < -o.failDelta) {
    verdict = 'FAIL';
    reasons.push(`the candidate is worse: the ${Math.round(o.confidence * 100)}% interval of Δ [${pts(gate[0])}, ${pts(gate[1])}] lies below ${o.failDelta ? pts(-o.failDelta) : '0'}`);
  } else if (gate[0] < -o.warnDelta) {
    verdict = 'WARN';
    sizing = sizingFor(tasks, base.epochs, cand.epochs, o.warnDelta, o.power, 1 - o.confidence);
    const need = sizing.options.map((s) => `${s.tasks} tasks × ${s.epochs} epochs`).join(' or ');
    reasons.push(`inconclusive: the interval [${pts(gate[0])}, ${pts(gate[1])}] cannot rule out a drop of ${size(o.warnDelta)}; ruling it out at ${Math.round(o.power * 100)}% power needs about ${need} (this run: ${pairs} × ${Math.min(base.epochs, cand.epochs)})`);
  } else {
    verdict = 'PASS';
    reasons.push(`no regression: the interval [${pts(gate[0])}, ${pts(gate[1])}] rules out a drop of more than ${size(o.warnDelta)}`);
  }
  const changed = tasks.filter((x) => x.changed).map((x) => x.taskId);
  if (changed.length) reasons.push(`${changed.length} task(s) changed between the arms (different digests): ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}`);
  for (const [name, arm] of [['base', baseSide], ['candidate', candSide]] as const) {
    if (arm.pending) reasons.push(`${name} run is unfinished: ${arm.pending} sample(s) without a result (cagebench resume ${arm.path})`);
  }

  const allPassed = (s: TaskSide): boolean => s.valid === s.total && s.passes === s.valid;
  return {
    verdict,
    reasons,
    options: resolved,
    base: baseSide,
    cand: candSide,
    pairs,
    ...(t ? { delta: { mean: t.mean, stderr: t.stderr, ci: t.ci, level: t.level } } : {}),
    ...(bootstrap ? { bootstrap } : {}),
    ...(gate ? { gate } : {}),
    ...(sizing ? { sizing } : {}),
    tasks,
    newlyBroken: tasks.filter((x) => allPassed(x.base) && x.cand.passes === 0),
    newlyFixed: tasks.filter((x) => x.base.passes === 0 && allPassed(x.cand)).reverse(),
    flagged: tasks.filter((x) => x.barnard && x.barnard.q < FLAG_Q),
    unpaired: {
      baseOnly: [...baseTasks.keys()].filter((id) => !candTasks.has(id)).sort(),
      candOnly: [...candTasks.keys()].filter((id) => !baseTasks.has(id)).sort(),
      noValidEpoch: noValidEpoch.sort(),
    },
    passAtK: kRows(pairedTasks, passAtK),
    passHatK: kRows(pairedTasks, passHatK),
    ...mcnemarOf(pairedTasks),
  };
}

/** Per-task flags need enough epochs to say anything about one task (§5: K ≥ 5). */
const FLAG_MIN_EPOCHS = 5;
const FLAG_Q = 0.1;

/** Barnard's exact test per task with K ≥ 5 in both arms, corrected for the number of such tasks. */
function withTaskFlags(tasks: readonly TaskDelta[]): TaskDelta[] {
  const eligible = tasks.filter((t) => t.base.valid >= FLAG_MIN_EPOCHS && t.cand.valid >= FLAG_MIN_EPOCHS);
  const p = eligible.map((t) => barnardExact(t.base.passes, t.base.valid, t.cand.passes, t.cand.valid));
  const q = benjaminiHochberg(p);
  const flags = new Map(eligible.map((t, i) => [t, { p: p[i]!, q: q[i]! }]));
  return tasks.map((t) => (flags.has(t) ? { ...t, barnard: flags.get(t)! } : t));
}

function side(task: TaskResults): TaskSide {
  const valid = validEpochs(task);
  return { passes: valid.filter((e) => e.outcome === 'pass').length, valid: valid.length, total: task.epochs.length, mean: valid.reduce((s, e) => s + (e.score ?? 0), 0) / valid.length };
}

function armSide(arm: Arm, paired: ReadonlySet<string>, means: readonly number[]): ArmSide {
  const samples = arm.tasks.flatMap((t) => t.epochs);
  const errors = samples.filter((e) => e.outcome === 'error').length;
  const pairedSamples = arm.tasks.filter((t) => paired.has(t.taskId)).flatMap((t) => t.epochs);
  const perSample = (values: readonly (number | undefined)[]): number | undefined => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length ? known.reduce((s, v) => s + v, 0) / known.length : undefined;
  };
  const costUsd = perSample(pairedSamples.map((e) => e.costUsd));
  const tokens = perSample(pairedSamples.map((e) => e.tokens));
  return {
    path: arm.path,
    kind: arm.kind,
    runId: arm.runId,
    agent: arm.agent,
    ...(arm.model ? { model: arm.model } : {}),
    epochs: arm.epochs,
    tasks: arm.tasks.length,
    samples: samples.length,
    errors,
    errorRate: samples.length ? errors / samples.length : 0,
    pending: arm.pending,
    mean: means.length ? means.reduce((s, m) => s + m, 0) / means.length : Number.NaN,
    ...(costUsd !== undefined ? { costUsd } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    durationMs: perSample(pairedSamples.map((e) => e.durationMs)) ?? 0,
  };
}

/** pass@k or pass^k for k = 1…K, averaged over the tasks with at least k valid epochs in both arms. */
function kRows(pairs: readonly [TaskResults, TaskResults][], estimate: (n: number, c: number, k: number) => number): KRow[] {
  const counts = pairs.map(([b, c]) => [side(b), side(c)] as const);
  const top = Math.max(0, ...counts.map(([b, c]) => Math.min(b.valid, c.valid)));
  const rows: KRow[] = [];
  for (let k = 1; k <= top; k++) {
    const eligible = counts.filter(([b, c]) => b.valid >= k && c.valid >= k);
    const mean = (pick: (x: readonly [TaskSide, TaskSide]) => TaskSide): number => eligible.reduce((s, x) => s + estimate(pick(x).valid, pick(x).passes, k), 0) / eligible.length;
    const b = mean((x) => x[0]);
    const c = mean((x) => x[1]);
    rows.push({ k, base: b, cand: c, delta: c - b, tasks: eligible.length });
  }
  return rows;
}

function mcnemarOf(pairs: readonly [TaskResults, TaskResults][]): { mcnemar?: Comparison['mcnemar'] } {
  if (!pairs.length || !pairs.every(([b, c]) => validEpochs(b).length === 1 && validEpochs(c).length === 1)) return {};
  let b = 0;
  let c = 0;
  for (const [x, y] of pairs) {
    const basePass = validEpochs(x)[0]!.outcome === 'pass';
    const candPass = validEpochs(y)[0]!.outcome === 'pass';
    if (basePass && !candPass) b++;
    if (!basePass && candPass) c++;
  }
  return { mcnemar: { b, c, p: mcnemarExact(b, c) } };
}

/**
 * Tasks needed to rule out a drop of `delta`, from the data's own variances: σ² within a task
 * (the mean sample variance of its epochs' scores, per arm) and ω² across tasks (what is left
 * of Var(d_i) after the within-task part). With one epoch the two cannot be told apart, so
 * only the current K is advised.
 */
function sizingFor(tasks: readonly TaskDelta[], baseK: number, candK: number, delta: number, power: number, alpha: number): Sizing {
  const k = Math.max(1, Math.min(baseK, candK));
  const diffs = tasks.map((t) => t.diff);
  const meanDiff = diffs.reduce((s, d) => s + d, 0) / diffs.length;
  const varD = diffs.length > 1 ? diffs.reduce((s, d) => s + (d - meanDiff) ** 2, 0) / (diffs.length - 1) : 0;
  const within = (pick: (t: TaskDelta) => TaskSide): number => {
    // Binary epochs: the unbiased within-task variance from passes of valid epochs.
    const usable = tasks.map(pick).filter((s) => s.valid > 1);
    if (!usable.length) return 0;
    return usable.reduce((s, x) => s + (x.mean * (1 - x.mean) * x.valid) / (x.valid - 1), 0) / usable.length;
  };
  const sigma2Base = k > 1 ? within((t) => t.base) : 0;
  const sigma2Cand = k > 1 ? within((t) => t.cand) : 0;
  const omega2 = Math.max(0, varD - (sigma2Base + sigma2Cand) / k);
  const epochs = k > 1 ? [...new Set([k, 5, 10].filter((e) => e >= k))] : [k];
  return {
    delta,
    power,
    options: epochs.map((e) => ({ epochs: e, tasks: Math.max(2, tasksNeeded({ delta, epochs: e, omega2, sigma2Base, sigma2Cand, alpha, power })) })),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
