import { describe, expect, it } from 'vitest';
import type { Sandbox, SandboxSpec } from '../../sandboxes/index.ts';
import { SandboxSlots, StartedAhead } from './start-ahead.ts';

const spec = (sampleId: string): SandboxSpec => ({ source: { image: 'x' }, runId: 'r', sampleId });

/** Fake sandboxes: counts the live ones and the most ever live at once. */
function fakeStarts() {
  let live = 0;
  const counts = { live: () => live, peak: 0, started: [] as string[], stopped: [] as string[] };
  const start = async (s: SandboxSpec): Promise<Sandbox> => {
    await new Promise((r) => setTimeout(r, 2));
    live++;
    counts.peak = Math.max(counts.peak, live);
    counts.started.push(s.sampleId);
    let stopped = false;
    return {
      id: s.sampleId,
      spec: s,
      image: 'x',
      stop: async () => {
        if (stopped) return;
        stopped = true;
        live--;
        counts.stopped.push(s.sampleId);
      },
    } as unknown as Sandbox;
  };
  return { counts, start };
}

const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SandboxSlots', () => {
  it('starts the next queued sample ahead, one at a time, in queue order, and never more than slots + 1 sandboxes', async () => {
    const { counts, start } = fakeStarts();
    const slots = new SandboxSlots(1, 1);
    const order: string[] = [];
    const aheadOf: Record<string, boolean> = {};
    await Promise.all(
      ['s1', 's2', 's3', 's4'].map((id) =>
        slots.run(
          () => new StartedAhead(spec(id), start),
          async (ahead) => {
            aheadOf[id] = ahead !== undefined;
            const sandbox = (await ahead?.take()) ?? (await start(spec(id)));
            order.push(id);
            await tick(15); // the next sample's start is done meanwhile
            await sandbox.stop();
          },
        ),
      ),
    );
    expect(order).toEqual(['s1', 's2', 's3', 's4']);
    // The first takes a free slot and starts its own; each later one was started while it queued.
    expect(aheadOf).toEqual({ s1: false, s2: true, s3: true, s4: true });
    expect([...counts.started].sort()).toEqual(['s1', 's2', 's3', 's4']); // s2's start may begin before s1's own
    expect(counts.peak).toBe(2);
    expect(counts.live()).toBe(0);
  });

  it('stops a sandbox started ahead that its sample did not take', async () => {
    const { counts, start } = fakeStarts();
    const slots = new SandboxSlots(1, 1);
    let running = true;
    await Promise.all([
      slots.run(() => undefined, async () => {
        await tick(20);
        running = false;
      }),
      // Started ahead while s1 runs, then the run stops: the trial returns without taking it.
      slots.run(() => new StartedAhead(spec('s2'), start), async (ahead) => {
        expect(ahead).toBeDefined();
        expect(running).toBe(false);
      }),
    ]);
    expect(counts.started).toEqual(['s2']);
    expect(counts.stopped).toEqual(['s2']);
    expect(counts.live()).toBe(0);
  });

  it('hands a failed start to the sample, and does not start ahead when told not to', async () => {
    const slots = new SandboxSlots(1, 1);
    let calls = 0;
    const failing = (): StartedAhead => new StartedAhead(spec('s2'), async () => {
      throw new Error('engine said no');
    });
    const outcomes = await Promise.all([
      slots.run(() => undefined, () => tick(10).then(() => 'ran')),
      slots.run(failing, async (ahead) => ahead!.take().then(() => 'started', (err: Error) => err.message)),
      slots.run(() => {
        calls++;
        return undefined; // the run stopped starting samples
      }, async (ahead) => (ahead ? 'ahead' : 'none')),
    ]);
    expect(outcomes).toEqual(['ran', 'engine said no', 'none']);
    expect(calls).toBe(1);
  });
});

describe('StartedAhead', () => {
  it('is dropped (stopped, not used) when it went stale, such as an engine outage since its start', async () => {
    const { counts, start } = fakeStarts();
    let outages = 0;
    const ahead = new StartedAhead(spec('s1'), start, () => outages !== 0);
    await ahead.sandbox;
    outages++;
    expect(await ahead.take()).toBeUndefined();
    expect(ahead.dropped).toBe(true);
    expect(counts.stopped).toEqual(['s1']);
    const fresh = new StartedAhead(spec('s2'), start, () => outages !== 1);
    expect((await fresh.take())?.id).toBe('s2');
    expect(fresh.dropped).toBe(false);
  });
});
