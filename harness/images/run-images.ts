// A run's task images: labelled when built, their use recorded, leased while the run still
// needs them, removed after their last sample under --cache-level none|base, and kept within
// --disk-budget by removing the least recently used ones this machine's runs recorded before
// a build would go over it. Base images, saved sessions and the user's images are never removed
// (policy.ts); an image another live run leases, or a container uses, is never removed either.
import type { ImageStore } from '../../sandboxes/docker/images.ts';
import type { Engine } from '../../sandboxes/docker/client.ts';
import { LABEL_IMAGE_BUILT_BY, LABEL_IMAGE_TASK, LABEL_IMAGE_TASK_DIGEST } from '../../sandboxes/labels.ts';
import type { Task } from '../../tasks/index.ts';
import { findTaskImage, listTaskImages, ownBytes, removeTaskImage, type TaskImage } from './inventory.ts';
import { chooseLru } from './policy.ts';
import { ImageRecords } from './records.ts';
import { formatBytes } from './units.ts';

/** SWE-bench's cache_level: which task images outlive their last sample in the run. */
export type CacheLevel = 'none' | 'base' | 'task';

export interface ImagesSummary {
  /** Task images this run built, and the bytes they add on top of their base images. */
  readonly built: number;
  readonly bytesBuilt: number;
  /** Task images this run removed (--cache-level, --disk-budget), and the bytes that freed. */
  readonly pruned: number;
  readonly bytesPruned: number;
}

export interface RunImagesOptions {
  readonly engine: Engine;
  readonly store: ImageStore;
  readonly runId: string;
  /** @default 'task' */
  readonly cacheLevel?: CacheLevel;
  readonly budgetBytes?: number;
  /** The samples this invocation runs (one entry per sample). */
  readonly tasks: readonly Task[];
  readonly records?: ImageRecords;
  readonly note?: (line: string) => void;
}

export class RunImages {
  private readonly records: ImageRecords;
  private readonly tags = new Map<string, string | undefined>();
  private readonly remaining = new Map<string, number>();
  private readonly idOfTag = new Map<string, string>();
  /** Set before the lease file is written, so two samples of one task never take two leases. */
  private readonly leases = new Map<string, Promise<() => Promise<void>>>();
  /** Builds this run started under the budget, with the bytes reserved (undefined: not known yet). */
  private readonly inflight = new Map<string, number | undefined>();
  private lock: Promise<unknown> = Promise.resolve();
  private wake: () => void = () => undefined;
  private changed = this.nextChange();
  private warned = false;
  private finished = false;
  private stats = { built: 0, bytesBuilt: 0, pruned: 0, bytesPruned: 0 };

  private constructor(private readonly options: RunImagesOptions) {
    this.records = options.records ?? new ImageRecords();
  }

  static async create(options: RunImagesOptions): Promise<RunImages> {
    const images = new RunImages(options);
    for (const task of options.tasks) {
      images.remaining.set(task.id, (images.remaining.get(task.id) ?? 0) + 1);
      if (images.tags.has(task.id)) continue;
      // A context that cannot be read fails its samples later, with the build's own message.
      images.tags.set(task.id, await options.store.tagOf(task.environment.source).catch(() => undefined));
    }
    return images;
  }

