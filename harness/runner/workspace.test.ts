// Workspace snapshots compared on the host: created, modified and deleted files, the git-style
// diff (and that it applies back), binary and large files, the size cap, the excluded names,
// and the tracker's records, artifacts and error path (with a sandbox stand-in that copies
// host directories; the Docker-backed run is in workspace-sandbox.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import type { ExecResult, Sandbox } from '../../sandboxes/index.ts';
import {
  compareSnapshots,
  DEFAULT_WORKSPACE_LIMITS,
  disposeSnapshot,
  scanHostDir,
  WorkspaceTracker,
  type Snapshot,
  type WorkspaceLimits,
} from './workspace.ts';

let scratch: string;
let seq = 0;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cb-workspace-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

type Tree = Record<string, string | Buffer | { link: string } | { content: string; mode: number }>;

async function makeTree(tree: Tree): Promise<string> {
  const dir = join(scratch, `tree-${++seq}`);
  await mkdir(dir, { recursive: true });
  for (const [path, value] of Object.entries(tree)) {
    const abs = join(dir, path);
    await mkdir(dirname(abs), { recursive: true });
    if (typeof value === 'string' || Buffer.isBuffer(value)) await writeFile(abs, value);
    else if ('link' in value) await symlink(value.link, abs);
    else {
      await writeFile(abs, value.content);
      await chmod(abs, value.mode);
    }
  }
  return dir;
}

async function compare(before: Tree, after: Tree, limits: Partial<WorkspaceLimits> = {}) {
  const all = { ...DEFAULT_WORKSPACE_LIMITS, ...limits };
  const [a, b] = await Promise.all([scanHostDir(await makeTree(before), all), scanHostDir(await makeTree(after), all)]);
  return compareSnapshots(a, b, all);
}

const lines = (n: number, change?: { at: number; to: string }): string =>
  Array.from({ length: n }, (_, i) => (change && i + 1 === change.at ? change.to : `line ${i + 1}`)).join('\n') + '\n';

