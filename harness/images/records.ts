// When each task image was last used, and by which run. Docker cannot relabel an image, so
// this lives beside the agent cache: one small JSON file per image id,
// `<cache dir>/images/records/<id>.json`, replaced whole by an atomic rename.
//
// One file per image rather than one index file: runs touching different images never
// contend, a crash leaves at worst a stray temporary file, and there is no lock to go stale.
// Two runs touching the same image at once both write "used now"; the later rename wins,
// which is all LRU needs. The engine stays the truth about which images exist: a record
// whose image is gone is ignored, and dropped when its image is pruned.
//
// A run also holds a lease on every image it still needs (`leases/<id>/`, the agent cache's
// lease files: pid and host), so neither another run's budget nor `images prune` removes an
// image from under a run whose samples have not started their sandboxes yet.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { liveLeases, takeLease } from '../../cache/leases.ts';

export interface ImageRecord {
  /** The engine's image id (`sha256:...`). */
  readonly id: string;
  readonly tag: string;
  readonly taskId?: string;
  readonly taskDigest?: string;
  /** Bytes the image adds on top of its base images (its own layers). */
  readonly bytes?: number;
  /** Set when a run built the image. */
  readonly builtAt?: string;
  readonly builtByRun?: string;
  readonly lastUsedAt: string;
  readonly lastRun?: string;
}

/** `$CAGEBENCH_CACHE_DIR/images`, else `$XDG_CACHE_HOME/cagebench/images`, else `~/.cache/cagebench/images`. */
export function defaultImagesDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.CAGEBENCH_CACHE_DIR ?? (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'cagebench') : join(env.HOME ?? homedir(), '.cache', 'cagebench'));
  return join(cache, 'images');
}

const fileName = (id: string): string => `${id.replace(/^sha256:/, '')}.json`;

export class ImageRecords {
  constructor(readonly dir: string = defaultImagesDir()) {}

  private get recordsDir(): string {
    return join(this.dir, 'records');
  }

  async get(id: string): Promise<ImageRecord | undefined> {
    const text = await readFile(join(this.recordsDir, fileName(id)), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const record = JSON.parse(text) as ImageRecord;
      return record.id === id && typeof record.lastUsedAt === 'string' ? record : undefined;
    } catch {
      return undefined; // not one we wrote whole: the next touch replaces it
    }
  }

  /** Every record, keyed by image id. */
  async all(): Promise<Map<string, ImageRecord>> {
    const names = await readdir(this.recordsDir).catch(() => [] as string[]);
    const found = new Map<string, ImageRecord>();
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const record = await this.get(`sha256:${name.slice(0, -'.json'.length)}`);
      if (record) found.set(record.id, record);
    }
    return found;
  }

  /** Records a use now (and whatever else `fields` says), keeping what the record held. */
  async touch(id: string, fields: Omit<ImageRecord, 'id' | 'lastUsedAt'> & { readonly lastUsedAt?: string }): Promise<ImageRecord> {
    const before = await this.get(id);
    const record: ImageRecord = { ...before, ...fields, id, lastUsedAt: fields.lastUsedAt ?? new Date().toISOString() };
    await mkdir(this.recordsDir, { recursive: true });
    const path = join(this.recordsDir, fileName(id));
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return record;
  }

  async forget(id: string): Promise<void> {
    await rm(join(this.recordsDir, fileName(id)), { force: true });
  }

  /** This process needs the image until the returned function is called. */
  lease(id: string): Promise<() => Promise<void>> {
    return takeLease(join(this.dir, 'leases', id.replace(/^sha256:/, '')), new Date());
  }

  /** Leases on the image held by live processes (dead holders' leases are removed). */
  leases(id: string): Promise<number> {
    return liveLeases(join(this.dir, 'leases', id.replace(/^sha256:/, '')));
  }
}
