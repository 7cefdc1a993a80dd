// JUnit XML for CI dashboards: one test case per sample, grouped by suite. A fail is a
// <failure>, an error an <error>, so the two stay apart in every JUnit viewer.
import type { ResultRecord } from './schema.ts';

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(
    // Characters XML 1.0 cannot hold at all.
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g,
    '',
  );
}

export function toJunit(runId: string, results: readonly ResultRecord[]): string {
  const bySuite = new Map<string, ResultRecord[]>();
  for (const r of results) bySuite.set(r.suite, [...(bySuite.get(r.suite) ?? []), r]);
  const suites = [...bySuite].map(([suite, rs]) => {
    const cases = rs.map((r) => {
      const time = (r.timings.durationMs / 1000).toFixed(3);
      const head = `    <testcase classname="${xml(suite)}" name="${xml(r.sampleId)}" time="${time}">`;
      const last = r.attempts.at(-1);
      if (r.outcome === 'error') {
        return `${head}\n      <error type="${xml(r.error?.kind ?? 'error')}" message="${xml(r.error?.message.split('\n')[0] ?? '')}">${xml(r.error?.message ?? '')}</error>\n    </testcase>`;
      }
      if (r.outcome === 'fail') {
        return `${head}\n      <failure type="fail" message="score ${r.score ?? 0}">${xml(last?.explanation ?? '')}</failure>\n    </testcase>`;
      }
      return `${head}</testcase>`;
    });
    const failures = rs.filter((r) => r.outcome === 'fail').length;
    const errors = rs.filter((r) => r.outcome === 'error').length;
    const time = (rs.reduce((t, r) => t + r.timings.durationMs, 0) / 1000).toFixed(3);
    return `  <testsuite name="${xml(suite)}" tests="${rs.length}" failures="${failures}" errors="${errors}" time="${time}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="cagebench ${xml(runId)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
