// The real Claude Code binary (from the cache; downloaded once) solves every smoke task in a
// model-only sandbox, its model calls going through the bridge to the scripted `mock/solve`
// model, which runs each task's reference solution through Claude Code's own Bash tool.
// Attempts, refusals and crashes are in agent-behaviours.test.ts, for every agent.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { checkTrajectory, type AtifTrajectory } from '../log/trajectory.ts';
import { leftovers, outDir, results, SUITES } from './support.ts';

describe('claude_code', () => {
  it('solves every smoke task through the bridge with mock/solve', async () => {
    const runId = testRunId('claude');
    const outcome = await run({ paths: [join(SUITES, 'smoke')], agent: 'claude_code', model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const all = await results(outcome.runDir);
    expect(all.length).toBe(6);
    for (const r of all) {
      expect(r, r.sampleId).toMatchObject({ outcome: 'pass' });
      expect(r.usage!.requests, r.sampleId).toBeGreaterThanOrEqual(2);
    }
    // The raw stream-json and its parsed events are kept per sample.
    const sample = join(outcome.runDir, 'samples', all[0]!.sampleId);
    expect(await readdir(join(sample, 'agent'))).toContain('claude-attempt-1.jsonl');
    const events = (await readFile(join(sample, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['agent.init', 'model.call', 'agent.tool_call', 'agent.tool_result', 'agent.result']));
    expect(events.find((e) => e.type === 'agent.tool_call')).toMatchObject({ name: 'Bash' });
    expect(events.find((e) => e.type === 'agent.result')).toMatchObject({ subtype: 'success', session_id: expect.any(String) });
    // The bridge's transcripts make an ATIF trajectory holding the Bash call the script made, answered.
    const trajectory = JSON.parse(await readFile(join(sample, 'agent', 'trajectory.json'), 'utf8')) as AtifTrajectory;
    expect(checkTrajectory(trajectory)).toEqual([]);
    const init = events.find((e) => e.type === 'agent.init')!;
    expect(trajectory).toMatchObject({ schema_version: 'ATIF-v1.6', session_id: init.sessionId, agent: { name: 'claude_code', version: init.version, model_name: 'mock/solve' } });
    expect(trajectory.steps[0]).toMatchObject({ step_id: 1, source: 'user' });
    const step = trajectory.steps.find((s) => s.tool_calls?.some((c) => c.function_name === 'Bash'))!;
    const bash = step.tool_calls!.find((c) => c.function_name === 'Bash')!;
    expect(bash.arguments).toMatchObject({ command: expect.any(String) });
    expect(step.observation?.results).toContainEqual(expect.objectContaining({ source_call_id: bash.tool_call_id, content: expect.any(String) }));
    expect(trajectory.final_metrics.total_steps).toBe(trajectory.steps.length);
    expect(await leftovers(runId)).toBe(0);
  }, 900_000);
});
