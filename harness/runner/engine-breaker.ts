// The run's circuit breaker for the Docker engine. A sample that fails with an infra error
// asks it whether the engine still answers. If not, an outage begins: no sample starts,
// /_ping is probed with backoff, and everyone waiting learns together whether the engine
// came back within the grace (the failed samples then run again, without spending a retry)
// or not (the run ends interrupted, and `resume` finishes it later).
import { fullJitter, sleep, type Backoff } from '../backoff.ts';

export type EngineVerdict = 'up' | 'back' | 'lost';

export interface EngineBreakerOptions {
  /** True when the engine answers /_ping. Must not throw. */
  readonly ping: () => Promise<boolean>;
  /** How long an outage may last before the run gives up on the engine. */
  readonly graceMs: number;
  /** Aborted on an interrupt: an outage in progress ends as lost. */
  readonly signal?: AbortSignal;
  /** Waits between probes. @default 500 ms doubling to 5 s, full jitter (a local ping is cheap) */
  readonly probe?: Backoff;
  /** The engine stopped answering (once per outage). */
  readonly onDown?: () => void;
  /** The engine answers again after `downMs`. */
  readonly onBack?: (downMs: number) => void;
  /** The grace ran out. */
  readonly onLost?: (downMs: number) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const DEFAULT_PROBE: Backoff = { baseMs: 500, capMs: 5_000 };

export class EngineBreaker {
  private outage: Promise<boolean> | undefined;
  private lostAfterMs: number | undefined;
  private outages = 0;

  constructor(private readonly options: EngineBreakerOptions) {}

  /** The engine was given up on: the run ends interrupted. */
  get lost(): boolean {
    return this.lostAfterMs !== undefined;
  }

  /** How long the engine had been gone when the run gave up on it. */
  get lostAfter(): number | undefined {
    return this.lostAfterMs;
  }

  /** Outages the run has lived through (lost or not). */
  get count(): number {
    return this.outages;
  }

  /** Before starting a sample: true at once while the engine is up, or once it is back; false when lost. */
  async ready(): Promise<boolean> {
    if (this.lost) return false;
    return this.outage ?? true;
  }

  /**
   * After an infra error: 'up' when the engine answers (the error was the sample's own),
   * 'back' when it did not but came back within the grace, 'lost' when it did not come back.
   */
  async afterError(): Promise<EngineVerdict> {
    if (this.lost) return 'lost';
    if (this.outage) return (await this.outage) ? 'back' : 'lost';
    if (await this.options.ping()) return 'up';
    if (!this.outage) this.outage = this.wait().finally(() => (this.outage = undefined));
    return (await this.outage) ? 'back' : 'lost';
  }

  private async wait(): Promise<boolean> {
    const { ping, graceMs, signal, onDown, onBack, onLost } = this.options;
    const now = this.options.now ?? Date.now;
    const pause = this.options.sleep ?? sleep;
    const probe = this.options.probe ?? DEFAULT_PROBE;
    const since = now();
    this.outages++;
    onDown?.();
    for (let tries = 1; ; tries++) {
      const left = graceMs - (now() - since);
      if (left <= 0 || signal?.aborted) break;
      // At least 100 ms between probes; the last one lands on the grace's end.
      const ok = await pause(Math.min(left, Math.max(100, fullJitter(tries, probe))), signal).then(
        () => true,
        () => false,
      );
      if (!ok) break;
      if (await ping()) {
        onBack?.(now() - since);
        return true;
      }
    }
    this.lostAfterMs = now() - since;
    onLost?.(this.lostAfterMs);
    return false;
  }
}
