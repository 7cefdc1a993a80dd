// The report page: hash routes (#/matrix, #/samples?filter=fail, #/sample/<run>/<id>) drawn
// from data/index.js, with each sample's data script loaded when the sample is opened. Plain
// DOM, no framework; transpiled to app.js (a classic script: file:// pages cannot load modules).
import type { AttemptView, EventLine, HostToolCall, Matrix, MatrixCell, Outcome, ReportIndex, RunInfo, SampleData, SampleRow, TranscriptEntry } from '../types.ts';

declare global {
  interface Window {
    __cagebench: { index(data: ReportIndex): void; sample(key: string, data: SampleData): void };
  }
}

// --- state ------------------------------------------------------------------------------

let report: ReportIndex | undefined;
const runs = new Map<string, RunInfo>();
const samples = new Map<string, SampleRow>();
const loaded = new Map<string, SampleData>();
const waiting = new Map<string, { resolve: (d: SampleData) => void; reject: (e: Error) => void }>();
/** The rows the sample table showed last, in its order: ← and → on a sample page walk them. */
let lastList: SampleRow[] = [];
/** Where "← samples" goes back to: the table as it was last shown. */
let lastListHash = '#/samples';

window.__cagebench = {
  index(data) {
    report = data;
    for (const r of data.runs) runs.set(r.key, r);
    for (const s of data.samples) samples.set(keyOf(s), s);
    lastList = [...data.samples];
    route();
  },
  sample(key, data) {
    loaded.set(key, data);
    waiting.get(key)?.resolve(data);
    waiting.delete(key);
  },
};
window.addEventListener('hashchange', route);
document.addEventListener('keydown', onKey);

const keyOf = (s: { run: string; id: string }): string => `${s.run}/${s.id}`;

function loadSample(row: SampleRow): Promise<SampleData> {
  const key = keyOf(row);
  const have = loaded.get(key);
  if (have) return Promise.resolve(have);
  return new Promise((resolve, reject) => {
    const prior = waiting.get(key);
    waiting.set(key, {
      resolve: (d) => (prior?.resolve(d), resolve(d)),
      reject: (e) => (prior?.reject(e), reject(e)),
    });
    if (prior) return;
    const script = document.createElement('script');
    script.src = row.file.split('/').map(encodeURIComponent).join('/');
    script.onload = () => {
      script.remove();
      const w = waiting.get(key);
      if (w) (waiting.delete(key), w.reject(new Error(`${row.file} did not hold the data of ${key}`)));
    };
    script.onerror = () => {
      script.remove();
      const w = waiting.get(key);
      if (w) (waiting.delete(key), w.reject(new Error(`could not load ${row.file}: is the report directory complete?`)));
    };
    document.head.appendChild(script);
  });
}

// --- DOM helpers ------------------------------------------------------------------------

type Child = Node | string | number | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined | ((ev: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}
function append(el: Node, children: Child[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
}
const SVG = 'http://www.w3.org/2000/svg';
function s(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');
function fmtTokens(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
function fmtCost(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n === 0) return '$0';
  return n >= 1 ? `$${n.toFixed(2)}` : n >= 0.01 ? `$${n.toFixed(3)}` : `$${n.toFixed(4)}`;
}
function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const sec = ms / 1000;
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 1 : 0)} s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m} m ${Math.round(sec - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}
const fmtScore = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(2));
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const pts = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pts`;

function badge(outcome: Outcome | string, text: string = outcome): HTMLElement {
  return h('span', { class: `badge ${outcome}` }, text);
}

// --- routing ----------------------------------------------------------------------------

interface Route {
  readonly view: 'matrix' | 'samples' | 'sample';
  readonly params: URLSearchParams;
  readonly run?: string;
  readonly id?: string;
}

function parseHash(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = hash.split('?', 2);
  const params = new URLSearchParams(query);
  const parts = path.split('/').map((p) => decodeURIComponent(p));
  if (parts[0] === 'sample' && parts.length >= 3) return { view: 'sample', params, run: parts[1]!, id: parts.slice(2).join('/') };
  if (parts[0] === 'samples') return { view: 'samples', params };
  if (parts[0] === 'matrix' && report?.matrix) return { view: 'matrix', params };
  return { view: report?.matrix ? 'matrix' : 'samples', params };
}

const sampleHref = (s: { run: string; id: string }): string => `#/sample/${encodeURIComponent(s.run)}/${encodeURIComponent(s.id)}`;

function route(): void {
  if (!report) return;
  const r = parseHash();
  renderTop(r.view);
  const main = document.getElementById('main')!;
  main.replaceChildren();
  if (r.view === 'matrix') renderMatrixPage(main);
  else if (r.view === 'samples') renderSamplesPage(main, r.params);
  else void renderSamplePage(main, r.run!, r.id!);
}

function renderTop(view: Route['view']): void {
  const top = document.getElementById('top')!;
  const nav = h('nav', {});
  if (report!.matrix) nav.append(h('a', { href: '#/matrix', class: view === 'matrix' ? 'active' : undefined }, 'Matrix'));
  nav.append(h('a', { href: '#/samples', class: view !== 'matrix' ? 'active' : undefined }, `Samples (${fmtInt(report!.samples.length)})`));
  top.replaceChildren(h('div', { class: 'brand' }, h('strong', {}, 'cagebench'), ' report'), h('h1', {}, report!.title.replace(/^cagebench · /, '')), nav, h('span', { class: 'muted generated' }, `generated ${report!.generatedAt.replace('T', ' ').slice(0, 16)}`));
}

