// Files changed per turn, against real Docker sandboxes on plain debian:bookworm-slim: a
// multi-turn sequence, shell side effects (redirects, mv, chmod, backdated mtimes), awkward
// names, .git left out, a non-root image user with an unreadable directory, and refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerProvider, diffManifests, SandboxError, snapshotFiles, type DockerProvider, type FileChanges, type FileManifest, type Sandbox } from './index.ts';
import { testRunId } from './test-support/run-id.ts';

const NON_ROOT_DOCKERFILE = [
  'FROM debian:bookworm-slim',
  'RUN useradd -m agent && mkdir -p /work/locked /work/open /work/sealed && touch /work/locked/secret && chmod 700 /work/locked /work/sealed && chown agent /work/open',
  'USER agent',
  '',
].join('\n');

let provider: DockerProvider;
let sandbox: Sandbox;
let scratch: string;
let seq = 0;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cb-file-changes-test-'));
  provider = await createDockerProvider({ teardownOnExit: false });
  sandbox = await provider.start({ source: { image: 'debian:bookworm-slim' }, runId: testRunId('file-changes'), sampleId: 'file-changes' });
});
afterAll(async () => {
  await provider?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A fresh empty directory in the sandbox. */
async function freshDir(): Promise<string> {
  const dir = `/t/case-${++seq}`;
  await sh(`mkdir -p ${dir}`);
  return dir;
}

async function sh(script: string, box: Sandbox = sandbox): Promise<void> {
  const r = await box.exec(script);
  expect(r.exitCode, `${script}\n${r.stderr}`).toBe(0);
}

/** Snapshot, run `script` in `dir`, snapshot again: what changed. */
async function turn(dir: string, script: string): Promise<FileChanges> {
  const before = await snapshotFiles(sandbox, dir);
  await sh(`cd ${dir} && ${script}`);
  return diffManifests(before, await snapshotFiles(sandbox, dir));
}

async function rejection(promise: Promise<unknown>): Promise<SandboxError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  return err as SandboxError;
}

const none: FileChanges = { created: [], modified: [], deleted: [] };

describe('snapshotFiles + diffManifests', () => {
  it('reports a three-turn sequence exactly: create; modify; delete and create another', async () => {
    const dir = await freshDir();
    const t0 = await snapshotFiles(sandbox, dir);
    expect(t0.entries.size).toBe(0);

    await sh(`echo one > ${dir}/a.txt`);
    const t1 = await snapshotFiles(sandbox, dir);
    expect(diffManifests(t0, t1)).toEqual({ created: ['a.txt'], modified: [], deleted: [] });
    expect(t1.entries.get('a.txt')).toMatchObject({ kind: 'file', size: 4 });

    await sh(`echo two >> ${dir}/a.txt`);
    const t2 = await snapshotFiles(sandbox, dir);
    expect(diffManifests(t1, t2)).toEqual({ created: [], modified: ['a.txt'], deleted: [] });

    await sh(`rm ${dir}/a.txt && mkdir -p ${dir}/src/lib && echo x > ${dir}/src/lib/b.ts`);
    const t3 = await snapshotFiles(sandbox, dir);
    expect(diffManifests(t2, t3)).toEqual({ created: ['src/lib/b.ts'], modified: [], deleted: ['a.txt'] });

    // Nothing done, nothing reported; reading a file changes nothing either.
    await sh(`cat ${dir}/src/lib/b.ts > /dev/null`);
    expect(diffManifests(t3, await snapshotFiles(sandbox, dir))).toEqual(none);
  });

  it('sees shell side effects: redirects, mv as deleted + created, chmod and backdated mtimes as modified', async () => {
    const dir = await freshDir();
    await sh(`cd ${dir} && echo keep > moved && echo m > mode && echo old > dated && printf abc > same && touch -d 2000-01-01 same`);

    expect(await turn(dir, `sh -c 'echo side > effect.log'`)).toEqual({ created: ['effect.log'], modified: [], deleted: [] });
    expect(await turn(dir, 'mv moved renamed')).toEqual({ created: ['renamed'], modified: [], deleted: ['moved'] });
    expect(await turn(dir, 'chmod 600 mode')).toEqual({ created: [], modified: ['mode'], deleted: [] });
    expect(await turn(dir, 'touch -d 2000-01-01 dated')).toEqual({ created: [], modified: ['dated'], deleted: [] });
    // Same size, same (restored) mtime: only the ctime tells.
    expect(await turn(dir, 'printf xyz > same && touch -d 2000-01-01 same')).toEqual({ created: [], modified: ['same'], deleted: [] });
    expect(await turn(dir, 'cp -p renamed copy && cp -p effect.log renamed')).toEqual({ created: ['copy'], modified: ['renamed'], deleted: [] });
  });

  it('lists files and symlinks but not directories: an empty new directory is not reported, a replaced directory is', async () => {
    const dir = await freshDir();
    expect(await turn(dir, 'mkdir empty && ln -s /nowhere dangling && mkfifo pipe')).toEqual({ created: ['dangling', 'pipe'], modified: [], deleted: [] });
    const snap = await snapshotFiles(sandbox, dir);
    expect(snap.entries.get('dangling')?.kind).toBe('symlink');
    expect(snap.entries.get('pipe')?.kind).toBe('fifo');
    expect(await turn(dir, 'rm dangling && ln -s /elsewhere/longer dangling')).toEqual({ created: [], modified: ['dangling'], deleted: [] });
    expect(await turn(dir, 'mkdir -p d && echo 1 > d/f')).toEqual({ created: ['d/f'], modified: [], deleted: [] });
    expect(await turn(dir, 'rm -r d && echo 2 > d')).toEqual({ created: ['d'], modified: [], deleted: ['d/f'] });
  });

  it('keeps names with spaces, newlines and non-ASCII characters intact', async () => {
    const dir = await freshDir();
    const names = ['with space.txt', ' leading', 'line\nbreak', 'tab\there', 'ünïcødé 文件.md', 'emoji-🙂', 'sub dir/inner\nname'];
    const before = await snapshotFiles(sandbox, dir);
    const r = await sandbox.exec(['sh', '-c', 'cd "$1" && shift && mkdir "sub dir" && touch "$@"', 'sh', dir, ...names]);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await snapshotFiles(sandbox, dir);
    expect(diffManifests(before, after)).toEqual({ created: [...names].sort(), modified: [], deleted: [] });
  });

  it('leaves out .git at any depth by default; exclude replaces the default', async () => {
    const dir = await freshDir();
    await sh(`cd ${dir} && mkdir -p .git/objects vendor/lib/.git node_modules/x && echo ref > .git/HEAD && echo a > tracked && echo n > node_modules/x/i.js`);
    const before = await snapshotFiles(sandbox, dir);
    expect([...before.entries.keys()].sort()).toEqual(['node_modules/x/i.js', 'tracked']);

    await sh(`cd ${dir} && echo new > .git/HEAD && echo o > .git/objects/o1 && echo c > vendor/lib/.git/config && echo b > tracked`);
    expect(diffManifests(before, await snapshotFiles(sandbox, dir))).toEqual({ created: [], modified: ['tracked'], deleted: [] });

    const all = await snapshotFiles(sandbox, dir, { exclude: [] });
    expect([...all.entries.keys()].sort()).toEqual(['.git/HEAD', '.git/objects/o1', 'node_modules/x/i.js', 'tracked', 'vendor/lib/.git/config']);
    const some = await snapshotFiles(sandbox, dir, { exclude: ['.git', 'node_*'] });
    expect([...some.entries.keys()].sort()).toEqual(['tracked']);
  });

  it('streams a tree far larger than what exec keeps (20,000 files)', async () => {
    const dir = await freshDir();
    await sh(`cd ${dir} && for d in 0 1 2 3; do mkdir d$d && (cd d$d && seq -f "file-%05g.txt" 1 5000 | xargs touch); done`);
    const before = await snapshotFiles(sandbox, dir);
    expect(before.entries.size).toBe(20_000);
    expect(before.entries.has('d3/file-05000.txt')).toBe(true);
    expect(await turn(dir, 'echo x > d2/file-02500.txt && rm d0/file-00001.txt')).toEqual({ created: [], modified: ['d2/file-02500.txt'], deleted: ['d0/file-00001.txt'] });
  });

  it('normalises the root, so snapshots of "/x/" and "/x" compare', async () => {
    const dir = await freshDir();
    const a = await snapshotFiles(sandbox, `${dir}/`);
    await sh(`touch ${dir}/f`);
    const b = await snapshotFiles(sandbox, `${dir}//.`);
    expect(a.root).toBe(dir);
    expect(diffManifests(a, b)).toEqual({ created: ['f'], modified: [], deleted: [] });
  });

  it('refuses a root that does not exist, is a file, or is relative, with the path in the message', async () => {
    const missing = await rejection(snapshotFiles(sandbox, '/t/no/such/dir'));
    expect(missing.code).toBe('CB_PATH_NOT_FOUND');
    expect(missing.message).toContain('/t/no/such/dir');
    expect(missing.message).toContain('no such directory');
    await sh('mkdir -p /t && touch /t/plain-file');
    expect((await rejection(snapshotFiles(sandbox, '/t/plain-file'))).code).toBe('CB_PATH_NOT_FOUND');
    const relative = await rejection(snapshotFiles(sandbox, 't/x'));
    expect(relative.code).toBe('CB_BAD_SPEC');
    expect(relative.message).toContain('absolute');
  });

  it('refuses to compare snapshots of different roots', () => {
    const a: FileManifest = { root: '/a', entries: new Map() };
    const b: FileManifest = { root: '/b', entries: new Map() };
    expect(() => diffManifests(a, b)).toThrow(/different roots/);
  });
});

describe('as a non-root image user', () => {
  let box: Sandbox;
  beforeAll(async () => {
    const context = join(scratch, 'non-root');
    await rm(context, { recursive: true, force: true });
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), NON_ROOT_DOCKERFILE);
    box = await provider.start({ source: { dockerfile: context }, runId: testRunId('file-changes-user'), sampleId: 'file-changes-user' });
  });
  afterAll(async () => {
    await box?.stop();
  });

  it("runs as the image's USER; an unreadable directory is skipped, not an error", async () => {
    const before = await snapshotFiles(box, '/work');
    expect(before.entries.has('locked/secret')).toBe(false);
    await sh('echo mine > /work/open/notes.txt', box);
    const after = await snapshotFiles(box, '/work');
    expect(diffManifests(before, after)).toEqual({ created: ['open/notes.txt'], modified: [], deleted: [] });
    // As root the locked file is there: the user decides what a snapshot sees.
    expect((await snapshotFiles(box, '/work', { user: 'root' })).entries.has('locked/secret')).toBe(true);
  });

  it('refuses a root the user cannot read', async () => {
    const err = await rejection(snapshotFiles(box, '/work/sealed'));
    expect(err.code).toBe('CB_BAD_SPEC');
    expect(err.message).toContain('/work/sealed');
    expect(err.message).toContain('cannot read');
  });
});
