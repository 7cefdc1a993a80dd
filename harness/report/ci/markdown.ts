// The Markdown a person reads in CI, shared by the GitHub step summary and the sticky pull
// request comment so both say the same thing the same way: the verdict first, then Δ with its
// interval and N × K, the tasks that moved most, pass@k and pass^k, cost/tokens/time, and the
// full tables folded in <details>. Both surfaces have a size limit, so rendering takes one and
// gives up detail in order: the full tables' rows first, then the full tables, then the top
// lists, saying what it left out.
import type { Comparison, KRow, TaskDelta, TaskSide, Verdict } from '../../compare/compare.ts';
import type { RunView } from '../../log/reader.ts';
import type { ResultRecord } from '../../log/schema.ts';
import { pendingSamples } from './ids.ts';

export const VERDICT_EMOJI: Readonly<Record<Verdict, string>> = { PASS: '✅', WARN: '⚠️', FAIL: '❌', INVALID: '⛔' };

export interface MarkdownInput {
  /** The run the report is about (the candidate, with a comparison). */
  readonly view: RunView;
  readonly comparison?: Comparison;
  /** Where the HTML report (or the job's artifacts) can be opened. */
  readonly reportUrl?: string;
  /** Lines put first (a hidden marker). */
  readonly preamble?: string;
}

export interface MarkdownLimit {
  readonly max: number;
  /** Size of a text in the limit's unit (characters, bytes). */
  readonly measure: (text: string) => number;
  /** The limit, as the trimming note names it. */
  readonly name: string;
}

interface Shape {
  /** Rows kept of each full table; Infinity for all. */
  readonly detailRows: number;
  readonly details: boolean;
  /** Rows of the top regressions/improvements tables. */
  readonly top: number;
}

const FULL: Shape = { detailRows: Number.POSITIVE_INFINITY, details: true, top: 10 };

/** The report, as large as `limit` allows. */
export function renderMarkdown(input: MarkdownInput, limit: MarkdownLimit): string {
  const fits = (text: string): boolean => limit.measure(text) <= limit.max;
  const tables = fullTables(input);
  const render = (shape: Shape): string => renderShape(input, tables, shape, limit.name);
  const full = render(FULL);
  if (fits(full)) return full;
  // The most rows each full table can keep (binary search: rendering is linear).
  const most = Math.max(0, ...tables.map((t) => t.rows.length));
  let lo = 0;
  let hi = most;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(render({ ...FULL, detailRows: mid }))) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0) return render({ ...FULL, detailRows: lo });
  for (const top of [10, 5, 3, 0]) {
    const text = render({ detailRows: 0, details: false, top });
    if (fits(text)) return text;
  }
  return hardCut(render({ detailRows: 0, details: false, top: 0 }), limit);
}

