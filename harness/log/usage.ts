// Model-use records added up: an attempt's turns, a sample's grader calls, a run's samples.
import type { ModelUsageRecord } from './schema.ts';

/** Two usage records added up (cost without float dust); `a` absent: `b`. */
export function addUsage(a: ModelUsageRecord | undefined, b: ModelUsageRecord): ModelUsageRecord {
  if (!a) return b;
  return {
    requests: a.requests + b.requests,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    costUsd: Math.round((a.costUsd + b.costUsd) * 1e9) / 1e9,
  };
}

/** The records present, added up; undefined when none is. */
export function sumUsage(usages: readonly (ModelUsageRecord | undefined)[]): ModelUsageRecord | undefined {
  return usages.reduce<ModelUsageRecord | undefined>((total, u) => (u ? addUsage(total, u) : total), undefined);
}
