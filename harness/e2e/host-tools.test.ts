// Host tools over MCP with the real agent CLIs: each of the four agents must call a host tool
// (fixtures/host-tools/tools.ts, served by the bridge at /mcp with the sample's token) for a
// value it cannot compute in the sandbox, and write it into a file the scorer checks. The
// scripted model first calls a tool that throws (a tool error the agent gets past), then the
// secret's tool, then writes {{last_tool_result}} with the agent's own shell tool. Two agents
// run on cagebench/sandbox:bookworm as root, two on plain debian:bookworm-slim (one as
// nobody). The calls are in events.jsonl, result.json, summary.json and the reports.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
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
