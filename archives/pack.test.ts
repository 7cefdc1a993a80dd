// packEntries writes what it is told, read back with node-tar's parser and extractSafely: every
// header field as given (owner root by default), names of any length and script, and host files
// read only as fast as the stream is read.
import { readdir, readlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { extractSafely, packEntries, type PackEntry } from './index.ts';
import { drain, listed, scratchCases, tree } from './test-support/files.ts';

const cases = scratchCases('pack');
let parent: string;
let target: string;
beforeEach(async () => ({ parent, target } = await cases.next()));

const POLICY = { refuse: (raw: string) => new Error(`refused ${raw}`), notTar: (detail: string) => new Error(detail) };
const MTIME = new Date('2021-06-07T08:09:10Z');

describe('packEntries writes each entry as described', () => {
  it('types, modes exactly (a directory without x too), owner root unless told, mtimes, link targets', async () => {
    const entries = await listed(
      packEntries([
        { name: 'dir', type: 'directory', mode: 0o644, mtime: MTIME },
        { name: 'dir/suid', content: Buffer.from('x'), mode: 0o4755, mtime: MTIME },
        { name: 'dir/owned', content: Buffer.from('y'), uid: 1000, gid: 1001 },
        { name: 'dir/link', type: 'symlink', linkname: 'suid' },
        { name: 'dir/hard', type: 'link', linkname: 'dir/suid' },
        { name: 'pipe', type: 'fifo' },
      ]),
    );
    expect(entries.map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.uname ?? '', e.linkpath ?? ''])).toEqual([
      ['dir/', 'Directory', 0o644, 0, 0, '', ''],
      ['dir/suid', 'File', 0o4755, 0, 0, '', ''],
      ['dir/owned', 'File', 0o644, 1000, 1001, '', ''],
      ['dir/link', 'SymbolicLink', 0o777, 0, 0, '', 'suid'],
      ['dir/hard', 'Link', 0o777, 0, 0, '', 'dir/suid'],
      ['pipe', 'FIFO', 0o777, 0, 0, '', ''],
    ]);
    expect(entries[0]!.mtime).toEqual(MTIME);
    expect(entries[1]!.mtime).toEqual(MTIME);
    expect(Date.now() - entries[2]!.mtime!.getTime()).toBeLessThan(60_000);
    expect(entries[1]!.content.toString()).toBe('x');
  });

  it('names as given: spaces, non-Latin scripts, past 100 and 255 bytes, and unchecked', async () => {
    const long = `${'deep/'.repeat(30)}${'n'.repeat(120)}.txt`;
    const names = ['with space/file name.txt', 'ünïcödé/日本語 ファイル.md', long, '../up', '/abs'];
    const entries = await listed(packEntries(names.map((name) => ({ name, content: Buffer.from(name) }))));
    expect(entries.map((e) => [e.path, e.content.toString()])).toEqual(names.map((n) => [n, n]));

    await extractSafely(packEntries(names.slice(0, 3).map((name) => ({ name, content: Buffer.from(name) }))), target, POLICY);
    expect(await tree(target)).toContain(long);
    expect(await tree(target)).toContain('ünïcödé/日本語 ファイル.md');
  });
});

describe('packEntries streams host files', () => {
  it('reads a large file only as the stream is read, and whole', async () => {
    const big = join(parent, 'big.bin');
    await writeFile(big, '');
    await truncate(big, 64 * 1024 * 1024); // sparse: 64 MiB of zeros without the disk
    const head = join(parent, 'head.bin');
    await writeFile(head, Buffer.from([0, 255, 1, 254]));
    const before = process.memoryUsage().arrayBuffers;
    const stream = packEntries([
      { name: 'head.bin', content: { path: head, size: 4 } },
      { name: 'big.bin', content: { path: big, size: 64 * 1024 * 1024 }, mode: 0o600 },
    ]);
    await sleep(200); // unread: a few chunks are read ahead, not the file
    expect(stream.readableLength).toBeLessThan(1024 * 1024);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);

    const entries = await listed(stream);
    expect(entries.map((e) => [e.path, e.size, e.mode])).toEqual([
      ['head.bin', 4, 0o644],
      ['big.bin', 64 * 1024 * 1024, 0o600],
    ]);
    expect(entries[0]!.content).toEqual(Buffer.from([0, 255, 1, 254]));
    expect(entries[1]!.content.length).toBe(64 * 1024 * 1024);
  });

  it('fails the stream when a host file holds fewer bytes than it was listed with', async () => {
    const file = join(parent, 'shrunk');
    await writeFile(file, 'short');
    await expect(drain(packEntries([{ name: 'shrunk', content: { path: file, size: 100 } }]))).rejects.toThrow(
      `${file} shrank while it was being packed: it held 5 of the 100 bytes it was listed with`,
    );
  });

  it('an error from the entries destroys the stream with it', async () => {
    async function* entries(): AsyncGenerator<PackEntry> {
      yield { name: 'first', content: Buffer.from('1') };
      throw new Error('listing failed');
    }
    await expect(drain(packEntries(entries()))).rejects.toThrow('listing failed');
  });

  it.runIf(process.platform === 'linux')('lets go of the host file when the stream is destroyed half read', async () => {
    const big = join(parent, 'big.bin');
    await writeFile(big, '');
    await truncate(big, 16 * 1024 * 1024);
    const openOn = async (path: string) => {
      const fds = await readdir('/proc/self/fd');
      const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return targets.filter((t) => t === path).length;
    };
    const stream = packEntries([{ name: 'big.bin', content: { path: big, size: 16 * 1024 * 1024 } }]);
    await sleep(200);
    expect(await openOn(big)).toBe(1);
    stream.destroy();
    await sleep(100);
    expect(await openOn(big)).toBe(0);
  });
});
