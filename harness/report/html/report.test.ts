// The HTML report's writer, without a browser: the files it writes, the data in them, the
// baseline matrix's order, escaping and caps. The page itself is tested in a real browser in
// harness/e2e/report-browser.test.ts.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cap, transcriptOf } from './data.ts';
import { writeFakeRun } from './fake-run-test-support.ts';
import { serveReport } from './serve.ts';
import type { ReportIndex, SampleData } from './types.ts';
import { jsonp, writeReport } from './writer.ts';

const tmp = (): Promise<string> => mkdtemp(join(tmpdir(), 'cagebench-report-test-'));

/** Run a data script as the page would, returning what it registered. */
function load(script: string): { index?: ReportIndex; samples: Map<string, SampleData> } {
  const got: { index?: ReportIndex; samples: Map<string, SampleData> } = { samples: new Map() };
  runInNewContext(script, { window: { __cagebench: { index: (d: ReportIndex) => (got.index = d), sample: (k: string, d: SampleData) => got.samples.set(k, d) } } });
  return got;
}

describe('writeReport', () => {
  it('writes the page, the index and one lazily loaded script per sample', async () => {
    const dir = await tmp();
    const runDir = await writeFakeRun({ dir, runId: 'one', tasks: 5, epochs: 2, errorRate: 0.2, seed: 3 });
    const out = join(dir, 'report');
    const written = await writeReport({ runs: [runDir], out });
    expect(written).toMatchObject({ runs: 1, samples: 10, url: `file://${out}/index.html` });
    expect((await readdir(out)).sort()).toEqual(['app.js', 'data', 'index.html', 'style.css']);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<script src="data/index.js"></script>');
    expect(html).toContain('<title>cagebench · one</title>');
    const app = await readFile(join(out, 'app.js'), 'utf8');
    expect(app).not.toMatch(/^\s*(import|export) /m); // a classic script: file:// pages cannot load modules

    const { index } = load(await readFile(join(out, 'data', 'index.js'), 'utf8'));
    expect(index!.runs).toHaveLength(1);
    expect(index!.matrix).toBeUndefined();
    const run = index!.runs[0]!;
    expect(run.counts.total).toBe(10);
    expect(run.score!.ci[0]).toBeLessThanOrEqual(run.score!.mean);
    expect(run.score!.ci[1]).toBeGreaterThanOrEqual(run.score!.mean);
    expect(index!.samples).toHaveLength(10);
    const row = index!.samples[0]!;
    expect(row).toMatchObject({ run: 'r1', id: 'task-0001__e1', task: 'task-0001', epoch: 1, changed: false, file: 'data/samples/r1/task-0001__e1.js' });
    expect(row.tokens).toBeGreaterThan(0);

    const { samples } = load(await readFile(join(out, row.file), 'utf8'));
    const data = samples.get('r1/task-0001__e1')!;
    expect(data.attempts[0]!.diff).toContain('+    return len(xs)');
    expect(data.attempts[0]!.verifier.map((f) => f.path)).toEqual(['verifier/cagebench-stdout.txt', 'verifier/reward.txt']);
    const kinds = data.transcript.map((e) => e.kind);
    expect(kinds.slice(0, 4)).toEqual(['user', 'user', 'model', 'tool']);
    const tool = data.transcript.find((e) => e.kind === 'tool')!;
    expect(tool).toMatchObject({ name: 'Bash', output: expect.stringContaining('TODO fix the off-by-one') });
    expect(data.events['0']!.map((e) => e.type)).toEqual(['sample.start', 'sandbox.start']);
    expect(data.events['1']![0]!.type).toBe('agent.start');
  });

  it('host tool calls: a count per sample and run, and each call (tool, arguments, outcome, size, time) on the sample', async () => {
    const dir = await tmp();
    const runDir = await writeFakeRun({ dir, runId: 'tools', tasks: 2 });
    // The first sample called host tools: its result counts them, its events hold each call.
    const sample = join(runDir, 'samples', 'task-0001__e1');
    const result = JSON.parse(await readFile(join(sample, 'result.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(sample, 'result.json'), JSON.stringify({ ...result, toolCalls: { count: 3, errors: 1, byTool: { secret_value: 2, lookup: 1 } } }));
    const calls = [
      { t: '2026-01-01T00:00:01.000Z', type: 'tool.call', tool: 'secret_value', arguments: { key: 'alpha' }, ok: true, resultBytes: 24, durationMs: 3 },
      { t: '2026-01-01T00:00:02.000Z', type: 'tool.call', tool: 'lookup', arguments: { q: 'x'.repeat(5000) }, ok: false, resultBytes: 30, durationMs: 1, error: 'Tool lookup failed: boom' },
      { t: '2026-01-01T00:00:03.000Z', type: 'tool.call', tool: 'secret_value', arguments: { key: 'beta' }, ok: false, resultBytes: 60, durationMs: 0, error: 'limit', refused: true },
    ];
    const events = (await readFile(join(sample, 'events.jsonl'), 'utf8')).trimEnd().split('\n');
    const at = events.findIndex((l) => l.includes('"agent.start"')) + 1;
    events.splice(at, 0, ...calls.map((c) => JSON.stringify({ ...c, attempt: 1 })));
    await writeFile(join(sample, 'events.jsonl'), `${events.join('\n')}\n`);

    const out = join(dir, 'report');
    await writeReport({ runs: [runDir], out });
    const { index } = load(await readFile(join(out, 'data', 'index.js'), 'utf8'));
    expect(index!.runs[0]!.toolCalls).toEqual({ count: 3, errors: 1 });
    expect(index!.samples.map((s) => [s.id, s.toolCalls])).toEqual([['task-0001__e1', 3], ['task-0002__e1', undefined]]);
    const data = load(await readFile(join(out, index!.samples[0]!.file), 'utf8')).samples.get('r1/task-0001__e1')!;
    expect(data.toolCalls).toEqual({ count: 3, errors: 1, byTool: { secret_value: 2, lookup: 1 } });
    expect(data.hostToolCalls).toHaveLength(3);
    expect(data.hostToolCalls[0]).toEqual({ attempt: 1, t: '2026-01-01T00:00:01.000Z', tool: 'secret_value', arguments: '{"key":"alpha"}', ok: true, resultBytes: 24, durationMs: 3 });
    expect(data.hostToolCalls[1]).toMatchObject({ tool: 'lookup', ok: false, error: 'Tool lookup failed: boom', arguments: expect.stringContaining('[cagebench report: cut here;') });
    expect(data.hostToolCalls[2]).toMatchObject({ tool: 'secret_value', ok: false, refused: true });
    // They stay in the event list too.
    expect(data.events['1']!.filter((e) => e.type === 'tool.call')).toHaveLength(3);
    // A run without host tools has no such counts.
    const other = load(await readFile(join(out, index!.samples[1]!.file), 'utf8')).samples.get('r1/task-0002__e1')!;
    expect(other.toolCalls).toBeUndefined();
    expect(other.hostToolCalls).toEqual([]);
  });

  it('with a baseline: comparisons, a matrix sorted by change, changed samples', async () => {
    const dir = await tmp();
    // Tasks 1-3 always pass in the base; the candidate breaks task 2 and fixes task 4.
    const base = await writeFakeRun({ dir, runId: 'base', tasks: 12, epochs: 2, passRate: (i) => (i < 3 ? 1 : 0), seed: 1 });
    const cand = await writeFakeRun({ dir, runId: 'cand', agent: 'codex_cli', tasks: 12, epochs: 2, passRate: (i) => (i === 1 ? 0 : i < 3 || i === 3 ? 1 : 0), seed: 2 });
    const out = join(dir, 'report');
    await writeReport({ runs: [cand], baseline: base, out });
    const { index } = load(await readFile(join(out, 'data', 'index.js'), 'utf8'));
    expect(index!.runs.map((r) => [r.key, r.baseline])).toEqual([['b', true], ['r1', false]]);
    expect(index!.comparisons).toHaveLength(1);
    expect(index!.comparisons[0]).toMatchObject({ run: 'r1', pairs: 12, newlyBroken: ['task-0002'], newlyFixed: ['task-0004'] });
    const m = index!.matrix!;
    expect(m.sortedBy).toBe('baseline');
    expect(m.columns).toEqual(['b', 'r1']);
    expect(m.rows.map((r) => r.taskId).slice(0, 2)).toEqual(['task-0002', 'task-0004']);
    expect(m.rows[0]).toMatchObject({ change: -1, diffs: [null, -1], cells: [{ passes: 2, valid: 2 }, { passes: 0, valid: 2 }] });
    expect(m.rows.slice(2).every((r) => r.change === 0)).toBe(true);
    const changed = index!.samples.filter((s) => s.changed).map((s) => `${s.run}/${s.id}`);
    expect(changed.sort()).toEqual(['b/task-0002__e1', 'b/task-0002__e2', 'b/task-0004__e1', 'b/task-0004__e2', 'r1/task-0002__e1', 'r1/task-0002__e2', 'r1/task-0004__e1', 'r1/task-0004__e2']);
  });

  it('several runs without a baseline: a matrix sorted by spread', async () => {
    const dir = await tmp();
    const a = await writeFakeRun({ dir, runId: 'a', tasks: 3, passRate: 1 });
    const b = await writeFakeRun({ dir, runId: 'b', agent: 'nop', tasks: 3, passRate: (i) => (i === 2 ? 0 : 1) });
    const out = join(dir, 'report');
    await writeReport({ runs: [a, b], out });
    const { index } = load(await readFile(join(out, 'data', 'index.js'), 'utf8'));
    expect(index!.matrix).toMatchObject({ sortedBy: 'spread', columns: ['r1', 'r2'] });
    expect(index!.matrix!.rows.map((r) => [r.taskId, r.change])).toEqual([['task-0003', 1], ['task-0001', 0], ['task-0002', 0]]);
    expect(index!.runs.map((r) => r.label)).toEqual(['claude_code', 'nop']);
    expect(index!.samples.filter((s) => s.changed).map((s) => s.id)).toEqual(['task-0003__e1', 'task-0003__e1']);
  });

  it('replaces an earlier report, and refuses a directory that holds something else', async () => {
    const dir = await tmp();
    const runDir = await writeFakeRun({ dir, runId: 'r', tasks: 2 });
    const out = join(dir, 'report');
    await writeReport({ runs: [runDir], out });
    await expect(writeReport({ runs: [runDir], out })).resolves.toMatchObject({ samples: 2 });
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    await expect(writeReport({ runs: [runDir], out: other })).rejects.toThrow(/not empty and holds no earlier cagebench report/);
    await expect(writeReport({ runs: [join(dir, 'nosuch')], out: join(dir, 'x') })).rejects.toThrow(/run\.json/);
  });
});

describe('data', () => {
  it('escapes what could end a script element or a line', () => {
    const s = jsonp('sample', ['k', { text: '</script><script>alert(1)</script>\u2028' }]);
    expect(s).not.toContain('</script>');
    expect(s).not.toContain('\u2028');
    const { samples } = load(s);
    expect((samples.get('k') as unknown as { text: string }).text).toBe('</script><script>alert(1)</script>\u2028');
  });

  it('cuts long texts with a marker', () => {
    expect(cap('abc', 5)).toBe('abc');
    expect(cap('x'.repeat(10), 4, 'verifier/out.txt')).toBe('xxxx\n[cagebench report: cut here; 6 more characters in verifier/out.txt]');
  });

  it('builds a transcript from an oracle command and its output', () => {
    const t = transcriptOf([
      { t: '1', type: 'agent.start', attempt: 1 },
      { t: '2', type: 'agent.command', command: 'echo 42', attempt: 1 },
      { t: '3', type: 'agent.output', stream: 'stdout', text: '42\n', attempt: 1 },
      { t: '4', type: 'agent.command.end', exitCode: 0, durationMs: 80, attempt: 1 },
      { t: '5', type: 'score', attempt: 1, value: 1, passed: true, explanation: 'ok' },
    ]);
    expect(t.transcript).toEqual([
      { kind: 'command', attempt: 1, t: '2', command: 'echo 42', output: '42\n', exitCode: 0, durationMs: 80 },
      { kind: 'score', attempt: 1, t: '5', value: 1, passed: true, explanation: 'ok' },
    ]);
  });

  it("takes tool calls from the model's transcripts when the agent reports none", () => {
    const t = transcriptOf([
      { t: '1', type: 'agent.start', attempt: 1 },
      { t: '2', type: 'model.call', usage: { inputTokens: 10, outputTokens: 2 }, transcript: { input: { user: ['do it'] }, output: { toolCalls: [{ id: 'c1', name: 'shell', arguments: { cmd: 'ls' } }] } } },
      { t: '3', type: 'model.call', usage: { inputTokens: 12, outputTokens: 3 }, transcript: { input: { toolResults: [{ callId: 'c1', content: 'a.txt' }] }, output: { text: 'Done.' } } },
      { t: '4', type: 'agent.message', text: 'Done.' },
    ]);
    expect(t.transcript.map((e) => e.kind)).toEqual(['user', 'model', 'tool', 'model']);
    expect(t.transcript[2]).toMatchObject({ name: 'shell', output: 'a.txt' });
  });
});

describe('serveReport', () => {
  it('serves the report on loopback, and nothing outside it', async () => {
    const dir = await tmp();
    const runDir = await writeFakeRun({ dir, runId: 'r', tasks: 1 });
    const { out } = await writeReport({ runs: [runDir], out: join(dir, 'report') });
    const server = await serveReport(out);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect((await fetch(new URL('data/samples/r1/task-0001__e1.js', server.url))).status).toBe(200);
      expect((await fetch(new URL('nosuch.js', server.url))).status).toBe(404);
      expect((await fetch(`${server.url}%2e%2e/%2e%2e/etc/passwd`)).status).not.toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('the page script', () => {
  it('type-checks against the DOM with its own tsconfig', async () => {
    const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
    const run = promisify(execFile);
    const result = await run(tsc, ['--noEmit', '-p', 'harness/report/html/client/tsconfig.json']).catch((err: { stdout?: string; message: string }) => ({ stdout: err.stdout ?? err.message }));
    expect(result.stdout).toBe('');
  }, 60_000);
});
