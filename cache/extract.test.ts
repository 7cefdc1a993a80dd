import { lstat, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { CacheError } from './errors.ts';
import { extractTarball, linkStaysInside, type ExtractRules } from './extract.ts';
import { buildTgz, type TarEntry } from './test-support/registry.ts';
import { tempDir } from './test-support/temp.ts';

async function extract(entries: TarEntry[], rules: ExtractRules = { root: 'package/' }) {
  const dest = join(await tempDir('extract'), 'files');
  const result = await extractTarball(Readable.from([await buildTgz(entries)]), dest, rules, 'test.tgz');
  return { dest, result };
}

/** Extracts into `<parent>/files`; resolves to the error it was refused with (or undefined) and the parent. */
async function refused(entries: TarEntry[], rules: ExtractRules = { root: 'package/' }, before?: (parent: string) => Promise<void>) {
  const parent = await tempDir('extract');
  await before?.(parent);
  const dest = join(parent, 'files');
  const error = await extractTarball(Readable.from([await buildTgz(entries)]), dest, rules, 'test.tgz').then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, parent, dest };
}

function expectEscape(error: unknown, entry: string): void {
  expect(error).toBeInstanceOf(CacheError);
  expect(error).toMatchObject({ code: 'CB_CACHE_ESCAPE', message: expect.stringContaining(`"${entry}" of test.tgz`) });
}

/** Every path under `dir`, relative and sorted; symlinks listed as `name -> target`, never followed. */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = await lstat(join(dir, rel));
    if (st.isSymbolicLink()) out.push(`${rel} -> ${await readlink(join(dir, rel))}`);
    else out.push(rel, ...(st.isDirectory() ? await tree(dir, rel) : []));
  }
  return out;
}

describe('extractTarball', () => {
  it('keeps executable bits, drops setuid and write bits for others', async () => {
    const { dest, result } = await extract([
      { name: 'package/suid', content: 'x', mode: 0o4755 },
      { name: 'package/private', content: 'x', mode: 0o600 },
      { name: 'package/owner-exec', content: 'x', mode: 0o700 },
      { name: 'package/group-write', content: 'x', mode: 0o666 },
    ]);
    const mode = async (n: string) => (await stat(join(dest, n))).mode & 0o7777;
    expect([await mode('suid'), await mode('private'), await mode('owner-exec'), await mode('group-write')]).toEqual([0o755, 0o644, 0o755, 0o644]);
    expect(result).toEqual({ files: 4, bytes: 4 });
  });

  it('replaces a symlink by a later file of the same name instead of writing through it', async () => {
    const { dest } = await extract([
      { name: 'package/target', content: 'original' },
      { name: 'package/a', type: 'symlink', linkname: 'target' },
      { name: 'package/a', content: 'replacement' },
    ]);
    expect(await readFile(join(dest, 'target'), 'utf8')).toBe('original');
    expect((await lstat(join(dest, 'a'))).isFile()).toBe(true);
    expect(await readFile(join(dest, 'a'), 'utf8')).toBe('replacement');
  });

  it('keeps only the named paths under the root, skipping everything else', async () => {
    const { dest } = await extract(
      [
        { name: 'package/bin/opencode', content: 'x', mode: 0o755 },
        { name: 'package/bin/other', content: 'x' },
        { name: 'package/postinstall.mjs', content: 'x' },
        { name: 'elsewhere/bin/opencode', content: 'x' },
      ],
      { root: 'package/', keep: ['bin/opencode'] },
    );
    expect(await readdir(dest, { recursive: true })).toEqual(['bin', 'bin/opencode']);
  });

  it('refuses a symlink into the package but out of the kept root', async () => {
    await expect(
      extract([{ name: 'package/vendor/t/bin/x', type: 'symlink', linkname: '../../../README.md' }], { root: 'package/vendor/t/' }),
    ).rejects.toMatchObject({ code: 'CB_CACHE_ESCAPE', message: expect.stringContaining('outside the kept files') });
  });

  it('says when the stream is not gzip', async () => {
    const dest = join(await tempDir('extract'), 'files');
    await expect(extractTarball(Readable.from([Buffer.from('not gzip at all')]), dest, { root: 'package/' }, 'bad.tgz')).rejects.toMatchObject({
      code: 'CB_CACHE_INTEGRITY',
      message: expect.stringContaining('bad.tgz is not a valid gzip stream'),
    });
  });

  it('says when the gzip stream holds no tar archive', async () => {
    const dest = join(await tempDir('extract'), 'files');
    await expect(extractTarball(Readable.from([gzipSync(Buffer.alloc(2048, 65))]), dest, { root: 'package/' }, 'bad.tgz')).rejects.toMatchObject({
      code: 'CB_CACHE_LAYOUT',
      message: expect.stringContaining('bad.tgz is not a valid package tarball'),
    });
  });

  it('judges link targets as the sandboxes archive does', () => {
    expect(linkStaysInside('a/b', '../c')).toBe(true);
    expect(linkStaysInside('a/b', '../../c')).toBe(false);
    expect(linkStaysInside('a/b', 'x/../../c')).toBe(false);
    expect(linkStaysInside('a', '/etc/passwd')).toBe(false);
    expect(linkStaysInside('a', '')).toBe(false);
  });

  it('does not copy the owners in the archive, even when run as root', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'package/owned', uid: 12345, gid: 12345, mode: 0o644 }, Buffer.from('x'));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const dest = join(await tempDir('extract'), 'files');
    await extractTarball(Readable.from([gzipSync(Buffer.concat(chunks))]), dest, { root: 'package/' }, 'test.tgz');
    const st = await stat(join(dest, 'owned'));
    expect([st.uid, st.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
  });

  it('makes hard links to kept files', async () => {
    const { dest, result } = await extract([
      { name: 'package/bin/tool', content: 'tool', mode: 0o755 },
      { name: 'package/bin/alias', type: 'link', linkname: 'package/bin/tool' },
    ]);
    expect((await stat(join(dest, 'bin/alias'))).nlink).toBe(2);
    expect(result).toEqual({ files: 1, bytes: 4 });
  });
});

