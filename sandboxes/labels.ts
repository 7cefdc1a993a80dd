// Every resource cagebench creates carries these labels; cleanup keys on them.

export const LABEL_RUN = 'cagebench.run';
export const LABEL_SAMPLE = 'cagebench.sample';
export const LABEL_ROLE = 'cagebench.role';

export type ResourceRole = 'sandbox' | 'network' | 'relay' | 'volume-fill';

export interface LabelOptions {
  readonly runId: string;
  readonly sampleId?: string;
  readonly role: ResourceRole;
  readonly extra?: Readonly<Record<string, string>>;
}

export function createLabels(options: LabelOptions): Record<string, string> {
  const labels: Record<string, string> = {
    ...options.extra,
    [LABEL_RUN]: options.runId,
    [LABEL_ROLE]: options.role,
  };
  if (options.sampleId !== undefined) labels[LABEL_SAMPLE] = options.sampleId;
  return labels;
}

/** Engine list filter selecting resources of one run, or of every run. */
export function runFilter(runId?: string): { label: string[] } {
  return { label: [runId === undefined ? LABEL_RUN : `${LABEL_RUN}=${runId}`] };
}

// Images cagebench builds for tasks carry these (build-time labels: Docker cannot relabel an
// image, so the last run that used one is kept outside it, in harness/images/records.ts).
// Their own names, not `cagebench.run`: a container started from an image inherits its labels,
// and cleanup must never take a user's `docker run` of a task image for one of ours.
/** `task`: a task image cagebench built (prunable while only `cagebench/env:` tags name it). */
export const LABEL_IMAGE_KIND = 'cagebench.image.kind';
/** Hash of the Dockerfile context the image was built from (its tag holds the first 16 hex digits). */
export const LABEL_IMAGE_CONTEXT_DIGEST = 'cagebench.image.context-digest';
/** The task (id and digest) the image was first built for. */
export const LABEL_IMAGE_TASK = 'cagebench.image.task';
export const LABEL_IMAGE_TASK_DIGEST = 'cagebench.image.task-digest';
/** The run that built it. */
export const LABEL_IMAGE_BUILT_BY = 'cagebench.image.built-by-run';
/** Set by images.ts on every build before this version too: the context directory. */
export const LABEL_IMAGE_CONTEXT = 'cagebench.context';
/** The repository of every task image cagebench builds (`cagebench/env:<digest16>`). */
export const TASK_IMAGE_REPO = 'cagebench/env';

// Volumes a provider fills from this machine's files (SandboxSpec.volumes, agent builds on a
// remote engine): the per-engine cache, so never `cagebench.run` (a sweep must leave them).
/** `build`: a volume cagebench fills; `content` holds the files, `ready` names a complete one. */
export const LABEL_VOLUME = 'cagebench.volume';
/** On both: the name the spec gave (the `ready` volume's own). */
export const LABEL_VOLUME_NAME = 'cagebench.volume.name';
/** On the `ready` volume: the `content` volume it vouches for, complete. */
export const LABEL_VOLUME_CONTENT = 'cagebench.volume.content';
/** On the `content` volume: the run that filled it, and the host directory it came from. */
export const LABEL_VOLUME_FILLED_BY = 'cagebench.volume.filled-by-run';
export const LABEL_VOLUME_SOURCE = 'cagebench.volume.source';
