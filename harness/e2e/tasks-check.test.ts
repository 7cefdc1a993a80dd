// `cagebench tasks check` through the real CLI: validation alone, and --oracle finding
// tasks that test nothing (nop passes) or whose reference solution fails.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cli, FIXTURES, outDir } from './support.ts';

describe('cagebench tasks check', () => {
  it('validates without Docker work and says how many tasks it read', async () => {
    const r = await cli(['tasks', 'check', join(FIXTURES, 'quick.yaml'), join(FIXTURES, 'slow.yaml')]).exited;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('9 task(s) valid (cagebench)');
  });

  it('with --oracle lists tasks whose oracle fails or that nop passes, and exits 1', async () => {
    const r = await cli(['tasks', 'check', join(FIXTURES, 'unsound.yaml'), '--oracle', '--out', await outDir()]).exited;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/PROBLEM tests-nothing .*nop passes/);
    expect(r.stdout).toMatch(/PROBLEM wrong-solution .*oracle does not pass/);
    expect(r.stdout).not.toMatch(/PROBLEM sound/);
    expect(r.stdout).toContain('2 problem(s)');
  }, 120_000);

  it('names a link out of a task directory before any run, since every sample would refuse to copy it', async () => {
    const dir = await outDir();
    const { mkdir, symlink, writeFile } = await import('node:fs/promises');
    const task = join(dir, 'suite', 'linked');
    for (const sub of ['solution', 'tests']) await mkdir(join(task, sub), { recursive: true });
    await writeFile(join(task, 'task.toml'), 'version = "1.0"\n[environment]\ndocker_image = "debian:bookworm-slim"\n');
    await writeFile(join(task, 'instruction.md'), 'Nothing.\n');
    await writeFile(join(task, 'solution', 'solve.sh'), '#!/bin/bash\ntrue\n', { mode: 0o755 });
    await writeFile(join(task, 'tests', 'test.sh'), '#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n', { mode: 0o755 });
    await writeFile(join(dir, 'outside.txt'), 'secret\n');
    await symlink('../../../outside.txt', join(task, 'solution', 'data.txt'));
    const r = await cli(['tasks', 'check', join(dir, 'suite')]).exited;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/PROBLEM linked .*solution\/data\.txt.*outside\.txt/);
    expect(r.stdout).toContain('1 problem(s)');
  });

  it('a broken suite file is refused with the file, the field and what is expected', async () => {
    const dir = await outDir();
    const { writeFile } = await import('node:fs/promises');
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'name: bad\nsamples:\n  - id: a\n    instruction: x\n    scorer: { type: telepathy }\n');
    const r = await cli(['tasks', 'check', bad]).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/samples\[0\]\.scorer/);
  });
});
