// A saved workdir state round-trips: saved from two host snapshots (set-up and after an
// attempt), staged, and applied by its restore script to a copy of the set-up state, the copy
// equals the state after the attempt (text, binary, modes, links, deletions, .git), caches
// aside. The script is run with the host's sh, as the sandbox's root would run it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { scanHostDir } from './workspace.ts';
import { saveState, stageState, type StateManifest } from './workspace-state.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cb-state-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

type Tree = Record<string, string | Buffer | { link: string } | { content: string | Buffer; mode: number }>;

async function write(dir: string, tree: Tree): Promise<void> {
  for (const [path, value] of Object.entries(tree)) {
    const abs = join(dir, path);
    await mkdir(dirname(abs), { recursive: true });
    await rm(abs, { recursive: true, force: true });
    if (typeof value === 'string' || Buffer.isBuffer(value)) await writeFile(abs, value);
    else if ('link' in value) await symlink(value.link, abs);
    else {
      await writeFile(abs, value.content);
      await chmod(abs, value.mode);
    }
  }
}

/** path → kind, mode and content (a link's target), for every entry but caches. */
async function listing(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort()) {
      if (name === '__pycache__') continue;
      const full = join(abs, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(full);
      const mode = (st.mode & 0o777).toString(8);
      if (st.isDirectory()) {
        out[path] = `dir ${mode}`;
        await visit(full, path);
      } else if (st.isSymbolicLink()) out[path] = `link -> ${await readlink(full)}`;
      else out[path] = `file ${mode} ${(await readFile(full)).toString('base64')}`;
    }
  };
  await visit(dir, '');
  return out;
}

const BINARY = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]);

async function setup(): Promise<{ base: string; after: string }> {
  const base = await mkdtemp(join(scratch, 'base-'));
  await write(base, {
    'keep.txt': 'same\n',
    'edit.txt': 'old\n',
    'gone.txt': 'bye\n',
    'olddir/a.txt': 'a\n',
    'olddir/deep/b.txt': 'b\n',
    'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o644 },
    'repo/.git/HEAD': 'ref: refs/heads/main\n',
    'repo/.git/objects/aa/1111': 'object one\n',
    'repo/file.txt': 'v1\n',
  });
  const after = await mkdtemp(join(scratch, 'after-'));
  await cp(base, after, { recursive: true, preserveTimestamps: true });
  await rm(join(after, 'gone.txt'));
  await rm(join(after, 'olddir'), { recursive: true });
  await write(after, {
    'edit.txt': 'new, longer content\n',
    'blob.bin': BINARY,
    'new/dir/note.md': '# note\n',
    'link': { link: 'new/dir/note.md' },
    'repo/.git/objects/bb/2222': 'object two\n',
    'repo/.git/HEAD': 'ref: refs/heads/fix\n',
    'repo/file.txt': 'v2\n',
    '__pycache__/x.pyc': 'cache',
  });
  await chmod(join(after, 'run.sh'), 0o755);
  await mkdir(join(after, 'empty'));
  return { base, after };
}

describe('saveState and its restore script', () => {
  it('restores a copy of the set-up state to the state after the attempt, byte for byte', async () => {
    const { base, after } = await setup();
    const [b, a] = await Promise.all([scanHostDir(base), scanHostDir(after)]);
    const tarPath = join(scratch, 'workspace-1.tar');
    const fresh = await mkdtemp(join(scratch, 'fresh-'));
    await cp(base, fresh, { recursive: true, preserveTimestamps: true });
    const owner = { uid: process.getuid!(), gid: process.getgid!() };
    const saved = await saveState({ base: b, after: a, attempt: 1, root: fresh, owner, tarPath });
    expect(saved.saved).toBe(true);
    const manifest = JSON.parse(await readFile(join(scratch, 'workspace-1.json'), 'utf8')) as StateManifest;
    expect(manifest.deleted).toEqual(['gone.txt', 'olddir']);
    expect(manifest.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['blob.bin', 'edit.txt', 'empty', 'link', 'new', 'new/dir', 'new/dir/note.md', 'repo/.git/HEAD', 'repo/.git/objects/bb/2222', 'repo/file.txt', 'run.sh']));
    expect(manifest.entries.map((e) => e.path)).not.toContain('keep.txt');
    expect(manifest.notSaved).toEqual([{ path: '__pycache__', reason: 'cache' }]);

    const staging = await mkdtemp(join(scratch, 'staging-'));
    await stageState(tarPath, manifest, staging, staging);
    await promisify(execFile)('sh', [join(staging, 'restore.sh')]);
    expect(await listing(fresh)).toEqual(await listing(after));
    await expect(lstat(staging)).rejects.toThrow(); // the script removes what it was staged from
  });

  it('a state of deletions only is a valid empty tar, and its restore deletes', async () => {
    const base = await mkdtemp(join(scratch, 'base-'));
    await write(base, { 'a.txt': 'a\n', 'b/c.txt': 'c\n' });
    const after = await mkdtemp(join(scratch, 'after-'));
    await cp(base, after, { recursive: true, preserveTimestamps: true });
    await rm(join(after, 'b'), { recursive: true });
    const tarPath = join(scratch, 'workspace-4.tar');
    const fresh = await mkdtemp(join(scratch, 'fresh-'));
    await cp(base, fresh, { recursive: true, preserveTimestamps: true });
    const saved = await saveState({ base: await scanHostDir(base), after: await scanHostDir(after), attempt: 4, root: fresh, tarPath });
    if (!saved.saved) throw new Error(saved.reason);
    expect(saved.manifest).toMatchObject({ entries: [], deleted: ['b'] });
    expect((await readFile(tarPath)).equals(Buffer.alloc(1024))).toBe(true);
    const staging = await mkdtemp(join(scratch, 'staging-'));
    await stageState(tarPath, saved.manifest, staging, staging);
    await promisify(execFile)('sh', [join(staging, 'restore.sh')]);
    expect(await listing(fresh)).toEqual(await listing(after));
  });

  it('saves nothing over the size limit, and leaves out an excluded directory that does not fit', async () => {
    const { base, after } = await setup();
    const [b, a] = await Promise.all([scanHostDir(base), scanHostDir(after)]);
    const tooSmall = await saveState({ base: b, after: a, attempt: 2, root: '/app', tarPath: join(scratch, 'workspace-2.tar'), limitBytes: 10 });
    expect(tooSmall).toMatchObject({ saved: false, reason: expect.stringMatching(/over the 0\.0 MiB limit/) });
    // The workdir proper fits; .git's change (31 bytes) does not.
    const own = 'new, longer content\n'.length + BINARY.length + '# note\n'.length + 'v2\n'.length + '#!/bin/sh\necho hi\n'.length;
    const partial = await saveState({ base: b, after: a, attempt: 3, root: '/app', tarPath: join(scratch, 'workspace-3.tar'), limitBytes: own + 5 });
    expect(partial.saved).toBe(true);
    if (!partial.saved) return;
    expect(partial.manifest.notSaved).toContainEqual({ path: 'repo/.git', reason: 'size', bytes: 'object two\n'.length + 'ref: refs/heads/fix\n'.length });
    expect(partial.manifest.entries.some((e) => e.path.startsWith('repo/.git'))).toBe(false);
  });
});
