// The runner over real Docker with the quick fixture suite and programmatic agents:
// epochs and pass@k, the attempts loop, infra retries, limits on errors and score, JUnit,
// and what each attempt changed in the workdir.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentAdapter } from '../../agents/index.ts';
import { SandboxError } from '../../sandboxes/index.ts';
import { CagebenchError } from '../errors.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run, type RunReporter } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, SUITES } from './support.ts';

const QUICK = join(FIXTURES, 'quick.yaml');

/** Solves `write-ok` (file scorer) on the calls listed, does nothing otherwise. */
function scriptedAgent(solveOn: (call: number) => boolean, options: { continues?: boolean } = {}): AgentAdapter & { calls: number } {
  const agent = {
    name: 'scripted',
    needsModel: false,
    calls: 0,
    async run(ctx: Parameters<AgentAdapter['run']>[0]) {
      agent.calls++;
      if (solveOn(agent.calls)) await ctx.sandbox.exec('echo ok > out.txt', { cwd: ctx.task.environment.workdir });
      ctx.emit({ type: 'agent.note', text: `call ${agent.calls}` });
      return { timedOut: false, exitCode: 0, finalMessage: `call ${agent.calls}` };
    },
  } as AgentAdapter & { calls: number };
  if (options.continues) (agent as { continue?: AgentAdapter['continue'] }).continue = (ctx) => agent.run(ctx);
  return agent;
}

describe('epochs and pass@k', () => {
  it('runs every epoch as its own sample and computes pass@k from the epochs', async () => {
    const out = await outDir();
    const runId = testRunId('epochs');
    // Sequential, so call n is epoch n: epochs 1 and 3 pass, 2 and 4 fail.
    const agent = scriptedAgent((call) => call % 2 === 1);
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent, epochs: 4, concurrency: 1, out, runId });
    const rs = await results(outcome.runDir);
    expect(rs.map((r) => `${r.sampleId}:${r.outcome}`)).toEqual(['write-ok__e1:pass', 'write-ok__e2:fail', 'write-ok__e3:pass', 'write-ok__e4:fail']);
    const s = outcome.summary;
    expect(s.counts).toEqual({ pass: 2, fail: 2, error: 0, total: 4 });
    expect(s.score.mean).toBe(0.5);
    // n = 4, c = 2: pass@1 = 0.5, pass@2 = 1 - C(2,2)/C(4,2) = 5/6, pass@3 = pass@4 = 1.
    expect(s.passAtK['1']).toBeCloseTo(0.5);
    expect(s.passAtK['2']).toBeCloseTo(5 / 6);
    expect(s.passAtK['3']).toBeCloseTo(1);
    expect(s.passAtK['4']).toBeCloseTo(1);
    expect(outcome.exitCode).toBe(0);
    expect(await leftovers(runId)).toBe(0);
  });
});

describe('attempts', () => {
  it('continues an agent that can after an incorrect attempt, and records every attempt', async () => {
    const agent = scriptedAgent((call) => call === 2, { continues: true });
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent, attempts: 3, out: await outDir(), runId: testRunId('attempts') });
    const [r] = await results(outcome.runDir);
    expect(r!.outcome).toBe('pass');
    expect(r!.attempts.map((a) => a.passed)).toEqual([false, true]);
    expect(agent.calls).toBe(2);
    // Each attempt's changes are its own: nothing on the first, out.txt on the second.
    expect(r!.attempts.map((a) => a.changes)).toEqual([
      { created: [], modified: [], deleted: [] },
      { created: ['out.txt'], modified: [], deleted: [], diffFile: 'artifacts/attempt-2.diff' },
    ]);
    expect(await readFile(join(outcome.runDir, 'samples', 'write-ok__e1', 'artifacts', 'attempt-2.diff'), 'utf8')).toBe(
      'diff --git a/out.txt b/out.txt\nnew file mode 100644\n--- /dev/null\n+++ b/out.txt\n@@ -0,0 +1,1 @@\n+ok\n',
    );
    const events = (await readFile(join(outcome.runDir, 'samples', 'write-ok__e1', 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'score').map((e) => e.passed)).toEqual([false, true]);
  });

  it('stops after the first attempt when the agent cannot continue', async () => {
    const agent = scriptedAgent(() => false);
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent, attempts: 3, out: await outDir(), runId: testRunId('no-continue') });
    const [r] = await results(outcome.runDir);
    expect(r!.outcome).toBe('fail');
    expect(r!.attempts).toHaveLength(1);
  });
});

