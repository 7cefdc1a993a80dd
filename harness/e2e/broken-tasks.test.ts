// Broken tasks are called broken: an image that does not build (a failing RUN, a COPY of a
// missing file, a base image the engine lacks) and a link out of the task's solution/ or
// tests/ end their sample as a `task` error at once, never retried as infra, with a message
// that shows the build log's tail or names the file; the summary counts them as errors.
// Real runs through the harness API, real Docker, the oracle agent, FROM the local slim image.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run, type ResultRecord, type SummaryRecord } from '../index.ts';
import { leftovers, outDir, results } from './support.ts';

const BASE = 'debian:bookworm-slim';
const ABSENT = 'cagebench-test/absent:1';

interface TaskFiles {
  readonly dockerfile?: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly links?: Readonly<Record<string, string>>;
}

/** A Harbor task: the oracle's solve.sh writes /tmp/done, the verifier rewards it. */
async function harborTask(suite: string, name: string, spec: TaskFiles): Promise<string> {
  const dir = join(suite, name);
  const environment = spec.dockerfile ? '' : `docker_image = "${BASE}"\n`;
  const files: Record<string, string> = {
    'task.toml': `version = "1.0"\n[agent]\ntimeout_sec = 60.0\n[environment]\n${environment}allow_internet = false\n`,
    'instruction.md': 'Write done into /tmp/done.\n',
    'solution/solve.sh': '#!/bin/bash\necho done > /tmp/done\n',
    'tests/test.sh': '#!/bin/bash\n[ "$(cat /tmp/done 2>/dev/null)" = done ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    ...(spec.dockerfile ? { 'environment/Dockerfile': spec.dockerfile } : {}),
    ...spec.files,
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) await symlink(target, join(dir, path));
  return dir;
}

let suite: string;
let runDir: string;
let runId: string;
let byTask: Map<string, ResultRecord>;
let summary: SummaryRecord;

beforeAll(async () => {
  const out = await outDir();
  suite = join(out, 'suite');
  // What the links point to: a real file next to the suite, outside every task.
  await mkdir(suite, { recursive: true });
  await writeFile(join(out, 'outside.txt'), 'not the task\'s\n');
  await harborTask(suite, 'fine', {});
  await harborTask(suite, 'run-fails', { dockerfile: `FROM ${BASE}\nRUN echo about-to-fail && exit 3\n` });
  await harborTask(suite, 'copy-missing', { dockerfile: `FROM ${BASE}\nCOPY missing.txt /missing.txt\n` });
  await harborTask(suite, 'base-missing', { dockerfile: `FROM ${ABSENT}\nRUN true\n` });
  await harborTask(suite, 'solution-link', { links: { 'solution/data.txt': '../../../outside.txt' } });
  await harborTask(suite, 'tests-link', { links: { 'tests/fixture.txt': '../../../outside.txt' } });

  runId = testRunId('broken-tasks');
  const done = await run({ paths: [suite], agent: 'oracle', out, runId, concurrency: 3 });
  runDir = done.runDir;
  summary = done.summary;
  byTask = new Map((await results(runDir)).map((r) => [r.taskId, r]));
}, 300_000);

function taskError(task: string): ResultRecord {
  const r = byTask.get(task);
  expect(r, `${task} has a result`).toBeDefined();
  expect(r!.outcome, r!.error?.message).toBe('error');
  // The task's to fix: not retried, not infra.
  expect(r!.error?.kind).toBe('task');
  expect(r!.retries).toBe(0);
  expect(r!.retriedErrors).toEqual([]);
  return r!;
}

describe('a task whose image does not build', () => {
  it('a failing RUN: the message carries the build log tail', () => {
    const { error } = taskError('run-fails');
    expect(error!.code).toBe('CB_IMAGE_BUILD_FAILED');
    expect(error!.message).toContain('run-fails/environment/Dockerfile');
    expect(error!.message).toContain('Last lines of the build log');
    expect(error!.message).toContain('about-to-fail');
    expect(error!.message).toMatch(/returned a non-zero code: 3/);
  });

  it('a COPY of a missing file: the message says which', () => {
    const { error } = taskError('copy-missing');
    expect(error!.code).toBe('CB_IMAGE_BUILD_FAILED');
    expect(error!.message).toContain('COPY missing.txt');
    expect(error!.message).toMatch(/missing\.txt: file does not exist|file not found/);
  });

  it('a base image the engine lacks: named, with how to provide it', () => {
    const { error } = taskError('base-missing');
    expect(error!.code).toBe('CB_BASE_IMAGE_MISSING');
    expect(error!.message).toContain(`"${ABSENT}"`);
    expect(error!.message).toContain('docker load -i');
  });
});

describe('a link out of the task', () => {
  it('in solution/: names the file and where it points', () => {
    const { error } = taskError('solution-link');
    expect(error!.code).toBe('CB_ARCHIVE_ESCAPE');
    expect(error!.message).toContain('solution/data.txt');
    expect(error!.message).toContain('"../../../outside.txt"');
    expect(error!.message).toContain('solution-link');
    expect(error!.message).toMatch(/Replace the link/);
  });

  it('in tests/: names the file too', () => {
    const { error } = taskError('tests-link');
    expect(error!.message).toContain('tests/fixture.txt');
    expect(error!.message).toContain('"../../../outside.txt"');
  });
});

describe('the run', () => {
  it('counts them as task errors, scores only the sound task, and leaves nothing behind', async () => {
    expect(byTask.get('fine')?.outcome, byTask.get('fine')?.error?.message).toBe('pass');
    expect(summary.counts).toMatchObject({ pass: 1, fail: 0, error: 5, total: 6 });
    expect(summary.errorsByKind).toMatchObject({ task: 5 });
    expect(summary.errorsByKind.infra ?? 0).toBe(0);
    expect(summary.retries).toBe(0);
    expect(summary.score.n).toBe(1);
    expect(await leftovers(runId)).toBe(0);
  });
});
