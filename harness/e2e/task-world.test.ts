// The task's world at run level, with real Docker and (for the preflight) the real Gemini CLI:
// - an agent that cannot start on a task's image stops the run before any sample, naming the
//   missing library (CB_AGENT_PREFLIGHT), instead of one error per sample;
// - `${NAME}` host references reach the sandbox only through --pass-env, and a missing one
//   stops the run before run.json is written;
// - a healthcheck is waited for before the agent starts;
// - a scripted solver whose solution fails says so instead of claiming success;
// - a reward outside [0, 1] is kept but flagged, unless the task declares its range.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

const WORLD = fileURLToPath(new URL('./fixtures/world/', import.meta.url));

describe('preflight', () => {
  it('an agent that cannot start on an image stops the run before any sample, naming the missing library', async () => {
    const out = await outDir();
    const runId = testRunId('preflight-libstdcxx');
    const err = await run({ paths: [join(WORLD, 'no-libstdcxx')], agent: 'gemini_cli', model: 'mock/solve', epochs: 3, out, runId }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('CB_AGENT_PREFLIGHT');
    expect(err?.message).toContain('gemini_cli cannot start on the image built from');
    expect(err?.message).toContain('libstdc++.so.6');
    // No sample ran: not three errors, one clear stop.
    expect(await readdir(join(out, runId, 'samples')).catch(() => [])).toEqual([]);
    expect(await leftovers(runId)).toBe(0);
  }, 600_000);

  it('an agent with no build for a musl image (Gemini CLI: no musl Node) stops the run before any sample, saying so', async () => {
    const out = await outDir();
    const runId = testRunId('preflight-musl');
    const err = await run({ paths: [join(FIXTURES, 'musl-marked.yaml')], agent: 'gemini_cli', model: 'mock/solve', out, runId }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('CB_AGENT_PREFLIGHT');
    expect(err?.message).toMatch(/gemini_cli cannot start on the image built from .*musl-marked.*node \S+ has no build for it/s);
    expect(await readdir(join(out, runId, 'samples')).catch(() => [])).toEqual([]);
    expect(await leftovers(runId)).toBe(0);
  }, 600_000);
});

describe('host variables', () => {
  it('a ${NAME} reference without --pass-env stops the run before run.json, naming the variable', async () => {
    const out = await outDir();
    const runId = testRunId('host-env-missing');
    process.env.CB_TEST_HOST_VALUE = 'from-the-host';
    try {
      await expect(run({ paths: [join(WORLD, 'host-env')], agent: 'oracle', out, runId })).rejects.toThrow(
        /host-env: \[environment\]\.env\.FROM_HOST = "\$\{CB_TEST_HOST_VALUE\}" takes CB_TEST_HOST_VALUE from the host, where it is set but not passed: allow it with --pass-env CB_TEST_HOST_VALUE/,
      );
      expect(existsSync(join(out, runId, 'run.json'))).toBe(false);
    } finally {
      delete process.env.CB_TEST_HOST_VALUE;
    }
  });

  it('with --pass-env the value reaches the sandbox; a default fills an unset one; an embedded reference stays literal; run.json keeps the name only', async () => {
    const out = await outDir();
    const runId = testRunId('host-env-passed');
    process.env.CB_TEST_HOST_VALUE = 'from-the-host';
    try {
      const done = await run({ paths: [join(WORLD, 'host-env')], agent: 'oracle', passEnv: ['CB_TEST_HOST_VALUE'], out, runId });
      const [r] = await results(done.runDir);
      expect(r!.outcome, r!.attempts.at(-1)?.explanation).toBe('pass');
      const record = await readFile(join(done.runDir, 'run.json'), 'utf8');
      expect(record).toContain('CB_TEST_HOST_VALUE');
      expect(record).not.toContain('from-the-host');
    } finally {
      delete process.env.CB_TEST_HOST_VALUE;
    }
  });
});

describe('healthcheck', () => {
  it('the agent starts only once the healthcheck passes; each try is an event', async () => {
    const done = await run({ paths: [join(WORLD, 'healthy')], agent: 'oracle', out: await outDir(), runId: testRunId('healthcheck') });
    const [r] = await results(done.runDir);
    expect(r!.outcome, r!.error?.message ?? r!.attempts.at(-1)?.explanation).toBe('pass');
    const events = await sampleEvents(done.runDir, r!.sampleId);
    const checks = events.filter((e) => e.type === 'healthcheck');
    expect(checks.map((e) => e.exitCode)).toEqual([1, 1, 0]);
    const types = events.map((e) => e.type);
    expect(types.lastIndexOf('healthcheck')).toBeLessThan(types.indexOf('agent.start'));
  });
});

describe('the scripted solver', () => {
  it('a solution that fails makes the scripted model report the failure, not success', async () => {
    const done = await run({ paths: [join(WORLD, 'failing-solution')], agent: 'claude_code', model: 'mock/solve', out: await outDir(), runId: testRunId('failing-solution') });
    const [r] = await results(done.runDir);
    expect(r!.outcome).toBe('fail');
    expect(r!.attempts[0]!.agent.finalMessage).toBe('Failed: the reference solution exited 7, so the task is not solved.');
  }, 300_000);
});

describe('rewards out of range', () => {
  it('keeps a reward of 7 but flags it in events, the result and the summary, unless the task declares a 0-10 range', async () => {
    const runId = testRunId('reward-range');
    const outcome = await run({ paths: [join(WORLD, 'rewards')], agent: 'oracle', out: await outDir(), runId });
    const byId = new Map((await results(outcome.runDir)).map((r) => [r.taskId, r]));
    const seven = byId.get('seven')!;
    expect(seven.score).toBe(7);
    expect(seven.warnings).toEqual([{ code: 'reward_out_of_range', message: expect.stringMatching(/the score 7 is outside \[0, 1\]; .*metadata.reward_range/) }]);
    expect((await sampleEvents(outcome.runDir, 'seven__e1')).some((e) => e.type === 'score.out_of_range' && e.value === 7)).toBe(true);
    const declared = byId.get('ten-scale')!;
    expect(declared.score).toBe(7);
    expect(declared.warnings).toBeUndefined();
    expect(outcome.summary.warnings).toEqual({ reward_out_of_range: 1 });
    expect(await leftovers(runId)).toBe(0);
  }, 120_000);
});
