// The one tar packer: node-tar's Pack fed entries described in memory, so what writes our archives
// (the engine's putArchive, image build contexts, crafted test archives) is the library that
// reads them. An entry is described, never stat'ed by the packer: name, type, mode, owner and
// time are exactly what the caller says, owner root unless told. A host file's bytes are read
// only when its turn comes and as fast as the stream is read, so a large tree never sits in memory.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { Header, type HeaderData, Pack, ReadEntry, type WriteEntryTar } from 'tar';

export type PackEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'fifo';

/** A file on the host whose first `size` bytes are the entry's content, read at packing time. */
export interface HostFile {
  readonly path: string;
  readonly size: number;
}

export interface PackEntry {
  /** The name in the archive, written as given: make it relative yourself. A directory's gets a trailing `/`. */
  readonly name: string;
  /** @default 'file' */
  readonly type?: PackEntryType;
  /** Permission bits (and setuid, setgid, sticky), as given. @default 0o644 for a file, 0o755 for a directory, 0o777 otherwise */
  readonly mode?: number;
  /** The owner the archive names, which the engine gives what it writes. @default 0 (root) */
  readonly uid?: number;
  /** @default 0 (root) */
  readonly gid?: number;
  /** @default the time the entry is packed */
  readonly mtime?: Date;
  /** A symlink's target, or the name of an earlier entry a hard link shares. */
  readonly linkname?: string;
  /** A file's content: bytes, or a host file that must still hold `size` bytes. Empty when absent. */
  readonly content?: Uint8Array | HostFile;
}

const TYPES: Readonly<Record<PackEntryType, NonNullable<HeaderData['type']>>> = {
  file: 'File',
  directory: 'Directory',
  symlink: 'SymbolicLink',
  link: 'Link',
  fifo: 'FIFO',
};

/**
 * A tar stream of `entries`, in this order, ended by the two zero blocks. The entries are taken one
 * at a time and only as fast as the stream is read (a few chunks ahead). An error thrown while
 * iterating `entries`, or met reading a host file, destroys the stream with it; so does the
 * consumer's destroying it stop the packing and close the file being read.
 */
export function packEntries(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>): Readable {
  const out = new PassThrough();
  const stopped = new AbortController();
  out.on('close', () => stopped.abort());
  const pack = new Pack({
    preservePaths: true, // names as given: the callers' are relative, and crafted test archives need theirs unchecked
    // node-tar adds x to a directory wherever it has r; the caller's mode stands.
    onWriteEntry: (entry) => {
      const fromMemory = entry as unknown as WriteEntryTar;
      fromMemory.mode = fromMemory.readEntry.mode;
    },
  });
  pack.on('error', (err) => out.destroy(err as Error));
  pack.pipe(out);
  const write = async (): Promise<void> => {
    for await (const e of entries) {
      if (stopped.signal.aborted) return;
      await add(pack, e, stopped.signal);
    }
    pack.end();
  };
  write().catch((err: unknown) => out.destroy(err as Error));
  return out;
}

/** Queue one entry and hand it its content, waiting whenever the stream is full. */
async function add(pack: Pack, e: PackEntry, signal: AbortSignal): Promise<void> {
  const type = e.type ?? 'file';
  const content = type === 'file' ? e.content : undefined;
  const size = content === undefined ? 0 : content instanceof Uint8Array ? content.length : content.size;
  const entry = new ReadEntry(
    new Header({
      path: type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name,
      type: TYPES[type],
      mode: e.mode ?? (type === 'file' ? 0o644 : type === 'directory' ? 0o755 : 0o777),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      uname: '',
      gname: '',
      size,
      mtime: e.mtime ?? new Date(),
      ...(e.linkname === undefined ? {} : { linkpath: e.linkname }),
    }),
  );
  if (!pack.write(entry)) await once(pack, 'drain', { signal });
  if (content instanceof Uint8Array) return void entry.end(Buffer.from(content));
  if (content !== undefined && size > 0) {
    let read = 0;
    for await (const chunk of createReadStream(content.path, { start: 0, end: size - 1, signal })) {
      read += (chunk as Buffer).length;
      if (!entry.write(chunk as Buffer)) await once(entry, 'drain', { signal });
    }
    if (read < size) throw new Error(`${content.path} shrank while it was being packed: it held ${read} of the ${size} bytes it was listed with`);
  }
  entry.end();
}