describe('compareSnapshots', () => {
  it('lists created, modified and deleted files and writes a git-style diff with 3 lines of context', async () => {
    const c = await compare(
      { 'keep.txt': 'same\n', 'src/app.py': lines(10), 'old.txt': 'bye\n' },
      { 'keep.txt': 'same\n', 'src/app.py': lines(10, { at: 5, to: 'line five' }), 'new.txt': 'hello\n' },
    );
    expect(c).toMatchObject({ created: ['new.txt'], modified: ['src/app.py'], deleted: ['old.txt'], truncated: false, skipped: [] });
    expect(c.diff).toBe(
      [
        'diff --git a/new.txt b/new.txt',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/new.txt',
        '@@ -0,0 +1,1 @@',
        '+hello',
        'diff --git a/old.txt b/old.txt',
        'deleted file mode 100644',
        '--- a/old.txt',
        '+++ /dev/null',
        '@@ -1,1 +0,0 @@',
        '-bye',
        'diff --git a/src/app.py b/src/app.py',
        '--- a/src/app.py',
        '+++ b/src/app.py',
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '',
      ].join('\n'),
    );
  });

  it('writes a diff that applies back: the old text patched is the new text', async () => {
    const before = { 'a.md': '# title\n\nintro\n', 'b.txt': lines(40), 'c.txt': 'no newline at the end' };
    const after = { 'a.md': '# Title\n\nintro\nmore\n', 'b.txt': lines(40, { at: 33, to: 'x' }).replace('line 2\n', ''), 'c.txt': 'no newline at the end, still' };
    const c = await compare(before, after);
    const patches = parsePatch(c.diff);
    expect(patches.map((p) => p.newFileName)).toEqual(['b/a.md', 'b/b.txt', 'b/c.txt']);
    for (const p of patches) {
      const name = p.newFileName!.slice(2) as keyof typeof before;
      expect(applyPatch(before[name], p)).toBe(after[name]);
    }
    expect(c.diff).toContain('\\ No newline at end of file');
  });

  it('shows a binary file (a NUL byte, or not UTF-8) as changed, never its bytes', async () => {
    const c = await compare(
      { 'img.bin': Buffer.from([0x89, 0x50, 0x00, 0x01]), 'latin1.txt': 'caf\xe9\n' },
      { 'img.bin': Buffer.from([0x89, 0x50, 0x00, 0x02]), 'latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21, 0x0a]), 'new.bin': Buffer.from([0, 0, 0]) },
    );
    expect(c.modified).toEqual(['img.bin', 'latin1.txt']);
    expect(c.created).toEqual(['new.bin']);
    expect(c.diff).toContain('diff --git a/img.bin b/img.bin\nBinary files a/img.bin and b/img.bin differ\n');
    expect(c.diff).toContain('diff --git a/latin1.txt b/latin1.txt\nBinary files a/latin1.txt and b/latin1.txt differ\n');
    expect(c.diff).toContain('diff --git a/new.bin b/new.bin\nnew file mode 100644\nBinary files /dev/null and b/new.bin differ\n');
    expect(c.diff).not.toContain('@@');
  });

  it('compares a file over the size limit by hash and names it in the diff without its text', async () => {
    const big = 'x'.repeat(200) + '\n';
    const c = await compare({ 'big.log': big, 'same.log': big }, { 'big.log': big.replace('x', 'y'), 'same.log': big }, { maxDiffFileBytes: 100 });
    expect(c.modified).toEqual(['big.log']);
    expect(c.diff).toBe('diff --git a/big.log b/big.log\n# cagebench: not diffed, over 100 bytes (201 -> 201 bytes)\n');
  });

  it('stops the diff at the size cap, names the files left out, and keeps the lists whole', async () => {
    const before: Tree = {};
    const after: Tree = {};
    for (let i = 0; i < 6; i++) after[`f${i}.txt`] = `${'content '.repeat(10)}${i}\n`;
    after['huge.txt'] = `${'y'.repeat(2000)}\n`; // alone larger than the cap
    const c = await compare(before, after, { maxDiffBytes: 400 });
    expect(c.created).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt', 'huge.txt']);
    expect(c.truncated).toBe(true);
    const shown = [...c.diff.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1]);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).not.toContain('huge.txt');
    const marker = c.diff.trimEnd().split('\n').at(-1)!;
    expect(marker).toMatch(/^# cagebench: diff truncated at 400 bytes; \d+ changed file\(s\) not shown: /);
    for (const f of c.created) expect(shown.includes(f) !== marker.includes(f)).toBe(true); // each file is shown or named, not both
    expect(Buffer.byteLength(c.diff) - Buffer.byteLength(marker) - 1).toBeLessThanOrEqual(400);
  });

  it('leaves out version-control internals, dependencies, caches and agent state at any depth', async () => {
    const c = await compare(
      { '.git/HEAD': 'ref: refs/heads/main\n', 'pkg/node_modules/x/index.js': '1\n', 'main.py': 'print(1)\n' },
      {
        '.git/HEAD': 'ref: refs/heads/fix\n',
        '.git/objects/ab/cdef': Buffer.from([1, 2, 3]),
        'pkg/node_modules/x/index.js': '2\n',
        'src/__pycache__/main.cpython-311.pyc': Buffer.from([0]),
        '.codex/sessions/1.jsonl': '{}\n',
        '.venv/bin/python': { link: '/usr/bin/python3' },
        'main.py': 'print(2)\n',
      },
    );
    expect(c).toMatchObject({ created: [], modified: ['main.py'], deleted: [] });
  });

  it('shows a mode change, a symlink as its target, and a file turned into a link as a deletion and a creation', async () => {
    const c = await compare(
      { 'run.sh': { content: 'echo hi\n', mode: 0o644 }, 'conf': 'a=1\n' },
      { 'run.sh': { content: 'echo hi\n', mode: 0o755 }, 'conf': { link: 'conf.d/main' }, 'latest': { link: '../releases/1' } },
    );
    expect(c).toMatchObject({ created: ['latest'], modified: ['conf', 'run.sh'], deleted: [] });
    expect(c.diff).toContain('diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n');
    expect(c.diff).toContain('diff --git a/latest b/latest\nnew file mode 120000\n--- /dev/null\n+++ b/latest\n@@ -0,0 +1,1 @@\n+../releases/1\n\\ No newline at end of file\n');
    expect(c.diff).toContain('diff --git a/conf b/conf\ndeleted file mode 100644\n--- a/conf\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a=1\n');
    expect(c.diff).toContain('diff --git a/conf b/conf\nnew file mode 120000\n');
  });

  it('an empty file created is listed and headed, with no hunk', async () => {
    const c = await compare({}, { 'empty': '' });
    expect(c.created).toEqual(['empty']);
    expect(c.diff).toBe('diff --git a/empty b/empty\nnew file mode 100644\n');
  });

  it('does not compare paths under a top-level entry either side could not read', async () => {
    const a: Snapshot = { ...(await scanHostDir(await makeTree({ 'lib/a.txt': '1\n', 'x.txt': '1\n' }))), skipped: [] };
    const b: Snapshot = { ...(await scanHostDir(await makeTree({ 'x.txt': '2\n' }))), skipped: ['lib'] };
    const c = await compareSnapshots(a, b);
    expect(c).toMatchObject({ created: [], modified: ['x.txt'], deleted: [], skipped: ['lib'] });
  });

  it('refuses a workdir with more files than the limit', async () => {
    const dir = await makeTree({ a: '1', b: '2', c: '3' });
    await expect(scanHostDir(dir, { maxFiles: 2 })).rejects.toThrow(/more than 2 files/);
  });
});

