// When and how long to wait before calling upstream again. Retries happen only before the
// first byte of a response has gone to the agent: a stream once started is never replayed.
import { UpstreamError } from '../models/provider.ts';
import { fullJitter } from '../backoff.ts';

export interface RetryPolicy {
  /** Retries after the first call. @default 5 */
  readonly maxRetries: number;
  /** First backoff ceiling, ms. @default 500 */
  readonly baseMs: number;
  /** Largest single wait, ms (a longer Retry-After is capped to it). @default 30_000 */
  readonly maxDelayMs: number;
  /** Give up when waiting would take the total past this, ms. @default 120_000 */
  readonly maxTotalMs: number;
  /** @default 408, 409, 429, 500, 502, 503, 504, 529 */
  readonly statuses: ReadonlySet<number>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 5,
  baseMs: 500,
  maxDelayMs: 30_000,
  maxTotalMs: 120_000,
  statuses: new Set([408, 409, 429, 500, 502, 503, 504, 529]),
};

export function isRetryable(err: unknown, policy: RetryPolicy = DEFAULT_RETRY_POLICY): boolean {
  if (!(err instanceof UpstreamError)) return false;
  return err.status === 0 || policy.statuses.has(err.status); // 0: connection failed or dropped
}

/**
 * The wait before retry number `retry` (1-based), or undefined to give up. Exponential
 * backoff with full jitter, unless the upstream said how long (Retry-After).
 */
export function retryDelay(
  err: unknown,
  retry: number,
  waitedMs: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number | undefined {
  if (retry > policy.maxRetries || !isRetryable(err, policy)) return undefined;
  const hinted = (err as UpstreamError).options.retryAfterMs;
  const delay = Math.min(policy.maxDelayMs, hinted ?? fullJitter(retry, { baseMs: policy.baseMs, capMs: policy.maxDelayMs }, random));
  return waitedMs + delay > policy.maxTotalMs ? undefined : Math.round(delay);
}

export { sleep } from '../backoff.ts';
