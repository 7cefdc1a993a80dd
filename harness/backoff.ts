// Waiting between tries: exponential backoff with full jitter (a random wait between 0 and
// the exponential bound), so many callers failing at once do not retry in lockstep. Used by
// the bridge's upstream retries and by the runner's infra retries and engine probes.
import { setTimeout as delay } from 'node:timers/promises';

export interface Backoff {
  /** The bound for the first retry. */
  readonly baseMs: number;
  /** No wait is longer than this. */
  readonly capMs: number;
}

/** The wait before retry number `retry` (1-based): uniform in [0, min(cap, base * 2^(retry-1))]. */
export function fullJitter(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const bound = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(random() * bound);
}

/**
 * A sleep that an abort cuts short, rejecting with the signal's reason (not node's generic
 * AbortError), so an interrupted run never waits out a backoff and callers see why.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
