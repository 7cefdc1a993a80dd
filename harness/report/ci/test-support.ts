// Runs made up for the CI-output tests: a RunView from per-task epoch outcomes, and the same
// written as a run directory (run.json, summary.json, samples/<id>/result.json) so the readers
// and the example CI scripts see what a real run leaves.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunView } from '../../log/reader.ts';
import { LOG_VERSION, type ResultRecord, type RunRecord, type SummaryRecord } from '../../log/schema.ts';

/** 1 pass, 0 fail, 'e' an infra error, 't' a timeout error, null: not run yet. */
export type Cell = 0 | 1 | 'e' | 't' | null;

export interface FakeRun {
  readonly runId: string;
  readonly tasks: Readonly<Record<string, readonly Cell[]>>;
  readonly agent?: string;
  readonly model?: string;
  readonly suite?: string;
  /** Absolute origin per task (a Harbor task dir); default /repo/tasks/<suite>/<task>. */
  readonly origin?: (taskId: string) => string;
  readonly dir?: string;
  /** Leave out summary.json (a run still going). */
  readonly noSummary?: boolean;
}

const T0 = Date.parse('2026-04-01T10:00:00.000Z');

export function fakeResult(runId: string, taskId: string, epoch: number, cell: Exclude<Cell, null>, suite = 'demo', agent = 'claude_code'): ResultRecord {
  const start = T0 + epoch * 60_000;
  const error = cell === 'e' ? { kind: 'infra' as const, code: 'CB_DOCKER', message: 'the Docker engine hung up\nsecond line' } : cell === 't' ? { kind: 'timeout' as const, code: 'CB_AGENT_TIMEOUT', message: 'the agent ran past 600 s' } : undefined;
  const outcome = cell === 1 ? 'pass' : cell === 0 ? 'fail' : 'error';
  return {
    version: LOG_VERSION,
    sampleId: `${taskId}__e${epoch}`,
    taskId,
    suite,
    epoch,
    agent,
    outcome,
    ...(outcome === 'pass' ? { passedAttempt: 1 } : {}),
    ...(outcome !== 'error' ? { score: cell === 1 ? 1 : 0 } : {}),
    attempts: [
      {
        attempt: 1,
        ...(outcome !== 'error' ? { score: cell === 1 ? 1 : 0 } : {}),
        passed: cell === 1,
        ...(outcome === 'fail' ? { explanation: `test_${taskId} failed: expected 42, got 41 <&> ]]> \u0001` } : {}),
        agent: { timedOut: cell === 't', durationMs: 30_000 },
        ...(error ? { error } : {}),
      },
    ],
    ...(error ? { error } : {}),
    usage: { requests: 3, inputTokens: 1000, outputTokens: 200, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.012 },
    retries: 0,
    retriedErrors: [],
    timings: { startedAt: new Date(start).toISOString(), endedAt: new Date(start + 45_000).toISOString(), durationMs: 45_000, environmentMs: 5_000, agentMs: 30_000, verifierMs: 10_000 },
  };
}

export function fakeView(spec: FakeRun): RunView {
  const suite = spec.suite ?? 'demo';
  const agent = spec.agent ?? 'claude_code';
  const epochs = Math.max(1, ...Object.values(spec.tasks).map((cells) => cells.length));
  const origin = spec.origin ?? ((id: string) => `/repo/tasks/${suite}/${id}`);
  const run: RunRecord = {
    version: LOG_VERSION,
    runId: spec.runId,
    createdAt: new Date(T0).toISOString(),
    harness: { name: 'cagebench', version: '0.0.0-test', node: process.version },
    config: { agent, paths: ['/repo/tasks'], epochs, ...(spec.model ? { model: spec.model } : {}) },
    tasks: Object.keys(spec.tasks).map((id) => ({ id, suite, origin: origin(id), digest: `sha256:${id}` })),
  };
  const results = Object.entries(spec.tasks)
    .flatMap(([taskId, cells]) => cells.flatMap((cell, i) => (cell === null ? [] : [fakeResult(spec.runId, taskId, i + 1, cell, suite, agent)])))
    .sort((a, b) => (a.taskId === b.taskId ? a.epoch - b.epoch : a.taskId < b.taskId ? -1 : 1));
  const count = (o: ResultRecord['outcome']): number => results.filter((r) => r.outcome === o).length;
  const scored = results.filter((r) => r.outcome !== 'error');
  const mean = scored.length ? scored.reduce((s, r) => s + (r.score ?? 0), 0) / scored.length : 0;
  const pending = Object.keys(spec.tasks).length * epochs - results.length;
  const summary: SummaryRecord = {
    version: LOG_VERSION,
    runId: spec.runId,
    status: pending ? 'interrupted' : 'completed',
    agent,
    counts: { pass: count('pass'), fail: count('fail'), error: count('error'), total: results.length },
    pending,
    errorsByKind: Object.fromEntries([...new Set(results.filter((r) => r.error).map((r) => r.error!.kind))].map((k) => [k, results.filter((r) => r.error?.kind === k).length])),
    score: { mean, stderr: 0.01, n: scored.length },
    passAtK: { '1': mean },
    passesByAttempt: { '1': count('pass') },
    perTask: {},
    retries: 0,
    timings: { startedAt: run.createdAt, endedAt: new Date(T0 + 3_600_000).toISOString(), durationMs: 3_600_000 },
  };
  return { dir: spec.dir ?? `/runs/${spec.runId}`, run, ...(spec.noSummary ? {} : { summary }), results };
}

/** Write the view as a run directory under `out`; returns its path. */
export async function writeFakeRun(out: string, spec: FakeRun): Promise<string> {
  const dir = join(out, spec.runId);
  const view = fakeView({ ...spec, dir });
  await mkdir(join(dir, 'samples'), { recursive: true });
  await writeFile(join(dir, 'run.json'), JSON.stringify(view.run, null, 2));
  if (view.summary) await writeFile(join(dir, 'summary.json'), JSON.stringify(view.summary, null, 2));
  for (const r of view.results) {
    await mkdir(join(dir, 'samples', r.sampleId, 'agent'), { recursive: true });
    await writeFile(join(dir, 'samples', r.sampleId, 'result.json'), JSON.stringify(r, null, 2));
    if (r.outcome !== 'error') await writeFile(join(dir, 'samples', r.sampleId, 'agent', 'trajectory.json'), '{}');
  }
  return dir;
}

/** `n` tasks named t0000…, each with the same epochs. */
export function uniform(n: number, cells: readonly Cell[], prefix = 't'): Record<string, readonly Cell[]> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(4, '0')}`, cells]));
}
