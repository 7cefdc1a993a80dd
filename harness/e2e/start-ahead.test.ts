// Start-ahead and removal off the critical path, on the local engine: at concurrency 1 the next
// queued sample's sandbox is started while the sample before it runs (its result is written
// later), the sample's own clock starts at its slot, a failed start ahead is retried like any
// infra error, a result is written before its sandbox's removal is over (the run waits for
// every removal), and an interrupt leaves no sandbox behind, those started ahead included.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createDockerProvider, SandboxError, type Sandbox, type SandboxProvider } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents, waitFor } from './support.ts';

const QUICK = join(FIXTURES, 'quick.yaml');
const SLOW = join(FIXTURES, 'slow.yaml');

interface Observed {
  /** Date.now() when each sample's sandbox removal was over, by sample id. */
  readonly removed: Map<string, number>;
  /** Start calls, in order: sample id and whether the sample already held its slot. */
  readonly starts: string[];
}

/**
 * The local Docker provider, observed: each removal is held `removeDelayMs` (so a result
 * written before it is over shows), and `failFirstStartOf` makes that sample's first start fail.
 */
async function observedProvider(options: { removeDelayMs?: number; failFirstStartOf?: string } = {}): Promise<SandboxProvider & { observed: Observed }> {
  const inner = await createDockerProvider();
  const observed: Observed = { removed: new Map(), starts: [] };
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    location: inner.location,
    observed,
    prepareImage: (source, o) => inner.prepareImage(source, o),
    ping: (t) => inner.ping(t),
    reap: () => inner.reap(),
    sweep: (runId) => inner.sweep(runId),
    close: () => inner[Symbol.asyncDispose](),
    async start(spec, o): Promise<Sandbox> {
      observed.starts.push(spec.sampleId);
      if (spec.sampleId === options.failFirstStartOf && observed.starts.filter((s) => s === spec.sampleId).length === 1) {
        throw new SandboxError('CB_SANDBOX_FAILED', `injected failure of ${spec.sampleId}'s first start`);
      }
      const sandbox = await inner.start(spec, o);
      const stop = sandbox.stop.bind(sandbox);
      let stopping: Promise<void> | undefined;
      sandbox.stop = () =>
        (stopping ??= (async () => {
          await new Promise((r) => setTimeout(r, options.removeDelayMs ?? 0));
          await stop();
          observed.removed.set(spec.sampleId, Date.now());
        })());
      return sandbox;
    },
  };
}

describe('start-ahead', () => {
  it('starts the next sample\'s sandbox before the previous result is written, writes results before removals end, and waits for them', async () => {
    const runId = testRunId('ahead');
    const provider = await observedProvider({ removeDelayMs: 1_500 });
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent: 'oracle', epochs: 4, concurrency: 1, out: await outDir(), runId }, { provider });
    expect(outcome.exitCode).toBe(0);
    const rs = await results(outcome.runDir);
    expect(rs.map((r) => [r.sampleId, r.outcome])).toEqual([1, 2, 3, 4].map((e) => [`write-ok__e${e}`, 'pass']));
    for (const [i, r] of rs.entries()) {
      const start = (await sampleEvents(outcome.runDir, r.sampleId)).find((e) => e.type === 'sandbox.start')!;
      const endedAt = Date.parse(r.timings.endedAt);
      // Its result was written before its sandbox's removal was over; the run waited for it.
      expect(endedAt).toBeLessThan(provider.observed.removed.get(r.sampleId)!);
      if (i === 0) {
        expect(start.ahead).toBeUndefined();
        continue;
      }
      const before = rs[i - 1]!;
      expect(start).toMatchObject({ ahead: true });
      expect(start.startMs).toBeGreaterThan(0);
      expect(start.waitedMs).toBeGreaterThanOrEqual(0);
      // Started while the sample before it ran, before that one's result was written…
      expect(Date.parse(start.startedAt as string)).toBeLessThan(Date.parse(before.timings.endedAt));
      // …while its own clock starts once it holds the slot, after that result.
      expect(Date.parse(r.timings.startedAt)).toBeGreaterThanOrEqual(Date.parse(before.timings.endedAt));
    }
    expect(await leftovers(runId)).toBe(0);
  }, 120_000);

  it('retries a sample whose sandbox failed to start ahead, as any infra error', async () => {
    const runId = testRunId('ahead-fail');
    const provider = await observedProvider({ failFirstStartOf: 'write-ok__e2' });
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent: 'oracle', epochs: 2, concurrency: 1, retries: 1, out: await outDir(), runId }, { provider });
    expect(outcome.exitCode).toBe(0);
    const r = (await results(outcome.runDir)).find((x) => x.sampleId === 'write-ok__e2')!;
    expect(r).toMatchObject({ outcome: 'pass', retries: 1 });
    expect(r.retriedErrors[0]).toMatchObject({ kind: 'infra', code: 'CB_SANDBOX_FAILED' });
    const types = (await sampleEvents(outcome.runDir, r.sampleId)).map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['sample.start', 'sample.error', 'sample.retry', 'sandbox.start']);
    // Its first start was the one ahead, made before the first sample's result.
    expect(provider.observed.starts.slice(0, 2).sort()).toEqual(['write-ok__e1', 'write-ok__e2']);
    expect(await leftovers(runId)).toBe(0);
  }, 120_000);

  it('leaves no sandbox behind when interrupted, the one started ahead included', async () => {
    const runId = testRunId('ahead-int');
    const out = await outDir();
    const runDir = join(out, runId);
    const interrupt = new AbortController();
    const running = run({ paths: [SLOW], agent: 'oracle', concurrency: 1, out, runId }, { signal: interrupt.signal });
    // A result, the next sample running and the one after it started ahead: two sandboxes.
    await waitFor(async () => (await results(runDir)).length >= 1 && (await leftovers(runId)) >= 2, 'a result and a sandbox started ahead', 90_000);
    interrupt.abort();
    const outcome = await running;
    expect(outcome.exitCode).toBe(130);
    expect(outcome.summary.status).toBe('interrupted');
    expect(await leftovers(runId)).toBe(0);
    const done = await results(runDir);
    expect(done.every((r) => r.outcome === 'pass')).toBe(true);
    expect(done.length).toBeLessThan(6);
  }, 120_000);
});
