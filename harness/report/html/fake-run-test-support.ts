// A synthetic run directory with the files a real run writes (run.json, summary.json, and per
// sample result.json, events.jsonl with model and tool calls, a diff, verifier output), for
// the report's unit tests and its open-time benchmark. Outcomes are seeded, so reproducible.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../../compare/stats.ts';
import type { EventRecord, ResultRecord, RunRecord, SummaryRecord } from '../../log/schema.ts';

export interface FakeRunOptions {
  readonly dir: string;
  readonly runId: string;
  readonly agent?: string;
  readonly model?: string;
  readonly tasks: number;
  readonly epochs?: number;
  /** Chance that a sample passes (per task: task i passes with `passRate(i)`). */
  readonly passRate?: number | ((task: number) => number);
  /** Chance that a sample ends in an error. */
  readonly errorRate?: number;
  readonly seed?: number;
  /** Tool calls per sample. */
  readonly toolCalls?: number;
}

export async function writeFakeRun(o: FakeRunOptions): Promise<string> {
  const rand = seededRandom(o.seed ?? 1);
  const epochs = o.epochs ?? 1;
  const agent = o.agent ?? 'claude_code';
  const runDir = join(o.dir, o.runId);
  const taskIds = Array.from({ length: o.tasks }, (_, i) => `task-${String(i + 1).padStart(4, '0')}`);
  const created = '2026-01-01T00:00:00.000Z';
  const run: RunRecord = {
    version: 1,
    runId: o.runId,
    createdAt: created,
    harness: { name: 'cagebench', version: '0.1.0', node: process.version },
    config: { agent, paths: ['/suite'], ...(o.model ? { model: o.model } : {}), ...(epochs > 1 ? { epochs } : {}) } as RunRecord['config'],
    tasks: taskIds.map((id) => ({ id, suite: 'fake', origin: '/suite', digest: `sha256:${id}` })),
  };
  await mkdir(join(runDir, 'samples'), { recursive: true });
  await writeFile(join(runDir, 'run.json'), JSON.stringify(run, null, 2));
  const counts = { pass: 0, fail: 0, error: 0, total: 0 };
  const scores: number[] = [];
  let tokens = 0;
  const writes: Promise<void>[] = [];
  for (const [ti, taskId] of taskIds.entries()) {
    const rate = typeof o.passRate === 'function' ? o.passRate(ti) : (o.passRate ?? 0.6);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const sampleId = `${taskId}__e${epoch}`;
      const roll = rand();
      const outcome = roll < (o.errorRate ?? 0) ? 'error' : rand() < rate ? 'pass' : 'fail';
      counts[outcome]++;
      counts.total++;
      const score = outcome === 'pass' ? 1 : outcome === 'fail' ? 0 : undefined;
      if (score !== undefined) scores.push(score);
      const inputTokens = 2000 + Math.floor(rand() * 20000);
      const outputTokens = 100 + Math.floor(rand() * 2000);
      tokens += inputTokens + outputTokens;
      writes.push(writeSample(runDir, { taskId, sampleId, epoch, agent, outcome, ...(score !== undefined ? { score } : {}), inputTokens, outputTokens, toolCalls: o.toolCalls ?? 4 }));
    }
  }
  await Promise.all(writes);
  const mean = scores.length ? scores.reduce((s, x) => s + x, 0) / scores.length : 0;
  const sd = scores.length > 1 ? Math.sqrt(scores.reduce((s, x) => s + (x - mean) ** 2, 0) / (scores.length - 1)) : 0;
  const summary: SummaryRecord = {
    version: 1,
    runId: o.runId,
    status: 'completed',
    agent,
    counts,
    pending: 0,
    errorsByKind: counts.error ? { agent: counts.error } : {},
    score: { mean, stderr: scores.length ? sd / Math.sqrt(scores.length) : 0, n: scores.length },
    passAtK: { '1': mean },
    passesByAttempt: { '1': counts.pass },
    perTask: {},
    retries: 0,
    usage: { requests: counts.total * 3, inputTokens: tokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: tokens * 3e-6 },
    timings: { startedAt: created, endedAt: '2026-01-01T01:00:00.000Z', durationMs: 3_600_000 },
  };
  await writeFile(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
  return runDir;
}

