// JUnit XML for CI dashboards: one <testsuite> per task suite, one <testcase> per sample.
// classname is the task (GitLab shows classname as the suite, so a task's epochs group
// together) and name the sample id `<task>__e<k>`, unique in the run (GitLab keeps only the
// first of duplicate names). A fail is a <failure>, an error an <error type=kind>, so the two
// stay apart in every viewer; score, outcome, attempts and a short trace go in <system-out>,
// which GitLab shows (it ignores <properties>, which still name agent, model and run for
// Jenkins and the like).
import type { RunView } from '../../log/reader.ts';
import type { ResultRecord } from '../../log/schema.ts';
import { pendingSamples, type PendingSample } from './ids.ts';
import { shortTrace } from './trace.ts';

export interface JunitInfo {
  readonly agent?: string;
  readonly model?: string;
  /** Planned samples without a result: written as <skipped>. */
  readonly pending?: readonly PendingSample[];
  /** The suites' timestamp (ISO time, the run's start). */
  readonly timestamp?: string;
}

/** JUnit XML of a run directory as read back. */
export function junitOf(view: RunView): string {
  return toJunit(view.run.runId, view.results, {
    agent: view.run.config.agent,
    ...(view.run.config.model ? { model: view.run.config.model } : {}),
    pending: pendingSamples(view),
    timestamp: view.summary?.timings.startedAt ?? view.run.createdAt,
  });
}

export function toJunit(runId: string, results: readonly ResultRecord[], info: JunitInfo = {}): string {
  type Case = { suite: string; xml: string; outcome: 'pass' | 'fail' | 'error' | 'skipped'; ms: number };
  const cases: Case[] = results.map((r) => ({ suite: r.suite, xml: testcase(r), outcome: r.outcome, ms: r.timings.durationMs }));
  for (const p of info.pending ?? []) {
    cases.push({ suite: p.suite, outcome: 'skipped', ms: 0, xml: `    <testcase classname="${attr(p.taskId)}" name="${attr(p.sampleId)}" time="0.000">\n      <skipped message="not run: the run was interrupted or is still going (cagebench resume finishes it)"/>\n    </testcase>` });
  }
  const bySuite = new Map<string, Case[]>();
  for (const c of cases) bySuite.set(c.suite, [...(bySuite.get(c.suite) ?? []), c]);
  const agent = info.agent ?? results[0]?.agent;
  const properties = [['cagebench.run', runId], ['cagebench.agent', agent], ['cagebench.model', info.model]]
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([name, value]) => `      <property name="${attr(name)}" value="${attr(value)}"/>`);
  const suites = [...bySuite].map(([suite, cs]) => {
    const n = (o: Case['outcome']): number => cs.filter((c) => c.outcome === o).length;
    const time = seconds(cs.reduce((t, c) => t + c.ms, 0));
    const stamp = info.timestamp ? ` timestamp="${attr(info.timestamp.replace(/Z$/, ''))}"` : '';
    return [
      `  <testsuite name="${attr(suite)}" tests="${cs.length}" failures="${n('fail')}" errors="${n('error')}" skipped="${n('skipped')}" time="${time}"${stamp}>`,
      `    <properties>\n${properties.join('\n')}\n    </properties>`,
      ...cs.map((c) => c.xml),
      '  </testsuite>',
    ].join('\n');
  });
  const total = (o: Case['outcome']): number => cases.filter((c) => c.outcome === o).length;
  const time = seconds(cases.reduce((t, c) => t + c.ms, 0));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="cagebench ${attr(runId)}" tests="${cases.length}" failures="${total('fail')}" errors="${total('error')}" skipped="${total('skipped')}" time="${time}">\n${suites.join('\n')}\n</testsuites>\n`;
}

function testcase(r: ResultRecord): string {
  const head = `    <testcase classname="${attr(r.taskId)}" name="${attr(r.sampleId)}" time="${seconds(r.timings.durationMs)}">`;
  const trace = shortTrace(r);
  const lines: string[] = [head];
  if (r.outcome === 'fail') {
    lines.push(`      <failure type="fail" message="${attr(`score ${score(r.score)}`)}">${text(r.attempts.at(-1)?.explanation?.split('\n').find((l) => l.trim()) ?? '')}</failure>`);
  } else if (r.outcome === 'error') {
    const kind = r.error?.kind ?? 'error';
    lines.push(`      <error type="${attr(kind)}" message="${attr(`${kind}: ${r.error?.message.split('\n')[0] ?? ''}`)}">${text(r.error?.message ?? '')}</error>`);
  }
  const out = [
    `outcome: ${r.outcome}${r.error ? ` (${r.error.kind} error ${r.error.code})` : ''}`,
    `score: ${score(r.score)}`,
    `attempts: ${r.attempts.length}${r.passedAttempt ? ` (passed on attempt ${r.passedAttempt})` : ''}`,
    `epoch: ${r.epoch}`,
    ...(r.usage ? [`tokens: ${r.usage.inputTokens + r.usage.outputTokens}, cost: $${r.usage.costUsd.toFixed(4)}`] : []),
    ...(trace ? ['', trace] : []),
  ].join('\n');
  lines.push(`      <system-out>${cdata(out)}</system-out>`, '    </testcase>');
  return lines.join('\n');
}

function score(s: number | undefined): string {
  return s === undefined ? 'none' : String(Math.round(s * 1000) / 1000);
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/**
 * What XML 1.0 cannot hold at all, removed: C0 controls but tab, newline and carriage return;
 * U+FFFE and U+FFFF; and surrogates not in a pair.
 */
export function xmlSafe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
}

/** Text content. */
function text(value: string): string {
  return xmlSafe(value).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/** An attribute value in double quotes; line breaks kept as references (a parser would fold them to spaces). */
function attr(value: string): string {
  return xmlSafe(value).replace(/[<>&"'\n\r\t]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' })[c]!);
}

/** A CDATA section; a `]]>` inside is split across two sections so it cannot end it early. */
export function cdata(value: string): string {
  return `<![CDATA[${xmlSafe(value).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}
