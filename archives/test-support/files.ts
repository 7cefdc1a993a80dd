// For the tests of whatever extracts archives (archives/, cache/, sandboxes/): crafted tar
// streams, a fresh directory per test to extract into, and the tree of what was written.
import { lstat, mkdir, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { afterAll } from 'vitest';
import { packEntries } from '../pack.ts';

export interface CraftedEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  readonly content?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly mtime?: Date;
}

/** A tar stream holding exactly these entries, in this order, names unchecked. */
export function craft(entries: readonly CraftedEntry[]): Readable {
  return packEntries(entries.map((e) => ({ ...e, ...(e.uid === undefined ? {} : { gid: e.uid }), content: Buffer.from(e.content ?? '') })));
}

/** Everything `stream` gives, in one buffer. */
export async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** An archive's entries as node-tar reads them (its header fields), each with its content. */
export async function listed(stream: Readable): Promise<(ReadEntry & { content: Buffer })[]> {
  const entries: (ReadEntry & { content: Buffer })[] = [];
  await new Promise<void>((done, fail) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entries.push(Object.assign(entry, { content: Buffer.alloc(0) }));
        entry.on('end', () => Object.assign(entry, { content: Buffer.concat(chunks) }));
      },
    });
    parser.on('error', fail);
    parser.on('close', done);
    stream.on('error', fail);
    stream.pipe(parser);
  });
  return entries;
}

/** Every path under `dir`, relative and sorted; symlinks listed as `name -> target`, never followed. */
export async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = await lstat(join(dir, rel));
    if (st.isSymbolicLink()) out.push(`${rel} -> ${await readlink(join(dir, rel))}`);
    else out.push(rel, ...(st.isDirectory() ? await tree(dir, rel) : []));
  }
  return out;
}

export interface Case {
  /** A fresh, empty directory: nothing but `target` should appear in it. */
  readonly parent: string;
  /** `<parent>/target`, not yet created. */
  readonly target: string;
}

/** Cases in one scratch directory, removed after the test file: call next() in a beforeEach. */
export function scratchCases(label: string): { next(): Promise<Case> } {
  const scratch = mkdtemp(join(tmpdir(), `cb-${label}-test-`));
  afterAll(async () => rm(await scratch, { recursive: true, force: true }));
  let seq = 0;
  return {
    async next() {
      const parent = join(await scratch, `case-${++seq}`);
      await mkdir(parent);
      return { parent, target: join(parent, 'target') };
    },
  };
}
