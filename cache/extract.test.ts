// The cache's own policy on archives/ extractSafely: the package root, the keep list, modes,
// its gunzip, CacheError codes. The escapes themselves are tested in archives/extract.test.ts.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tree } from '../archives/test-support/files.ts';
import { CacheError } from './errors.ts';
import { extractTarball, type ExtractRules } from './extract.ts';
import { buildTgz, type TarEntry } from './test-support/registry.ts';
import { tempDir } from './test-support/temp.ts';

async function extract(entries: TarEntry[], rules: ExtractRules = { root: 'package/' }) {
  const dest = join(await tempDir('extract'), 'files');
  const result = await extractTarball(Readable.from([await buildTgz(entries)]), dest, rules, 'test.tgz');
  return { dest, result };
}

/** Extracts into `<parent>/files`; resolves to the error it was refused with (or undefined) and the parent. */
async function refused(entries: TarEntry[], rules: ExtractRules = { root: 'package/' }) {
  const parent = await tempDir('extract');
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

  it('makes hard links to kept files, cutting the root from their targets too', async () => {
    const { dest, result } = await extract([
      { name: 'package/bin/tool', content: 'tool', mode: 0o755 },
      { name: 'package/bin/alias', type: 'link', linkname: 'package/bin/tool' },
    ]);
    expect((await stat(join(dest, 'bin/alias'))).nlink).toBe(2);
    expect(result).toEqual({ files: 1, bytes: 4 });
  });
});

describe('extractTarball refuses escaping entries as CB_CACHE_ESCAPE, storing nothing outside', () => {
  it('names the entry and the tarball, and says nothing was stored', async () => {
    const { error, parent, dest } = await refused([{ name: 'package/first', content: '1' }, { name: 'package/../../evil', content: 'pwned' }, { name: 'package/after', content: '2' }]);
    expectEscape(error, 'package/../../evil');
    expect(error).toMatchObject({ kind: 'infra', message: expect.stringContaining('its path leaves the target directory. Nothing was stored.') });
    expect(await readdir(parent)).toEqual(['files']);
    expect(await tree(dest)).toEqual(['first']);
  });

  it('a hard link into the package but out of the kept root', async () => {
    const { error, parent, dest } = await refused([{ name: 'elsewhere/file', content: 'x' }, { name: 'package/hard', type: 'link', linkname: 'elsewhere/file' }]);
    expectEscape(error, 'package/hard');
    expect((error as Error).message).toContain('outside the kept files');
    expect(await readdir(parent)).toEqual(['files']);
    expect(await tree(dest)).toEqual([]);
  });
});
