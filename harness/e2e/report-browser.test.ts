// The HTML report in a real browser (Debian's chromium driven by playwright-core), on the
// report of real runs: four agents on the bundled smoke suite (oracle, nop, Claude Code solving
// through the scripted model, and Claude Code writing a wrong file), compared against the
// oracle. Opened from file:// with no server, then served by `cagebench view`. Any console
// error or page error fails the test; screenshots are kept in test-artifacts/report/.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { cli, FIXTURES, outDir, SUITES } from './support.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts', 'report');

let browser: Browser;
const runDirs: Record<'oracle' | 'nop' | 'solve' | 'wrong', string> = { oracle: '', nop: '', solve: '', wrong: '' };

/** A page that records every console error, page error and failed request. */
async function watchedPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { page, problems };
}

describe('the HTML report in chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium for this test)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    const smoke = join(SUITES, 'smoke');
    const out = await outDir();
    const go = async (name: keyof typeof runDirs, options: Partial<Parameters<typeof run>[0]>): Promise<void> => {
      const outcome = await run({ paths: [smoke], concurrency: 3, out, runId: testRunId(`report-${name}`), agent: 'oracle', ...options });
      runDirs[name] = outcome.runDir;
    };
    await go('oracle', { agent: 'oracle' });
    await go('nop', { agent: 'nop' });
    await go('solve', { agent: 'claude_code', model: 'mock/solve' });
    await go('wrong', { agent: 'claude_code', model: `mock/${join(FIXTURES, 'wrong-then-right.yaml')}`, attempts: 1 });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('opens from file://: matrix, failures, a failing sample with its transcript and diff', async () => {
    const site = join(ARTIFACTS, 'site');
    const made = await cli(['report', runDirs.nop, runDirs.solve, runDirs.wrong, '--baseline', runDirs.oracle, '-o', site]).exited;
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toContain(pathToFileURL(join(site, 'index.html')).href);

    const { page, problems } = await watchedPage();
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    // The landing page with a baseline: the task × run matrix, sorted by change.
    await page.waitForSelector('table.matrix tbody tr');
    expect(await page.locator('table.runs tbody tr').count()).toBe(4);
    expect(await page.locator('table.runs svg.errbar circle.mean').count()).toBe(4);
    const rows = await page.locator('table.matrix tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(6);
    // Every task regressed against the oracle in the nop run: the first row shows a drop.
    expect(await page.locator('table.matrix tbody tr').first().getAttribute('class')).toBe('worse');
    expect(await page.locator('table.matrix thead th.colhead').allInnerTexts()).toEqual([expect.stringContaining('oracle'), expect.stringContaining('nop'), expect.stringContaining('mock/solve'), expect.stringContaining('mock/wrong-then-right')]);
    await page.screenshot({ path: join(ARTIFACTS, 'matrix-4-runs.png'), fullPage: true });

    // The sample table, filtered to failures.
    await page.click('header nav a[href="#/samples"]');
    await page.waitForSelector('table.samples tbody tr');
    await page.click('.chips a[data-filter="fail"]');
    await page.waitForFunction("location.hash.includes('filter=fail')");
    const outcomes = await Promise.all((await page.locator('table.samples tbody tr').all()).map((tr) => tr.getAttribute('class')));
    expect(outcomes.length).toBeGreaterThanOrEqual(12); // nop and the wrong agent fail every task
    expect(outcomes.every((c) => c?.includes('fail'))).toBe(true);
    // Narrow to the wrong agent's hello-file and sort by time: the table still holds it.
    await page.selectOption('.controls select', { label: 'claude_code · mock/wrong-then-right' });
    await page.waitForFunction("location.hash.includes('run=')");
    await page.fill('.controls input[type=search]', 'hello-file');
    await page.click('table.samples thead a:has-text("Time")');
    await expect.poll(() => page.locator('table.samples tbody tr').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'samples-failures.png'), fullPage: true });

    // The failing sample: transcript (model calls, the tool call and its observation) and the diff.
    await page.click('table.samples tbody tr a');
    await page.waitForSelector('.transcript .entry.tool');
    expect(await page.locator('.samplehead .badge').first().innerText()).toBe('fail');
    expect(await page.locator('.transcript .entry.model').count()).toBeGreaterThanOrEqual(2);
    const tool = page.locator('.transcript details.entry.tool').first();
    expect(await tool.locator('summary').innerText()).toContain('Bash');
    expect(await tool.locator('summary').innerText()).toContain("echo 'Hello, world'");
    await page.click('.transcript button:has-text("expand tool calls")');
    expect(await tool.getAttribute('open')).not.toBeNull();
    await expect.poll(() => tool.locator('pre.out').isVisible()).toBe(true);
    const added = await page.locator('.attempt pre.diff span.add').allInnerTexts();
    expect(added).toContain('+Hello, world');
    expect(await page.locator('.attempt .verifier pre').first().innerText()).toContain('FAIL');
    await page.screenshot({ path: join(ARTIFACTS, 'sample-failing.png'), fullPage: true });

    // ← and → walk the filtered list; the events of an attempt open on demand.
    await page.click('.attempt details.events > summary');
    // Drawn when the <details> opens, on the next frame: poll, do not read at once.
    await expect.poll(() => page.locator('.attempt table.eventlist tr').count()).toBeGreaterThan(5);

    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('cagebench view serves it on localhost; the samples load over http', async () => {
    const view = cli(['view', runDirs.oracle, runDirs.nop, runDirs.solve, runDirs.wrong, '-o', join(await outDir(), 'report')]);
    try {
      let url = '';
      for (let i = 0; i < 200 && !url; i++) {
        url = view.output().stdout.match(/http:\/\/127\.0\.0\.1:\d+\//)?.[0] ?? '';
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, view.output().stderr).not.toBe('');
      const { page, problems } = await watchedPage();
      await page.goto(url);
      // Four runs without a baseline: the matrix sorted by spread.
      await page.waitForSelector('table.matrix tbody tr');
      expect(await page.locator('section p.muted').first().innerText()).toContain('spread');
      await page.screenshot({ path: join(ARTIFACTS, 'view-matrix.png'), fullPage: true });
      await page.goto(`${url}#/samples?filter=pass`);
      await page.waitForSelector('table.samples tbody tr');
      await page.click('table.samples tbody tr a');
      await page.waitForSelector('.attempt');
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction("document.querySelector('.samplenav span.small')?.textContent?.startsWith('2 of')");
      await page.waitForSelector('.attempt');
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      view.kill('SIGINT');
    }
    const end = await view.exited;
    expect(end.code).toBe(0);
  }, 120_000);
});
