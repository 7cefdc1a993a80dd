// Text shared by the progress reporters: one line per finished sample, the final table.
import type { ResultRecord, SummaryRecord } from '../../harness/index.ts';
import { errorsLine } from '../../harness/log/summary-text.ts';
import { formatBytes } from '../../harness/images/units.ts';

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : ms < 3_600_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 3_600_000).toFixed(1)}h`;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function resultLine(result: ResultRecord, done: number, total: number): string {
  const width = String(total).length;
  const head = `[${String(done).padStart(width)}/${total}]`;
  const outcome = result.outcome === 'error' ? `ERROR ${result.error?.kind ?? ''}`.trim() : result.outcome.toUpperCase();
  const score = result.score === undefined ? '' : ` score ${result.score.toFixed(2)}`;
  const attempts = result.passedAttempt && result.passedAttempt > 1 ? ` (on attempt ${result.passedAttempt})` : result.attempts.length > 1 ? ` (${result.attempts.length} attempts)` : '';
  const retries = result.retries ? ` [${result.retries} retr${result.retries === 1 ? 'y' : 'ies'}]` : '';
  const why = result.outcome === 'error' ? `: ${result.error?.message.split('\n')[0] ?? ''}` : '';
  return `${head} ${outcome.padEnd(5)} ${result.sampleId}${score}${attempts}${retries} ${seconds(result.timings.durationMs)}${why}`;
}

/** What each warning code in a summary means, for the table. */
const WARNINGS: Record<string, string> = {
  no_tools: "the agent's first model request declared no tools",
  reward_out_of_range: 'a score outside [0, 1] (or the task\'s metadata.reward_range), averaged in as it is',
};

/** Lines of a task error's message shown under its result line (a build log's tail, a setup command's output). */
const DETAIL_LINES = 20;

/**
 * The rest of a task error's message (a failed build's last log lines, say), indented, the
 * first time a task ends with it; '' otherwise. Its other samples end the same way, and the
 * whole message is in each result.json.
 */
export function errorDetail(result: ResultRecord, shown: Set<string>): string {
  const error = result.error;
  if (result.outcome !== 'error' || error?.kind !== 'task') return '';
  const rest = error.message.split('\n').slice(1);
  const key = `${result.taskId}\0${error.code}`;
  if (!rest.length || shown.has(key)) return '';
  shown.add(key);
  return rest
    .slice(-DETAIL_LINES)
    .map((line) => `    ${line}`)
    .join('\n');
}

export function summaryTable(summary: SummaryRecord, runDir: string): string {
  const { counts, score, passAtK } = summary;
  const status = summary.interruptedBy === 'engine' ? 'interrupted: the Docker engine was gone too long' : summary.status;
  const rows: [string, string][] = [
    ['run', `${summary.runId} (${status})`],
    ['agent', summary.agent],
    ['samples', `${counts.total} done${summary.pending ? `, ${summary.pending} pending` : ''}`],
    ['pass / fail / error', `${counts.pass} / ${counts.fail} / ${counts.error}`],
  ];
  if (counts.error) rows.push(['errors', errorsLine(summary)]);
  rows.push(['mean score', score.n ? `${score.mean.toFixed(3)} ± ${score.stderr.toFixed(3)} (n=${score.n}, errors excluded)` : 'n/a (nothing scored)']);
  const ks = Object.entries(passAtK);
  if (ks.length) rows.push(['pass@k', ks.map(([k, v]) => `@${k} ${v.toFixed(3)}`).join('  ')]);
  const byAttempt = Object.entries(summary.passesByAttempt ?? {});
  if (byAttempt.some(([a]) => a !== '1')) rows.push(['passes by attempt', byAttempt.map(([a, n]) => `#${a} ${n}`).join('  ')]);
  if (summary.retries) rows.push(['infra retries', String(summary.retries)]);
  const warned = Object.entries(summary.warnings ?? {}).map(([code, n]) => `${n} sample(s): ${WARNINGS[code] ?? code}`);
  if (warned.length) rows.push(['warnings', warned.join('; ')]);
  if (summary.usage) {
    const u = summary.usage;
    rows.push(['model use', `${u.requests} call(s), ${u.inputTokens} in / ${u.outputTokens} out tokens (${u.cacheReadTokens} cached), $${u.costUsd.toFixed(4)}`]);
  }
  if (summary.graderUsage) {
    // The model_graded scorers' graders, never counted as the agent's model use.
    const g = summary.graderUsage;
    rows.push(['grader use', `${g.requests} call(s), ${g.inputTokens} in / ${g.outputTokens} out tokens, $${g.costUsd.toFixed(4)}`]);
  }
  if (summary.toolCalls?.count || summary.toolCalls?.refused) {
    const c = summary.toolCalls;
    const tools = Object.entries(c.byTool).sort((a, b) => b[1] - a[1]).map(([tool, n]) => `${tool} ${n}`);
    const notes = [c.errors ? `${c.errors} failed` : '', c.refused ? `${c.refused} refused over the limit` : ''].filter(Boolean).join(', ');
    rows.push(['host tool calls', `${c.count}${notes ? ` (${notes})` : ''}${tools.length ? `: ${tools.join(', ')}` : ''}`]);
  }
  if (summary.images) {
    const i = summary.images;
    rows.push(['task images', `${i.built} built (${formatBytes(i.bytesBuilt)}), ${i.pruned} removed (${formatBytes(i.bytesPruned)} freed)`]);
  }
  rows.push(['time', duration(summary.timings.durationMs)]);
  rows.push(['run dir', runDir]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
