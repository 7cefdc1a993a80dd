// Public surface of sandboxes/: other folders import from here only.
export type {
  Architecture,
  BindMount,
  ExecOptions,
  ExecResult,
  FileToWrite,
  ImageSource,
  NetworkMode,
  Platform,
  PrepareImageOptions,
  ProviderCapabilities,
  Sandbox,
  SandboxEndpoint,
  SandboxLimits,
  SandboxProcess,
  SandboxProvider,
  SandboxSpec,
  SandboxVolume,
  SpawnExit,
  SpawnOptions,
  StartOptions,
} from './sandbox.ts';
export { identityOf, type Identity } from './identity.ts';
export { capabilityGaps, capabilityProblems, type SandboxNeeds } from './capabilities.ts';
export { SandboxError, type SandboxErrorCode } from './errors.ts';
export { createLabels, LABEL_RUN, LABEL_SAMPLE, LABEL_ROLE } from './labels.ts';
export { connectEngine, type Engine, type EngineOptions } from './docker/client.ts';
export { createDockerProvider, dockerCapabilities, DockerProvider, type DockerProviderOptions } from './docker/provider.ts';
export { RELAY_IMAGE, ENDPOINT_ALIAS } from './docker/model-only.ts';
export { copyProblem } from './docker/archive.ts';
export { ProviderPool, commonCapabilities, type PoolMember, type PoolOptions } from './pool.ts';
export { sweep, type SweepReport, type SweptResource } from './sweep.ts';
export { diffManifests, snapshotFiles, type FileChanges, type FileEntry, type FileKind, type FileManifest, type SnapshotOptions } from './file-changes.ts';
export { handleSignalsInApp, installExitHandlers, teardownAll } from './teardown.ts';

export const DEFAULT_SANDBOX_IMAGE = 'cagebench/sandbox:bookworm';
