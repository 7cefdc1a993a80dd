import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from 'ctrf';
import { afterAll, describe, expect, it } from 'vitest';
import { armFromRun, loadArm } from '../../compare/arm.ts';
import { compareArms } from '../../compare/compare.ts';
import { readRunDir } from '../../log/reader.ts';
import { writeCiOutputs } from './outputs.ts';
import { PR_COMMENT_MARKER } from './pr-comment.ts';
import { uniform, writeFakeRun } from './test-support.ts';

const temp: string[] = [];
afterAll(async () => {
  await Promise.all(temp.map((d) => rm(d, { recursive: true, force: true })));
});

describe('writeCiOutputs', () => {
  it('writes the files asked for, appends the job summary, and annotates in GitHub Actions', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cb-ci-'));
    temp.push(out);
    const baseDir = await writeFakeRun(out, { runId: 'base', tasks: uniform(12, [1, 1, 1]) });
    const candDir = await writeFakeRun(out, { runId: 'cand', tasks: { ...uniform(12, [1, 1, 1]), t0000: [0, 0, 0], t0001: [0, 0, 1] }, origin: (id) => join(out, 'repo', 'tasks', id) });
    const view = await readRunDir(candDir);
    const comparison = compareArms(await loadArm(baseDir), armFromRun(view));
    const summary = join(out, 'step-summary.md');
    await writeFile(summary, 'earlier\n');
    const printed: string[] = [];
    const files = { junit: join(out, 'r', 'junit.xml'), ctrf: join(out, 'r', 'ctrf.json'), prComment: join(out, 'r', 'comment.md') };
    const written = await writeCiOutputs(view, comparison, {
      ...files,
      env: { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: join(out, 'repo') },
      print: (line) => printed.push(line),
      reportUrl: 'https://example.test/report',
    });
    expect(written).toEqual({ files: [files.junit, files.ctrf, files.prComment], stepSummary: summary, annotations: 2 });
    expect(validate(JSON.parse(await readFile(files.ctrf, 'utf8'))).valid).toBe(true);
    expect(await readFile(files.junit, 'utf8')).toMatch(/<testsuite name="demo" tests="36" failures="5" errors="0"/);
    const comment = await readFile(files.prComment, 'utf8');
    expect(comment.startsWith(PR_COMMENT_MARKER)).toBe(true);
    expect(comment).toContain('https://example.test/report');
    const text = await readFile(summary, 'utf8');
    expect(text.startsWith('earlier\n')).toBe(true);
    expect(text).toContain(`cagebench: ${comparison.verdict}`);
    expect(text).not.toContain(PR_COMMENT_MARKER);
    expect(printed[0]).toMatch(/^::error file=tasks\/t0000\/task\.toml,title=/);
    expect(printed[1]).toMatch(/^::error file=tasks\/t0001\/task\.toml,title=/);
  });

  it('outside GitHub Actions: no annotations, no summary; without a comparison the summary still shows the run', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cb-ci-'));
    temp.push(out);
    const view = await readRunDir(await writeFakeRun(out, { runId: 'solo', tasks: { a: [1, 0] } }));
    const printed: string[] = [];
    expect(await writeCiOutputs(view, undefined, { env: {}, print: (l) => printed.push(l) })).toEqual({ files: [], annotations: 0 });
    const summary = join(out, 'summary.md');
    await writeCiOutputs(view, undefined, { env: { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true' }, print: (l) => printed.push(l) });
    expect(printed).toEqual([]);
    const text = await readFile(summary, 'utf8');
    expect(text).toContain('## cagebench run `solo`');
    expect(text).toContain('| 1 | 1 | 0 | 0 | 0.500 ± 0.010 |');
  });
});