// --- run summary ------------------------------------------------------------------------

/** A mean with its interval on a 0–1 axis (widened when scores leave it). */
function errorBar(score: RunInfo['score'], domain: readonly [number, number]): SVGElement {
  const w = 170;
  const hgt = 22;
  const pad = 8;
  const x = (v: number): number => pad + ((v - domain[0]) / (domain[1] - domain[0] || 1)) * (w - 2 * pad);
  const svg = s('svg', { width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, class: 'errbar', role: 'img' });
  svg.append(s('line', { x1: x(domain[0]), x2: x(domain[1]), y1: hgt - 4, y2: hgt - 4, class: 'axis' }));
  for (const v of [domain[0], (domain[0] + domain[1]) / 2, domain[1]]) svg.append(s('line', { x1: x(v), x2: x(v), y1: hgt - 7, y2: hgt - 1, class: 'axis' }));
  if (!score) return svg;
  const [lo, hi] = score.ci;
  svg.append(s('title', {}, `mean ${score.mean.toFixed(3)}, 95% CI [${lo.toFixed(3)}, ${hi.toFixed(3)}], n = ${score.n}`));
  svg.append(s('rect', { x: x(lo), y: 5, width: Math.max(1, x(hi) - x(lo)), height: 8, class: 'ci' }));
  svg.append(s('line', { x1: x(lo), x2: x(lo), y1: 3, y2: 15, class: 'whisker' }));
  svg.append(s('line', { x1: x(hi), x2: x(hi), y1: 3, y2: 15, class: 'whisker' }));
  svg.append(s('circle', { cx: x(score.mean), cy: 9, r: 4, class: 'mean' }));
  return svg;
}

function renderRuns(): HTMLElement {
  const r = report!;
  const all = r.runs.flatMap((x) => (x.score ? [x.score.ci[0], x.score.ci[1]] : []));
  const domain: [number, number] = [Math.min(0, ...all), Math.max(1, ...all)];
  const comparisons = new Map(r.comparisons.map((c) => [c.run, c]));
  const withCompare = r.comparisons.length > 0;
  const withTools = r.runs.some((x) => x.toolCalls);
  const head = h('tr', {}, ...['Run', 'Mean score (95% CI)', '', 'Pass', 'Fail', 'Error', 'Tokens', 'Cost', 'Time', ...(withTools ? ['Host tool calls'] : []), ...(withCompare ? ['vs baseline'] : [])].map((t) => h('th', {}, t)));
  const body = h('tbody', {});
  for (const run of r.runs) {
    const c = comparisons.get(run.key);
    const sc = run.score;
    const cnt = run.counts;
    const link = (filter: string, n: number, cls: string): HTMLElement =>
      n && run.kind === 'run' ? h('a', { href: `#/samples?run=${run.key}&filter=${filter}`, class: `count ${cls}` }, fmtInt(n)) : h('span', { class: n ? `count ${cls}` : 'count zero' }, fmtInt(n));
    body.append(
      h(
        'tr',
        { class: run.baseline ? 'baseline' : undefined },
        h('td', { class: 'runname' }, h('div', {}, run.label, run.baseline ? h('span', { class: 'tag' }, 'baseline') : null), h('div', { class: 'muted small', title: run.path }, run.runId, run.status && run.status !== 'completed' ? ` · ${run.status}` : '', run.pending ? ` · ${run.pending} pending` : '', run.epochs > 1 ? ` · ${run.epochs} epochs` : '')),
        h('td', { class: 'num' }, sc ? h('span', {}, h('strong', {}, sc.mean.toFixed(3)), h('span', { class: 'muted small' }, ` [${sc.ci[0].toFixed(2)}, ${sc.ci[1].toFixed(2)}] n=${sc.n}`)) : '—'),
        h('td', {}, errorBar(sc, domain)),
        h('td', { class: 'num' }, link('pass', cnt.pass, 'pass')),
        h('td', { class: 'num' }, link('fail', cnt.fail, 'fail')),
        h('td', { class: 'num' }, link('error', cnt.error, 'error')),
        h('td', { class: 'num' }, fmtTokens(run.tokens)),
        h('td', { class: 'num' }, fmtCost(run.costUsd)),
        h('td', { class: 'num' }, fmtMs(run.durationMs)),
        withTools ? h('td', { class: 'num toolcalls' }, run.toolCalls ? `${fmtInt(run.toolCalls.count)}${run.toolCalls.errors ? ` (${fmtInt(run.toolCalls.errors)} failed)` : ''}` : '—') : null,
        withCompare
          ? h(
              'td',
              { class: 'compare' },
              c
                ? h('span', { title: c.reasons.join('\n') }, h('span', { class: `verdict ${c.verdict}` }, c.verdict), c.delta ? ` Δ ${pts(c.delta.mean)} [${(c.delta.ci[0] * 100).toFixed(1)}, ${(c.delta.ci[1] * 100).toFixed(1)}]` : '', c.newlyBroken.length ? h('span', { class: 'small fail-text' }, ` · ${c.newlyBroken.length} broken`) : '', c.newlyFixed.length ? h('span', { class: 'small pass-text' }, ` · ${c.newlyFixed.length} fixed`) : '')
                : run.baseline
                  ? h('span', { class: 'muted' }, 'the base')
                  : '',
            )
          : null,
      ),
    );
  }
  const reasons = r.comparisons.flatMap((c) => (c.reasons[0] ? [h('li', {}, h('strong', {}, runs.get(c.run)?.label ?? c.run), `: ${c.reasons[0]}`)] : []));
  return h('section', { class: 'runs' }, h('table', { class: 'runs' }, h('thead', {}, head), body), reasons.length ? h('ul', { class: 'reasons small' }, ...reasons) : null);
}