  private get level(): CacheLevel {
    return this.options.cacheLevel ?? 'task';
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private changedNow(): void {
    const wake = this.wake;
    this.changed = this.nextChange();
    wake();
  }

  /** Tags the run's unfinished samples still need. */
  private pinned(): Set<string> {
    const pinned = new Set<string>();
    for (const [task, left] of this.remaining) {
      const tag = this.tags.get(task);
      if (left > 0 && tag) pinned.add(tag);
    }
    return pinned;
  }

  /**
   * Build (or find) the task's image, in `pool` (the run's build slots). Under a disk budget,
   * room is made first, outside the pool; a build error propagates.
   */
  async prebuild(task: Task, options: { readonly buildTimeoutMs: number; readonly pool: <T>(fn: () => Promise<T>) => Promise<T> }): Promise<void> {
    const { source } = task.environment;
    const build = (more: { labels?: Record<string, string>; onBuilt?: (image: { id: string }) => void }): Promise<string> =>
      options.pool(() => this.options.store.ensure(source, { buildTimeoutMs: options.buildTimeoutMs, ...more }));
    const tag = this.tags.get(task.id);
    if (!tag) {
      await build({});
      return;
    }
    const reserved = this.options.budgetBytes !== undefined && !(await this.options.store.has(tag)) ? await this.serially(() => this.makeRoom(tag, this.options.budgetBytes!)) : false;
    let built: string | undefined;
    try {
      await build({
        labels: { [LABEL_IMAGE_TASK]: task.id, [LABEL_IMAGE_TASK_DIGEST]: task.digest, [LABEL_IMAGE_BUILT_BY]: this.options.runId },
        onBuilt: ({ id }) => (built = id),
      });
    } finally {
      if (reserved) {
        this.inflight.delete(tag);
        this.changedNow();
      }
    }
    await this.recordUse(task, tag, built).catch((err: unknown) => this.options.note?.(`could not record the use of ${tag}: ${(err as Error).message}`));
  }

  private async recordUse(task: Task, tag: string, built: string | undefined): Promise<void> {
    const { engine, runId } = this.options;
    const id = built ?? (await engine.docker.getImage(tag).inspect()).Id;
    const before = await this.records.get(id);
    const bytes = built || before?.bytes === undefined ? await ownBytes(engine, id) : before.bytes;
    if (built) {
      this.stats.built++;
      this.stats.bytesBuilt += bytes;
    }
    await this.records.touch(id, {
      tag,
      taskId: before?.taskId ?? task.id,
      taskDigest: before?.taskDigest ?? task.digest,
      bytes,
      lastRun: runId,
      ...(built ? { builtAt: new Date().toISOString(), builtByRun: runId } : {}),
    });
    this.idOfTag.set(tag, id);
    if (!this.leases.has(id) && (this.remaining.get(task.id) ?? 0) > 0 && !this.finished) {
      const lease = this.records.lease(id);
      this.leases.set(id, lease);
      await lease;
    }
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Makes room for `tag` within the budget; true when a reservation was made (release it after the build). */
  private async makeRoom(tag: string, budget: number): Promise<boolean> {
    for (;;) {
      if (this.inflight.has(tag) || (await this.options.store.has(tag))) return false;
      // The first build tells what a build here weighs: wait for it rather than guess.
      if ([...this.inflight.values()].some((b) => b === undefined)) {
        await this.changed;
        continue;
      }
      const ours = (await listTaskImages(this.options.engine, this.records, { onlyRecorded: true })).filter((i) => i.prunability.prunable);
      const sizes = ours.map((i) => i.bytes);
      const estimate = sizes.length ? Math.max(...sizes) : undefined;
      let usage = sizes.reduce((a, b) => a + b, 0) + [...this.inflight.values()].reduce<number>((a, b) => a + (b ?? 0), 0);
      const need = estimate ?? 0;
      const reserve = (): true => {
        this.inflight.set(tag, estimate);
        return true;
      };
      if (usage + need <= budget) return reserve();
      const pinned = this.pinned();
      const free = ours.filter((i) => !i.tags.some((t) => pinned.has(t) || this.inflight.has(t)));
      for (const victim of chooseLru(free, { usage, need, budget })) {
        if (await this.remove(victim, `to stay within --disk-budget ${formatBytes(budget)}`)) usage -= victim.bytes;
      }
      if (usage + need <= budget) return reserve();
      // Over still: the run's own images are what fills the budget; wait for one to be done with.
      if ([...pinned].some((t) => this.idOfTag.has(t)) && !this.finished) {
        await this.changed;
        continue;
      }
      if (!this.warned) {
        this.warned = true;
        this.options.note?.(
          `--disk-budget ${formatBytes(budget)}: the task images this run needs right now take ${formatBytes(usage)}; building ${tag} anyway (lower --build-concurrency, or raise the budget)`,
        );
      }
      return reserve();
    }
  }

  private async remove(image: TaskImage, why: string): Promise<boolean> {
    const result = await removeTaskImage(this.options.engine, this.records, image);
    if (!result.removed) return false;
    this.stats.pruned++;
    this.stats.bytesPruned += result.bytes;
    this.options.note?.(`removed image ${image.tags.join(', ')} (${formatBytes(result.bytes)}) ${why}`);
    return true;
  }

  /** One sample of `task` is over (whatever its outcome): after its last, the image is let go. */
  async sampleDone(task: Task): Promise<void> {
    const left = (this.remaining.get(task.id) ?? 1) - 1;
    this.remaining.set(task.id, left);
    const tag = this.tags.get(task.id);
    if (left > 0 || !tag || this.pinned().has(tag)) return;
    const id = this.idOfTag.get(tag);
    if (id) {
      const lease = this.leases.get(id);
      this.leases.delete(id);
      await lease?.then((release) => release(), () => undefined);
    }
    this.changedNow();
    if (this.level === 'task' || !id) return;
    const image = await findTaskImage(this.options.engine, this.records, id).catch(() => undefined);
    if (image?.prunability.prunable) await this.remove(image, `after its last sample (--cache-level ${this.level})`).catch(() => false);
  }

  /** Lets go of every lease; the counts for summary.json. */
  async finish(): Promise<ImagesSummary> {
    this.finished = true;
    this.changedNow();
    await Promise.allSettled([...this.leases.values()].map(async (lease) => (await lease)()));
    this.leases.clear();
    return { ...this.stats };
  }
}
