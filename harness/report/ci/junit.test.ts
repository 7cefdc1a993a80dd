import { describe, expect, it } from 'vitest';
import { cdata, junitOf, toJunit, xmlSafe } from './junit.ts';
import { fakeResult, fakeView } from './test-support.ts';

const all = (xml: string, re: RegExp): string[] => [...xml.matchAll(re)].map((m) => m[1]!);

describe('JUnit', () => {
  const view = fakeView({ runId: 'r1', model: 'openai/gpt-x', tasks: { a: [1, 0, 'e'], b: [0, 't', null] } });
  const xml = junitOf(view);

  it('one testcase per sample: classname the task, name the unique sample id', () => {
    const names = all(xml, /<testcase [^>]*name="([^"]+)"/g);
    expect(names).toEqual(['a__e1', 'a__e2', 'a__e3', 'b__e1', 'b__e2', 'b__e3']);
    expect(new Set(names).size).toBe(names.length);
    expect(all(xml, /<testcase classname="([^"]+)"/g)).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
    expect(xml).toMatch(/<testcase classname="a" name="a__e1" time="45\.000">/);
  });

  it('a fail is a <failure>, an error an <error type=kind>, a sample not run <skipped>; counts agree', () => {
    expect((xml.match(/<failure /g) ?? []).length).toBe(2);
    expect(all(xml, /<error type="([^"]+)"/g)).toEqual(['infra', 'timeout']);
    expect((xml.match(/<skipped /g) ?? []).length).toBe(1);
    expect(xml).toMatch(/<testsuite name="demo" tests="6" failures="2" errors="2" skipped="1" time="225\.000" timestamp="2026-04-01T10:00:00\.000">/);
    expect(xml).toMatch(/<testsuites name="cagebench r1" tests="6" failures="2" errors="2" skipped="1"/);
    // Every testcase is closed, and holds at most one of failure/error/skipped.
    for (const body of all(xml, /<testcase [^>]*>([\s\S]*?)<\/testcase>/g)) expect((body.match(/<(failure|error|skipped)[ >]/g) ?? []).length).toBeLessThanOrEqual(1);
    expect((xml.match(/<testcase /g) ?? []).length).toBe((xml.match(/<\/testcase>/g) ?? []).length);
  });

  it('score, outcome, attempts and a short trace in system-out; properties name run, agent and model', () => {
    const out = all(xml, /<system-out>([\s\S]*?)<\/system-out>/g);
    expect(out[1]).toContain('outcome: fail');
    expect(out[1]).toContain('score: 0');
    expect(out[1]).toContain('attempts: 1');
    expect(out[1]).toContain('test_a failed: expected 42, got 41');
    expect(out[2]).toContain('infra error CB_DOCKER: the Docker engine hung up');
    expect(xml).toContain('<property name="cagebench.run" value="r1"/>');
    expect(xml).toContain('<property name="cagebench.agent" value="claude_code"/>');
    expect(xml).toContain('<property name="cagebench.model" value="openai/gpt-x"/>');
  });

  it('escapes: no raw < & in text or attributes, CDATA cannot be closed early, characters XML cannot hold removed', () => {
    // The explanation holds `<&> ]]> \u0001`.
    expect(xml).not.toContain('\u0001');
    expect(xml).toContain('<![CDATA[');
    for (const section of all(xml, /<!\[CDATA\[([\s\S]*?)\]\]>/g)) expect(section).not.toContain(']]>');
    const outside = xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
    expect(outside).toContain('&lt;&amp;&gt;');
    expect(cdata('a]]>b')).toBe('<![CDATA[a]]]]><![CDATA[>b]]>');
    expect(xmlSafe('ok\u0000\uFFFE\uD800x\uD83D\uDE00')).toBe('okx\uD83D\uDE00');
    const odd = toJunit('r"<', [{ ...fakeResult('r', 'x"y<z', 1, 'e'), error: { kind: 'agent', code: 'C', message: 'quote " and\nnew line' } }]);
    expect(odd).toContain('classname="x&quot;y&lt;z"');
    expect(odd).toContain('message="agent: quote &quot; and"');
    expect(odd).toContain('<testsuites name="cagebench r&quot;&lt;"');
  });

  it('still takes (runId, results), as the runner calls it', () => {
    const plain = toJunit('r9', view.results);
    expect(plain).toMatch(/<testsuite name="demo" tests="5" failures="2" errors="2"/);
    expect(plain).toContain('<property name="cagebench.agent" value="claude_code"/>');
  });
});
