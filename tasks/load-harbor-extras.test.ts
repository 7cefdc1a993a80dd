// Harbor extra scorers: [[metadata.cagebench.scorers]] in task.toml, suite scorers with a name.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskLoadError } from './errors.ts';
import { loadHarborTask } from './load-harbor.ts';
import { tempDir, writeHarborTask } from './test-support/fixture.ts';

const toml = (...extra: string[]): string => ['version = "1.0"', '[environment]', 'docker_image = "cagebench/sandbox:bookworm"', ...extra, ''].join('\n');

describe('Harbor extra scorers', () => {
  it('loads [[metadata.cagebench.scorers]] into extraScorers, lists the key as honoured, and changes the digest', async () => {
    const root = await tempDir();
    const plain = await loadHarborTask(await writeHarborTask(root, 'plain', { 'task.toml': toml() }));
    const dir = await writeHarborTask(root, 'extras', {
      'task.toml': toml(
        '[metadata]',
        'difficulty = "easy"',
        '[[metadata.cagebench.scorers]]',
        'name = "review"',
        'type = "model_graded"',
        'rubric = "Explains the bug."',
        'model = "mock/grader.yaml"',
        'partial_credit = true',
        'input = ["answer", "diff"]',
        '[[metadata.cagebench.scorers]]',
        'name = "notes_file"',
        'type = "file"',
        'path = "notes.txt"',
        'contains = "bug"',
      ),
    });
    const task = await loadHarborTask(dir);
    expect(task.extraScorers).toEqual([
      { name: 'review', spec: { type: 'model_graded', rubric: 'Explains the bug.', model: 'mock/grader.yaml', partialCredit: true, input: ['answer', 'diff'] } },
      { name: 'notes_file', spec: { type: 'file', path: 'notes.txt', contains: 'bug' } },
    ]);
    expect(task.scorer.type).toBe('verifier');
    expect(task.keys).toContainEqual(expect.objectContaining({ key: '[[metadata.cagebench.scorers]]', use: 'honoured' }));
    expect(plain.extraScorers).toBeUndefined();

    const renamed = await loadHarborTask(await writeHarborTask(await tempDir(), 'extras', {
      'task.toml': toml('[metadata]', 'difficulty = "easy"', '[[metadata.cagebench.scorers]]', 'name = "review"', 'type = "model_graded"', 'rubric = "Fixes the bug."', 'model = "mock/grader.yaml"'),
    }));
    expect(new Set([plain.digest, task.digest, renamed.digest]).size).toBe(3);
  });

  it('names task.toml and the key of every bad entry', async () => {
    const dir = await writeHarborTask(await tempDir(), 't', {
      'task.toml': toml(
        '[[metadata.cagebench.scorers]]',
        'name = "review"',
        'type = "model_graded"',
        'rubric = ""',
        '[[metadata.cagebench.scorers]]',
        'name = "review"',
        'type = "command"',
        'command = "true"',
        '[[metadata.cagebench.scorers]]',
        'name = "reward"',
        'type = "nope"',
        '[[metadata.cagebench.scorers]]',
        'type = "command"',
        'command = "true"',
        'extra = 1',
      ),
    });
    const err = (await loadHarborTask(dir).catch((e: unknown) => e)) as TaskLoadError;
    expect(err).toBeInstanceOf(TaskLoadError);
    const file = join(dir, 'task.toml');
    const fields = err.problems.map((p) => [p.file, p.field]);
    expect(fields).toEqual(
      expect.arrayContaining([
        [file, '[[metadata.cagebench.scorers]][0].rubric'],
        [file, '[[metadata.cagebench.scorers]][1].name'],
        [file, '[[metadata.cagebench.scorers]][2].name'],
        [file, '[[metadata.cagebench.scorers]][2].type'],
        [file, '[[metadata.cagebench.scorers]][3].name'],
        [file, '[[metadata.cagebench.scorers]][3].extra'],
      ]),
    );
    expect(err.message).toContain(`${file}: [[metadata.cagebench.scorers]][1].name must be unique`);
    expect(err.message).toContain(`${file}: [[metadata.cagebench.scorers]][2].name must not be "reward"`);
  });

  it('refuses scorers that are not an array of tables', async () => {
    const dir = await writeHarborTask(await tempDir(), 't', { 'task.toml': toml('[metadata.cagebench]', 'scorers = "review"') });
    const err = (await loadHarborTask(dir).catch((e: unknown) => e)) as TaskLoadError;
    expect(err.problems).toEqual([expect.objectContaining({ file: join(dir, 'task.toml'), field: '[[metadata.cagebench.scorers]]' })]);
  });
});