// --- matrix -----------------------------------------------------------------------------

function cellClass(c: MatrixCell): string {
  if (!c.valid) return 'cell err';
  if (c.mean >= 0.999) return 'cell c4';
  if (c.mean <= 0.001) return 'cell c0';
  return c.mean >= 0.66 ? 'cell c3' : c.mean >= 0.33 ? 'cell c2' : 'cell c1';
}

function renderMatrixPage(main: HTMLElement): void {
  const m: Matrix = report!.matrix!;
  const cols = m.columns.map((k) => runs.get(k)!);
  const changedRows = m.rows.filter((r) => r.change !== 0).length;
  const note = m.sortedBy === 'baseline' ? `Tasks sorted by change against the baseline: the largest drop first, then gains, then unchanged (${changedRows} of ${m.rows.length} changed).` : `Tasks sorted by the spread of their mean score across runs, widest first (${changedRows} of ${m.rows.length} differ).`;
  const head = h('tr', {}, h('th', {}, 'Task'), ...cols.map((c) => h('th', { class: 'colhead', title: `${c.runId}\n${c.path}` }, c.label, c.baseline ? h('div', { class: 'tag' }, 'baseline') : null)), h('th', {}, m.sortedBy === 'baseline' ? 'Change' : 'Spread'));
  const body = h('tbody', {});
  for (const row of m.rows) {
    const tr = h('tr', { class: row.change < 0 ? 'worse' : row.change > 0 && m.sortedBy === 'baseline' ? 'better' : undefined });
    tr.append(h('td', { class: 'task' }, h('a', { href: `#/samples?task=${encodeURIComponent(row.taskId)}` }, row.taskId)));
    row.cells.forEach((c, i) => {
      const run = cols[i]!;
      const d = row.diffs?.[i];
      if (!c) return tr.append(h('td', { class: 'cell none' }, '—'));
      const label = c.valid ? `${c.passes}/${c.valid}` : 'error';
      const extra = c.total > c.valid ? h('span', { class: 'small' }, ` +${c.total - c.valid} err`) : null;
      const arrow = d ? h('span', { class: d < 0 ? 'delta down' : 'delta up' }, d < 0 ? ` ▼${Math.abs(d).toFixed(2)}` : ` ▲${d.toFixed(2)}`) : null;
      const href = run.kind === 'run' ? `#/samples?run=${run.key}&task=${encodeURIComponent(row.taskId)}` : undefined;
      const title = `${row.taskId} · ${run.label}\n${c.passes} passed of ${c.valid} valid (${c.total} with a result), mean ${fmtScore(c.mean)}`;
      tr.append(h('td', { class: cellClass(c), title }, href ? h('a', { href }, label) : label, extra, arrow));
    });
    tr.append(h('td', { class: 'num' }, row.change ? (m.sortedBy === 'baseline' ? pts(row.change) : row.change.toFixed(2)) : h('span', { class: 'muted' }, '0')));
    body.append(tr);
  }
  main.append(renderRuns(), h('section', {}, h('h2', {}, 'Tasks × runs'), h('p', { class: 'muted small' }, note, ' Cells: passes / valid epochs; ▼▲ the change in mean score.'), h('div', { class: 'scroll' }, h('table', { class: 'matrix' }, h('thead', {}, head), body))));
}

// --- sample table -----------------------------------------------------------------------

type SortKey = 'run' | 'id' | 'task' | 'epoch' | 'outcome' | 'score' | 'attempts' | 'tokens' | 'cost' | 'time' | 'tools';
const COLUMNS: readonly { key: SortKey; label: string; num?: boolean }[] = [
  { key: 'run', label: 'Run' },
  { key: 'id', label: 'Sample' },
  { key: 'epoch', label: 'Epoch', num: true },
  { key: 'outcome', label: 'Outcome' },
  { key: 'score', label: 'Score', num: true },
  { key: 'attempts', label: 'Attempts', num: true },
  { key: 'tokens', label: 'Tokens', num: true },
  { key: 'cost', label: 'Cost', num: true },
  { key: 'time', label: 'Time', num: true },
  /** Only when some sample called a host tool. */
  { key: 'tools', label: 'Tool calls', num: true },
];
const FILTERS = ['all', 'pass', 'fail', 'error', 'changed'] as const;

