// For the tests of whatever extracts archives (archives/, cache/, sandboxes/): crafted tar
// streams, a fresh directory per test to extract into, and the tree of what was written.
import { lstat, mkdir, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll } from 'vitest';

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
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const extra = { ...(e.uid === undefined ? {} : { uid: e.uid, gid: e.uid }), ...(e.mtime ? { mtime: e.mtime } : {}) };
    if (type === 'file') pack.entry({ name: e.name, type, mode: e.mode ?? 0o644, ...extra }, Buffer.from(e.content ?? ''));
    else pack.entry({ name: e.name, type, linkname: e.linkname, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o777), ...extra });
  }
  pack.finalize();
  return Readable.from(pack, { objectMode: false });
}

/** Everything `stream` gives, in one buffer. */
export async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
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
