// Deterministic ids for CI reports. A report's id is a UUID v5 of its run id, so the CTRF
// file of a baseline run and a candidate's `baseline.reportId` name the same report without
// either having to read the other; a test's id is derived as the CTRF reference
// implementation derives `testId` (name | suite path | file path).
import { createHash } from 'node:crypto';
import { sampleId } from '../../runner/plan.ts';
import type { RunView } from '../../log/reader.ts';

/** The CTRF namespace (the RFC 4122 URL namespace), as the ctrf package uses it. */
export const CTRF_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

/** RFC 4122 version 5 (SHA-1, name-based) UUID. */
export function uuidV5(name: string, namespace: string = CTRF_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name, 'utf8')])).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The CTRF report id of a cagebench run. */
export function reportIdOf(runId: string): string {
  return uuidV5(`cagebench-run:${runId}`);
}

export interface PendingSample {
  readonly taskId: string;
  readonly suite: string;
  readonly epoch: number;
  readonly sampleId: string;
}

/** Samples the run planned that have no result yet (an interrupted or still running run). */
export function pendingSamples(view: RunView): PendingSample[] {
  const done = new Set(view.results.map((r) => r.sampleId));
  const epochs = view.run.config.epochs ?? 1;
  const out: PendingSample[] = [];
  for (const t of view.run.tasks) {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const id = sampleId(t.id, epoch);
      if (!done.has(id)) out.push({ taskId: t.id, suite: t.suite, epoch, sampleId: id });
    }
  }
  return out;
}