function sortValue(s: SampleRow, k: SortKey): string | number {
  switch (k) {
    case 'run':
      return runs.get(s.run)?.label ?? s.run;
    case 'id':
      return s.id;
    case 'task':
      return s.task;
    case 'epoch':
      return s.epoch;
    case 'outcome':
      return s.outcome === 'error' ? 0 : s.outcome === 'fail' ? 1 : 2;
    case 'score':
      return s.score ?? -Infinity;
    case 'attempts':
      return s.attempts;
    case 'tokens':
      return s.tokens ?? -1;
    case 'cost':
      return s.costUsd ?? -1;
    case 'time':
      return s.durationMs;
    case 'tools':
      return s.toolCalls ?? 0;
  }
}

function selectRows(p: URLSearchParams): SampleRow[] {
  const filter = p.get('filter') ?? 'all';
  const q = (p.get('q') ?? '').trim().toLowerCase();
  const run = p.get('run');
  const task = p.get('task');
  const rows = report!.samples.filter(
    (s) =>
      (filter === 'all' || (filter === 'changed' ? s.changed : s.outcome === filter)) &&
      (!run || s.run === run) &&
      (!task || s.task === task) &&
      (!q || s.id.toLowerCase().includes(q) || s.task.toLowerCase().includes(q) || (s.errorKind ?? '').includes(q)),
  );
  const key = (p.get('sort') ?? '') as SortKey;
  if (COLUMNS.some((c) => c.key === key)) {
    const dir = p.get('dir') === 'desc' ? -1 : 1;
    rows.sort((a, b) => {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }
  return rows;
}

function samplesHash(p: URLSearchParams): string {
  const q = p.toString();
  return `#/samples${q ? `?${q}` : ''}`;
}

function renderSamplesPage(main: HTMLElement, params: URLSearchParams): void {
  const p = new URLSearchParams(params);
  const multi = report!.runs.filter((r) => r.kind === 'run').length > 1;
  const withTools = report!.samples.some((s) => s.toolCalls);
  const hasChanged = report!.samples.some((s) => s.changed) || report!.comparisons.length > 0 || multi;
  const base = report!.samples.filter((s) => (!p.get('run') || s.run === p.get('run')) && (!p.get('task') || s.task === p.get('task')));
  const count = (f: string): number => (f === 'all' ? base.length : f === 'changed' ? base.filter((s) => s.changed).length : base.filter((s) => s.outcome === f).length);
  const current = p.get('filter') ?? 'all';

  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Filter by outcome' });
  for (const f of FILTERS) {
    if (f === 'changed' && !hasChanged) continue;
    const q = new URLSearchParams(p);
    if (f === 'all') q.delete('filter');
    else q.set('filter', f);
    const go = (ev: Event): void => {
      // From the live parameters: the search box changes them without a new route.
      ev.preventDefault();
      const now = new URLSearchParams(p);
      if (f === 'all') now.delete('filter');
      else now.set('filter', f);
      location.hash = samplesHash(now);
    };
    chips.append(h('a', { href: samplesHash(q), class: `chip ${f}${current === f ? ' on' : ''}`, 'data-filter': f, onclick: go }, f, h('span', { class: 'n' }, fmtInt(count(f)))));
  }
  const search = h('input', { type: 'search', placeholder: 'Search sample, task or error kind', value: p.get('q') ?? '', 'aria-label': 'Search samples' });
  const controls = h('div', { class: 'controls' }, chips, search);
  if (multi) {
    const select = h('select', { 'aria-label': 'Run' }, h('option', { value: '' }, 'all runs'), ...report!.runs.filter((r) => r.kind === 'run').map((r) => h('option', { value: r.key, selected: p.get('run') === r.key }, r.label)));
    select.addEventListener('change', () => {
      if (select.value) p.set('run', select.value);
      else p.delete('run');
      location.hash = samplesHash(p);
    });
    controls.append(select);
  }
  const task = p.get('task');
  if (task) {
    const q = new URLSearchParams(p);
    q.delete('task');
    controls.append(h('span', { class: 'taskfilter' }, 'task ', h('code', {}, task), ' ', h('a', { href: samplesHash(q), title: 'all tasks' }, '×')));
  }

  const table = h('table', { class: 'samples' });
  const head = h('tr', {});
  for (const c of COLUMNS) {
    if ((c.key === 'run' && !multi) || (c.key === 'tools' && !withTools)) continue;
    const sorted = p.get('sort') === c.key;
    const dir = sorted && p.get('dir') !== 'desc' ? 'desc' : 'asc';
    const q = new URLSearchParams(p);
    q.set('sort', c.key);
    q.set('dir', dir);
    const go = (ev: Event): void => {
      ev.preventDefault();
      const now = new URLSearchParams(p);
      now.set('sort', c.key);
      now.set('dir', dir);
      location.hash = samplesHash(now);
    };
    head.append(h('th', { class: c.num ? 'num' : undefined, 'aria-sort': sorted ? (p.get('dir') === 'desc' ? 'descending' : 'ascending') : undefined }, h('a', { href: samplesHash(q), onclick: go }, c.label, sorted ? (p.get('dir') === 'desc' ? ' ▼' : ' ▲') : '')));
  }
  const tbody = h('tbody', {});
  table.append(h('thead', {}, head), tbody);
  const status = h('p', { class: 'muted small status' });

  let generation = 0;
  const rowOf = (s: SampleRow): HTMLElement => {
    const tr = h('tr', { class: `row ${s.outcome}`, 'data-sample': keyOf(s) });
    if (multi) tr.append(h('td', { class: 'small' }, runs.get(s.run)?.label ?? s.run));
    tr.append(
      h('td', {}, h('a', { href: sampleHref(s) }, s.id), s.changed ? h('span', { class: 'tag changed', title: 'the task changed against the baseline or between runs' }, 'changed') : null),
      h('td', { class: 'num' }, s.epoch),
      h('td', {}, badge(s.outcome, s.errorKind ? `error: ${s.errorKind}` : s.outcome)),
      h('td', { class: 'num' }, fmtScore(s.score)),
      h('td', { class: 'num' }, s.attempts),
      h('td', { class: 'num' }, fmtTokens(s.tokens)),
      h('td', { class: 'num' }, fmtCost(s.costUsd)),
      h('td', { class: 'num' }, fmtMs(s.durationMs)),
    );
    if (withTools) tr.append(h('td', { class: 'num toolcalls' }, s.toolCalls ?? '—'));
    return tr;
  };
  const fill = (): void => {
    const rows = selectRows(p);
    lastList = rows;
    lastListHash = samplesHash(p);
    // The first screenful at once, the rest in slices after it is painted: a table of
    // thousands of samples shows as fast as one of a hundred.
    const gen = ++generation;
    const slice = (from: number, size: number): void => {
      if (gen !== generation) return;
      const frag = document.createDocumentFragment();
      for (const s of rows.slice(from, from + size)) frag.append(rowOf(s));
      tbody.append(frag);
      if (from + size < rows.length) setTimeout(() => slice(from + size, 400), 0);
    };
    tbody.replaceChildren();
    slice(0, 100);
    status.textContent = `${fmtInt(rows.length)} of ${fmtInt(report!.samples.length)} samples`;
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: String(COLUMNS.length), class: 'muted empty' }, 'No sample matches.')));
  };
  search.addEventListener('input', () => {
    if (search.value) p.set('q', search.value);
    else p.delete('q');
    history.replaceState(null, '', samplesHash(p));
    fill();
  });
  tbody.addEventListener('click', (ev) => {
    const tr = (ev.target as HTMLElement).closest('tr[data-sample]');
    if (tr && !(ev.target as HTMLElement).closest('a')) location.hash = sampleHref(samples.get(tr.getAttribute('data-sample')!)!);
  });
  main.append(renderRuns(), h('section', {}, h('h2', {}, 'Samples'), controls, status, h('div', { class: 'scroll' }, table)));
  fill();
}

