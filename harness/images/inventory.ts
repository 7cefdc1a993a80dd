// The task images in the engine, as `images list` shows them and pruning chooses among them,
// and their removal: never forced, so an image a container uses stays (the engine refuses).
import type { Engine } from '../../sandboxes/docker/client.ts';
import { LABEL_IMAGE_BUILT_BY, LABEL_IMAGE_CONTEXT, LABEL_IMAGE_CONTEXT_DIGEST, LABEL_IMAGE_TASK, LABEL_IMAGE_TASK_DIGEST } from '../../sandboxes/labels.ts';
import { prunability, type Candidate, type Prunability } from './policy.ts';
import type { ImageRecord, ImageRecords } from './records.ts';

export interface TaskImage extends Candidate {
  readonly tags: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** The image's whole size, base layers included (what `docker images` shows). */
  readonly size: number;
  readonly createdAt: string;
  readonly taskId?: string;
  readonly taskDigest?: string;
  readonly contextDigest?: string;
  /** The last run that used it (the run that built it, when no record says otherwise). */
  readonly lastRun?: string;
  /** What this machine's image records hold about it; absent for an image no run recorded. */
  readonly record?: ImageRecord;
  readonly prunability: Prunability;
}

interface EngineImage {
  readonly Id: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly Size: number;
  readonly Created: number;
}

/**
 * Every image cagebench built for a task (labelled at build; earlier versions labelled the
 * context only). `onlyRecorded`: those this machine's records know, which a run may prune.
 */
export async function listTaskImages(engine: Engine, records: ImageRecords, options: { readonly onlyRecorded?: boolean } = {}): Promise<TaskImage[]> {
  const listed = (await engine.docker.listImages({ filters: JSON.stringify({ label: [LABEL_IMAGE_CONTEXT] }) } as never)) as unknown as EngineImage[];
  const recorded = await records.all();
  const images: TaskImage[] = [];
  for (const image of listed) {
    const record = recorded.get(image.Id);
    if (options.onlyRecorded && !record) continue;
    images.push(await taskImage(engine, { id: image.Id, tags: image.RepoTags ?? [], labels: image.Labels ?? {}, size: image.Size, createdAt: new Date(image.Created * 1000).toISOString() }, record));
  }
  return images.sort((a, b) => b.lastUsedMs - a.lastUsedMs);
}

/** One image, by id or tag; undefined when the engine does not have it. */
export async function findTaskImage(engine: Engine, records: ImageRecords, image: string): Promise<TaskImage | undefined> {
  const found = (await engine.docker.getImage(image).inspect().catch(() => undefined)) as
    | { Id: string; RepoTags?: string[] | null; Config?: { Labels?: Record<string, string> | null }; Size: number; Created: string }
    | undefined;
  if (!found) return undefined;
  return taskImage(engine, { id: found.Id, tags: found.RepoTags ?? [], labels: found.Config?.Labels ?? {}, size: found.Size, createdAt: new Date(found.Created).toISOString() }, await records.get(found.Id));
}

async function taskImage(
  engine: Engine,
  raw: { id: string; tags: readonly string[]; labels: Readonly<Record<string, string>>; size: number; createdAt: string },
  record: ImageRecord | undefined,
): Promise<TaskImage> {
  const tags = raw.tags.filter((t) => t !== '<none>:<none>');
  const { labels, createdAt } = raw;
  return {
    id: raw.id,
    tags,
    labels,
    size: raw.size,
    bytes: record?.bytes ?? (await ownBytes(engine, raw.id).catch(() => raw.size)),
    createdAt,
    lastUsedMs: Date.parse(record?.lastUsedAt ?? createdAt),
    ...optional('taskId', record?.taskId ?? labels[LABEL_IMAGE_TASK]),
    ...optional('taskDigest', record?.taskDigest ?? labels[LABEL_IMAGE_TASK_DIGEST]),
    ...optional('contextDigest', labels[LABEL_IMAGE_CONTEXT_DIGEST]),
    ...optional('lastRun', record?.lastRun ?? labels[LABEL_IMAGE_BUILT_BY]),
    ...(record ? { record } : {}),
    prunability: prunability({ tags, labels }),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/**
 * Bytes the image adds on top of the nearest tagged image it was built from (its base, e.g.
 * debian:bookworm-slim): the layers its own Dockerfile made. Its whole size when the engine
 * does not know the layers' images (a BuildKit build).
 */
export async function ownBytes(engine: Engine, image: string): Promise<number> {
  const history = (await engine.docker.getImage(image).history()) as { Id: string; Size: number; Tags?: readonly string[] | null }[];
  let bytes = 0;
  for (const [i, layer] of history.entries()) {
    if (i > 0 && (layer.Tags ?? []).some((t) => t !== '<none>:<none>')) break;
    bytes += layer.Size;
  }
  return bytes;
}

export type Removal =
  | { readonly image: TaskImage; readonly removed: true; readonly bytes: number }
  | { readonly image: TaskImage; readonly removed: false; readonly reason: string };

/**
 * Removes a prunable image: each of its tags, without force. An image a container uses (or
 * one leased by a live cagebench run) stays, and the answer says why.
 */
export async function removeTaskImage(engine: Engine, records: ImageRecords, image: TaskImage): Promise<Removal> {
  if (!image.prunability.prunable) return { image, removed: false, reason: image.prunability.reason };
  if ((await records.leases(image.id)) > 0) return { image, removed: false, reason: 'in use by a running cagebench' };
  for (const tag of image.tags) {
    try {
      await engine.docker.getImage(tag).remove();
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) continue;
      const message = ((err as { json?: { message?: string } }).json?.message ?? (err as Error).message).trim();
      return { image, removed: false, reason: status === 409 ? `in use: ${message}` : `the engine refused: ${message}` };
    }
  }
  const gone = await engine.docker.getImage(image.id).inspect().then(() => false, () => true);
  if (!gone) return { image, removed: false, reason: 'untagged, but another image is built from it' };
  await records.forget(image.id);
  return { image, removed: true, bytes: image.bytes };
}
