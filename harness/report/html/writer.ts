// `cagebench report`: a static HTML report of one or more runs (and a baseline) that opens
// from file:// with no server. The directory holds index.html, style.css, app.js (the page's
// script, transpiled from client/app.ts) and data/: index.js with the runs and one row per
// sample, and one script per sample, loaded only when that sample is opened, so a report of
// thousands of samples opens as fast as its table renders.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Arm, armFromRun, loadArm } from '../../compare/arm.ts';
import { ConfigError } from '../../errors.ts';
import { type RunView, readRunDir } from '../../log/reader.ts';
import { buildIndex, buildSample, type ReportRun } from './data.ts';
import type { ReportIndex } from './types.ts';

export interface WriteReportOptions {
  /** Run directories, or runs already read. */
  readonly runs: readonly (RunView | string)[];
  /** A run directory (its samples are in the report too), a baseline file, or a run already read. */
  readonly baseline?: RunView | string;
  /** The report directory; created, or replaced when it holds an earlier report. */
  readonly out: string;
  readonly title?: string;
}

export interface ReportWritten {
  readonly out: string;
  /** index.html's path and its file:// URL. */
  readonly index: string;
  readonly url: string;
  readonly runs: number;
  readonly samples: number;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MARKER = 'cagebench-report';

export async function writeReport(options: WriteReportOptions): Promise<ReportWritten> {
  if (!options.runs.length) throw new ConfigError('cagebench report needs at least one run directory');
  const out = resolve(options.out);
  const runs: ReportRun[] = [];
  if (options.baseline !== undefined) {
    const b = options.baseline;
    if (typeof b === 'string' && (await stat(b).catch(() => undefined))?.isFile()) runs.push({ key: 'b', arm: await loadArm(b), baseline: true });
    else {
      const view = typeof b === 'string' ? await readRunDir(b) : b;
      runs.push({ key: 'b', view, arm: armFromRun(view), baseline: true });
    }
  }
  let n = 0;
  for (const r of options.runs) {
    const view = typeof r === 'string' ? await readRunDir(r) : r;
    runs.push({ key: `r${++n}`, view, arm: armFromRun(view), baseline: false });
  }
  const title = options.title ?? titleOf(runs.map((r) => r.arm));
  const { index } = buildIndex(runs, title);

  await prepareOut(out);
  const app = await clientScript();
  const [html, css] = await Promise.all([readFile(join(HERE, 'static', 'index.html'), 'utf8'), readFile(join(HERE, 'static', 'style.css'), 'utf8')]);
  await writeFile(join(out, 'index.html'), html.replace('{{title}}', escapeHtml(title)));
  await writeFile(join(out, 'style.css'), css);
  await writeFile(join(out, 'app.js'), app);
  await mkdir(join(out, 'data', 'samples'), { recursive: true });
  await writeFile(join(out, 'data', 'index.js'), jsonp('index', [index]));

  // Sample files, a few at a time (a large run has thousands).
  const jobs: (() => Promise<void>)[] = [];
  for (const r of runs) {
    if (!r.view) continue;
    const view = r.view;
    await mkdir(join(out, 'data', 'samples', r.key), { recursive: true });
    const rows = new Map(index.samples.filter((s) => s.run === r.key).map((s) => [s.id, s]));
    for (const result of view.results) {
      const row = rows.get(result.sampleId)!;
      jobs.push(async () => {
        const data = await buildSample(r.key, view, result);
        await writeFile(join(out, row.file), jsonp('sample', [`${r.key}/${result.sampleId}`, data]));
      });
    }
  }
  await pool(jobs, 16);
  const indexPath = join(out, 'index.html');
  return { out, index: indexPath, url: pathToFileURL(indexPath).href, runs: runs.length, samples: index.samples.length };
}

/** A JavaScript call `window.__cagebench.<fn>(...args)` whose JSON cannot end a <script> element or a line. */
export function jsonp(fn: 'index' | 'sample', args: readonly unknown[]): string {
  const json = args.map((a) => JSON.stringify(a).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'));
  return `window.__cagebench.${fn}(${json.join(',')});\n`;
}

function titleOf(arms: readonly Arm[]): string {
  if (arms.length === 1) return `cagebench · ${arms[0]!.runId}`;
  return `cagebench · ${arms.length} runs`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Make `out` ready: created when missing; an earlier report's files replaced; anything else is not ours to overwrite. */
async function prepareOut(out: string): Promise<void> {
  const entries = await readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot use ${out} as the report directory: ${err.message}`);
  });
  if (entries === undefined) {
    await mkdir(out, { recursive: true });
    return;
  }
  if (!entries.length) return;
  const ours = await readFile(join(out, 'index.html'), 'utf8').then((t) => t.includes(MARKER)).catch(() => false);
  if (!ours) throw new ConfigError(`${out} is not empty and holds no earlier cagebench report: give -o a new or empty directory`);
  await rm(join(out, 'data'), { recursive: true, force: true });
}

let transpiled: Promise<string> | undefined;

/** The page's script: client/app.ts as plain browser JavaScript (a classic script: file:// pages cannot load modules). */
export function clientScript(): Promise<string> {
  transpiled ??= (async () => {
    const source = await readFile(join(HERE, 'client', 'app.ts'), 'utf8');
    const { transform } = await import('esbuild');
    const { code } = await transform(source, { loader: 'ts', format: 'iife', target: 'es2020', legalComments: 'none' });
    return `// cagebench report: generated from harness/report/html/client/app.ts\n${code}`;
  })();
  return transpiled;
}

async function pool(jobs: readonly (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}
