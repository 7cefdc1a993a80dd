// Task images and disk, end to end with real Docker and the oracle: a run labels the images it
// builds and records their use (`images list` shows them); --cache-level none removes them after
// their last sample and the summary counts the bytes; a disk budget smaller than two images makes
// the second build remove the first (least recently used) and never a base image or the user's;
// `images prune --keep-last 1` keeps the newest, and never an image a container uses.
// Each image here is this file's own (a nonce in every Dockerfile), its records live in a
// temporary cache directory, and only images this file made are ever removed.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine, type Engine } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { LABEL_IMAGE_BUILT_BY, LABEL_IMAGE_CONTEXT, LABEL_IMAGE_CONTEXT_DIGEST, LABEL_IMAGE_KIND, LABEL_IMAGE_TASK, LABEL_IMAGE_TASK_DIGEST } from '../../sandboxes/labels.ts';
import { run, type UserConfig } from '../index.ts';
import { ImageRecords } from '../images/records.ts';
import { contextDigest } from '../../sandboxes/docker/images.ts';
import { cli, outDir } from './support.ts';

const BASE = 'debian:bookworm-slim';
const PROTECTED = [BASE, 'cagebench/sandbox:bookworm', 'cagebench/relay:bookworm'];
const NONCE = randomBytes(6).toString('hex');
const USER_IMAGE = `cagebench-test/user-${NONCE}:1`;

let engine: Engine;
let out: string;
let cacheDir: string;
let records: ImageRecords;
const savedCacheDir = process.env.CAGEBENCH_CACHE_DIR;
/** Every tag this file's runs may have made, removed at the end whatever happened. */
const made = new Set<string>();

