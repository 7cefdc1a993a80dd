// Suite files for tests: written to a fresh directory, loaded, and their load errors caught.
import { join } from 'node:path';
import { expect } from 'vitest';
import { TaskLoadError } from '../errors.ts';
import { loadSuite } from '../load-suite.ts';
import { tempDir, writeTree } from './fixture.ts';

/** `yaml` as suite.yaml in a new directory, with `extra` files beside it; its path. */
export async function suiteFile(yaml: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir();
  await writeTree(dir, { 'suite.yaml': yaml, ...extra });
  return join(dir, 'suite.yaml');
}

/** The TaskLoadError loading `file` ends in (the test fails if it loads). */
export async function loadError(file: string): Promise<TaskLoadError> {
  const err = await loadSuite(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TaskLoadError);
  return err as TaskLoadError;
}
