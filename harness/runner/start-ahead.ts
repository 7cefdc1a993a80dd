// The run's sandbox slots, with start-ahead: while every slot is taken, the next queued samples
// (at most `ahead` of them) create and start their sandboxes, so a sample taking a slot finds
// its sandbox running and the container's start is off its critical path. Live sandboxes
// never exceed the slots plus `ahead` (plus those being removed once their sample is done).
// A sample's clock still starts when it takes its slot; a sandbox started ahead that its
// sample never takes (interrupt, --max-errors) is stopped when the sample leaves its slot.
import pLimit, { type LimitFunction } from 'p-limit';
import type { Sandbox, SandboxSpec } from '../../sandboxes/index.ts';

/** Queued samples that may start their sandbox before taking a slot. */
export const START_AHEAD = 1;

/** A sandbox started for a sample that was still waiting for its slot. */
export class StartedAhead {
  /** performance.now() when the start began, and when it was done. */
  readonly startedAt = performance.now();
  readonly startedAtIso = new Date().toISOString();
  readyAt: number | undefined;
  /** Undefined when it was not started after all (the run stopped starting samples meanwhile). */
  readonly sandbox: Promise<Sandbox | undefined>;
  /** Set by take() when it stopped the sandbox instead (`stale`): the trial starts a fresh one. */
  dropped = false;
  private taken = false;

  /**
   * `stale`: true when what happened since the start makes the sandbox (or its failure) not
   * worth the sample's first try: an engine outage in between, which it may not have survived.
   */
  constructor(
    readonly spec: SandboxSpec,
    start: (spec: SandboxSpec) => Promise<Sandbox | undefined>,
    private readonly stale: () => boolean = () => false,
  ) {
    this.sandbox = start(spec).then((s) => {
      this.readyAt = performance.now();
      return s;
    });
    // A failed start is the sample's to see (its first try fails with it and is retried as any
    // infra error), once it takes its slot; until then it is not an unhandled rejection.
    this.sandbox.catch(() => undefined);
  }

  /** The trial's: its first try runs in it (or fails with its start's error); undefined: start one. */
  async take(): Promise<Sandbox | undefined> {
    if (this.stale()) {
      this.dropped = true;
      await this.discard();
      return undefined;
    }
    this.taken = true;
    return this.sandbox;
  }

  /** Stop it unless a trial took it. */
  async discard(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    const sandbox = await this.sandbox.catch(() => undefined);
    await sandbox?.stop().catch(() => undefined);
  }
}

interface Queued {
  readonly startAhead: () => StartedAhead | undefined;
  tried: boolean;
  started?: StartedAhead;
}

export class SandboxSlots {
  private readonly limit: LimitFunction;
  /** Samples waiting for a slot, in the order they will get one. */
  private readonly queued: Queued[] = [];
  /** Of those, the ones whose sandbox was started ahead. */
  private startedAhead = 0;

  constructor(
    concurrency: number,
    private readonly ahead: number = START_AHEAD,
  ) {
    this.limit = pLimit(concurrency);
  }

  /**
   * Run `body` holding a slot. While it waits for one, `startAhead` may be called (at most once)
   * to start its sandbox; `body` gets what it returned, and whatever `body` did not take is
   * stopped before the slot is released.
   */
  run<T>(startAhead: () => StartedAhead | undefined, body: (ahead: StartedAhead | undefined) => Promise<T>): Promise<T> {
    const entry: Queued = { startAhead, tried: false };
    // p-limit counts a call it can run at once synchronously: only a sample that has to wait queues.
    const waits = this.limit.activeCount >= this.limit.concurrency;
    if (waits) {
      this.queued.push(entry);
      this.fill();
    }
    return this.limit(async () => {
      if (waits) {
        this.queued.splice(this.queued.indexOf(entry), 1);
        if (entry.started) this.startedAhead--;
        this.fill();
      }
      try {
        return await body(entry.started);
      } finally {
        await entry.started?.discard();
      }
    });
  }

  /** Start ahead for the first queued samples, up to the bound. */
  private fill(): void {
    for (const entry of this.queued) {
      if (this.startedAhead >= this.ahead) return;
      if (entry.tried) continue;
      entry.tried = true;
      entry.started = entry.startAhead();
      if (entry.started) this.startedAhead++;
    }
  }
}