describe('workspace changes', () => {
  it("records each attempt's changed files and writes its diff under artifacts/", async () => {
    const runId = testRunId('changes');
    // fix-python-bug names its workdir; git-revert does not (its image works in /app).
    const outcome = await run({ paths: [join(SUITES, 'smoke')], task: '{fix-python-bug,git-revert}', agent: 'oracle', concurrency: 2, out: await outDir(), runId });
    const [fix, revert] = await results(outcome.runDir);
    expect(fix).toMatchObject({ sampleId: 'fix-python-bug__e1', outcome: 'pass' });
    // The solution's unittest run leaves __pycache__ behind: not part of the change.
    expect(fix!.attempts[0]!.changes).toEqual({ created: [], modified: ['stats.py'], deleted: [], diffFile: 'artifacts/attempt-1.diff' });
    const fixDiff = await readFile(join(outcome.runDir, 'samples', 'fix-python-bug__e1', 'artifacts', 'attempt-1.diff'), 'utf8');
    expect(fixDiff).toMatch(/^diff --git a\/stats.py b\/stats.py\n--- a\/stats.py\n\+\+\+ b\/stats.py\n@@ -/);
    expect(fixDiff).toContain('         return ordered[mid]\n-    return ordered[mid]\n+    return (ordered[mid - 1] + ordered[mid]) / 2\n');
    expect(revert).toMatchObject({ sampleId: 'git-revert__e1', outcome: 'pass' });
    // The revert commit's objects are in .git (not looked at); the worktree change is config.ini.
    expect(revert!.attempts[0]!.changes).toEqual({ created: [], modified: ['repo/config.ini'], deleted: [], diffFile: 'artifacts/attempt-1.diff' });
    const revertDiff = await readFile(join(outcome.runDir, 'samples', 'git-revert__e1', 'artifacts', 'attempt-1.diff'), 'utf8');
    expect(revertDiff).toContain('--- a/repo/config.ini\n+++ b/repo/config.ini\n@@ -1,3 +1,3 @@\n [service]\n-timeout = 3\n+timeout = 30\n retries = 3\n');
    const events = (await readFile(join(outcome.runDir, 'samples', 'git-revert__e1', 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'workspace.snapshot').map((e) => `${e.attempt}:${e.at}:${e.root}`)).toEqual(['1:start:/app', '1:end:/app']);
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});

describe('errors', () => {
  it('retries an infra error with a fresh sandbox, and logs each retry', async () => {
    let calls = 0;
    const flaky: AgentAdapter = {
      name: 'flaky',
      needsModel: false,
      async run(ctx) {
        calls++;
        if (calls === 1) throw new SandboxError('CB_SANDBOX_FAILED', 'injected infra failure');
        await ctx.sandbox.exec('echo ok > out.txt', { cwd: ctx.task.environment.workdir });
        return { timedOut: false };
      },
    };
    const retried: string[] = [];
    const reporter: RunReporter = { onSampleRetry: (s, e, n) => retried.push(`${s.id}#${n}:${e.kind}`) };
    const runId = testRunId('retry');
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent: flaky, retries: 2, out: await outDir(), runId }, { reporter });
    const [r] = await results(outcome.runDir);
    expect(r).toMatchObject({ outcome: 'pass', retries: 1 });
    expect(r!.retriedErrors[0]).toMatchObject({ kind: 'infra', code: 'CB_SANDBOX_FAILED' });
    expect(retried).toEqual(['write-ok__e1#1:infra']);
    const events = await readFile(join(outcome.runDir, 'samples', 'write-ok__e1', 'events.jsonl'), 'utf8');
    expect(events).toContain('"type":"sample.retry"');
    expect(outcome.summary.retries).toBe(1);
    expect(await leftovers(runId)).toBe(0);
  });

  it('an error is an error, never a fail: it is left out of the score, and past --max-errors nothing new starts (exit 4)', async () => {
    const broken: AgentAdapter = {
      name: 'broken',
      needsModel: false,
      run: async () => {
        throw new SandboxError('CB_SANDBOX_FAILED', 'always broken');
      },
    };
    const outcome = await run({ paths: [QUICK], agent: broken, retries: 1, maxErrors: 0, concurrency: 1, out: await outDir(), runId: testRunId('max-errors') });
    expect(outcome.summary.counts.fail).toBe(0);
    expect(outcome.summary.counts.error).toBeGreaterThanOrEqual(1);
    expect(outcome.summary.score.n).toBe(0);
    expect(outcome.summary.status).toBe('aborted'); // the first error exceeded 0: nothing more was started
    expect(outcome.summary.pending).toBeGreaterThan(0);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.reasons.join()).toMatch(/^1 error \(infra 1\), not scored; 'cagebench resume .*' runs the infra errors again$/);
  });

  it('any error exits 4 unless --max-errors allows that many, and says how many of each kind', async () => {
    // answer-42 passes, the other two quick tasks end in a task error.
    const picky: AgentAdapter = {
      name: 'picky',
      needsModel: false,
      run: async (ctx) => {
        if (ctx.task.id === 'answer-42') return { timedOut: false, exitCode: 0, finalMessage: '42' };
        throw new CagebenchError('CB_TASK_BROKEN', 'task', `${ctx.task.id} cannot be done`);
      },
    };
    const strict = await run({ paths: [QUICK], agent: picky, concurrency: 2, out: await outDir(), runId: testRunId('errors-exit') });
    expect(strict.summary.counts).toMatchObject({ pass: 1, error: 2 });
    expect(strict.summary.status).toBe('completed');
    expect(strict.exitCode).toBe(4);
    expect(strict.reasons).toEqual(['2 errors (task 2), not scored']);
    const tolerant = await run({ paths: [QUICK], agent: picky, maxErrors: 2, concurrency: 2, out: await outDir(), runId: testRunId('errors-allowed') });
    expect(tolerant.exitCode).toBe(0);
    expect(tolerant.summary.counts.error).toBe(2);
  });

  it('a sandbox that cannot be removed never replaces the error that ended the sample', async () => {
    const agent: AgentAdapter = {
      name: 'messy',
      needsModel: false,
      run: async (ctx) => {
        // The sandbox goes, but its removal then reports a failure, as when the engine vanishes.
        const sandbox = ctx.sandbox as typeof ctx.sandbox & { stop(): Promise<void> };
        const stop = sandbox.stop.bind(sandbox);
        sandbox.stop = async () => {
          await stop();
          throw new Error('removal failed: engine gone');
        };
        throw new CagebenchError('CB_AGENT_CRASHED', 'agent', 'the agent crashed on purpose');
      },
    };
    const runId = testRunId('cleanup-fails');
    const outcome = await run({ paths: [QUICK], task: 'answer-42', agent, out: await outDir(), runId });
    const [r] = await results(outcome.runDir);
    expect(r!.error).toMatchObject({ kind: 'agent', code: 'CB_AGENT_CRASHED', message: 'the agent crashed on purpose' });
    expect(r!.retries).toBe(0);
    const events = await readFile(join(outcome.runDir, 'samples', 'answer-42__e1', 'events.jsonl'), 'utf8');
    expect(events).toMatch(/"type":"sandbox.cleanup_failed".*removal failed: engine gone/);
    expect(await leftovers(runId)).toBe(0);
  });

  it('--fail-under exits 1 when the mean score is below it, and --junit tells fails from errors', async () => {
    const out = await outDir();
    const junit = join(out, 'junit.xml');
    const outcome = await run({ paths: [QUICK], agent: 'nop', failUnder: 0.5, junit, out, runId: testRunId('fail-under') });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.reasons.join()).toMatch(/under --fail-under 0.5/);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="quick" tests="3" failures="3" errors="0"/);
    expect((xml.match(/<failure /g) ?? []).length).toBe(3);
  });

  it('refuses to overwrite an existing run directory', async () => {
    const out = await outDir();
    const runId = testRunId('twice');
    await run({ paths: [QUICK], task: 'answer-42', agent: 'oracle', out, runId });
    await expect(run({ paths: [QUICK], task: 'answer-42', agent: 'oracle', out, runId })).rejects.toMatchObject({ code: 'CB_CONFIG', message: /cagebench resume/ });
  });

  it('an unknown agent is a configuration error naming the known ones', async () => {
    await expect(run({ paths: [QUICK], agent: 'nosuch', out: await outDir() })).rejects.toMatchObject({ kind: 'config', message: /oracle, nop/ });
  });
});
