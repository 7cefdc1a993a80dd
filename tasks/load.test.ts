import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTasks, TaskLoadError, type Task } from './index.ts';
import { DEFAULT_BUILD_TIMEOUT_SEC } from './task.ts';
import { lines, tempDir, writeHarborTask, writeTree } from './test-support/fixture.ts';

const SMOKE_DIR = fileURLToPath(new URL('./suites/smoke', import.meta.url));
const SMOKE_YAML = fileURLToPath(new URL('./suites/smoke.yaml', import.meta.url));

async function loadError(promise: Promise<unknown>): Promise<TaskLoadError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TaskLoadError);
  return err as TaskLoadError;
}

describe('bundled suites', () => {
  it('tasks/suites/smoke: six Harbor tasks, each with a verifier and a solution', async () => {
    const tasks = await loadTasks([SMOKE_DIR]);
    expect(tasks.map((t) => t.id)).toEqual(['c-checksum', 'fix-python-bug', 'git-revert', 'hello-file', 'status-counts', 'two-part-report']);
    for (const task of tasks) {
      expect(task).toMatchObject({ suite: 'smoke', format: 'harbor', origin: join(SMOKE_DIR, task.id), files: [] });
      expect(task.instruction.trim()).not.toBe('');
      expect(task.scorer).toEqual({ type: 'verifier', testsDir: join(SMOKE_DIR, task.id, 'tests'), ...(task.id === 'two-part-report' ? { env: { REPORT_DIR: '/app/report' } } : {}) });
      expect(task.solution).toEqual({ kind: 'script', dir: join(SMOKE_DIR, task.id, 'solution') });
      expect(task.metadata).toMatchObject({ author_name: 'cagebench', difficulty: 'easy', tags: expect.arrayContaining(['smoke']) });
      // Harbor's default is public; hello-file says allow_internet = false.
      expect(task.environment.network).toBe(task.id === 'hello-file' ? 'none' : 'bridge');
    }
    const byId = new Map(tasks.map((t) => [t.id, t]));
    // Most use the sandbox image as is; some build from environment/, one with WORKDIR /app.
    // docker_image beside environment/Dockerfile: the image when the engine has it, else the build.
    expect(byId.get('hello-file')!.environment).toMatchObject({
      source: { image: 'cagebench/sandbox:bookworm', dockerfile: join(SMOKE_DIR, 'hello-file', 'environment') },
      workdir: '/app',
      memoryMb: 512,
    });
    const built = tasks.filter((t) => !('image' in t.environment.source));
    expect(built.map((t) => t.id)).toEqual(['c-checksum', 'fix-python-bug', 'git-revert', 'status-counts']);
    const dockerfile = (t: Task) => readFile(join((t.environment.source as { dockerfile: string }).dockerfile, 'Dockerfile'), 'utf8');
    expect(await dockerfile(byId.get('fix-python-bug')!)).toMatch(/^WORKDIR \/app$/m);
    expect(await dockerfile(byId.get('c-checksum')!)).toMatch(/apt-get install .*gcc/);
    expect(byId.get('c-checksum')!.environment.buildTimeoutSec).toBe(900);
    expect(byId.get('status-counts')!.timeouts).toEqual({ setupSec: 600, agentSec: 300, verifierSec: 60 });
  });

  it('tasks/suites/smoke.yaml: samples over every built-in scorer kind, each with a solution', async () => {
    const tasks = await loadTasks([SMOKE_YAML]);
    expect(tasks.map((t) => t.id)).toEqual(['write-greeting', 'fix-sum-script', 'count-csv-rows', 'current-branch', 'make-marker', 'extract-version', 'sort-unique-words']);
    const types = new Set(tasks.map((t) => t.scorer.type));
    expect([...types].sort()).toEqual(['answer', 'command', 'file']);
    for (const task of tasks) {
      expect(task).toMatchObject({
        suite: 'smoke-yaml',
        format: 'cagebench',
        origin: SMOKE_YAML,
        environment: { source: { image: 'cagebench/sandbox:bookworm' }, workdir: '/workspace', network: 'none', cpus: 1, memoryMb: 512, buildTimeoutSec: DEFAULT_BUILD_TIMEOUT_SEC },
      });
      expect(task.solution?.kind).toBe('commands');
      expect(task.timeouts.setupSec).toBe(60);
    }
    const byId = new Map(tasks.map((t) => [t.id, t]));
    expect(byId.get('make-marker')!.timeouts).toEqual({ setupSec: 60, agentSec: 120, verifierSec: 60 });
    expect(byId.get('sort-unique-words')!.attempts).toBe(2);
    expect(byId.get('write-greeting')!.attempts).toBe(1);
    expect(byId.get('current-branch')!.setup).toMatch(/^git init/);
    expect(byId.get('current-branch')!.scorer).toEqual({ type: 'answer', includes: 'RELEASE/2025-Q3', ignoreCase: true });
    expect(byId.get('sort-unique-words')!.files).toEqual([
      { path: 'words.txt', source: join(SMOKE_YAML, '../smoke-data/words.txt') },
      { path: 'check-words.sh', source: join(SMOKE_YAML, '../smoke-data/check-words.sh'), mode: 0o755 },
    ]);
  });

  it('both at once: thirteen tasks with distinct ids and digests', async () => {
    const tasks = await loadTasks([SMOKE_DIR, SMOKE_YAML]);
    expect(tasks).toHaveLength(13);
    expect(new Set(tasks.map((t) => t.digest)).size).toBe(13);
  });
});

