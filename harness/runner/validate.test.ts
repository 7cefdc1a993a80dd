// The checks a run makes before its directory exists: task selection, --prices, --junit,
// --agent-version and the run.json that resume reads.
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, writeHarborTask } from '../../tasks/test-support/fixture.ts';
import { checkOutputPath, checkPricesFile, loadSelectedTasks, readRunRecord, versionSpecProblem } from './validate.ts';

describe('loadSelectedTasks', () => {
  it('a --task matching nothing shows five ids that exist and how many more', async () => {
    const suite = await tempDir();
    for (const id of ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1']) await writeHarborTask(suite, id);
    expect((await loadSelectedTasks([suite], 'b*')).map((t) => t.id)).toEqual(['b1', 'b2', 'b3']);
    await expect(loadSelectedTasks([suite], 'z*')).rejects.toMatchObject({
      code: 'CB_CONFIG',
      message: `--task 'z*' matches no task in ${suite} (its tasks: a1, a2, a3, b1, b2 and 2 more). The glob must match a whole id, e.g. --task 'a1*'.`,
    });
  });
});

describe('checkPricesFile', () => {
  const table = async (text: string): Promise<string> => {
    const file = join(await tempDir(), 'prices.yaml');
    await writeFile(file, text);
    return file;
  };

  it('takes a map of model: {input, output, cache_read?, cache_write?}, and an empty file', async () => {
    await checkPricesFile(await table('gpt-5:\n  input: 1.25\n  output: 10\n  cache_read: 0.125\n'));
    await checkPricesFile(await table(''));
  });

  it.each([
    ['- 1\n- 2\n', /expected a YAML map of model: \{input: USD, output: USD\} per million tokens, found a list/],
    ['just text\n', /found "just text"/],
    ['gpt-5:\n  output: 1\n', /gpt-5\.input must be a price in USD per million tokens >= 0 \(got nothing\)/],
    ['gpt-5:\n  input: -1\n  output: 1\n', /gpt-5\.input must be .* \(got -1\)/],
    ['gpt-5:\n  input: 1\n  output: 1\n  cache_read: free\n', /gpt-5\.cache_read must be .* \(got "free"\)/],
    ['gpt-5: {input: 1, output: 2\n', /invalid YAML/],
  ])('refuses %j, naming the file and the field', async (text, why) => {
    const file = await table(text);
    const error = await checkPricesFile(file).catch((err: unknown) => err as Error);
    expect(error).toMatchObject({ code: 'CB_CONFIG' });
    expect(error?.message).toMatch(new RegExp(`^--prices ${file}`));
    expect(error?.message).toMatch(why);
    expect(error?.message).not.toContain('\n');
  });
});

const junitPath = (file: string) => checkOutputPath('--junit', file, 'junit.xml');

describe('checkOutputPath', () => {
  it('wants an existing directory that takes a file', async () => {
    const dir = await tempDir();
    await junitPath(join(dir, 'junit.xml'));
    await expect(junitPath(join(dir, 'missing', 'junit.xml'))).rejects.toThrow(`the directory ${join(dir, 'missing')} does not exist. Create it first`);
    await expect(junitPath(dir)).rejects.toThrow(`--junit ${dir} is a directory. Give a file path, e.g. --junit ${join(dir, 'junit.xml')}`);
    await writeFile(join(dir, 'file'), '');
    await expect(junitPath(join(dir, 'file', 'junit.xml'))).rejects.toThrow(`${join(dir, 'file')} is not a directory`);
  });
});

describe('readRunRecord', () => {
  it('names what is wrong with a path that is no run to resume', async () => {
    const dir = await tempDir();
    await expect(readRunRecord(join(dir, 'gone'))).rejects.toThrow(`${join(dir, 'gone')} does not exist. Give the run directory 'cagebench run' printed`);
    await expect(readRunRecord(dir)).rejects.toThrow(`${dir} is not a cagebench run directory (no run.json)`);
    await writeFile(join(dir, 'run.json'), '[]');
    await expect(readRunRecord(dir)).rejects.toThrow(`${join(dir, 'run.json')} is not a cagebench run record (no format version)`);
    // run.json itself given: the message names its directory.
    await expect(readRunRecord(join(dir, 'run.json'))).rejects.toThrow(`is a file, not a run directory. Give the run directory 'cagebench run' printed (it holds run.json): ${dir}.`);
    await writeFile(join(dir, 'run.json'), JSON.stringify({ version: 1, runId: 'r' }));
    await expect(readRunRecord(dir)).rejects.toThrow('is not a complete run record (runId, config or tasks missing)');
  });

  it('reads a complete record of this format', async () => {
    const dir = join(await tempDir(), 'r1');
    await mkdir(dir);
    const record = { version: 1, runId: 'r1', createdAt: '', harness: { name: 'cagebench', version: '0.1.0', node: 'v20' }, config: { agent: 'oracle', paths: [] }, tasks: [] };
    await writeFile(join(dir, 'run.json'), JSON.stringify(record));
    expect(await readRunRecord(dir)).toEqual(record);
  });
});

describe('versionSpecProblem', () => {
  it.each(['stable', 'latest', 'auto', 'sandbox', '2.1.330', 'v2.1.330', '1.0.0-beta.3', '24.x'])('takes %s', (spec) => {
    expect(versionSpecProblem('--agent-version', spec)).toBeUndefined();
  });

  it.each([
    ['nightly', /"nightly" is not a version cagebench knows: use stable, latest, an exact version X\.Y\.Z \(e\.g\. 2\.1\.3\), a release line N\.x, auto or sandbox$/],
    ['1.2', /"1\.2" is not a version/],
    ['^2.1.0', /"\^2\.1\.0" is not a version/],
    ['', /"" is not a version/],
    ['0.169.0-linux-x64', /0\.169\.0-linux-x64 is the version of one platform's build, not an agent version; ask for 0\.169\.0$/],
  ])('refuses %j', (spec, why) => {
    expect(versionSpecProblem('--agent-version', spec)).toMatch(why);
  });

  it('auto and sandbox only where a sandbox can be asked', () => {
    expect(versionSpecProblem('--version', 'auto', { inSandbox: false })).toMatch(/--version auto is only for runs/);
  });
});