/** A Harbor task with its own Dockerfile: a 2 MB layer of its own, unique to this file and `name`. */
async function suiteWith(name: string): Promise<string> {
  const suite = join(out, `suite-${name}`);
  const dir = join(suite, name);
  const files: Record<string, string> = {
    'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = 60.0\n[environment]\nallow_internet = false\n',
    'instruction.md': 'Write done into /tmp/done.\n',
    'environment/Dockerfile': `FROM ${BASE}\nRUN echo ${NONCE}-${name} > /nonce && head -c 2000000 /dev/urandom > /blob\n`,
    'solution/solve.sh': '#!/bin/bash\necho done > /tmp/done\n',
    'tests/test.sh': '#!/bin/bash\n[ "$(cat /tmp/done 2>/dev/null)" = done ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  }
  return suite;
}

/** The tag a run builds for the task `name` made by suiteWith. */
async function tagOf(suite: string, name: string): Promise<string> {
  const tag = `cagebench/env:${(await contextDigest(join(suite, name, 'environment'))).slice(0, 16)}`;
  made.add(tag);
  return tag;
}

const present = (image: string): Promise<boolean> => engine.docker.getImage(image).inspect().then(() => true, () => false);

async function runTask(name: string, options: Partial<UserConfig> = {}) {
  const suite = await suiteWith(name);
  const tag = await tagOf(suite, name);
  const done = await run({ paths: [suite], agent: 'oracle', out, runId: testRunId(`images-${name}`), ...options });
  expect(done.summary.counts.pass, `${name} passed`).toBe(options.epochs ?? 1);
  return { ...done, tag };
}

function imagesCli(args: readonly string[]) {
  return cli(['images', ...args], { CAGEBENCH_CACHE_DIR: cacheDir }).exited;
}

beforeAll(async () => {
  engine = await connectEngine();
  out = await outDir();
  cacheDir = await mkdtemp(join(tmpdir(), 'cagebench-images-cache-'));
  process.env.CAGEBENCH_CACHE_DIR = cacheDir;
  records = new ImageRecords(join(cacheDir, 'images'));
  // The user's own image, carrying every label a task image has, with a record older than
  // any other: only its tag says it is not ours to remove.
  const userDir = join(out, 'user-image');
  await mkdir(userDir, { recursive: true });
  await writeFile(join(userDir, 'Dockerfile'), `FROM ${BASE}\nRUN echo ${NONCE}-user > /mine\n`);
  const { execFileSync } = await import('node:child_process');
  execFileSync('docker', ['build', '-q', '-t', USER_IMAGE, '--label', `${LABEL_IMAGE_KIND}=task`, '--label', `${LABEL_IMAGE_CONTEXT}=${userDir}`, userDir], { stdio: 'pipe' });
  const userId = (await engine.docker.getImage(USER_IMAGE).inspect()).Id;
  await records.touch(userId, { tag: USER_IMAGE, taskId: 'user', bytes: 1, lastUsedAt: '2000-01-01T00:00:00.000Z' });
}, 120_000);

afterAll(async () => {
  if (savedCacheDir === undefined) delete process.env.CAGEBENCH_CACHE_DIR;
  else process.env.CAGEBENCH_CACHE_DIR = savedCacheDir;
  for (const tag of [...made, USER_IMAGE]) await engine?.docker.getImage(tag).remove().catch(() => undefined);
}, 120_000);

describe('task images', () => {
  it('a run labels the image it builds, records its use, and `images list` shows it', async () => {
    const { tag, runDir, summary } = await runTask('labelled');
    const image = await engine.docker.getImage(tag).inspect();
    const labels = image.Config.Labels ?? {};
    expect(labels[LABEL_IMAGE_KIND]).toBe('task');
    expect(labels[LABEL_IMAGE_TASK]).toBe('labelled');
    expect(labels[LABEL_IMAGE_TASK_DIGEST]).toMatch(/\S/);
    expect(labels[LABEL_IMAGE_CONTEXT_DIGEST]).toMatch(new RegExp(`^${tag.split(':')[1]}`));
    const runId = runDir.split('/').pop()!;
    expect(labels[LABEL_IMAGE_BUILT_BY]).toBe(runId);
    expect(summary.images).toMatchObject({ built: 1, pruned: 0, bytesPruned: 0 });
    expect(summary.images!.bytesBuilt).toBeGreaterThan(1_900_000);
    expect(summary.images!.bytesBuilt).toBeLessThan(image.Size); // its own layers, not debian's

    const listed = await imagesCli(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const entry = (JSON.parse(listed.stdout) as { images: { tags: string[]; taskId: string; lastRun: string; record?: unknown }[] }).images.find((i) => i.tags.includes(tag));
    expect(entry).toMatchObject({ taskId: 'labelled', lastRun: runId });
    expect(entry?.record).toBeDefined();
    const table = await imagesCli(['list']);
    expect(table.stdout).toMatch(new RegExp(`${tag}\\s+labelled\\s+\\w{12}\\s+\\S+ MB`));
    expect(table.stdout).toContain(`${USER_IMAGE}`); // listed, and marked as kept
    expect(table.stdout).toMatch(/kept: also tagged cagebench-test\/user-|kept: .*yours/);
  }, 300_000);

  it('--cache-level none removes the image after its last sample, and the summary counts the bytes', async () => {
    const { tag, summary } = await runTask('dropped', { cacheLevel: 'none', epochs: 2 });
    expect(await present(tag)).toBe(false);
    expect(summary.images).toMatchObject({ built: 1, pruned: 1 });
    expect(summary.images!.bytesPruned).toBe(summary.images!.bytesBuilt);
    for (const image of PROTECTED) expect(await present(image), image).toBe(true);
  }, 300_000);

  it('a disk budget smaller than two images: the second build removes the first, never a base image or the user\'s', async () => {
    const first = await runTask('first');
    const bytes = (await records.all()).get((await engine.docker.getImage(first.tag).inspect()).Id)!.bytes!;
    const second = await runTask('second', { diskBudget: `${Math.round(bytes * 1.5)}B` });
    expect(await present(first.tag)).toBe(false);
    expect(await present(second.tag)).toBe(true);
    expect(second.summary.images!.pruned).toBeGreaterThanOrEqual(1);
    expect(second.summary.images!.bytesPruned).toBeGreaterThanOrEqual(bytes);
    for (const image of [...PROTECTED, USER_IMAGE]) expect(await present(image), image).toBe(true);
  }, 300_000);

  it('`images prune --keep-last 1` keeps the newest; an image a container uses is kept and said so', async () => {
    const older = await runTask('older');
    const newest = await runTask('newest');
    // A (stopped) container of the older image: the engine refuses to remove it.
    const container = await engine.docker.createContainer({ Image: older.tag, Cmd: ['true'], Labels: { 'cagebench.test': NONCE } });
    try {
      const dry = await imagesCli(['prune', '--keep-last', '1', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would remove ${older.tag}`);
      expect(await present(older.tag)).toBe(true);

      const kept = await imagesCli(['prune', '--keep-last', '1']);
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stderr).toMatch(new RegExp(`kept ${older.tag}: in use`));
      expect(await present(older.tag)).toBe(true);
    } finally {
      await container.remove({ force: true });
    }
    const pruned = await imagesCli(['prune', '--keep-last', '1']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain(`removed ${older.tag}`);
    expect(pruned.stdout).toMatch(/\d+ image\(s\) removed, [\d.]+ MB freed/);
    expect(await present(older.tag)).toBe(false);
    expect(await present(newest.tag)).toBe(true);
    for (const image of [...PROTECTED, USER_IMAGE]) expect(await present(image), image).toBe(true);
  }, 300_000);

  it('`images prune --older-than` refuses a duration without a unit', async () => {
    const bad = await imagesCli(['prune', '--older-than', '7']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--older-than must be a number and a unit/);
  }, 60_000);
});
