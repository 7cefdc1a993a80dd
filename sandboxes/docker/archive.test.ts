// Archive packing and extraction without Docker: crafted tar streams must never write
// outside the target directory, and ordinary archives must come out intact. Extraction is
// node-tar (as in cache/extract.test.ts, which runs the same escapes through the cache's policy).
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { SandboxError } from '../errors.ts';
import { extractTo, insideRoot, linkStaysInside, packFile, packPath, readSingleFile } from './archive.ts';

interface CraftedEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
}

/** A tar stream holding exactly these entries, in this order, names unchecked. */
function craft(entries: readonly CraftedEntry[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const owner = e.uid === undefined ? {} : { uid: e.uid, gid: e.uid };
    if (type === 'file') pack.entry({ name: e.name, type, mode: e.mode ?? 0o644, ...owner }, Buffer.from(e.content ?? ''));
    else pack.entry({ name: e.name, type, linkname: e.linkname, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o777), ...owner });
  }
  pack.finalize();
  return Readable.from(pack, { objectMode: false });
}

/** Every path under `dir`, relative, sorted; symlinks listed but not followed. */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    out.push(rel);
    const st = await lstat(join(dir, name));
    if (st.isDirectory()) out.push(...(await tree(join(dir, name), rel)));
  }
  return out;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const scratch = await mkdtemp(join(tmpdir(), 'cb-archive-test-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A fresh parent directory per test; extraction goes into `<parent>/target`. */
let parent: string;
let target: string;
let seq = 0;
beforeEach(async () => {
  parent = join(scratch, `case-${++seq}`);
  target = join(parent, 'target');
  await mkdir(parent);
});

async function expectEscape(promise: Promise<unknown>, entry: string): Promise<SandboxError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  const se = err as SandboxError;
  expect(se.code).toBe('CB_ARCHIVE_ESCAPE');
  expect(se.message).toContain(`"${entry}"`);
  return se;
}

/** Nothing but the target directory was created next to it. */
async function expectNothingOutside(): Promise<void> {
  expect(await readdir(parent)).toEqual(['target']);
}

describe('insideRoot', () => {
  it.each([
    ['a', 'a'],
    ['a/b/c', 'a/b/c'],
    ['./a/', 'a'],
    ['a//b/./c/', 'a/b/c'],
    ['a/../b', 'b'],
    ['a/..', ''],
    ['.', ''],
    ['', ''],
    ['..foo', '..foo'],
    ['a/..b', 'a/..b'],
  ])('keeps %j inside as %j', (name, expected) => {
    expect(insideRoot(name)).toBe(expected);
  });

  it.each(['..', '../', '../evil', 'a/../../evil', 'a/b/../../..', './../x', '/etc/passwd', '//etc', '/', 'C:evil', 'c:\\evil'])(
    'refuses %j',
    (name) => {
      expect(insideRoot(name)).toBeNull();
    },
  );
});

describe('linkStaysInside', () => {
  it.each([
    ['link', 'file'],
    ['link', '.'],
    ['a/link', '../file'],
    ['a/b/link', '../../file'],
    ['a/b/link', '../c/./d'],
    ['a/link', 'sub/deeper/x'],
  ])('%j -> %j stays inside', (name, target) => {
    expect(linkStaysInside(name, target)).toBe(true);
  });

  it.each([
    ['link', '..'],
    ['link', '../x'],
    ['a/link', '../../out'],
    ['a/b/link', '../../../out'],
    ['link', '/etc/passwd'],
    ['a/link', '/'],
    ['a/link', 'x/../../../out'],
    // Lexically `up/..` is `.`, but when `up` is itself a link to `..` the path climbs out:
    // a `..` after a named component cannot be judged without the filesystem, so it is refused.
    ['a/link', 'up/..'],
    ['a/link', 'b/../c'],
  ])('%j -> %j is refused', (name, target) => {
    expect(linkStaysInside(name, target)).toBe(false);
  });
});

describe('extractTo refuses escaping entries', () => {
  it('an entry named ../evil', async () => {
    await expectEscape(extractTo(craft([{ name: '../evil', content: 'pwned' }]), target, { where: 'test' }), '../evil');
    await expectNothingOutside();
    expect(await readdir(target)).toEqual([]);
  });

  it('an entry that climbs out through a directory, a/../../evil', async () => {
    await expectEscape(extractTo(craft([{ name: 'a/../../evil', content: 'pwned' }]), target, { where: 'test' }), 'a/../../evil');
    await expectNothingOutside();
  });

  it('an absolute entry /etc/evil', async () => {
    expect(existsSync('/etc/evil')).toBe(false);
    await expectEscape(extractTo(craft([{ name: '/etc/evil', content: 'pwned' }]), target, { where: 'test' }), '/etc/evil');
    expect(existsSync('/etc/evil')).toBe(false);
    await expectNothingOutside();
    expect(await readdir(target)).toEqual([]);
  });

  it('a symlink whose target is /etc/passwd', async () => {
    const err = await expectEscape(
      extractTo(craft([{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]), target, { where: 'the crafted archive' }),
      'passwd',
    );
    expect(err.message).toContain('/etc/passwd');
    expect(err.message).toContain('the crafted archive');
    await expectNothingOutside();
    expect(await readdir(target)).toEqual([]);
  });

  it('a symlink a/link -> ../../out, and the file written through it afterwards', async () => {
    const archive = craft([
      { name: 'a', type: 'directory' },
      { name: 'a/link', type: 'symlink', linkname: '../../out' },
      { name: 'a/link/evil', content: 'pwned' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test' }), 'a/link');
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['a']);
  });

  it('a hard link pointing outside', async () => {
    await writeFile(join(parent, 'secret'), 'outside');
    const archive = craft([{ name: 'hard', type: 'link', linkname: '../secret' }]);
    await expectEscape(extractTo(archive, target, { where: 'test' }), 'hard');
    expect((await readdir(parent)).sort()).toEqual(['secret', 'target']);
    expect(await readdir(target)).toEqual([]);
    expect((await stat(join(parent, 'secret'))).nlink).toBe(1);
  });

  it('a hard link to an absolute path', async () => {
    await expectEscape(extractTo(craft([{ name: 'hard', type: 'link', linkname: '/etc/passwd' }]), target, { where: 'test' }), 'hard');
    await expectNothingOutside();
    expect(await readdir(target)).toEqual([]);
  });

  it('stops at the bad entry: later entries are not written', async () => {
    const archive = craft([
      { name: 'first', content: '1' },
      { name: '../evil', content: 'pwned' },
      { name: 'after', content: '2' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test' }), '../evil');
    await expectNothingOutside();
    expect(await readdir(target)).toEqual(['first']);
  });

  it('a chain of links that each look inside but together climb out', async () => {
    // a/up -> .. is the root; a/out -> up/.. would then be the root's parent.
    const archive = craft([
      { name: 'a', type: 'directory' },
      { name: 'a/up', type: 'symlink', linkname: '..' },
      { name: 'a/out', type: 'symlink', linkname: 'up/..' },
      { name: 'a/out/evil', content: 'pwned' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test' }), 'a/out');
    await expectNothingOutside();
  });

  it('an entry written through an inside link that makes a later link climb out', async () => {
    // a/b/root -> ../.. is the root, so a/b/root/link -> ../out would land at <root>/link
    // and point at the root's parent, although lexically it is a/b/out.
    const archive = craft([
      { name: 'a/b', type: 'directory' },
      { name: 'a/b/root', type: 'symlink', linkname: '../..' },
      { name: 'a/b/root/link', type: 'symlink', linkname: '../out' },
      { name: 'a/b/root/link/evil', content: 'pwned' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test' }), 'a/b/root/link');
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/root']);
  });

  it('a hard link to an inside symlink that would point outside from its new place', async () => {
    // a/b/l -> ../../x is <root>/x; a hard link to it at the top would be <root>/../../x.
    const archive = craft([
      { name: 'a/b/l', type: 'symlink', linkname: '../../x' },
      { name: 'top', type: 'link', linkname: 'a/b/l' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test' }), 'top');
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/l']);
  });

  it('with stripTopDir, an entry that climbs out after the top level is still refused', async () => {
    const archive = craft([
      { name: 'top', type: 'directory' },
      { name: 'top/../../evil', content: 'pwned' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test', stripTopDir: true }), 'top/../../evil');
    await expectNothingOutside();
  });

  it('with stripTopDir, an absolute entry is refused, not laundered into the target by the strip', async () => {
    const archive = craft([
      { name: 'top', type: 'directory' },
      { name: '/etc/evil', content: 'pwned' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test', stripTopDir: true }), '/etc/evil');
    expect(await tree(target)).toEqual([]);
  });

  it('with stripTopDir, a link that is inside the archive but outside the stripped top dir is refused', async () => {
    const archive = craft([
      { name: 'top', type: 'directory' },
      { name: 'top/link', type: 'symlink', linkname: '../sibling' },
    ]);
    await expectEscape(extractTo(archive, target, { where: 'test', stripTopDir: true }), 'top/link');
    await expectNothingOutside();
  });

  it('with stripTopDir, ../evil never lands outside', async () => {
    await extractTo(craft([{ name: '../evil', content: 'x' }]), target, { where: 'test', stripTopDir: true }).catch((e: unknown) => {
      expect(e).toMatchObject({ code: 'CB_ARCHIVE_ESCAPE' });
    });
    await expectNothingOutside();
  });

  // The next three are node-tar's own refusals (the names alone look fine); the error still names the entry.
  it('an entry written through a symlink already in the target directory', async () => {
    await mkdir(target);
    await symlink('..', join(target, 'out'));
    await expectEscape(extractTo(craft([{ name: 'out/evil', content: 'pwned' }]), target, { where: 'test' }), 'out/evil');
    await expectNothingOutside();
  });

  it('a symlink whose target runs through another symlink, even one pointing inside', async () => {
    const archive = craft([
      { name: 'real/f', content: 'f' },
      { name: 'lib', type: 'symlink', linkname: 'real' },
      { name: 'x', type: 'symlink', linkname: 'lib/f' },
    ]);
    const err = await expectEscape(extractTo(archive, target, { where: 'test' }), 'x');
    expect(err.message).toContain('runs through the symlink lib');
    expect(await tree(target)).toEqual(['lib', 'real', 'real/f']);
  });

  it('a symlink to an absolute path is refused, not rewritten to a relative one (node-tar alone would)', async () => {
    await expectEscape(extractTo(craft([{ name: 'etc-link', type: 'symlink', linkname: '/etc' }]), target, { where: 'test' }), 'etc-link');
    expect(await readdir(target)).toEqual([]);
  });

  it('settles only once node-tar has finished writing: nothing changes after the rejection', async () => {
    const big = Buffer.alloc(256 * 1024, 7);
    const entries: CraftedEntry[] = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, content: big }));
    entries.push({ name: '../evil', content: 'pwned' });
    // In one chunk: every entry is taken in at once, and the refusal comes while the files are being written.
    const whole = Readable.from([await drain(craft(entries))]);
    await expectEscape(extractTo(whole, target, { where: 'test' }), '../evil');
    const snapshot = async () => Promise.all((await tree(target)).map(async (p) => `${p}:${(await lstat(join(target, p))).size}`));
    const first = await snapshot();
    expect(first).toContain(`f39:${big.length}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await snapshot()).toEqual(first);
  });

  it('a refusal does not wait for the rest of the archive', async () => {
    const source = new PassThrough(); // never ended: the engine is still sending
    source.write((await drain(craft([{ name: '../evil', content: 'pwned' }, { name: 'after', content: 'x'.repeat(100_000) }]))).subarray(0, 4096));
    await expectEscape(extractTo(source, target, { where: 'test' }), '../evil');
    expect(source.destroyed).toBe(true);
  });

  it('says when the stream is not a tar archive', async () => {
    await expect(extractTo(Readable.from([Buffer.alloc(2048, 65)]), target, { where: 'the archive' })).rejects.toThrow('the archive is not a valid tar archive');
  });

  it('passes on a broken archive stream as an error', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('engine connection reset'));
      },
    });
    await expect(extractTo(broken, target, { where: 'test' })).rejects.toThrow('engine connection reset');
  });
});

describe('extractTo writes ordinary archives', () => {
  it('nested directories and files', async () => {
    const archive = craft([
      { name: 'a', type: 'directory' },
      { name: 'a/b', type: 'directory' },
      { name: 'a/b/c.txt', content: 'deep' },
      { name: 'a/top.txt', content: 'top' },
      // A file whose directory has no entry of its own.
      { name: 'x/y/z.txt', content: 'implied dirs' },
      { name: 'empty', type: 'directory' },
    ]);
    await extractTo(archive, target, { where: 'test' });
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/c.txt', 'a/top.txt', 'empty', 'x', 'x/y', 'x/y/z.txt']);
    expect(await readFile(join(target, 'a/b/c.txt'), 'utf8')).toBe('deep');
    expect(await readFile(join(target, 'x/y/z.txt'), 'utf8')).toBe('implied dirs');
    expect((await stat(join(target, 'empty'))).isDirectory()).toBe(true);
  });

  it('preserves file modes, the executable bit in particular', async () => {
    const archive = craft([
      { name: 'run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { name: 'plain.txt', content: 'text', mode: 0o644 },
      { name: 'private', content: 'key', mode: 0o600 },
    ]);
    await extractTo(archive, target, { where: 'test' });
    expect((await stat(join(target, 'run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(target, 'plain.txt'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(target, 'private'))).mode & 0o777).toBe(0o600);
  });

  it('keeps symlinks that point inside, as links', async () => {
    const archive = craft([
      { name: 'a/b/file', content: 'payload' },
      { name: 'a/sibling', type: 'symlink', linkname: 'b/file' },
      { name: 'a/b/up', type: 'symlink', linkname: '../../top' },
      { name: 'top', content: 'top' },
      { name: 'self', type: 'symlink', linkname: '.' },
    ]);
    await extractTo(archive, target, { where: 'test' });
    expect(await readlink(join(target, 'a/sibling'))).toBe('b/file');
    expect(await readFile(join(target, 'a/sibling'), 'utf8')).toBe('payload');
    expect(await readlink(join(target, 'a/b/up'))).toBe('../../top');
    expect(await readFile(join(target, 'a/b/up'), 'utf8')).toBe('top');
    expect((await lstat(join(target, 'self'))).isSymbolicLink()).toBe(true);
    await expectNothingOutside();
  });

  it('makes hard links that point inside', async () => {
    const archive = craft([
      { name: 'd/orig', content: 'shared' },
      { name: 'd/copy', type: 'link', linkname: 'd/orig' },
    ]);
    await extractTo(archive, target, { where: 'test' });
    expect(await readFile(join(target, 'd/copy'), 'utf8')).toBe('shared');
    expect((await stat(join(target, 'd/orig'))).nlink).toBe(2);
  });

  it('stripTopDir drops the directory level of a directory archive', async () => {
    const archive = craft([
      { name: 'project/', type: 'directory' },
      { name: 'project/src', type: 'directory' },
      { name: 'project/src/main.ts', content: 'main' },
      { name: 'project/README', content: 'readme' },
      { name: 'project/link', type: 'symlink', linkname: 'src/main.ts' },
      { name: 'project/hard', type: 'link', linkname: 'project/README' },
    ]);
    await extractTo(archive, target, { where: 'test', stripTopDir: true });
    expect(await tree(target)).toEqual(['README', 'hard', 'link', 'src', 'src/main.ts']);
    expect(await readFile(join(target, 'link'), 'utf8')).toBe('main');
    expect(await readFile(join(target, 'hard'), 'utf8')).toBe('readme');
  });

  it('stripTopDir keeps the name of a lone file', async () => {
    await extractTo(craft([{ name: 'notes.txt', content: 'lone', mode: 0o755 }]), target, { where: 'test', stripTopDir: true });
    expect(await readdir(target)).toEqual(['notes.txt']);
    expect(await readFile(join(target, 'notes.txt'), 'utf8')).toBe('lone');
    expect((await stat(join(target, 'notes.txt'))).mode & 0o777).toBe(0o755);
  });

  it('without stripTopDir the directory level is kept', async () => {
    await extractTo(craft([{ name: 'project', type: 'directory' }, { name: 'project/f', content: 'f' }]), target, { where: 'test' });
    expect(await tree(target)).toEqual(['project', 'project/f']);
  });

  it('replaces a symlink by a later file of the same name instead of writing through it', async () => {
    await writeFile(join(parent, 'victim'), 'outside');
    await mkdir(target);
    await symlink('../victim', join(target, 'a'));
    await extractTo(craft([{ name: 'a', content: 'replacement' }]), target, { where: 'test' });
    expect(await readFile(join(parent, 'victim'), 'utf8')).toBe('outside');
    expect((await lstat(join(target, 'a'))).isFile()).toBe(true);
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('replacement');
  });

  it('does not copy owners, even when run as root, and skips fifos', async () => {
    await extractTo(craft([{ name: 'owned', content: 'x', uid: 12345 }, { name: 'pipe', type: 'fifo' }, { name: 'after', content: 'y' }]), target, { where: 'test' });
    expect(await tree(target)).toEqual(['after', 'owned']);
    const st = await stat(join(target, 'owned'));
    expect([st.uid, st.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
  });

  it('extracts into an existing directory, next to what is there', async () => {
    await mkdir(target);
    await writeFile(join(target, 'kept'), 'old');
    await extractTo(craft([{ name: 'new', content: 'new' }]), target, { where: 'test' });
    expect(await tree(target)).toEqual(['kept', 'new']);
  });
});

describe('packFile and readSingleFile', () => {
  it('round-trip every byte value', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await readSingleFile(packFile('tmp/bytes.bin', bytes), 'test')).toEqual(bytes);
  });

  it('packFile sets the mode', async () => {
    await extractTo(packFile('bin/tool', Buffer.from('x'), 0o750), target, { where: 'test' });
    expect((await stat(join(target, 'bin/tool'))).mode & 0o777).toBe(0o750);
  });

  it('readSingleFile refuses a directory archive, even one with files in it', async () => {
    const archive = craft([
      { name: 'dir', type: 'directory' },
      { name: 'dir/inner.txt', content: 'not the file asked for' },
    ]);
    await expect(readSingleFile(archive, '/dir in sandbox x')).rejects.toMatchObject({
      code: 'CB_PATH_NOT_FOUND',
      message: expect.stringContaining('/dir in sandbox x is not a regular file (it is a directory)'),
    });
  });

  it('readSingleFile refuses an archive of a symlink', async () => {
    const archive = craft([{ name: 'link', type: 'symlink', linkname: 'elsewhere' }]);
    await expect(readSingleFile(archive, '/link')).rejects.toMatchObject({ code: 'CB_PATH_NOT_FOUND', message: expect.stringContaining('symlink') });
  });
});

describe('packPath', () => {
  it('round-trips a host directory through extractTo: contents, modes and inside links', async () => {
    const src = join(parent, 'src');
    await mkdir(join(src, 'a/b'), { recursive: true });
    await writeFile(join(src, 'a/b/deep.bin'), Buffer.from([0, 1, 2, 255]));
    await writeFile(join(src, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(src, 'run.sh'), 0o755);
    await symlink('b/deep.bin', join(src, 'a/link'));
    await mkdir(join(src, 'empty'));

    const out = join(parent, 'out');
    await extractTo(packPath(src, 'prefix/dir'), out, { where: 'test' });
    expect(await tree(out)).toEqual([
      'prefix',
      'prefix/dir',
      'prefix/dir/a',
      'prefix/dir/a/b',
      'prefix/dir/a/b/deep.bin',
      'prefix/dir/a/link',
      'prefix/dir/empty',
      'prefix/dir/run.sh',
    ]);
    expect(await readFile(join(out, 'prefix/dir/a/b/deep.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(await readlink(join(out, 'prefix/dir/a/link'))).toBe('b/deep.bin');
    expect((await stat(join(out, 'prefix/dir/run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('packs a lone file under the given name', async () => {
    const file = join(parent, 'lone.txt');
    await writeFile(file, 'lone');
    const out = join(parent, 'out');
    await extractTo(packPath(file, 'dest/lone.txt'), out, { where: 'test' });
    expect(await tree(out)).toEqual(['dest', 'dest/lone.txt']);
  });

  it('refuses a host directory holding a symlink that points outside it', async () => {
    const src = join(parent, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'ok.txt'), 'fine');
    await symlink('/etc/passwd', join(src, 'sub/passwd'));
    const err = await drain(packPath(src, 'up')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SandboxError);
    // Named from the copied directory down, with where it points and what to do; the task's to fix.
    expect(err).toMatchObject({ code: 'CB_ARCHIVE_ESCAPE', kind: 'task', message: expect.stringContaining('src/sub/passwd') });
    expect((err as Error).message).toContain('"/etc/passwd"');
    expect((err as Error).message).toContain(`(in ${parent})`);
    expect((err as Error).message).toMatch(/Replace the link with a copy of its target/);
  });

  it('refuses a relative symlink that climbs out of the packed directory', async () => {
    const src = join(parent, 'src');
    await mkdir(join(src, 'a'), { recursive: true });
    await symlink('../../outside', join(src, 'a/out'));
    await expect(drain(packPath(src, ''))).rejects.toMatchObject({ code: 'CB_ARCHIVE_ESCAPE', message: expect.stringContaining('src/a/out') });
  });

  it('reports a missing host path as an error on the stream', async () => {
    await expect(drain(packPath(join(parent, 'missing'), 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
