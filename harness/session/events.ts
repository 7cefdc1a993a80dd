// A session's events: numbered once, kept in memory for replay (`events(runId, { after })`),
// appended to the session directory's events.jsonl as they happen, and handed to whoever
// streams the turn in progress.
import { closeSync, openSync, writeSync } from 'node:fs';

export interface SessionEvent {
  /** 1, 2, 3, ... across the whole session: a reader resumes after the last one it saw. */
  readonly seq: number;
  /** ISO time. */
  readonly t: string;
  /** The turn it belongs to (`run-1`, ...); absent for the session's own events. */
  readonly runId?: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

export class SessionEvents {
  private readonly all: SessionEvent[] = [];
  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private fd: number | undefined;

  constructor(path: string, startAt = 0) {
    this.fd = openSync(path, 'a');
    this.seq = startAt;
  }

  private seq: number;

  append(type: string, fields: Record<string, unknown> = {}, runId?: string): SessionEvent {
    const event: SessionEvent = { ...fields, seq: ++this.seq, t: new Date().toISOString(), ...(runId ? { runId } : {}), type };
    this.all.push(event);
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(event)}\n`);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** The events of one turn (or all, without a runId) after sequence number `after`. */
  list(runId?: string, after = 0): SessionEvent[] {
    return this.all.filter((e) => e.seq > after && (runId === undefined || e.runId === runId));
  }

  get last(): number {
    return this.seq;
  }

  subscribe(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