function renderShape(input: MarkdownInput, tables: readonly FullTable[], shape: Shape, limitName: string): string {
  const { view, comparison: c } = input;
  const out: string[] = [];
  if (input.preamble) out.push(input.preamble);
  if (c) out.push(...comparisonHead(c, shape.top));
  out.push(...runSection(view, Boolean(c)));
  if (c) out.push(...usageSection(c));
  if (input.reportUrl) out.push(`📊 [Open the HTML report](${input.reportUrl.replace(/[()\s]/g, encodeURIComponent)})`, '');
  if (shape.details) {
    for (const table of tables) {
      if (!table.rows.length) continue;
      const kept = table.rows.slice(0, shape.detailRows);
      const more = table.rows.length - kept.length;
      out.push(`<details><summary>${table.title} (${table.rows.length})</summary>`, '', table.header, ...kept);
      if (more) out.push('', `… ${more} more row(s) left out.`);
      out.push('', '</details>', '');
    }
  }
  if (shape !== FULL) {
    out.push(`> [!NOTE]\n> Trimmed to stay under ${limitName}: ${shape.details ? `the full tables show their first ${shape.detailRows} rows` : 'the full tables are left out'}. The CTRF and JUnit files and the run directory have every task.`, '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function comparisonHead(c: Comparison, top: number): string[] {
  const out: string[] = [];
  out.push(`## ${VERDICT_EMOJI[c.verdict]} cagebench: ${c.verdict}`, '');
  out.push(`**${inline(c.reasons[0] ?? c.verdict)}**`, '');
  for (const reason of c.reasons.slice(1)) out.push(`- ${inline(reason)}`);
  if (c.reasons.length > 1) out.push('');
  out.push(deltaLine(c), '');
  out.push(`base \`${code(c.base.runId)}\` (${inline(armName(c.base))}) → candidate \`${code(c.cand.runId)}\` (${inline(armName(c.cand))})`, '');
  if (c.newlyBroken.length) out.push(`🔴 **${c.newlyBroken.length} newly broken** (all epochs passed before, none now)${c.newlyFixed.length ? ` · 🟢 ${c.newlyFixed.length} newly fixed` : ''}`, '');
  else if (c.newlyFixed.length) out.push(`🟢 ${c.newlyFixed.length} newly fixed (no epoch passed before, all now)`, '');
  if (top > 0) {
    const down = c.tasks.filter((t) => t.diff < 0).slice(0, top);
    const up = c.tasks.filter((t) => t.diff > 0).reverse().slice(0, top);
    if (down.length) out.push('### Top regressions', '', TASK_HEADER, ...down.map(taskRow), '');
    if (up.length) out.push('### Top improvements', '', TASK_HEADER, ...up.map(taskRow), '');
  }
  if (c.passAtK.length) out.push(...kTable(c.passAtK, c.passHatK), '');
  return out;
}

/** `**Δ −4.2 pts** (95% CI [−7.0, −1.4]) · mean 61.0% → 56.8% · 120 tasks × 5 epochs` */
export function deltaLine(c: Comparison): string {
  const k = c.base.epochs === c.cand.epochs ? `${c.cand.epochs}` : `${Math.min(c.base.epochs, c.cand.epochs)} (base ${c.base.epochs}, candidate ${c.cand.epochs})`;
  const nk = `**${c.pairs} tasks × ${k} epochs**`;
  if (!c.delta) return `No paired Δ: ${nk} valid in both runs.`;
  const level = Math.round(c.delta.level * 100);
  const boot = c.bootstrap ? `, task bootstrap [${pts(c.bootstrap.ci[0])}, ${pts(c.bootstrap.ci[1])}]` : '';
  return `**Δ ${pts(c.delta.mean)} pts** (${level}% CI [${pts(c.delta.ci[0])}, ${pts(c.delta.ci[1])}]${boot}) · mean ${pct(c.base.mean)} → ${pct(c.cand.mean)} · ${nk}`;
}

const TASK_HEADER = '| Task | Base | Candidate | Δ pts |\n|---|---:|---:|---:|';

function taskRow(t: TaskDelta): string {
  return `| \`${code(t.taskId)}\`${t.changed ? ' ✏️ changed' : ''} | ${fraction(t.base)} | ${fraction(t.cand)} | ${pts(t.diff)} |`;
}

/** Passes over valid epochs, `3/5`, with the error epochs noted. */
export function fraction(side: TaskSide): string {
  const errors = side.total - side.valid;
  return `${side.passes}/${side.valid}${errors ? ` (+${errors} err)` : ''}`;
}

/** `base 5/5 → cand 0/5` */
export function movement(t: TaskDelta): string {
  return `base ${fraction(t.base)} → cand ${fraction(t.cand)}`;
}

function kTable(at: readonly KRow[], hat: readonly KRow[]): string[] {
  const rows = at.map((r, i) => {
    const h = hat[i];
    return `| ${r.k} | ${pct(r.base)} → ${pct(r.cand)} | ${pts(r.delta)} | ${h ? `${pct(h.base)} → ${pct(h.cand)}` : ''} | ${h ? pts(h.delta) : ''} | ${r.tasks} |`;
  });
  return ['| k | pass@k | Δ pts | pass^k | Δ pts | tasks |', '|---:|---:|---:|---:|---:|---:|', ...rows];
}

function usageSection(c: Comparison): string[] {
  const rows: string[] = [];
  const row = (name: string, b: number | undefined, n: number | undefined, show: (x: number) => string): void => {
    if (b === undefined && n === undefined) return;
    const change = b !== undefined && n !== undefined && b > 0 ? `${n >= b ? '+' : '−'}${Math.abs(((n - b) / b) * 100).toFixed(0)}%` : '';
    rows.push(`| ${name} | ${b === undefined ? '—' : show(b)} | ${n === undefined ? '—' : show(n)} | ${change} |`);
  };
  row('cost per sample', c.base.costUsd, c.cand.costUsd, (x) => `$${x.toFixed(4)}`);
  row('tokens per sample', c.base.tokens, c.cand.tokens, (x) => Math.round(x).toLocaleString('en-US'));
  row('time per sample', c.base.durationMs, c.cand.durationMs, (x) => `${(x / 1000).toFixed(1)} s`);
  rows.push(`| error samples | ${c.base.errors}/${c.base.samples} | ${c.cand.errors}/${c.cand.samples} | |`);
  return ['| | Base | Candidate | Change |', '|---|---:|---:|---:|', ...rows, ''];
}

/** The run's own outcome: counts and score. With a comparison, one line; alone, the heading too. */
function runSection(view: RunView, compared: boolean): string[] {
  const counts = { pass: 0, fail: 0, error: 0 };
  for (const r of view.results) counts[r.outcome]++;
  const pending = pendingSamples(view).length;
  const s = view.summary?.score ?? scoreOf(view.results);
  const epochs = view.run.config.epochs ?? 1;
  const who = `${view.run.config.agent}${view.run.config.model ? ` · ${view.run.config.model}` : ''}`;
  const kinds = Object.entries(errorKinds(view.results)).map(([k, n]) => `${k} ${n}`).join(', ');
  const table = [
    '| Pass | Fail | Error | Pending | Mean score |',
    '|---:|---:|---:|---:|---:|',
    `| ${counts.pass} | ${counts.fail} | ${counts.error}${kinds ? ` (${kinds})` : ''} | ${pending} | ${s.n ? `${s.mean.toFixed(3)} ± ${s.stderr.toFixed(3)}` : '—'} |`,
  ];
  const tools = toolCallsLine(view.results);
  const after = tools ? [tools, ''] : [];
  if (compared) return [`**Candidate run** \`${code(view.run.runId)}\` (${inline(who)}, ${view.run.tasks.length} tasks × ${epochs} epochs):`, '', ...table, '', ...after];
  const status = view.summary ? view.summary.status : 'running or crashed (no summary.json)';
  return [`## cagebench run \`${code(view.run.runId)}\``, '', `${inline(who)} · ${view.run.tasks.length} tasks × ${epochs} epochs · ${status}`, '', ...table, '', ...after];
}

/** `Host tool calls: **5** (1 failed) in 3 sample(s) · \`secret_value\` 4, \`lookup\` 1`; undefined when no sample called one. */
export function toolCallsLine(results: readonly ResultRecord[]): string | undefined {
  let count = 0;
  let errors = 0;
  let refused = 0;
  let samples = 0;
  const byTool = new Map<string, number>();
  for (const r of results) {
    if (!r.toolCalls?.count) continue;
    samples++;
    count += r.toolCalls.count;
    errors += r.toolCalls.errors;
    refused += r.toolCalls.refused ?? 0;
    for (const [tool, n] of Object.entries(r.toolCalls.byTool)) byTool.set(tool, (byTool.get(tool) ?? 0) + n);
  }
  if (!count) return undefined;
  const tools = [...byTool].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([tool, n]) => `\`${code(tool)}\` ${n}`);
  const notes = [errors ? `${errors} failed` : '', refused ? `${refused} refused over the limit` : ''].filter(Boolean).join(', ');
  return `Host tool calls: **${count}**${notes ? ` (${notes})` : ''} in ${samples} sample(s) · ${tools.join(', ')}`;
}

interface FullTable {
  readonly title: string;
  readonly header: string;
  readonly rows: readonly string[];
}

/** What the <details> hold: every regressed and improved task, the unpaired ones, the samples that did not pass. */
function fullTables(input: MarkdownInput): FullTable[] {
  const c = input.comparison;
  const tables: FullTable[] = [];
  if (c) {
    tables.push({ title: 'All regressed tasks', header: TASK_HEADER, rows: c.tasks.filter((t) => t.diff < 0).map(taskRow) });
    tables.push({ title: 'All improved tasks', header: TASK_HEADER, rows: c.tasks.filter((t) => t.diff > 0).reverse().map(taskRow) });
    const unpaired = [
      ...c.unpaired.baseOnly.map((id) => `| \`${code(id)}\` | only in base |`),
      ...c.unpaired.candOnly.map((id) => `| \`${code(id)}\` | only in candidate |`),
      ...c.unpaired.noValidEpoch.map((id) => `| \`${code(id)}\` | no valid epoch in an arm |`),
    ];
    tables.push({ title: 'Tasks not compared', header: '| Task | Why |\n|---|---|', rows: unpaired });
  }
  const bad = input.view.results.filter((r) => r.outcome !== 'pass').sort((a, b) => (a.outcome === b.outcome ? 0 : a.outcome === 'error' ? -1 : 1));
  tables.push({ title: 'Samples that did not pass', header: '| Sample | Outcome | Score | Why |\n|---|---|---:|---|', rows: bad.map(sampleRow) });
  return tables;
}

function sampleRow(r: ResultRecord): string {
  const why = r.outcome === 'error' ? `${r.error?.kind ?? 'error'}: ${r.error?.message ?? ''}` : (r.attempts.at(-1)?.explanation ?? '');
  const line = why.split('\n').find((l) => l.trim())?.trim() ?? '';
  const short = line.length > 160 ? `${line.slice(0, 159)}…` : line;
  return `| \`${code(r.sampleId)}\` | ${r.outcome}${r.error ? ` (${r.error.kind})` : ''} | ${r.score === undefined ? '—' : r.score.toFixed(2)} | ${cell(short)} |`;
}

function scoreOf(results: readonly ResultRecord[]): { mean: number; stderr: number; n: number } {
  const scores = results.filter((r) => r.outcome !== 'error').map((r) => r.score ?? (r.outcome === 'pass' ? 1 : 0));
  const n = scores.length;
  if (!n) return { mean: 0, stderr: 0, n: 0 };
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? scores.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, stderr: Math.sqrt(variance / n), n };
}

