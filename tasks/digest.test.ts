import { chmod, cp, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestTree } from './digest.ts';
import { loadHarborTask } from './load-harbor.ts';
import { loadSuite } from './load-suite.ts';
import { tempDir, writeHarborTask, writeTree } from './test-support/fixture.ts';

const FULL = {
  'task.toml': '[agent]\ntimeout_sec = 100\n[metadata]\ndifficulty = "easy"\n',
  'environment/Dockerfile': 'FROM cagebench/sandbox:bookworm\nWORKDIR /app\n',
  'environment/data/input.txt': 'input\n',
  'tests/helper.py': 'print(1)\n',
  'solution/solve.sh': 'echo solved\n',
};

describe('task digest', () => {
  it('is the same for the same task, wherever it lives and whenever its files were touched', async () => {
    const a = await writeHarborTask(await tempDir(), 'same', FULL);
    const b = join(await tempDir(), 'elsewhere', 'same');
    await cp(a, b, { recursive: true });
    const later = new Date(Date.now() + 3_600_000);
    await utimes(join(b, 'tests/helper.py'), later, later);
    await utimes(join(b, 'instruction.md'), later, later);
    const [da, db, da2] = await Promise.all([loadHarborTask(a), loadHarborTask(b), loadHarborTask(a)]);
    expect(db.digest).toBe(da.digest);
    expect(da2.digest).toBe(da.digest);
  });

  it.each([
    ['the instruction', 'instruction.md', 'Do another thing.\n'],
    ['the config', 'task.toml', '[agent]\ntimeout_sec = 101\n[metadata]\ndifficulty = "easy"\n'],
    ['a file of the environment context', 'environment/data/input.txt', 'input2\n'],
    ['the Dockerfile', 'environment/Dockerfile', 'FROM cagebench/sandbox:bookworm\nWORKDIR /src\n'],
    ['a test', 'tests/test.sh', 'echo 0 > /logs/verifier/reward.txt\n'],
    ['a file added to tests/', 'tests/extra.py', ''],
    ['the solution', 'solution/solve.sh', 'echo solved better\n'],
  ])('changes with %s', async (_what, path, content) => {
    const dir = await writeHarborTask(await tempDir(), 'changing', FULL);
    const before = (await loadHarborTask(dir)).digest;
    await writeFile(join(dir, path), content);
    expect((await loadHarborTask(dir)).digest).not.toBe(before);
  });

  it('changes when a file becomes executable, or is removed; not for metadata', async () => {
    const dir = await writeHarborTask(await tempDir(), 'modes', FULL);
    const d0 = (await loadHarborTask(dir)).digest;
    await chmod(join(dir, 'solution/solve.sh'), 0o755);
    const d1 = (await loadHarborTask(dir)).digest;
    expect(d1).not.toBe(d0);
    await rm(join(dir, 'tests/helper.py'));
    const d2 = (await loadHarborTask(dir)).digest;
    expect(d2).not.toBe(d1);
    await writeFile(join(dir, 'task.toml'), '[agent]\ntimeout_sec = 100\n[metadata]\ndifficulty = "hard"\n');
    expect((await loadHarborTask(dir)).digest).toBe(d2);
  });

  it('covers a suite sample: inline files, sources, the scorer, the suite defaults', async () => {
    const dir = await tempDir();
    const yaml = (content: string, agentSec = 10) => `defaults: { timeouts: { agent_sec: ${agentSec} } }
samples:
  - id: a
    instruction: x
    files:
      - { path: a.txt, content: "${content}" }
      - { path: data, source: data }
    scorer: { type: command, command: "true" }
  - id: b
    instruction: y
    scorer: { type: command, command: "true" }
`;
    await writeTree(dir, { 'suite.yaml': yaml('one'), 'data/x.txt': 'x\n' });
    const file = join(dir, 'suite.yaml');
    const digests = async () => (await loadSuite(file)).map((t) => t.digest);
    const [a0, b0] = await digests();
    expect(a0).not.toBe(b0);

    await writeFile(file, yaml('two'));
    const [a1, b1] = await digests();
    expect(a1).not.toBe(a0);
    expect(b1).toBe(b0); // a sample's digest does not depend on its neighbours

    await writeFile(join(dir, 'data/x.txt'), 'changed\n');
    const [a2] = await digests();
    expect(a2).not.toBe(a1);

    await writeFile(file, yaml('two', 11));
    const [a3, b3] = await digests();
    expect(a3).not.toBe(a2);
    expect(b3).not.toBe(b1);
  });

  it('covers the container runtime: naming one, or another, makes a different task', async () => {
    const dir = await tempDir();
    const file = join(dir, 'suite.yaml');
    const yaml = (env: string, sample = '') => `environment: { image: cagebench/sandbox:bookworm${env} }
samples:
  - { id: a, instruction: x, scorer: { type: command, command: "true" }${sample} }
`;
    const digest = async (text: string) => (await writeFile(file, text), (await loadSuite(file))[0]!.digest);
    const none = await digest(yaml(''));
    const runsc = await digest(yaml(', runtime: runsc'));
    const crun = await digest(yaml(', runtime: crun'));
    expect(new Set([none, runsc, crun]).size).toBe(3);
    // Where it is said does not matter; what it says does.
    expect(await digest(yaml('', ', runtime: runsc'))).toBe(runsc);
    expect(await digest(yaml(''))).toBe(none);
  });
});

describe('digestTree', () => {
  it('does not depend on the order files were created in', async () => {
    const a = await tempDir();
    const b = await tempDir();
    await writeTree(a, { 'z.txt': 'z', 'a/b.txt': 'b', 'A.txt': 'A', 'a.txt': 'a' });
    await writeTree(b, { 'a.txt': 'a', 'A.txt': 'A', 'a/b.txt': 'b', 'z.txt': 'z' });
    expect(await digestTree(a)).toBe(await digestTree(b));
  });

  it('tells apart a renamed file, moved content and an empty directory', async () => {
    const base = await tempDir();
    const d = async (tree: Record<string, string>) => digestTree(await writeTree(join(base, String(Math.random())), tree));
    const reference = await d({ 'a.txt': 'ab', 'b.txt': '' });
    expect(await d({ 'a.txt': 'a', 'b.txt': 'b' })).not.toBe(reference);
    expect(await d({ 'c.txt': 'ab', 'b.txt': '' })).not.toBe(reference);
    expect(await d({ 'a.txt': 'ab', 'b.txt': '', 'empty/': '' })).not.toBe(reference);
  });
});
