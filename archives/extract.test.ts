// The shared protections of extractSafely, whoever calls it: crafted tar streams must never
// write or point outside the target, the first refusal stops everything once node-tar's writes
// are done, and ordinary archives come out intact. The callers' own policies (the cache's root
// and keep list and modes, the sandboxes' top directory) are tested beside them.
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { extractSafely, type ExtractPolicy } from './index.ts';
import { craft, drain, scratchCases, tree, type CraftedEntry } from './test-support/files.ts';

class Refused extends Error {
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`Refused "${entry}": ${reason}`);
  }
}

const POLICY: ExtractPolicy = {
  refuse: (raw, reason) => new Refused(raw, reason),
  notTar: (detail) => new Error(`not a tar archive: ${detail}`),
};

const cases = scratchCases('archives');
let parent: string;
let target: string;
beforeEach(async () => ({ parent, target } = await cases.next()));

function extract(source: Readable, more: Partial<ExtractPolicy> = {}) {
  return extractSafely(source, target, { ...POLICY, ...more });
}

/** Resolves to the refusal `promise` rejected with, checking it names `entry`. */
async function expectRefused(promise: Promise<unknown>, entry: string): Promise<Refused> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Refused);
  expect((err as Refused).entry).toBe(entry);
  return err as Refused;
}

/** Nothing but the target directory (and what the test put there) was created next to it. */
async function expectNothingOutside(...also: string[]): Promise<void> {
  expect((await readdir(parent)).sort()).toEqual(['target', ...also].sort());
}

