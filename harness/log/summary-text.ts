// Phrases about a run's summary that the CLI's table, the run's exit reasons and reports
// share, so a person reads the same words everywhere. No imports with side effects: the
// CLI loads this before any command runs.
import type { SummaryRecord } from './schema.ts';

/** "3 errors (infra 1, task 2), not scored". */
export function errorsLine(summary: Pick<SummaryRecord, 'counts' | 'errorsByKind'>): string {
  const n = summary.counts.error;
  const kinds = Object.entries(summary.errorsByKind).map(([kind, count]) => `${kind} ${count}`);
  return `${n} error${n === 1 ? '' : 's'}${kinds.length ? ` (${kinds.join(', ')})` : ''}, not scored`;
}