// --- one sample -------------------------------------------------------------------------

function neighbours(key: string): { prev?: SampleRow; next?: SampleRow; at: number; of: number } {
  let list = lastList;
  let i = list.findIndex((s) => keyOf(s) === key);
  if (i < 0) {
    list = [...report!.samples];
    i = list.findIndex((s) => keyOf(s) === key);
  }
  return { ...(i > 0 ? { prev: list[i - 1] } : {}), ...(i >= 0 && i < list.length - 1 ? { next: list[i + 1] } : {}), at: i + 1, of: list.length };
}

function onKey(ev: KeyboardEvent): void {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const r = parseHash();
  if (r.view !== 'sample') return;
  const n = neighbours(`${r.run}/${r.id}`);
  if (ev.key === 'ArrowLeft' && n.prev) location.hash = sampleHref(n.prev);
  else if (ev.key === 'ArrowRight' && n.next) location.hash = sampleHref(n.next);
  else if (ev.key === 'Escape') history.back();
}

async function renderSamplePage(main: HTMLElement, run: string, id: string): Promise<void> {
  const row = samples.get(`${run}/${id}`);
  if (!row) {
    main.append(h('p', { class: 'errorbox' }, `No sample ${id} in run ${run} in this report.`));
    return;
  }
  const n = neighbours(keyOf(row));
  const bar = h(
    'div',
    { class: 'samplenav' },
    h('a', { href: lastListHash, class: 'back' }, '← samples'),
    n.prev ? h('a', { href: sampleHref(n.prev), class: 'prev', title: 'previous (←)' }, '‹ prev') : h('span', { class: 'muted' }, '‹ prev'),
    h('span', { class: 'muted small' }, n.at > 0 ? `${n.at} of ${n.of}` : ''),
    n.next ? h('a', { href: sampleHref(n.next), class: 'next', title: 'next (→)' }, 'next ›') : h('span', { class: 'muted' }, 'next ›'),
  );
  const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading the sample…'));
  main.append(bar, holder);
  let data: SampleData;
  try {
    data = await loadSample(row);
  } catch (err) {
    holder.replaceChildren(h('p', { class: 'errorbox' }, (err as Error).message));
    return;
  }
  const still = parseHash();
  if (still.view !== 'sample' || still.run !== run || still.id !== id) return; // moved on meanwhile
  holder.replaceChildren(sampleView(data, row));
  if (n.next) void loadSample(n.next).catch(() => undefined);
}