describe('extractSafely refuses escaping entries', () => {
  it.each([
    ['../evil', 'a name that climbs out'],
    ['a/../../evil', 'a name that climbs out through a directory'],
    ['/etc/evil', 'an absolute name (node-tar alone would strip the / and write etc/evil)'],
  ])('%j: %s, stopping there: later entries are not written', async (name) => {
    const archive = craft([{ name: 'first', content: '1' }, { name, content: 'pwned' }, { name: 'after', content: '2' }]);
    const err = await expectRefused(extract(archive), name);
    expect(err.reason).toBe('its path leaves the target directory');
    expect(existsSync('/etc/evil')).toBe(false);
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['first']);
  });

  it('a name that climbs out only once stripped (top/../x): stripping never launders a name', async () => {
    const archive = craft([{ name: 'top', type: 'directory' }, { name: 'top/../evil', content: 'pwned' }]);
    await expectRefused(extract(archive, { strip: 1 }), 'top/../evil');
    await expectNothingOutside();
  });

  it('a symlink to an absolute path is refused, not rewritten to a relative one (node-tar alone would)', async () => {
    const err = await expectRefused(extract(craft([{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }])), 'passwd');
    expect(err.reason).toBe('symlink points outside (/etc/passwd)');
    await expectNothingOutside();
    expect(await tree(target)).toEqual([]);
  });

  it('a symlink that climbs out, and the file written through it afterwards', async () => {
    const archive = craft([
      { name: 'a', type: 'directory' },
      { name: 'a/link', type: 'symlink', linkname: '../../out' },
      { name: 'a/link/evil', content: 'pwned' },
    ]);
    await expectRefused(extract(archive), 'a/link');
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['a']);
  });

  it('a symlink out of the archive is refused even where nothing is kept', async () => {
    const archive = craft([
      { name: 'bin/tool', content: 'x' },
      { name: 'docs/link', type: 'symlink', linkname: '/etc/passwd' },
    ]);
    await expectRefused(extract(archive, { keep: (path) => path.startsWith('bin') }), 'docs/link');
    expect(await tree(target)).toEqual(['bin', 'bin/tool']);
  });

  it('a chain of links that each look inside but together climb out', async () => {
    // a/up -> .. is the root; a/out -> up/.. would then be the root's parent.
    const archive = craft([
      { name: 'a', type: 'directory' },
      { name: 'a/up', type: 'symlink', linkname: '..' },
      { name: 'a/out', type: 'symlink', linkname: 'up/..' },
      { name: 'a/out/evil', content: 'pwned' },
    ]);
    await expectRefused(extract(archive), 'a/out');
    await expectNothingOutside();
  });

  it.each([
    ['../secret', 'a hard link out of the target'],
    ['/etc/passwd', 'a hard link to an absolute path'],
  ])('%j: %s', async (linkname) => {
    await writeFile(join(parent, 'secret'), 'outside');
    const err = await expectRefused(extract(craft([{ name: 'hard', type: 'link', linkname }])), 'hard');
    expect(err.reason).toBe(`hard link points outside (${linkname})`);
    await expectNothingOutside('secret');
    expect((await stat(join(parent, 'secret'))).nlink).toBe(1);
    expect(await tree(target)).toEqual([]);
  });

  it('a hard link to a file the archive did not write: one already in the target, or one not kept', async () => {
    await mkdir(target);
    await writeFile(join(target, 'there'), 'before');
    await expectRefused(extract(craft([{ name: 'hard', type: 'link', linkname: 'there' }])), 'hard');
    expect((await stat(join(target, 'there'))).nlink).toBe(1);

    const notKept = craft([
      { name: 'skipped', content: 'x' },
      { name: 'alias', type: 'link', linkname: 'skipped' },
    ]);
    const err = await expectRefused(extract(notKept, { keep: (path) => path !== 'skipped' }), 'alias');
    expect(err.reason).toBe('hard link points outside the kept files (skipped)');
    expect(await tree(target)).toEqual(['there']);
  });

  it('a hard link to an inside symlink, which would point outside from its new place', async () => {
    // a/b/l -> ../../x is <root>/x; a hard link to it at the top would be <root>/../../x.
    const archive = craft([
      { name: 'a/b/l', type: 'symlink', linkname: '../../x' },
      { name: 'top', type: 'link', linkname: 'a/b/l' },
    ]);
    await expectRefused(extract(archive), 'top');
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/l -> ../../x']);
  });

  // The next three are node-tar's own refusals (the names alone look fine); the error still names the entry.
  it('an entry written through an inside link that makes a later link climb out', async () => {
    // a/b/root -> ../.. is the root, so a/b/root/link -> ../out would land at <root>/link
    // and point at the root's parent, although lexically it is a/b/out.
    const archive = craft([
      { name: 'a/b', type: 'directory' },
      { name: 'a/b/root', type: 'symlink', linkname: '../..' },
      { name: 'a/b/root/link', type: 'symlink', linkname: '../out' },
      { name: 'a/b/root/link/evil', content: 'pwned' },
    ]);
    const err = await expectRefused(extract(archive), 'a/b/root/link');
    expect(err.reason).toBe('it runs through the symlink a/b/root');
    await expectNothingOutside();
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/root -> ../..']);
  });

  it('an entry written through a symlink already in the target directory', async () => {
    await mkdir(target);
    await symlink('..', join(target, 'out'));
    await expectRefused(extract(craft([{ name: 'out/evil', content: 'pwned' }])), 'out/evil');
    await expectNothingOutside();
  });

  it('a symlink whose target runs through another symlink, even one pointing inside', async () => {
    const archive = craft([
      { name: 'real/f', content: 'f' },
      { name: 'lib', type: 'symlink', linkname: 'real' },
      { name: 'x', type: 'symlink', linkname: 'lib/f' },
    ]);
    const err = await expectRefused(extract(archive), 'x');
    expect(err.reason).toBe('it runs through the symlink lib');
    expect(await tree(target)).toEqual(['lib -> real', 'real', 'real/f']);
  });

  it.each([
    ['a tar stream', (tar: Buffer) => ({ source: Readable.from([tar]), more: {} })],
    ['a gzipped one, through decode', (tar: Buffer) => ({ source: Readable.from([gzipSync(tar)]), more: { decode: { stream: createGunzip(), failed: (e: Error) => e } } })],
  ])('settles only once node-tar has finished writing, from %s: nothing changes after the rejection', async (_, input) => {
    const big = Buffer.alloc(256 * 1024, 7);
    const entries: CraftedEntry[] = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, content: big }));
    entries.push({ name: '../evil', content: 'pwned' });
    // In one chunk: every entry is taken in at once, and the refusal comes while the files are being written.
    const { source, more } = input(await drain(craft(entries)));
    await expectRefused(extract(source, more), '../evil');
    const snapshot = async () => Promise.all((await tree(target)).map(async (p) => `${p}:${(await lstat(join(target, p))).size}`));
    const first = await snapshot();
    expect(first).toContain(`f39:${big.length}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await snapshot()).toEqual(first);
  });

  it('a refusal does not wait for the rest of the source, and lets go of it', async () => {
    const source = new PassThrough(); // never ended: the sender is still sending
    source.write((await drain(craft([{ name: '../evil', content: 'pwned' }, { name: 'after', content: 'x'.repeat(100_000) }]))).subarray(0, 4096));
    await expectRefused(extract(source), '../evil');
    expect(source.destroyed).toBe(true);
  });
});

describe('extractSafely reports streams it cannot read', () => {
  it("says, through the caller's notTar, when the stream is no tar archive", async () => {
    await expect(extract(Readable.from([Buffer.alloc(2048, 65)]))).rejects.toThrow(/^not a tar archive: .+ \(TAR_/);
  });

  it('passes on a broken source stream as its error', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(extract(broken)).rejects.toThrow('connection reset');
  });

  it("turns the decoder's errors into the caller's", async () => {
    const decode = { stream: createGunzip(), failed: (e: Error) => new Error(`bad gzip: ${e.message}`) };
    await expect(extract(Readable.from([Buffer.from('not gzip at all')]), { decode })).rejects.toThrow(/^bad gzip: /);
  });
});

describe('extractSafely writes ordinary archives', () => {
  it('nested directories and files, counted', async () => {
    const archive = craft([
      { name: 'a', type: 'directory' },
      { name: 'a/b', type: 'directory' },
      { name: 'a/b/c.txt', content: 'deep' },
      { name: 'a/top.txt', content: 'top' },
      // A file whose directory has no entry of its own.
      { name: 'x/y/z.txt', content: 'implied dirs' },
      { name: 'empty', type: 'directory' },
    ]);
    expect(await extract(archive)).toEqual({ files: 3, bytes: 19 });
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/c.txt', 'a/top.txt', 'empty', 'x', 'x/y', 'x/y/z.txt']);
    expect(await readFile(join(target, 'a/b/c.txt'), 'utf8')).toBe('deep');
    expect(await readFile(join(target, 'x/y/z.txt'), 'utf8')).toBe('implied dirs');
  });

  it('keeps symlinks that point inside, as links', async () => {
    const archive = craft([
      { name: 'a/b/file', content: 'payload' },
      { name: 'a/sibling', type: 'symlink', linkname: 'b/file' },
      { name: 'a/b/up', type: 'symlink', linkname: '../../top' },
      { name: 'top', content: 'top' },
      { name: 'self', type: 'symlink', linkname: '.' },
    ]);
    await extract(archive);
    expect(await readFile(join(target, 'a/sibling'), 'utf8')).toBe('payload');
    expect(await readFile(join(target, 'a/b/up'), 'utf8')).toBe('top');
    expect(await tree(target)).toEqual(['a', 'a/b', 'a/b/file', 'a/b/up -> ../../top', 'a/sibling -> b/file', 'self -> .', 'top']);
    await expectNothingOutside();
  });

  it('makes hard links to files written before them, counted once', async () => {
    const archive = craft([
      { name: 'd/orig', content: 'shared' },
      { name: 'd/copy', type: 'link', linkname: 'd/orig' },
    ]);
    expect(await extract(archive)).toEqual({ files: 1, bytes: 6 });
    expect(await readFile(join(target, 'd/copy'), 'utf8')).toBe('shared');
    expect((await stat(join(target, 'd/orig'))).nlink).toBe(2);
  });

  it('replaces a symlink by a later file of the same name instead of writing through it', async () => {
    const archive = craft([
      { name: 'original', content: 'original' },
      { name: 'a', type: 'symlink', linkname: 'original' },
      { name: 'a', content: 'replacement' },
    ]);
    await extract(archive);
    expect(await readFile(join(target, 'original'), 'utf8')).toBe('original');
    expect((await lstat(join(target, 'a'))).isFile()).toBe(true);
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('replacement');
  });

  it('replaces a symlink already in the target, pointing outside, instead of writing through it', async () => {
    await writeFile(join(parent, 'victim'), 'outside');
    await mkdir(target);
    await symlink('../victim', join(target, 'a'));
    await extract(craft([{ name: 'a', content: 'replacement' }]));
    expect(await readFile(join(parent, 'victim'), 'utf8')).toBe('outside');
    expect((await lstat(join(target, 'a'))).isFile()).toBe(true);
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('replacement');
  });

  it('does not copy owners, even when run as root, and skips fifos', async () => {
    await extract(craft([{ name: 'owned', content: 'x', uid: 12345 }, { name: 'pipe', type: 'fifo' }, { name: 'after', content: 'y' }]));
    expect(await tree(target)).toEqual(['after', 'owned']);
    const st = await stat(join(target, 'owned'));
    expect([st.uid, st.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
  });

  it('extracts into an existing directory, next to what is there', async () => {
    await mkdir(target);
    await writeFile(join(target, 'kept'), 'old');
    await extract(craft([{ name: 'new', content: 'new' }]));
    expect(await tree(target)).toEqual(['kept', 'new']);
  });

  it("keeps the archive's mtimes unless told not to", async () => {
    const mtime = new Date('2020-01-02T03:04:05Z');
    await extract(craft([{ name: 'old', content: 'x', mtime }]));
    expect((await stat(join(target, 'old'))).mtime).toEqual(mtime);
    await extract(craft([{ name: 'new', content: 'x', mtime }]), { mtimes: false });
    expect((await stat(join(target, 'new'))).mtimeMs).toBeGreaterThan(mtime.getTime() + 86_400_000);
  });

  it('sets the modes a policy gives exactly, whatever the umask', async () => {
    const archive = craft([
      { name: 'd', type: 'directory', mode: 0o700 },
      { name: 'd/f', content: 'x', mode: 0o600 },
    ]);
    await extract(archive, { fileMode: () => 0o664, dirMode: 0o755 });
    expect((await stat(join(target, 'd/f'))).mode & 0o7777).toBe(0o664);
    expect((await stat(join(target, 'd'))).mode & 0o7777).toBe(0o755);
  });
});
