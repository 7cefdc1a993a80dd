// Open time of the HTML report (`cagebench report`) for a large run: a synthetic run directory
// of --samples samples (result.json, events.jsonl with model and tool calls, a diff and
// verifier output each: harness/report/html/fake-run-test-support.ts) is written to a temp dir,
// the report is written from it, and Debian's chromium (playwright-core) opens it from file://.
//
// - lazy: the report as written: index.html loads app.js and data/index.js; a sample's data
//   script is loaded only when the sample is opened.
// - eager: the same directory, with index-eager.html loading every sample's data script up
//   front (what the page would cost with all sample data in it), measured in the same rounds.
// - Table shown: performance.now() (from navigation start) when the first sample row is in the
//   DOM and a frame has been painted after it (a MutationObserver, then two animation frames).
//   Load: the navigation's loadEventEnd (every script of the page loaded).
// - Each round opens each variant once in a fresh page, alternating which goes first; warm-up
//   rounds are not counted. Medians and quartiles, never means.
// - Also: the time to write the report, and to open one sample (click → its attempts drawn).
//
//   npm run bench:report                        # the figures in bench/README.md (about 1 minute)
//   npm run --silent bench:report -- --json
//   npm run bench:report -- --samples 500 --n 5
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeFakeRun } from '../harness/report/html/fake-run-test-support.ts';
import { writeReport } from '../harness/report/html/writer.ts';
import { positiveInteger, readFlags, runMain } from './cli.ts';
import { summarize, type Summary } from './stats.ts';

const USAGE = 'usage: tsx bench/report-open.ts [--samples N] [--n N] [--warmup N] [--json]';
const CHROMIUM = '/usr/bin/chromium';

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}

runMain(async () => {
  const flags = readFlags(process.argv.slice(2), { samples: { type: 'string' }, n: { type: 'string' }, warmup: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const samples = flags.samples ? positiveInteger('samples', flags.samples) : 2000;
  const n = flags.n ? positiveInteger('n', flags.n) : 9;
  const warmup = flags.warmup ? positiveInteger('warmup', flags.warmup) : 2;
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const dir = await mkdtemp(join(tmpdir(), 'cagebench-bench-report-'));
  try {
    log(`writing a synthetic run of ${samples} samples`);
    const runDir = await writeFakeRun({ dir, runId: 'bench', tasks: Math.ceil(samples / 2), epochs: 2, errorRate: 0.05, seed: 7, toolCalls: 6 });
    const out = join(dir, 'report');
    const t0 = performance.now();
    const written = await writeReport({ runs: [runDir], out });
    const writeMs = performance.now() - t0;
    const indexBytes = (await stat(join(out, 'data', 'index.js'))).size;
    const totalBytes = await dirBytes(out);
    log(`report written in ${writeMs.toFixed(0)} ms: ${written.samples} samples, data/index.js ${(indexBytes / 1024).toFixed(0)} KiB, all files ${(totalBytes / 1048576).toFixed(1)} MiB`);

    // The eager variant: every sample script loaded by the page itself.
    const html = await readFile(join(out, 'index.html'), 'utf8');
    const files = (await readdir(join(out, 'data', 'samples', 'r1'))).sort();
    const tags = files.map((f) => `<script src="data/samples/r1/${f}"></script>`).join('\n');
    await writeFile(join(out, 'index-eager.html'), html.replace('<script src="data/index.js"></script>', `<script src="data/index.js"></script>\n${tags}`));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const variants = { lazy: pathToFileURL(join(out, 'index.html')).href, eager: pathToFileURL(join(out, 'index-eager.html')).href } as const;
    const shown: Record<keyof typeof variants, number[]> = { lazy: [], eager: [] };
    const loaded: Record<keyof typeof variants, number[]> = { lazy: [], eager: [] };
    const openSample: number[] = [];
    const open = async (name: keyof typeof variants, counted: boolean): Promise<void> => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // A string, not a function: tsx's name helpers would not exist in the page.
      await page.addInitScript(`
        const mark = () => requestAnimationFrame(() => requestAnimationFrame(() => { window.__shown ??= performance.now(); }));
        new MutationObserver((_, obs) => {
          if (document.querySelector('table.samples tbody tr')) { obs.disconnect(); mark(); }
        }).observe(document, { childList: true, subtree: true });
      `);
      await page.goto(variants[name], { waitUntil: 'load', timeout: 120_000 });
      await page.waitForFunction('window.__shown !== undefined', undefined, { timeout: 30_000 }).catch(async (err: Error) => {
        throw new Error(`${name}: the table was not seen (${err.message.split('\n')[0]}); rows in the page: ${await page.locator('table.samples tbody tr').count()}`);
      });
      const t = (await page.evaluate("({ shown: window.__shown, load: performance.getEntriesByType('navigation')[0].loadEventEnd })")) as { shown: number; load: number };
      if (errors.length) throw new Error(`page errors in ${name}: ${errors.join('; ')}`);
      if (counted) {
        shown[name].push(t.shown);
        loaded[name].push(t.load);
        if (name === 'lazy') {
          const start = performance.now();
          await page.click('table.samples tbody tr a');
          await page.waitForSelector('.attempt');
          openSample.push(performance.now() - start);
        }
      }
      await page.close();
    };
    try {
      for (let round = 0; round < warmup + n; round++) {
        const order: (keyof typeof variants)[] = round % 2 ? ['eager', 'lazy'] : ['lazy', 'eager'];
        for (const v of order) await open(v, round >= warmup);
        log(`round ${round + 1}/${warmup + n}${round < warmup ? ' (warm-up)' : ''}`);
      }
    } finally {
      await browser.close();
    }

    const result = {
      samples: written.samples,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      writeMs: Math.round(writeMs),
      indexKiB: Math.round(indexBytes / 1024),
      totalMiB: Math.round((totalBytes / 1048576) * 10) / 10,
      tableShown: { lazy: summarize(shown.lazy), eager: summarize(shown.eager) } as Record<string, Summary>,
      loadEvent: { lazy: summarize(loaded.lazy), eager: summarize(loaded.eager) } as Record<string, Summary>,
      openSample: summarize(openSample),
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const row = (label: string, s: Summary): string => `${label.padEnd(34)} ${String(s.medianMs).padStart(8)} ms   (p25 ${s.p25Ms}, p75 ${s.p75Ms}, n ${s.samples})`;
    process.stdout.write(
      [
        `report of ${result.samples} samples: written in ${result.writeMs} ms; data/index.js ${result.indexKiB} KiB, whole directory ${result.totalMiB} MiB (${result.machine})`,
        row('table shown, lazy (as written)', result.tableShown.lazy!),
        row('table shown, eager (all samples)', result.tableShown.eager!),
        row('load event, lazy', result.loadEvent.lazy!),
        row('load event, eager', result.loadEvent.eager!),
        row('open one sample (lazy)', result.openSample),
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, USAGE);