// The same escapes as sandboxes/docker/archive.test.ts, through the cache's own policy on node-tar.
describe('extractTarball refuses escaping entries (CB_CACHE_ESCAPE, nothing outside)', () => {
  it.each([
    ['../evil', 'a name that climbs out'],
    ['package/../../evil', 'a name that climbs out through a directory'],
    ['/etc/evil', 'an absolute name (node-tar alone would strip the / and write etc/evil)'],
  ])('%j: %s', async (name) => {
    const { error, parent, dest } = await refused([{ name: 'package/first', content: '1' }, { name, content: 'pwned' }, { name: 'package/after', content: '2' }]);
    expectEscape(error, name);
    expect(await readdir(parent)).toEqual(['files']);
    // It stops at the bad entry: what came after it is not written.
    expect(await tree(dest)).toEqual(['first']);
  });

  it('a symlink to an absolute path (node-tar alone would rewrite it to a relative one)', async () => {
    const { error, dest } = await refused([{ name: 'package/passwd', type: 'symlink', linkname: '/etc/passwd' }]);
    expectEscape(error, 'package/passwd');
    expect((error as Error).message).toContain('/etc/passwd');
    expect(await tree(dest)).toEqual([]);
  });

  it('a symlink out of the package is refused even where nothing is kept', async () => {
    const { error, dest } = await refused(
      [
        { name: 'package/bin/tool', content: 'x' },
        { name: 'package/docs/link', type: 'symlink', linkname: '/etc/passwd' },
      ],
      { root: 'package/', keep: ['bin/tool'] },
    );
    expectEscape(error, 'package/docs/link');
    expect(await tree(dest)).toEqual(['bin', 'bin/tool']);
  });

  it('a symlink that climbs out of the package, and the file written through it afterwards', async () => {
    const { error, parent, dest } = await refused([
      { name: 'package/a', type: 'directory' },
      { name: 'package/a/link', type: 'symlink', linkname: '../../../out' },
      { name: 'package/a/link/evil', content: 'pwned' },
    ]);
    expectEscape(error, 'package/a/link');
    expect(await readdir(parent)).toEqual(['files']);
    expect(await tree(dest)).toEqual(['a']);
  });

  it('a chain of links that each look inside but together climb out', async () => {
    const { error, parent } = await refused([
      { name: 'package/a', type: 'directory' },
      { name: 'package/a/up', type: 'symlink', linkname: '..' },
      { name: 'package/a/out', type: 'symlink', linkname: 'up/..' },
      { name: 'package/a/out/evil', content: 'pwned' },
    ]);
    expectEscape(error, 'package/a/out');
    expect(await readdir(parent)).toEqual(['files']);
  });

  it('an entry written through a link that points inside (node-tar refuses it)', async () => {
    // a/b/root -> ../.. is the root, so a/b/root/link -> ../out would point at the root's parent.
    const { error, parent, dest } = await refused([
      { name: 'package/a/b', type: 'directory' },
      { name: 'package/a/b/root', type: 'symlink', linkname: '../..' },
      { name: 'package/a/b/root/link', type: 'symlink', linkname: '../out' },
      { name: 'package/a/b/root/link/evil', content: 'pwned' },
    ]);
    expectEscape(error, 'package/a/b/root/link');
    expect((error as Error).message).toContain('runs through the symlink a/b/root');
    expect(await readdir(parent)).toEqual(['files']);
    expect(await tree(dest)).toEqual(['a', 'a/b', 'a/b/root -> ../..']);
  });

  it('a symlink whose target runs through another symlink (node-tar refuses it, even inside)', async () => {
    const { error, dest } = await refused([
      { name: 'package/real/f', content: 'f' },
      { name: 'package/lib', type: 'symlink', linkname: 'real' },
      { name: 'package/x', type: 'symlink', linkname: 'lib/f' },
    ]);
    expectEscape(error, 'package/x');
    expect(await tree(dest)).toEqual(['lib -> real', 'real', 'real/f']);
  });

  it.each([
    ['../secret', 'a hard link out of the package'],
    ['/etc/passwd', 'a hard link to an absolute path'],
    ['elsewhere/file', 'a hard link into the package but out of the kept root'],
  ])('%j: %s', async (linkname) => {
    const { error, parent, dest } = await refused([{ name: 'elsewhere/file', content: 'x' }, { name: 'package/hard', type: 'link', linkname }], { root: 'package/' }, (p) =>
      writeFile(join(p, 'secret'), 'outside'),
    );
    expectEscape(error, 'package/hard');
    expect((await readdir(parent)).sort()).toEqual(['files', 'secret']);
    expect((await stat(join(parent, 'secret'))).nlink).toBe(1);
    expect(await tree(dest)).toEqual([]);
  });

  it('a hard link to a symlink (node-tar refuses it: it would be the link again, elsewhere)', async () => {
    const { error, dest } = await refused([
      { name: 'package/a/b/l', type: 'symlink', linkname: '../../x' },
      { name: 'package/top', type: 'link', linkname: 'package/a/b/l' },
    ]);
    expectEscape(error, 'package/top');
    expect(await tree(dest)).toEqual(['a', 'a/b', 'a/b/l -> ../../x']);
  });

  it('settles only once node-tar has finished writing: nothing changes after the rejection', async () => {
    const big = Buffer.alloc(256 * 1024, 7);
    const entries: TarEntry[] = Array.from({ length: 40 }, (_, i) => ({ name: `package/f${i}`, content: big }));
    entries.push({ name: '../evil', content: 'pwned' });
    const { error, dest } = await refused(entries);
    expectEscape(error, '../evil');
    const snapshot = async () => Promise.all((await tree(dest)).map(async (p) => `${p}:${(await lstat(join(dest, p.split(' -> ')[0]!))).size}`));
    const first = await snapshot();
    expect(first).toContain(`f39:${big.length}`);
    await sleep(100);
    expect(await snapshot()).toEqual(first);
  });
});