describe('loadTasks', () => {
  it('takes a task directory, its task.toml, a folder of tasks, or a suite file', async () => {
    const root = await tempDir();
    const one = await writeHarborTask(root, 'solo');
    await writeHarborTask(join(root, 'folder'), 'in-folder');
    await writeTree(root, { 'folder/not-a-task/readme.md': 'x', 'suite.yml': 'samples:\n  - { id: y1, instruction: x, scorer: { type: command, command: "true" } }\n' });
    const tasks = await loadTasks([one, join(root, 'folder'), join(root, 'suite.yml'), join(one, 'task.toml'), one]);
    expect(tasks.map((t) => [t.id, t.suite, t.format])).toEqual([
      ['solo', root.split('/').at(-1), 'harbor'],
      ['in-folder', 'folder', 'harbor'],
      ['y1', 'suite', 'cagebench'],
    ]);
  });

  it('filters task ids with a glob, without reading the Harbor tasks it leaves out', async () => {
    const root = await tempDir();
    await writeHarborTask(root, 'fix-a');
    await writeHarborTask(root, 'fix-b');
    await writeHarborTask(root, 'build-c');
    await writeHarborTask(root, 'broken', { 'instruction.md': null });
    await writeTree(root, { 's.yaml': 'samples:\n  - { id: fix-y, instruction: x, scorer: { type: command, command: "true" } }\n  - { id: other, instruction: x, scorer: { type: command, command: "true" } }\n' });
    const ids = async (filter: string) => (await loadTasks([root, join(root, 's.yaml')], { filter })).map((t) => t.id);
    expect(await ids('fix-*')).toEqual(['fix-a', 'fix-b', 'fix-y']);
    expect(await ids('{build-c,other}')).toEqual(['build-c', 'other']);
    expect(await ids('nothing-*')).toEqual([]);
    await expect(loadTasks([root])).rejects.toThrow(/broken: instruction.md is missing/);
  });

  it('refuses a task id defined twice, naming both places', async () => {
    const root = await tempDir();
    const a = await writeHarborTask(join(root, 'a'), 'dup');
    const b = await writeHarborTask(join(root, 'b'), 'dup');
    await writeTree(root, { 's.yaml': 'samples:\n  - { id: dup, instruction: x, scorer: { type: command, command: "true" } }\n' });
    const err = await loadError(loadTasks([join(root, 'a'), join(root, 'b'), join(root, 's.yaml')]));
    expect(lines(err)).toEqual([
      `${b}: defines task "dup", and so does ${a}: task ids must be unique in a run (rename one, or load only one of them)`,
      `${join(root, 's.yaml')}: defines task "dup", and so does ${a}: task ids must be unique in a run (rename one, or load only one of them)`,
    ]);
    expect(err).toMatchObject({ code: 'CB_TASK_INVALID', kind: 'task', file: b });
  });

  it('reports the problems of every path together', async () => {
    const root = await tempDir();
    const bad = await writeHarborTask(root, 'bad', { 'tests/test.sh': null });
    await writeTree(root, { 's.yaml': 'samples:\n  - { id: s, instruction: x, scorer: { type: nope } }\n', 'notes.txt': 'x' });
    const err = await loadError(loadTasks([bad, join(root, 's.yaml'), join(root, 'missing'), join(root, 'notes.txt')]));
    expect(lines(err)).toEqual([
      `${bad}: tests/ is missing: a Harbor task needs tests/test.sh, the verifier that writes /logs/verifier/reward.txt or reward.json`,
      `${join(root, 's.yaml')}: samples[0].scorer.type must be one of command, file, answer, model_graded, module (got "nope") (line 2)`,
      `${join(root, 'missing')}: does not exist: expected a Harbor task directory, a folder of them, or a suite .yaml file`,
      `${join(root, 'notes.txt')}: is not a task: expected a Harbor task directory (with task.toml), a folder of them, or a suite .yaml/.yml file`,
    ]);
  });

  it('refuses a folder without any task', async () => {
    const root = await tempDir();
    await writeTree(root, { 'sub/readme.md': 'x' });
    expect((await loadError(loadTasks([root]))).message).toBe(`${root}: is not a task suite: none of its subdirectories holds a task.toml (and it has none itself)`);
  });

  it('shows paths under the working directory relative to it', async () => {
    const err = await loadError(loadTasks(['tasks/suites/no-such-suite.yaml']));
    expect(err.message).toBe('tasks/suites/no-such-suite.yaml: does not exist: expected a Harbor task directory, a folder of them, or a suite .yaml file');
    expect(err.file).toBe(join(process.cwd(), 'tasks/suites/no-such-suite.yaml'));
  });
});