function stat(label: string, value: Child, title?: string): HTMLElement {
  return h('div', { class: 'stat', title }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

function sampleView(d: SampleData, row: SampleRow): HTMLElement {
  const run = runs.get(d.run);
  const t = d.timings;
  const head = h(
    'section',
    { class: 'samplehead' },
    h('h2', {}, d.taskId, h('span', { class: 'muted' }, ` · epoch ${d.epoch}`), ' ', badge(d.outcome, d.error ? `error: ${d.error.kind}` : d.outcome), row.changed ? h('span', { class: 'tag changed' }, 'changed') : null),
    h('div', { class: 'muted small' }, run?.label ?? d.run, ' · ', d.id, ' · ', d.suite),
    h(
      'div',
      { class: 'stats' },
      stat('score', fmtScore(d.score)),
      stat('attempts', d.passedAttempt ? `${d.attempts.length} (passed on ${d.passedAttempt})` : d.attempts.length),
      stat('tokens in / out', d.usage ? `${fmtTokens(d.usage.inputTokens)} / ${fmtTokens(d.usage.outputTokens)}` : '—'),
      stat('model calls', d.usage ? d.usage.requests : '—'),
      stat('cost', fmtCost(d.usage?.costUsd)),
      stat('time', fmtMs(t.durationMs), `environment ${fmtMs(t.environmentMs)}, agent ${fmtMs(t.agentMs)}, verifier ${fmtMs(t.verifierMs)}`),
      stat('agent', fmtMs(t.agentMs)),
      stat('verifier', fmtMs(t.verifierMs)),
      d.toolCalls ? stat('host tool calls', d.toolCalls.errors ? `${d.toolCalls.count} (${d.toolCalls.errors} failed)` : d.toolCalls.count, Object.entries(d.toolCalls.byTool).map(([tool, n]) => `${tool}: ${n}`).join('\n')) : null,
    ),
    d.error ? h('div', { class: 'errorbox' }, h('strong', {}, `${d.error.kind} error ${d.error.code}`), h('pre', {}, d.error.message)) : null,
    d.retriedErrors.length ? h('details', { class: 'small' }, h('summary', {}, `${d.retriedErrors.length} infra error(s) retried before this result`), h('ul', {}, ...d.retriedErrors.map((e) => h('li', {}, `${e.code}: ${e.message}`)))) : null,
    d.warnings.length ? h('ul', { class: 'warnings' }, ...d.warnings.map((w) => h('li', {}, h('strong', {}, w.code), ` ${w.message}`))) : null,
  );
  const columns = h('div', { class: 'twocol' }, transcriptView(d), h('div', { class: 'attempts' }, hostToolsView(d), ...d.attempts.map((a) => attemptView(a, d)), eventsView(d, '0', 'Set-up events'), agentFilesView(d)));
  return h('div', { class: 'sample' }, head, columns);
}

function attemptView(a: AttemptView, d: SampleData): HTMLElement {
  const verdict = a.passed === undefined ? (a.error ? 'error' : 'none') : a.passed ? 'pass' : 'fail';
  const ch = a.changes;
  const files = ch ? [...ch.created.map((f) => `+ ${f}`), ...ch.modified.map((f) => `~ ${f}`), ...ch.deleted.map((f) => `− ${f}`)] : [];
  return h(
    'section',
    { class: `attempt ${verdict}` },
    h('h3', {}, `${a.label} ${a.n}`, ' ', a.passed !== undefined ? badge(verdict, `${verdict} · ${fmtScore(a.score)}`) : a.error ? badge('error') : h('span', { class: 'muted small' }, 'not scored')),
    h(
      'div',
      { class: 'stats' },
      stat('tokens in / out', a.inputTokens !== undefined ? `${fmtTokens(a.inputTokens)} / ${fmtTokens(a.outputTokens)}` : '—', a.cacheReadTokens ? `${fmtInt(a.cacheReadTokens)} read from cache` : undefined),
      stat('model calls', a.requests ?? '—'),
      stat('cost', fmtCost(a.costUsd)),
      stat('agent time', fmtMs(a.durationMs)),
      stat('verifier', fmtMs(a.verifierMs)),
      stat('exit', a.timedOut ? `timed out${a.signal ? ` (${a.signal})` : ''}` : (a.exitCode ?? '—')),
      a.stopReason ? stat('stop', a.stopReason) : null,
    ),
    a.prompt ? h('details', {}, h('summary', {}, 'Prompt'), h('pre', {}, a.prompt)) : null,
    a.error ? h('div', { class: 'errorbox' }, h('strong', {}, `${a.error.kind} error ${a.error.code}`), h('pre', {}, a.error.message)) : null,
    a.explanation ? h('div', { class: 'block' }, h('div', { class: 'label' }, 'Verdict'), h('pre', { class: 'explanation' }, a.explanation)) : null,
    a.finalMessage ? h('div', { class: 'block' }, h('div', { class: 'label' }, 'Final message'), h('pre', {}, a.finalMessage)) : null,
    h(
      'details',
      { class: 'diffbox', open: true },
      h('summary', {}, 'Workspace diff ', h('span', { class: 'muted small' }, ch ? (ch.error ? `(no snapshot: ${ch.error})` : files.length ? `${files.length} file(s)${ch.truncated ? ', cut' : ''}` : 'no changes') : 'not recorded')),
      files.length ? h('div', { class: 'files small' }, ...files.map((f) => h('code', { class: f[0] === '+' ? 'add' : f[0] === '~' ? 'mod' : 'del' }, f))) : null,
      a.diff ? diffView(a.diff) : null,
    ),
    a.verifier.length
      ? h('details', { class: 'verifier', open: verdict !== 'pass' }, h('summary', {}, 'Verifier output ', h('span', { class: 'muted small' }, `${a.verifier.length} file(s)`)), ...a.verifier.map((f) => h('div', { class: 'file' }, h('div', { class: 'label' }, f.path, h('span', { class: 'muted' }, ` ${fmtInt(f.bytes)} B`)), f.text !== undefined ? (f.text ? h('pre', {}, f.text) : h('span', { class: 'muted small' }, 'empty')) : h('span', { class: 'muted small' }, 'binary'))))
      : null,
    eventsView(d, String(a.n), 'Events'),
  );
}

function diffView(diff: string): HTMLElement {
  const pre = h('pre', { class: 'diff' });
  for (const line of diff.split('\n')) {
    const cls = line.startsWith('diff --git') ? 'file' : line.startsWith('+++') || line.startsWith('---') ? 'meta' : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('[cagebench') ? 'note' : 'ctx';
    pre.append(h('span', { class: cls }, line), '\n');
  }
  return pre;
}

function eventsView(d: SampleData, key: string, title: string): HTMLElement | null {
  const list: readonly EventLine[] = d.events[key] ?? [];
  if (!list.length) return null;
  const t0 = Date.parse(d.timings.startedAt);
  const details = h('details', { class: 'events' }, h('summary', {}, title, h('span', { class: 'muted small' }, ` ${list.length}`)));
  // Drawn when first opened: a long agent log costs nothing until someone looks.
  details.addEventListener(
    'toggle',
    () => {
      if (!details.open || details.querySelector('table')) return;
      const tbody = h('tbody', {});
      for (const e of list) tbody.append(h('tr', {}, h('td', { class: 'num muted' }, `+${((Date.parse(e.t) - t0) / 1000).toFixed(2)}s`), h('td', { class: 'etype' }, e.type), h('td', { class: 'edata' }, e.data === '{}' ? '' : e.data)));
      details.append(h('table', { class: 'eventlist' }, tbody));
      if (key === '0' && d.eventsOmitted) details.append(h('p', { class: 'muted small' }, `${d.eventsOmitted} later event(s) left out; events.jsonl has them all.`));
    },
    {},
  );
  return details;
}

/** The sample's host tool calls as the bridge served them: tool, arguments, outcome, size, time. */
function hostToolsView(d: SampleData): HTMLElement | null {
  const calls: readonly HostToolCall[] = d.hostToolCalls ?? [];
  if (!calls.length) return null;
  const t0 = Date.parse(d.timings.startedAt);
  const many = d.attempts.length > 1;
  const head = h('tr', {}, ...['', ...(many ? [d.attempts[0]?.label ?? 'Attempt'] : []), 'Tool', 'Arguments', 'Result', 'Size', 'Time'].map((t) => h('th', {}, t)));
  const body = h('tbody', {});
  for (const c of calls) {
    body.append(
      h(
        'tr',
        { class: c.ok ? 'ok' : 'failed' },
        h('td', { class: 'num muted' }, `+${((Date.parse(c.t) - t0) / 1000).toFixed(2)}s`),
        many ? h('td', { class: 'num' }, c.attempt) : null,
        h('td', {}, h('code', {}, c.tool)),
        h('td', { class: 'edata' }, h('code', {}, c.arguments)),
        h('td', {}, c.ok ? badge('pass', 'ok') : badge('error', c.refused ? 'refused' : 'error'), c.error ? h('div', { class: 'small' }, c.error) : null),
        h('td', { class: 'num' }, c.resultBytes !== undefined ? `${fmtInt(c.resultBytes)} B` : '—'),
        h('td', { class: 'num' }, fmtMs(c.durationMs)),
      ),
    );
  }
  const more = (d.toolCalls?.count ?? calls.length) - calls.length;
  return h(
    'details',
    { class: 'hosttools', open: true },
    h('summary', {}, 'Host tool calls ', h('span', { class: 'muted small' }, String(d.toolCalls?.count ?? calls.length))),
    h('table', { class: 'eventlist' }, h('thead', {}, head), body),
    more > 0 ? h('p', { class: 'muted small' }, `${more} later call(s) left out; events.jsonl has them all.`) : null,
  );
}

function agentFilesView(d: SampleData): HTMLElement | null {
  if (!d.agentFiles.length) return null;
  return h('details', { class: 'agentfiles' }, h('summary', {}, 'Agent files ', h('span', { class: 'muted small' }, String(d.agentFiles.length))), h('ul', { class: 'small' }, ...d.agentFiles.map((f) => h('li', {}, h('code', {}, f.path), h('span', { class: 'muted' }, ` ${fmtInt(f.bytes)} B`)))), h('p', { class: 'muted small' }, `in ${d.dir}`));
}

// --- transcript -------------------------------------------------------------------------

function preview(text: string, max = 110): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function toolPreview(input: string): string {
  try {
    const v = JSON.parse(input) as unknown;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const first = o.command ?? o.cmd ?? o.file_path ?? o.path ?? o.pattern ?? o.query ?? Object.values(o)[0];
      return preview(Array.isArray(first) ? first.join(' ') : typeof first === 'string' ? first : JSON.stringify(first ?? ''));
    }
  } catch {
    // not JSON: show it as it is
  }
  return preview(input);
}

function entryView(e: TranscriptEntry): HTMLElement {
  switch (e.kind) {
    case 'user':
      return e.label === 'system prompt'
        ? h('details', { class: 'entry system' }, h('summary', {}, h('span', { class: 'who' }, 'system'), h('span', { class: 'muted' }, ` ${preview(e.text, 90)}`)), h('pre', {}, e.text))
        : h('div', { class: 'entry user' }, h('div', { class: 'who' }, e.label ?? 'user'), h('pre', {}, e.text));
    case 'model': {
      const facts = [e.inputTokens !== undefined ? `${fmtTokens(e.inputTokens)} in` : '', e.outputTokens !== undefined ? `${fmtTokens(e.outputTokens)} out` : '', e.latencyMs !== undefined ? fmtMs(e.latencyMs) : '', e.costUsd ? fmtCost(e.costUsd) : '', e.stopReason ?? ''].filter(Boolean).join(' · ');
      return h(
        'div',
        { class: 'entry model' },
        h('div', { class: 'who' }, 'model', h('span', { class: 'muted small' }, ` ${facts}`), e.toolCalls?.length ? h('span', { class: 'muted small' }, ` → ${e.toolCalls.join(', ')}`) : null),
        e.reasoning ? h('details', { class: 'reasoning' }, h('summary', {}, 'reasoning'), h('pre', {}, e.reasoning)) : null,
        e.text ? h('pre', { class: 'say' }, e.text) : null,
        e.note ? h('div', { class: 'muted small' }, e.note) : null,
      );
    }
    case 'tool':
      return h(
        'details',
        { class: `entry tool${e.isError ? ' iserror' : ''}` },
        h('summary', {}, h('span', { class: 'who' }, e.name), h('code', { class: 'muted' }, ` ${toolPreview(e.input)}`), e.isError ? h('span', { class: 'badge error' }, 'error') : null),
        e.input ? h('div', { class: 'label' }, 'input') : null,
        e.input ? h('pre', {}, e.input) : null,
        h('div', { class: 'label' }, 'observation'),
        e.output !== undefined ? h('pre', { class: e.isError ? 'out err' : 'out' }, e.output || '(no output)') : h('div', { class: 'muted small' }, 'no result recorded'),
      );
    case 'command':
      return h(
        'details',
        { class: e.launch ? 'entry launch' : 'entry command' },
        h('summary', {}, h('span', { class: 'who' }, e.launch ? 'agent process' : '$'), h('code', {}, ` ${preview(e.command)}`), h('span', { class: 'muted small' }, [e.exitCode !== undefined ? ` exit ${e.exitCode}` : '', e.durationMs !== undefined ? ` · ${fmtMs(e.durationMs)}` : ''].join(''))),
        h('pre', {}, e.command),
        h('div', { class: 'label' }, 'output'),
        h('pre', { class: 'out' }, e.output || '(no output)'),
      );
    case 'message':
      return h('div', { class: 'entry message' }, h('div', { class: 'who' }, 'agent'), h('pre', {}, e.text));
    case 'score':
      return h('div', { class: `entry score ${e.passed ? 'pass' : 'fail'}` }, h('span', { class: 'who' }, 'score'), ' ', badge(e.passed ? 'pass' : 'fail', `${e.passed ? 'pass' : 'fail'} · ${fmtScore(e.value)}`), e.explanation ? h('details', {}, h('summary', { class: 'muted small' }, preview(e.explanation, 90)), h('pre', {}, e.explanation)) : null);
    case 'note':
      return h('div', { class: 'entry note' }, e.text);
  }
}

function transcriptView(d: SampleData): HTMLElement {
  const box = h('section', { class: 'transcript' });
  const counts = { tool: 0, model: 0 };
  for (const e of d.transcript) if (e.kind === 'tool' || e.kind === 'model') counts[e.kind]++;
  const toggle = (open: boolean) => () => box.querySelectorAll<HTMLDetailsElement>('details.tool, details.command').forEach((x) => (x.open = open));
  const hideModel = h('input', { type: 'checkbox' });
  hideModel.addEventListener('change', () => box.classList.toggle('nomodel', hideModel.checked));
  box.append(
    h('h3', {}, 'Transcript', h('span', { class: 'muted small' }, ` ${counts.model} model call(s), ${counts.tool} tool call(s)`)),
    h('div', { class: 'tools small' }, h('button', { type: 'button', onclick: toggle(true) }, 'expand tool calls'), h('button', { type: 'button', onclick: toggle(false) }, 'collapse'), h('label', {}, hideModel, ' hide model calls')),
  );
  if (!d.transcript.length) {
    box.append(h('p', { class: 'muted' }, 'Nothing to show: the sample ended before its agent ran.'));
    return box;
  }
  let attempt = -1;
  for (const e of d.transcript) {
    if (e.attempt !== attempt) {
      attempt = e.attempt;
      const a = d.attempts.find((x) => x.n === attempt);
      if (attempt > 0) box.append(h('div', { class: 'attemptmark' }, `${a?.label ?? 'Attempt'} ${attempt}`));
    }
    box.append(entryView(e));
  }
  return box;
}
