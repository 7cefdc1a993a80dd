// `cagebench images list|prune`: the task images cagebench built, and their removal. Only
// images named by `cagebench/env:` tags alone are ever removed (harness/images/policy.ts), and
// `prune` considers only those this machine's runs recorded (add `all` for the rest), never
// one a container or a live run uses.
import { connectEngine } from '../../sandboxes/index.ts';
import { listTaskImages, removeTaskImage, type Removal, type TaskImage } from '../images/inventory.ts';
import { selectForPrune } from '../images/policy.ts';
import { ImageRecords } from '../images/records.ts';
import { parseDuration } from '../images/units.ts';
import { ConfigError } from '../errors.ts';

export type { TaskImage, Removal } from '../images/inventory.ts';

export interface ImagesListing {
  /** Where the records of last use are kept. */
  readonly recordsDir: string;
  readonly images: readonly TaskImage[];
}

/** Every task image cagebench built that the engine holds, most recently used first. */
export async function listImages(options: { readonly recordsDir?: string } = {}): Promise<ImagesListing> {
  const records = new ImageRecords(options.recordsDir);
  const engine = await connectEngine();
  return { recordsDir: records.dir, images: await listTaskImages(engine, records) };
}

export interface PruneImagesOptions {
  /** Only images last used longer ago than this: `7d`, `12h`. */
  readonly olderThan?: string;
  /** Keep the N most recently used. */
  readonly keepLast?: number;
  /** Say what would go; remove nothing. */
  readonly dryRun?: boolean;
  /** Also task images no run on this machine recorded (built by earlier versions, or elsewhere). */
  readonly all?: boolean;
  readonly recordsDir?: string;
}

export interface PruneImagesResult {
  /** Removed (or, with dryRun, to be removed). */
  readonly removed: readonly TaskImage[];
  readonly bytesFreed: number;
  /** Chosen but kept: in use by a container or a running cagebench, or the engine refused. */
  readonly kept: readonly { readonly image: TaskImage; readonly reason: string }[];
}

export async function pruneImages(options: PruneImagesOptions = {}): Promise<PruneImagesResult> {
  const olderThanMs = options.olderThan === undefined ? undefined : parseDuration(options.olderThan, '--older-than');
  if (options.keepLast !== undefined && !(Number.isInteger(options.keepLast) && options.keepLast >= 0)) {
    throw new ConfigError(`--keep-last must be a whole number >= 0; got ${options.keepLast}.`);
  }
  const records = new ImageRecords(options.recordsDir);
  const engine = await connectEngine();
  const candidates = (await listTaskImages(engine, records)).filter((i) => i.prunability.prunable && (options.all || i.record));
  const chosen = selectForPrune(candidates, { olderThanMs, keepLast: options.keepLast, now: Date.now() });
  if (options.dryRun) return { removed: chosen, bytesFreed: chosen.reduce((n, i) => n + i.bytes, 0), kept: [] };
  const removed: TaskImage[] = [];
  const kept: { image: TaskImage; reason: string }[] = [];
  let bytesFreed = 0;
  for (const image of chosen) {
    const result = await removeTaskImage(engine, records, image);
    if (result.removed) {
      removed.push(image);
      bytesFreed += result.bytes;
    } else kept.push({ image, reason: result.reason });
  }
  return { removed, bytesFreed, kept };
}