/** A sandbox whose filesystem is a host directory: download copies out of it like the engine's archive does. */
function hostSandbox(root: string, refuse: (path: string) => boolean = () => false) {
  const calls: string[] = [];
  const sandbox: Pick<Sandbox, 'download' | 'exec'> = {
    async download(path, hostDir) {
      calls.push(`download ${path}`);
      if (refuse(path)) throw Object.assign(new Error(`Refused archive entry "${path}": symlink points outside`), { code: 'CB_ARCHIVE_ESCAPE' });
      const src = join(root, path);
      const st = await import('node:fs/promises').then((fs) => fs.lstat(src)).catch(() => undefined);
      if (!st) throw Object.assign(new Error(`${path} does not exist`), { code: 'CB_PATH_NOT_FOUND' });
      await mkdir(hostDir, { recursive: true });
      if (st.isDirectory()) await cp(src, hostDir, { recursive: true, verbatimSymlinks: true });
      else await cp(src, join(hostDir, path.split('/').at(-1)!), { verbatimSymlinks: true });
    },
    async exec(cmd): Promise<ExecResult> {
      calls.push(`exec ${JSON.stringify(cmd)}`);
      const { execFile } = await import('node:child_process');
      const argv = cmd as readonly string[];
      // The listing script runs on the host against the mapped directory.
      const mapped = argv.map((a, i) => (i === argv.length - 1 ? join(root, a) : a));
      return new Promise((resolve) => {
        execFile(mapped[0]!, mapped.slice(1), (err, stdout, stderr) =>
          resolve({ exitCode: err ? 1 : 0, stdout, stderr, timedOut: false, truncated: false, durationMs: 0 }),
        );
      });
    },
  };
  return { sandbox, calls };
}

