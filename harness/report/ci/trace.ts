// A sample's short trace for CI reports: enough to see why it failed or erred without opening
// the run directory (the last attempt's explanation, which quotes the verifier's output, and
// the error's message), cut so thousands of samples still make a file CI systems accept.
import type { ResultRecord } from '../../log/schema.ts';

/** Characters kept of each part. */
export const TRACE_PART_CHARS = 2000;

export function shortTrace(r: ResultRecord, limit: number = TRACE_PART_CHARS): string {
  const parts: string[] = [];
  const last = r.attempts.at(-1);
  if (r.outcome !== 'pass' && last?.explanation?.trim()) parts.push(head(last.explanation.trim(), limit));
  const error = r.error ?? last?.error;
  if (error) parts.push(`${error.kind} error ${error.code}: ${head(error.message.trim(), limit)}`);
  return parts.join('\n\n');
}

/** The first `limit` characters, and a note saying how many were left out. */
export function head(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}\n[… ${text.length - limit} more characters in the run directory]`;
}
