// Host tools over MCP with the real agent CLIs: each of the four agents must call a host tool
// (fixtures/host-tools/tools.ts, served by the bridge at /mcp with the sample's token) for a
// value it cannot compute in the sandbox, and write it into a file the scorer checks. The
// scripted model first calls a tool that throws (a tool error the agent gets past), then the
// secret's tool, then writes {{last_tool_result}} with the agent's own shell tool. Two agents
// run on cagebench/sandbox:bookworm as root, two on plain debian:bookworm-slim (one as
// nobody). The calls are in events.jsonl, result.json, summary.json and the reports; the HTML
// report of the four runs is opened in chromium (as report-browser.test.ts does).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { readRunDir } from '../log/reader.ts';
import { stepSummary } from '../report/ci/step-summary.ts';
import type { ReportIndex, SampleData } from '../report/html/types.ts';
import { writeReport } from '../report/html/writer.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents, summary } from './support.ts';

const DIR = join(FIXTURES, 'host-tools');
const MODEL = `mock/${join(DIR, 'mock-secret.yaml')}`;

const AGENTS = [
  { agent: 'claude_code', suite: 'secret.yaml', secret: '6f129341bd8f36e012e46b58' },
  { agent: 'codex_cli', suite: 'secret.yaml', secret: '6f129341bd8f36e012e46b58' },
  { agent: 'gemini_cli', suite: 'secret-slim.yaml', secret: '6b7e5890e247bfaa590c2ec9' },
  { agent: 'opencode', suite: 'secret-slim.yaml', secret: '6b7e5890e247bfaa590c2ec9', user: 'nobody' },
] as const;

/** What a report data script registers, run as the page would. */
function load(script: string): { index?: ReportIndex; samples: Map<string, SampleData> } {
  const got: { index?: ReportIndex; samples: Map<string, SampleData> } = { samples: new Map() };
  runInNewContext(script, { window: { __cagebench: { index: (d: ReportIndex) => (got.index = d), sample: (k: string, d: SampleData) => got.samples.set(k, d) } } });
  return got;
}

const runDirs = new Map<string, string>();

describe.concurrent('host tools', () => {
  it.each(AGENTS)('$agent gets a value only a host tool knows, and the calls are recorded and reported', async ({ agent, suite, secret, ...rest }) => {
    const runId = testRunId(`${agent}-host-tools`);
    const done = await run({
      paths: [join(DIR, suite)],
      agent,
      ...('user' in rest ? { agentOptions: { user: rest.user } } : {}),
      model: MODEL,
      out: await outDir(),
      runId,
    });
    runDirs.set(agent, done.runDir);
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message ?? r!.attempts[0]?.explanation).toBe('pass');

    const events = await sampleEvents(done.runDir, r!.sampleId);
    // The tools were there from the agent's first model call: the script's first step finds
    // them (a request without them is a mock error, which Claude Code would retry past).
    expect(events.filter((e) => e.type === 'model.call' && e.error)).toEqual([]);
    // Every call is an event, with its arguments, and the failing one says why.
    const calls = events.filter((e) => e.type === 'tool.call');
    expect(calls).toEqual([
      expect.objectContaining({ tool: 'always_fails', arguments: {}, ok: false, error: expect.stringContaining('the host tool failed on purpose'), durationMs: expect.any(Number) }),
      expect.objectContaining({ tool: 'secret_value', arguments: { key: 'alpha' }, ok: true, resultBytes: secret.length, durationMs: expect.any(Number) }),
    ]);
    expect(r!.toolCalls).toEqual({ count: 2, errors: 1, byTool: { always_fails: 1, secret_value: 1 } });
    expect((await summary(done.runDir))!.toolCalls).toEqual({ count: 2, errors: 1, byTool: { always_fails: 1, secret_value: 1 } });

    // The HTML report lists them per sample and counts them in the table; the CI summary says so.
    const out = join(done.runDir, 'report');
    await writeReport({ runs: [done.runDir], out });
    const { index } = load(await readFile(join(out, 'data', 'index.js'), 'utf8'));
    expect(index!.runs[0]!.toolCalls).toEqual({ count: 2, errors: 1 });
    const row = index!.samples[0]!;
    expect(row.toolCalls).toBe(2);
    const data = load(await readFile(join(out, row.file), 'utf8')).samples.get(`${row.run}/${row.id}`)!;
    expect(data.hostToolCalls.map((c) => [c.tool, c.arguments, c.ok, c.attempt])).toEqual([
      ['always_fails', '{}', false, 1],
      ['secret_value', '{"key":"alpha"}', true, 1],
    ]);
    expect(stepSummary({ view: await readRunDir(done.runDir) })).toContain('Host tool calls: **2** (1 failed) in 1 sample(s) · `always_fails` 1, `secret_value` 1');
    expect(await leftovers(runId)).toBe(0);
  }, 400_000);
});

describe('host tools in the HTML report, in chromium', () => {
  it('the runs and samples tables count the calls; a sample lists each one', async () => {
    expect([...runDirs.keys()].sort()).toEqual(AGENTS.map((a) => a.agent).sort());
    const site = join(await outDir(), 'report');
    await writeReport({ runs: AGENTS.map((a) => runDirs.get(a.agent)!), out: site });
    const chromiumPath = '/usr/bin/chromium';
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run scripts/setup.sh (it installs Debian's chromium)`);
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${pathToFileURL(join(site, 'index.html')).href}#/samples`);
      await page.waitForSelector('table.samples tbody tr');
      expect(await page.locator('table.runs td.toolcalls').allInnerTexts()).toEqual(['2 (1 failed)', '2 (1 failed)', '2 (1 failed)', '2 (1 failed)']);
      expect(await page.locator('table.samples thead th').last().innerText()).toContain('Tool calls');
      expect(await page.locator('table.samples tbody td.toolcalls').allInnerTexts()).toEqual(['2', '2', '2', '2']);
      await page.locator('table.samples tbody tr a').first().click();
      await page.waitForSelector('details.hosttools tbody tr');
      const rows = await page.locator('details.hosttools tbody tr').allInnerTexts();
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatch(/always_fails[\s\S]*\{\}[\s\S]*error[\s\S]*the host tool failed on purpose/);
      expect(rows[1]).toMatch(/secret_value[\s\S]*\{"key":"alpha"\}[\s\S]*ok[\s\S]*24 B/);
      expect(await page.locator('.samplehead .stat:has-text("host tool calls") .value').innerText()).toBe('2 (1 failed)');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