async function writeSample(
  runDir: string,
  s: { taskId: string; sampleId: string; epoch: number; agent: string; outcome: 'pass' | 'fail' | 'error'; score?: number; inputTokens: number; outputTokens: number; toolCalls: number },
): Promise<void> {
  const dir = join(runDir, 'samples', s.sampleId);
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  await mkdir(join(dir, 'verifier'), { recursive: true });
  const t = (ms: number): string => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();
  const events: EventRecord[] = [
    { t: t(0), type: 'sample.start', sampleId: s.sampleId, taskId: s.taskId, epoch: s.epoch, agent: s.agent },
    { t: t(400), type: 'sandbox.start', id: 'abc123', network: 'model-only', image: 'cagebench/sandbox:bookworm' },
    { t: t(500), type: 'agent.start', attempt: 1, agent: s.agent },
  ];
  let at = 600;
  for (let i = 0; i < s.toolCalls; i++) {
    events.push({
      t: t((at += 50)),
      type: 'model.call',
      api: 'anthropic',
      requestedModel: 'claude-x',
      usage: { inputTokens: Math.floor(s.inputTokens / s.toolCalls), outputTokens: Math.floor(s.outputTokens / s.toolCalls) },
      costUsd: 0.001,
      latencyMs: 800,
      stopReason: 'tool_use',
      transcript: {
        input: i === 0 ? { system: 'You are a coding agent.', user: [`Fix ${s.taskId}: the tests in tests/ fail.`] } : { toolResults: [{ callId: `call-${i - 1}`, content: 'ok' }] },
        output: { text: `Step ${i + 1}: let me look at the code.`, toolCalls: [{ id: `call-${i}`, name: 'Bash', arguments: { command: `grep -n TODO src/file${i}.py` } }] },
      },
    });
    events.push({ t: t((at += 10)), type: 'agent.tool_call', id: `call-${i}`, name: 'Bash', input: { command: `grep -n TODO src/file${i}.py` }, attempt: 1 });
    events.push({ t: t((at += 100)), type: 'agent.tool_result', id: `call-${i}`, isError: i === 1, output: `src/file${i}.py:${10 + i}: # TODO fix the off-by-one\n`.repeat(3), attempt: 1 });
  }
  events.push({ t: t((at += 50)), type: 'agent.message', text: 'I fixed the off-by-one error.', attempt: 1 });
  events.push({ t: t((at += 50)), type: 'agent.end', attempt: 1, exitCode: 0, timedOut: false, durationMs: at - 500 });
  if (s.outcome !== 'error') events.push({ t: t((at += 300)), type: 'score', attempt: 1, value: s.score, passed: s.outcome === 'pass', explanation: s.outcome === 'pass' ? 'all tests pass' : '2 of 9 tests fail' });
  events.push({ t: t((at += 100)), type: 'sample.end', outcome: s.outcome, ...(s.score !== undefined ? { score: s.score } : {}) });
  const diff = `diff --git a/src/file0.py b/src/file0.py\n--- a/src/file0.py\n+++ b/src/file0.py\n@@ -8,5 +8,5 @@\n def count(xs):\n-    return len(xs) - 1\n+    return len(xs)\n \n`;
  const error = s.outcome === 'error' ? { kind: 'agent' as const, code: 'CB_AGENT_EXIT', message: 'the agent exited with code 1: Error: something broke' } : undefined;
  const result: ResultRecord = {
    version: 1,
    sampleId: s.sampleId,
    taskId: s.taskId,
    suite: 'fake',
    epoch: s.epoch,
    agent: s.agent,
    outcome: s.outcome,
    ...(s.score !== undefined ? { score: s.score } : {}),
    ...(s.outcome === 'pass' ? { passedAttempt: 1 } : {}),
    attempts: [
      {
        attempt: 1,
        ...(s.score !== undefined ? { score: s.score } : {}),
        passed: s.outcome === 'pass',
        ...(s.outcome !== 'error' ? { explanation: s.outcome === 'pass' ? 'all tests pass' : '2 of 9 tests fail' } : {}),
        agent: { exitCode: s.outcome === 'error' ? 1 : 0, timedOut: false, durationMs: at - 500, finalMessage: 'I fixed the off-by-one error.' },
        modelUsage: { requests: s.toolCalls, inputTokens: s.inputTokens, outputTokens: s.outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.001 * s.toolCalls },
        changes: { created: [], modified: ['src/file0.py'], deleted: [], diffFile: 'artifacts/attempt-1.diff' },
        verifierMs: 300,
        ...(error ? { error } : {}),
      },
    ],
    ...(error ? { error } : {}),
    usage: { requests: s.toolCalls, inputTokens: s.inputTokens, outputTokens: s.outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.001 * s.toolCalls },
    retries: 0,
    retriedErrors: [],
    timings: { startedAt: t(0), endedAt: t(at), durationMs: at, environmentMs: 400, agentMs: at - 500, verifierMs: 300 },
  };
  await Promise.all([
    writeFile(join(dir, 'result.json'), JSON.stringify(result, null, 2)),
    writeFile(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n'),
    writeFile(join(dir, 'artifacts', 'attempt-1.diff'), diff),
    writeFile(join(dir, 'verifier', 'reward.txt'), s.score !== undefined ? `${s.score}\n` : ''),
    writeFile(join(dir, 'verifier', 'cagebench-stdout.txt'), s.outcome === 'pass' ? '9 passed\n' : 'FAILED tests/test_count.py::test_empty - assert -1 == 0\n7 passed, 2 failed\n'),
  ]);
}
