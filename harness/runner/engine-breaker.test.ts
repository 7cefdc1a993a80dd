import { describe, expect, it } from 'vitest';
import { EngineBreaker } from './engine-breaker.ts';

/** An engine that answers according to `answers` (the last one repeats) and a clock that sleeps move. */
function setup(answers: boolean[], graceMs = 10_000) {
  let now = 0;
  const pings: number[] = [];
  const notes: string[] = [];
  const abort = new AbortController();
  const breaker = new EngineBreaker({
    graceMs,
    signal: abort.signal,
    ping: async () => {
      pings.push(now);
      return answers.length > 1 ? answers.shift()! : answers[0]!;
    },
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new Error('aborted');
      await Promise.resolve();
      now += ms;
    },
    onDown: () => notes.push('down'),
    onBack: (ms) => notes.push(`back after ${ms}`),
    onLost: (ms) => notes.push(`lost after ${ms}`),
  });
  return { breaker, pings, notes, abort, clock: () => now };
}

describe('EngineBreaker', () => {
  it('says up when the engine answers, and lets samples start', async () => {
    const { breaker, notes } = setup([true]);
    expect(await breaker.afterError()).toBe('up');
    expect(await breaker.ready()).toBe(true);
    expect(notes).toEqual([]);
    expect(breaker.count).toBe(0);
  });

  it('holds every sample during an outage and lets them all go when the engine is back', async () => {
    const { breaker, pings, notes } = setup([false, false, false, true]);
    const first = breaker.afterError();
    const second = breaker.afterError(); // a second sample failing in the same outage
    const waiting = breaker.ready();
    expect(await Promise.all([first, second, waiting])).toEqual(['back', 'back', true]);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toBe('down');
    expect(notes[1]).toMatch(/^back after \d+$/);
    expect(breaker.count).toBe(1);
    // Probes back off: the waits between them do not shrink to nothing, and stay under the cap.
    expect(pings.length).toBe(4);
    expect(await breaker.ready()).toBe(true);
    expect(breaker.lost).toBe(false);
  });

  it('gives up once the grace has passed, and nothing starts after that', async () => {
    const { breaker, notes, clock } = setup([false], 5_000);
    expect(await breaker.afterError()).toBe('lost');
    expect(clock()).toBeGreaterThanOrEqual(5_000);
    expect(clock()).toBeLessThan(5_000 + 100);
    expect(breaker.lost).toBe(true);
    expect(breaker.lostAfter).toBeGreaterThanOrEqual(5_000);
    expect(await breaker.ready()).toBe(false);
    expect(await breaker.afterError()).toBe('lost');
    expect(notes.at(-1)).toMatch(/^lost after 5\d{3}$/);
  });

  it('ends an outage as lost when the run is interrupted', async () => {
    const { breaker, abort } = setup([false], 600_000);
    abort.abort();
    expect(await breaker.afterError()).toBe('lost');
  });

  it('lives through two separate outages', async () => {
    const { breaker } = setup([false, true, true, false, true]);
    expect(await breaker.afterError()).toBe('back');
    expect(await breaker.afterError()).toBe('up');
    expect(await breaker.afterError()).toBe('back');
    expect(breaker.count).toBe(2);
  });
});
