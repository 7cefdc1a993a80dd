// What may be pruned and in which order: pure functions over what the engine and the image
// records say, so the rules are tested without Docker.
import { LABEL_IMAGE_CONTEXT, LABEL_IMAGE_KIND, TASK_IMAGE_REPO } from '../../sandboxes/labels.ts';

/** Images scripts/setup.sh makes; never removed, whatever labels they carry. */
export const BASE_IMAGES: readonly string[] = ['debian:bookworm-slim', 'cagebench/sandbox:bookworm', 'cagebench/relay:bookworm'];
/** Saved sessions (harness/session): the user's. */
export const SESSION_REPO = 'cagebench/session';

export interface ImageFacts {
  readonly tags: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export type Prunability = { readonly prunable: true } | { readonly prunable: false; readonly reason: string };

/**
 * A task image cagebench built, named only by `cagebench/env:` tags, is prunable. Anything else
 * is kept: base images, saved sessions, an image with no tag (cagebench never leaves one; it may
 * be a user's build FROM a task image, which inherits its labels), an image the user also tagged,
 * and images cagebench did not build (a task's own `docker_image`).
 */
export function prunability(image: ImageFacts): Prunability {
  const base = image.tags.find((t) => BASE_IMAGES.includes(t));
  if (base) return { prunable: false, reason: `base image ${base}` };
  const session = image.tags.find((t) => t.startsWith(`${SESSION_REPO}:`));
  if (session) return { prunable: false, reason: `saved session ${session}` };
  if (!image.tags.length) return { prunable: false, reason: 'no tag' };
  const other = image.tags.find((t) => !t.startsWith(`${TASK_IMAGE_REPO}:`));
  if (other) return { prunable: false, reason: `also tagged ${other} (yours)` };
  if (image.labels[LABEL_IMAGE_KIND] !== 'task' && image.labels[LABEL_IMAGE_CONTEXT] === undefined) return { prunable: false, reason: 'not built by cagebench' };
  return { prunable: true };
}

export interface Candidate {
  readonly id: string;
  /** Bytes the image adds on top of its base images. */
  readonly bytes: number;
  /** Epoch ms of its last use by a run (its creation when no run recorded one). */
  readonly lastUsedMs: number;
}

/** Least recently used first; ties by id, so the choice is stable. */
export function byLeastRecentlyUsed<T extends Candidate>(images: readonly T[]): T[] {
  return [...images].sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.id.localeCompare(b.id));
}

/**
 * The images to remove, least recently used first, so that `usage + need` fits in `budget`;
 * as many as there are when even removing them all does not make it fit.
 */
export function chooseLru<T extends Candidate>(candidates: readonly T[], options: { readonly usage: number; readonly need: number; readonly budget: number }): T[] {
  let usage = options.usage;
  const chosen: T[] = [];
  for (const image of byLeastRecentlyUsed(candidates)) {
    if (usage + options.need <= options.budget) break;
    chosen.push(image);
    usage -= image.bytes;
  }
  return chosen;
}

/**
 * `images prune`: the `keepLast` most recently used are kept; of the others, those last used
 * more than `olderThanMs` ago go (all of them without `olderThanMs`).
 */
export function selectForPrune<T extends Candidate>(candidates: readonly T[], options: { readonly olderThanMs?: number; readonly keepLast?: number; readonly now: number }): T[] {
  const newestFirst = byLeastRecentlyUsed(candidates).reverse();
  const rest = newestFirst.slice(options.keepLast ?? 0);
  const cutoff = options.olderThanMs === undefined ? Infinity : options.now - options.olderThanMs;
  return rest.filter((image) => image.lastUsedMs < cutoff).reverse();
}
