// Tools files: a default list, named exports, duplicates, a non-tool, a missing file, and how
// a task's tools go on top of the run's.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkTasks } from '../commands/check.ts';
import { ConfigError } from '../errors.ts';
import { defineTool } from './define.ts';
import { loadRunTools, loadTools, loadToolsFile } from './load.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const at = (name: string): string => join(FIXTURES, name);

describe('tools files', () => {
  it('reads a default export list, in order', async () => {
    const tools = await loadToolsFile(at('default-list.ts'));
    expect(tools.map((t) => t.name)).toEqual(['upper', 'count']);
    expect(await tools[1]!.run({ text: 'a b  c' }, { sampleId: 's', taskId: 't', signal: new AbortController().signal })).toEqual({ words: 3 });
  });

  it('reads named exports that are tools, each once, and ignores other exports', async () => {
    expect((await loadToolsFile(at('named.ts'))).map((t) => t.name)).toEqual(['greet', 'upper']);
  });

  it('refuses two tools with one name, in one file or across files', async () => {
    await expect(loadToolsFile(at('duplicate.ts'))).rejects.toThrow(/duplicate\.ts exports two tools named "same": tool names must be unique; rename one/);
    await expect(loadTools([at('default-list.ts'), at('named.ts')])).rejects.toThrow(/Two tools \(from .*default-list\.ts and .*named\.ts\) are named "upper"/);
  });

  it('names a non-tool export, a missing file and a file without tools', async () => {
    await expect(loadToolsFile(at('not-a-tool.ts'))).rejects.toThrow(/not-a-tool\.ts: its default export's item 1 is not a tool \(a function; wrap it in defineTool/);
    const missing = loadToolsFile(at('nope.ts'));
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow(/Tools file .*nope\.ts does not exist/);
    await expect(loadToolsFile(join(import.meta.dirname, 'define.ts'))).rejects.toThrow(/define\.ts exports no tools \(exports: .*defineTool/);
  });

  it("gives a task's tools on top of the run's, the task's winning by name", async () => {
    const own = defineTool({ name: 'extra', description: 'In code', parameters: z.object({}), run: () => 'x' });
    const tools = await loadRunTools([at('default-list.ts'), own], [{ id: 'plain' }, { id: 'special', tools: [at('named.ts')] }]);
    expect(tools.run.map((t) => t.name)).toEqual(['upper', 'count', 'extra']);
    expect(tools.forTask({ id: 'plain' }).map((t) => t.name)).toEqual(['upper', 'count', 'extra']);
    const special = tools.forTask({ id: 'special', tools: [at('named.ts')] });
    expect(special.map((t) => t.name)).toEqual(['count', 'extra', 'greet', 'upper']);
    expect(await special.find((t) => t.name === 'upper')!.run({ text: 'a' }, { sampleId: 's', taskId: 'special', signal: new AbortController().signal })).toBe('[A]');
  });
});

describe('tasks check', () => {
  it("reports a task whose tools file does not load", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cagebench-tools-check-'));
    const sample = (id: string, tools: string) => `  - { id: ${id}, instruction: x, scorer: { type: answer, includes: x }, tools: ${tools} }`;
    await writeFile(join(dir, 'suite.yaml'), ['samples:', sample('good', at('default-list.ts')), sample('bad', at('duplicate.ts'))].join('\n'));
    const { problems } = await checkTasks([join(dir, 'suite.yaml')]);
    expect(problems).toEqual([{ taskId: 'bad', origin: join(dir, 'suite.yaml'), problem: expect.stringMatching(/duplicate\.ts exports two tools named "same"/) }]);
  });
});

describe('defineTool', () => {
  it('refuses a bad name, a missing description, parameters that are not a zod object', () => {
    const base = { name: 'ok', description: 'd', parameters: z.object({}), run: () => '' };
    expect(() => defineTool({ ...base, name: 'has space' })).toThrow(/name must be 1-64 letters, digits, _ or -/);
    expect(() => defineTool({ ...base, description: ' ' })).toThrow(/give a description/);
    expect(() => defineTool({ ...base, parameters: z.string() as never })).toThrow(/parameters must be a zod object schema/);
  });
});
