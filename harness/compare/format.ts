// The comparison as terminal text: verdict first, then the numbers a reviewer checks, then
// the tasks that moved. Plain lines (no colour) so CI logs read the same.
import type { Comparison, KRow, TaskDelta, TaskSide } from './compare.ts';

const pts = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
/** A score difference in points: `−12.5 pts`. */
export const points = (x: number): string => `${pts(x)} pts`;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** `3/5` for a binary-looking side, `0.62 (4 ep)` otherwise is overkill: passes over valid epochs, errors noted. */
export function fraction(side: TaskSide): string {
  const errors = side.total - side.valid;
  return `${side.passes}/${side.valid}${errors ? ` (+${errors} err)` : ''}`;
}

export function taskLine(t: TaskDelta): string {
  return `${t.taskId}  base ${fraction(t.base)} → cand ${fraction(t.cand)}  (${pts(t.diff)} pts)${t.changed ? '  [task changed]' : ''}`;
}

export function formatComparison(c: Comparison, options: { top?: number } = {}): string {
  const top = options.top ?? 10;
  const lines: string[] = [];
  const epochs = Math.min(c.base.epochs, c.cand.epochs);
  const k = `${c.pairs} tasks × ${epochs} epoch${epochs === 1 ? '' : 's'}`;
  lines.push(`${c.verdict}  ${c.reasons[0] ?? ''}`);
  for (const reason of c.reasons.slice(1)) lines.push(`      ${reason}`);
  lines.push('');
  lines.push(`base       ${c.base.runId}  ${c.base.agent}${c.base.model ? ` ${c.base.model}` : ''}  (${c.base.kind} ${c.base.path})`);
  lines.push(`candidate  ${c.cand.runId}  ${c.cand.agent}${c.cand.model ? ` ${c.cand.model}` : ''}  (${c.cand.kind} ${c.cand.path})`);
  if (c.delta) {
    const level = Math.round(c.delta.level * 100);
    lines.push(`mean       ${pct(c.base.mean)} → ${pct(c.cand.mean)}   Δ ${pts(c.delta.mean)} pts, ${level}% CI [${pts(c.delta.ci[0])}, ${pts(c.delta.ci[1])}] (paired t over ${k})`);
    if (c.bootstrap) lines.push(`           task bootstrap ${level}% CI [${pts(c.bootstrap.ci[0])}, ${pts(c.bootstrap.ci[1])}] (B=${c.bootstrap.samples}, seed ${c.bootstrap.seed})`);
  }
  if (c.mcnemar) lines.push(`McNemar    ${c.mcnemar.b} broke, ${c.mcnemar.c} fixed, exact p = ${c.mcnemar.p.toPrecision(3)}`);
  lines.push(`errors     base ${c.base.errors}/${c.base.samples}, candidate ${c.cand.errors}/${c.cand.samples}`);
  const rows = (name: string, krows: readonly KRow[]): void => {
    if (krows.length) lines.push(`${name.padEnd(11)}${krows.map((r) => `k=${r.k} ${pct(r.base)} → ${pct(r.cand)} (${pts(r.delta)})`).join('   ')}`);
  };
  rows('pass@k', c.passAtK);
  rows('pass^k', c.passHatK);
  lines.push(...usageLines(c));
  if (c.newlyBroken.length) {
    lines.push('', `newly broken (${c.newlyBroken.length}):`);
    for (const t of c.newlyBroken.slice(0, top)) lines.push(`  ${taskLine(t)}`);
    if (c.newlyBroken.length > top) lines.push(`  … and ${c.newlyBroken.length - top} more`);
  }
  if (c.flagged.length) {
    lines.push('', `changed on their own (Barnard's exact test, BH q < 0.1; ${c.flagged.length}):`);
    for (const t of c.flagged.slice(0, top)) lines.push(`  ${taskLine(t)}  q=${t.barnard!.q.toPrecision(2)}`);
  }
  const down = c.tasks.filter((t) => t.diff < 0).slice(0, top);
  const up = c.tasks.filter((t) => t.diff > 0).reverse().slice(0, top);
  if (down.length) lines.push('', 'most regressed:', ...down.map((t) => `  ${taskLine(t)}`));
  if (up.length) lines.push('', 'most improved:', ...up.map((t) => `  ${taskLine(t)}`));
  const { baseOnly, candOnly, noValidEpoch } = c.unpaired;
  if (baseOnly.length || candOnly.length || noValidEpoch.length) {
    lines.push('', `not paired: ${baseOnly.length} only in base, ${candOnly.length} only in candidate, ${noValidEpoch.length} without a valid epoch in an arm`);
  }
  return `${lines.join('\n')}\n`;
}

/** Cost, tokens and time per sample, base → candidate, with the relative change. */
export function usageLines(c: Comparison): string[] {
  const out: string[] = [];
  const change = (b: number, n: number): string => (b > 0 ? ` (${n >= b ? '+' : '−'}${Math.abs(((n - b) / b) * 100).toFixed(0)}%)` : '');
  if (c.base.costUsd !== undefined || c.cand.costUsd !== undefined) {
    const b = c.base.costUsd ?? 0;
    const n = c.cand.costUsd ?? 0;
    out.push(`cost       $${b.toFixed(4)} → $${n.toFixed(4)} per sample${change(b, n)}`);
  }
  if (c.base.tokens !== undefined || c.cand.tokens !== undefined) {
    const b = c.base.tokens ?? 0;
    const n = c.cand.tokens ?? 0;
    out.push(`tokens     ${Math.round(b)} → ${Math.round(n)} per sample${change(b, n)}`);
  }
  out.push(`time       ${(c.base.durationMs / 1000).toFixed(1)} s → ${(c.cand.durationMs / 1000).toFixed(1)} s per sample${change(c.base.durationMs, c.cand.durationMs)}`);
  return out;
}