function errorKinds(results: readonly ResultRecord[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const r of results) if (r.outcome === 'error') kinds[r.error?.kind ?? 'error'] = (kinds[r.error?.kind ?? 'error'] ?? 0) + 1;
  return kinds;
}

function armName(side: Comparison['base']): string {
  return `${side.agent}${side.model ? ` · ${side.model}` : ''}, ${side.kind === 'baseline' ? 'baseline file' : 'run'}`;
}

/** Signed points with a real minus sign: `+1.2`, `−3.0`. */
export function pts(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
}

export function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—';
}

/** Text in a code span inside a table: backticks cannot close it, a pipe cannot end the cell. */
export function code(text: string): string {
  return text.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

/** Text in a table cell: no raw HTML, no cell breaks, one line. */
export function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

/** One line of text where raw HTML must not be taken as HTML (paths, messages from runs). */
export function inline(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[\r\n]+/g, ' ');
}

/** Last resort: whole lines up to the limit (the trimming note replaced by one saying so). */
function hardCut(text: string, limit: MarkdownLimit): string {
  const note = `\n\n> [!NOTE]\n> Cut to stay under ${limit.name}: the tables are left out. The CTRF and JUnit files and the run directory have every task.\n`;
  const lines = text.replace(/\n> \[!NOTE\][\s\S]*$/, '').split('\n');
  while (lines.length && limit.measure(lines.join('\n') + note) > limit.max) lines.pop();
  return lines.join('\n') + note;
}