describe('WorkspaceTracker', () => {
  it('records each attempt against the state before it and writes artifacts/attempt-<n>.diff', async () => {
    const root = await makeTree({ 'work/notes.txt': 'todo\n' });
    const sampleDir = await makeTree({});
    const events: Array<{ type: string; [k: string]: unknown }> = [];
    const { sandbox } = hostSandbox(root);
    const tracker = new WorkspaceTracker({ sandbox, root: '/work', sampleDir, emit: (type, fields) => events.push({ type, ...fields }), tempDir: scratch });
    await tracker.before(1);
    await writeFile(join(root, 'work/notes.txt'), 'done\n');
    await writeFile(join(root, 'work/out.txt'), 'ok\n');
    const first = await tracker.after(1);
    expect(first).toEqual({ created: ['out.txt'], modified: ['notes.txt'], deleted: [], diffFile: 'artifacts/attempt-1.diff' });
    const diff1 = await readFile(join(sampleDir, 'artifacts/attempt-1.diff'), 'utf8');
    expect(diff1).toContain('--- a/notes.txt\n+++ b/notes.txt\n@@ -1,1 +1,1 @@\n-todo\n+done\n');

    // Whatever happens between the attempts (the scorer) is not the next attempt's doing.
    await writeFile(join(root, 'work/scorer.log'), 'ran\n');
    await tracker.before(2);
    await rm(join(root, 'work/out.txt'));
    const second = await tracker.after(2);
    expect(second).toEqual({ created: [], modified: [], deleted: ['out.txt'], diffFile: 'artifacts/attempt-2.diff' });

    // Nothing changed: lists are empty and no diff is written.
    await tracker.before(3);
    expect(await tracker.after(3)).toEqual({ created: [], modified: [], deleted: [] });
    await expect(readFile(join(sampleDir, 'artifacts/attempt-3.diff'))).rejects.toMatchObject({ code: 'ENOENT' });
    await tracker.dispose();

    const snaps = events.filter((e) => e.type === 'workspace.snapshot');
    expect(snaps.map((e) => `${e.attempt}:${e.at}:${e.files}`)).toEqual(['1:start:1', '1:end:2', '2:start:3', '2:end:2', '3:start:2', '3:end:2']);
    expect(events.filter((e) => e.type === 'workspace.changes').map((e) => [e.created, e.modified, e.deleted])).toEqual([[1, 1, 0], [0, 0, 1], [0, 0, 0]]);
  });

  it("saves each attempt's state relative to the set-up (not to the attempt before), and says why one was not saved", async () => {
    const root = await makeTree({ 'work/notes.txt': 'todo\n' });
    const sampleDir = await makeTree({});
    const { sandbox } = hostSandbox(root);
    const tracker = new WorkspaceTracker({ sandbox, root: '/work', sampleDir, emit: () => undefined, tempDir: scratch, stateLimitBytes: 64 });
    await tracker.before(1);
    await writeFile(join(root, 'work/a.txt'), 'first\n');
    await tracker.after(1);
    await tracker.before(2);
    await writeFile(join(root, 'work/b.txt'), 'second\n');
    await rm(join(root, 'work/notes.txt'));
    await tracker.after(2);
    expect(tracker.state(2)).toEqual({ tar: 'artifacts/workspace-2.tar', manifest: 'artifacts/workspace-2.json', bytes: 13 });
    const manifest = JSON.parse(await readFile(join(sampleDir, 'artifacts/workspace-2.json'), 'utf8')) as { root: string; entries: { path: string }[]; deleted: string[] };
    expect(manifest).toMatchObject({ root: '/work', entries: [{ path: 'a.txt' }, { path: 'b.txt' }], deleted: ['notes.txt'] });
    // Over the limit: recorded as not saved, and no stale tar left behind.
    await tracker.before(3);
    await writeFile(join(root, 'work/big.bin'), Buffer.alloc(100));
    await tracker.after(3);
    expect(tracker.state(3)).toEqual({ error: expect.stringMatching(/over the 0\.0 MiB limit/) });
    await expect(readFile(join(sampleDir, 'artifacts/workspace-3.tar'))).rejects.toMatchObject({ code: 'ENOENT' });
    await tracker.dispose();
  });

  it('a snapshot that fails is an error in the record and an event, and the next attempt compares again', async () => {
    const root = await makeTree({ 'work/a.txt': '1\n' });
    const sampleDir = await makeTree({});
    const events: Array<{ type: string; [k: string]: unknown }> = [];
    let broken = true;
    const { sandbox } = hostSandbox(root);
    const flaky: Pick<Sandbox, 'download' | 'exec'> = {
      download: (path, dir) => (broken ? Promise.reject(Object.assign(new Error('sandbox abc is gone'), { code: 'CB_SANDBOX_STOPPED' })) : sandbox.download(path, dir)),
      exec: sandbox.exec,
    };
    const tracker = new WorkspaceTracker({ sandbox: flaky, root: '/work', sampleDir, emit: (type, fields) => events.push({ type, ...fields }), tempDir: scratch });
    await tracker.before(1);
    broken = false;
    expect(await tracker.after(1)).toEqual({ error: 'no snapshot of the workdir before attempt 1: snapshot of the workdir at the start of attempt 1 failed: sandbox abc is gone' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'workspace.error', attempt: 1, at: 'start', message: 'sandbox abc is gone' }));
    await tracker.before(2);
    await writeFile(join(root, 'work/a.txt'), '2\n');
    expect(await tracker.after(2)).toMatchObject({ modified: ['a.txt'] });
    await tracker.dispose();
  });

  it('when the one-piece download is refused, copies each top-level entry, skips excluded ones, and reports the refused', async () => {
    const root = await makeTree({ 'work/src/a.txt': '1\n', 'work/.venv/bin/python': { link: '/usr/bin/python3' }, 'work/tool': { link: '/usr/bin/env' }, 'work/.hidden': 'h\n' });
    const sampleDir = await makeTree({});
    const { sandbox, calls } = hostSandbox(root, (path) => path === '/work' || path === '/work/tool');
    const tracker = new WorkspaceTracker({ sandbox, root: '/work', sampleDir, emit: () => undefined, tempDir: scratch });
    await tracker.before(1);
    await writeFile(join(root, 'work/src/a.txt'), '2\n');
    await writeFile(join(root, 'work/.hidden'), 'h2\n');
    expect(await tracker.after(1)).toEqual({ created: [], modified: ['.hidden', 'src/a.txt'], deleted: [], diffFile: 'artifacts/attempt-1.diff', skipped: ['tool'] });
    await tracker.dispose();
    expect(calls).not.toContain('download /work/.venv');
    expect(calls).toContain('download /work/src');
  });

  it('refuses to snapshot / when the task names no workdir and the container works there', async () => {
    const { sandbox } = hostSandbox(await makeTree({}));
    const pwd: Pick<Sandbox, 'download' | 'exec'> = {
      download: sandbox.download,
      exec: async () => ({ exitCode: 0, stdout: '/\n', stderr: '', timedOut: false, truncated: false, durationMs: 0 }),
    };
    const tracker = new WorkspaceTracker({ sandbox: pwd, root: undefined, sampleDir: await makeTree({}), emit: () => undefined, tempDir: scratch });
    await tracker.before(1);
    expect(await tracker.after(1)).toEqual({ error: expect.stringMatching(/container works in \/; the whole filesystem is not snapshotted/) });
    await tracker.dispose();
  });

  it('a workdir removed by the agent is an empty snapshot: every file deleted', async () => {
    const root = await makeTree({ 'work/a.txt': '1\n', 'work/b/c.txt': '2\n' });
    const { sandbox } = hostSandbox(root);
    const tracker = new WorkspaceTracker({ sandbox, root: '/work', sampleDir: await makeTree({}), emit: () => undefined, tempDir: scratch });
    await tracker.before(1);
    await rm(join(root, 'work'), { recursive: true });
    expect(await tracker.after(1)).toMatchObject({ created: [], modified: [], deleted: ['a.txt', 'b/c.txt'] });
    await tracker.dispose();
  });

  it('removes its snapshot directories', async () => {
    const temp = await makeTree({});
    const root = await makeTree({ 'work/a.txt': '1\n' });
    const { sandbox } = hostSandbox(root);
    const tracker = new WorkspaceTracker({ sandbox, root: '/work', sampleDir: await makeTree({}), emit: () => undefined, tempDir: temp });
    await tracker.before(1);
    await tracker.after(1);
    await tracker.before(2);
    await tracker.dispose();
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(temp)).toEqual([]);
    await disposeSnapshot(undefined);
  });
});
