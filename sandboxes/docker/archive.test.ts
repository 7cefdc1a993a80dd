// Archive packing and extraction without Docker. Extraction is archives/ extractSafely, whose
// protections archives/extract.test.ts tests; here is what is the sandboxes' own: the
// CB_ARCHIVE_ESCAPE error, the top directory stripped, modes as in the archive.
import { beforeEach, describe, expect, it } from 'vitest';
import { chmod, link, mkdir, readFile, readdir, readlink, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { craft, drain, listed, scratchCases, tree } from '../../archives/test-support/files.ts';
import { SandboxError } from '../errors.ts';
import { extractTo, packFile, packPath, readSingleFile } from './archive.ts';

const cases = scratchCases('archive');
let parent: string;
let target: string;
beforeEach(async () => ({ parent, target } = await cases.next()));

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

describe("extractTo refuses escaping entries as CB_ARCHIVE_ESCAPE, the task's to fix", () => {
  it('a symlink whose target is /etc/passwd, named with where it came from', async () => {
    const err = await expectEscape(
      extractTo(craft([{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]), target, { where: 'the crafted archive' }),
      'passwd',
    );
    expect(err.kind).toBe('task');
    expect(err.message).toContain('/etc/passwd');
    expect(err.message).toContain('from the crafted archive');
    expect(err.message).toContain('Nothing outside the target is ever written.');
    await expectNothingOutside();
    expect(await readdir(target)).toEqual([]);
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

  it('says when the stream is not a tar archive', async () => {
    await expect(extractTo(Readable.from([Buffer.alloc(2048, 65)]), target, { where: 'the archive' })).rejects.toThrow('the archive is not a valid tar archive');
  });
});

describe('extractTo writes ordinary archives', () => {
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
    expect(await tree(target)).toEqual(['README', 'hard', 'link -> src/main.ts', 'src', 'src/main.ts']);
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
});

describe('packFile and readSingleFile', () => {
  it('round-trip every byte value', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await readSingleFile(packFile('tmp/bytes.bin', bytes), 'test')).toEqual(bytes);
  });

  it('packFile writes root as the owner and now as the mtime', async () => {
    const [entry] = await listed(packFile('tmp/x', Buffer.from('x'), 0o600));
    expect([entry?.path, entry?.mode, entry?.uid, entry?.gid]).toEqual(['tmp/x', 0o600, 0, 0]);
    expect(Date.now() - (entry?.mtime?.getTime() ?? 0)).toBeLessThan(60_000);
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
      'prefix/dir/a/link -> b/deep.bin',
      'prefix/dir/empty',
      'prefix/dir/run.sh',
    ]);
    expect(await readFile(join(out, 'prefix/dir/a/b/deep.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(await readlink(join(out, 'prefix/dir/a/link'))).toBe('b/deep.bin');
    expect((await stat(join(out, 'prefix/dir/run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('writes root as the owner, the host mtimes, and hard-linked host files as separate files', async () => {
    const src = join(parent, 'src');
    await mkdir(join(src, 'sub dir'), { recursive: true });
    await writeFile(join(src, 'sub dir/ファイル.txt'), 'one');
    await link(join(src, 'sub dir/ファイル.txt'), join(src, 'twin'));
    const mtime = new Date('2022-03-04T05:06:07Z');
    await utimes(join(src, 'sub dir'), mtime, mtime);
    await utimes(join(src, 'twin'), mtime, mtime);
    const entries = await listed(packPath(src, 'in'));
    expect(entries.map((e) => [e.path, e.type, e.uid, e.gid, e.content.toString()])).toEqual([
      ['in/', 'Directory', 0, 0, ''],
      ['in/sub dir/', 'Directory', 0, 0, ''],
      ['in/sub dir/ファイル.txt', 'File', 0, 0, 'one'],
      ['in/twin', 'File', 0, 0, 'one'],
    ]);
    expect(entries[1]?.mtime).toEqual(mtime);
    expect(entries[3]?.mtime).toEqual(mtime);
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
