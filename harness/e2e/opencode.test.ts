// The real OpenCode binary (from the cache) solves every smoke task: its model calls go
// through the bridge to mock/solve, which drives OpenCode's own `bash` tool through each
// task's reference solution. One run, all six tasks.
import { describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { leftovers, outDir, results, SUITES } from './support.ts';

describe('opencode', () => {
  it('solves every smoke task with mock/solve through the bridge', async () => {
    const runId = testRunId('opencode');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], agent: 'opencode', model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const rs = await results(outcome.runDir);
    expect(rs).toHaveLength(6);
    expect(rs.filter((r) => r.outcome !== 'pass').map((r) => `${r.sampleId}: ${r.outcome} ${r.error?.message ?? r.attempts.at(-1)?.explanation ?? ''}`)).toEqual([]);
    for (const r of rs) expect(r.usage?.requests, r.sampleId).toBeGreaterThanOrEqual(2);

    // Events: OpenCode's session, its bash tool call and final text; every model call answered.
    const sample = join(outcome.runDir, 'samples', 'hello-file__e1');
    const events = (await readFile(join(sample, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.type === 'agent.session')).toMatchObject({ sessionId: expect.stringMatching(/^ses_/) });
    expect(events.find((e) => e.type === 'agent.tool')).toMatchObject({ tool: 'bash', status: 'completed' });
    expect(events.filter((e) => e.type === 'model.call' && e.error)).toEqual([]);
    expect(events.findLast((e) => e.type === 'agent.text')).toMatchObject({ text: 'Done: I ran the solution.' });
    // The transcript, and OpenCode's own session store (its SQLite database and write-ahead log).
    expect(await readdir(join(sample, 'agent'))).toEqual(expect.arrayContaining(['opencode-attempt-1.jsonl', 'opencode-session']));
    expect(await readdir(join(sample, 'agent', 'opencode-session'))).toEqual(expect.arrayContaining(['opencode.db', 'opencode.db-wal']));

    expect(outcome.summary.score.mean).toBe(1);
    expect(await leftovers(runId)).toBe(0);
  }, 600_000);
});
