// writeFiles against a real Docker sandbox: several files and a host directory in one archive
// upload, landing exactly as writeFile and upload would put them (modes, owners, contents, the
// directory's own mode, a later entry winning), parents left as they were, and a bad entry
// refusing the whole batch before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerProvider, DEFAULT_SANDBOX_IMAGE, SandboxError, type DockerProvider, type Sandbox } from '../index.ts';
import { testRunId } from '../test-support/run-id.ts';

let provider: DockerProvider;
let sandbox: Sandbox;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cb-write-files-test-'));
  provider = await createDockerProvider({ teardownOnExit: false });
  sandbox = await provider.start({ source: { image: DEFAULT_SANDBOX_IMAGE }, runId: testRunId('write-files'), sampleId: 'write-files', workdir: '/workspace' });
});
afterAll(async () => {
  await provider?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function sh(script: string): Promise<string> {
  const r = await sandbox.exec(script);
  expect(r.exitCode, `${script}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('writeFiles', () => {
  it('writes files and a directory in one upload, as writeFile and upload would', async () => {
    const dir = join(scratch, 'data');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub', 'b.txt'), 'bee\n');
    await chmod(join(dir, 'sub', 'b.txt'), 0o600);
    await symlink('sub/b.txt', join(dir, 'link'));
    await chmod(dir, 0o750);
    const before = await sh('stat -c "%a %u" /workspace /tmp');
    await sandbox.writeFiles!([
      { path: '/workspace/a.txt', content: 'first' },
      { path: '/workspace/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { path: '/workspace/new/deep/c.bin', content: new Uint8Array([0, 1, 2, 255]) },
      { path: '/workspace/data', hostDir: dir },
      { path: '/workspace/a.txt', content: 'second' },
    ]);
    expect(await sh('cat /workspace/a.txt')).toBe('second');
    expect(await sh('stat -c "%a %u:%g" /workspace/a.txt /workspace/run.sh')).toBe('644 0:0\n755 0:0\n');
    expect(await sh('/workspace/run.sh')).toBe('hi\n');
    expect(await sh('od -An -tu1 /workspace/new/deep/c.bin')).toMatch(/^\s*0\s+1\s+2\s+255\s*$/);
    expect(await sh('cat /workspace/data/sub/b.txt; stat -c "%a" /workspace/data /workspace/data/sub/b.txt; readlink /workspace/data/link')).toBe('bee\n750\n600\nsub/b.txt\n');
    // The parents the entries land in keep their modes and owners.
    expect(await sh('stat -c "%a %u" /workspace /tmp')).toBe(before);
  });

  it('refuses a relative path or a missing host directory before sending anything', async () => {
    await expect(sandbox.writeFiles!([{ path: '/workspace/x1', content: 'x' }, { path: 'rel.txt', content: 'x' }])).rejects.toMatchObject({ code: 'CB_BAD_SPEC' });
    await expect(sandbox.writeFiles!([{ path: '/workspace/x2', content: 'x' }, { path: '/workspace/d', hostDir: join(scratch, 'missing') }])).rejects.toBeInstanceOf(SandboxError);
    expect(await sh('ls /workspace/x1 /workspace/x2 2>/dev/null || echo none')).toBe('none\n');
  });
});
