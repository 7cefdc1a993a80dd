// Suite `tools:` (host tools files): resolved against the suite file, the sample's replacing
// the default, a missing file named by its field, and the file's content in the digest.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from './load-suite.ts';
import { lines } from './test-support/fixture.ts';
import { loadError, suiteFile } from './test-support/suite.ts';

const SUITE = `defaults:
  tools: tools/common.ts
samples:
  - id: plain
    instruction: Say hi.
    scorer: { type: answer, includes: hi }
  - id: own
    instruction: Say hi.
    scorer: { type: answer, includes: hi }
    tools: [own.ts, tools/common.ts]
`;

describe('suite tools', () => {
  it('records absolute tools paths, the sample replacing the default', async () => {
    const file = await suiteFile(SUITE, { 'tools/common.ts': 'export default []\n', 'own.ts': 'export default []\n' });
    const dir = dirname(file);
    const [plain, own] = await loadSuite(file);
    expect(plain!.tools).toEqual([join(dir, 'tools/common.ts')]);
    expect(own!.tools).toEqual([join(dir, 'own.ts'), join(dir, 'tools/common.ts')]);
  });

  it('names a tools file that does not exist by its field', async () => {
    const file = await suiteFile(SUITE, { 'tools/common.ts': 'export default []\n' });
    const err = await loadError(file);
    expect(lines(err).join('\n')).toMatch(/samples\[1\]\.tools\[0\].*must be a tools file relative to the suite file \(.*own\.ts does not exist\)/);
  });

  it("puts the tools file's content in the task's digest", async () => {
    const file = await suiteFile(SUITE, { 'tools/common.ts': 'export default []\n', 'own.ts': 'export default []\n' });
    const before = (await loadSuite(file))[0]!.digest;
    await writeFile(join(dirname(file), 'tools/common.ts'), 'export default [] // changed\n');
    expect((await loadSuite(file))[0]!.digest).not.toBe(before);
  });
});
