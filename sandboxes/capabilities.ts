// What a sandbox needs, checked against what a provider declares, before anything starts:
// a need the provider cannot meet is a problem to report, never a weaker policy to run with.
import type { Architecture, NetworkMode, ProviderCapabilities } from './sandbox.ts';

/** What samples of one task will ask of their provider. */
export interface SandboxNeeds {
  readonly network?: NetworkMode;
  readonly limits?: { readonly cpus?: number; readonly memoryMb?: number; readonly pids?: number };
  /** Host paths mounted read-only (agent builds on a local engine). */
  readonly mounts?: boolean;
  /** The image comes from a Dockerfile (built by the provider). */
  readonly dockerfileBuild?: boolean;
  readonly architecture?: Architecture;
  readonly runtime?: string;
}

/**
 * Every way `needs` asks for more than `capabilities` offer, one sentence each naming what is
 * asked and what is offered; empty when the provider can run it as asked.
 */
export function capabilityProblems(needs: SandboxNeeds, capabilities: ProviderCapabilities): string[] {
  const problems: string[] = [];
  const network = needs.network ?? 'none';
  if (!capabilities.networks.includes(network)) {
    problems.push(`it asks for the "${network}" network; the provider offers ${list(capabilities.networks)}`);
  }
  const limits = needs.limits ?? {};
  if (limits.cpus !== undefined && !capabilities.limits.cpus) problems.push(`it asks for a CPU limit (${limits.cpus}); the provider cannot enforce CPU limits`);
  if (limits.memoryMb !== undefined && !capabilities.limits.memory) problems.push(`it asks for a memory limit (${limits.memoryMb} MB); the provider cannot enforce memory limits`);
  if (limits.pids !== undefined && !capabilities.limits.pids) problems.push(`it asks for a process limit (${limits.pids}); the provider cannot enforce process limits`);
  if (needs.mounts && !capabilities.bindMounts) problems.push('it needs host paths mounted into the sandbox; the provider cannot bind-mount this machine\'s files');
  if (needs.dockerfileBuild && !capabilities.prebuild) problems.push('its environment is built from a Dockerfile; the provider cannot build images (give the task a prebuilt image)');
  if (needs.architecture && !capabilities.architectures.includes(needs.architecture)) {
    problems.push(`it needs the ${needs.architecture} architecture; the provider runs ${list(capabilities.architectures)}`);
  }
  if (needs.runtime && !capabilities.runtimes.includes(needs.runtime)) {
    problems.push(`it needs the container runtime "${needs.runtime}"; the provider offers ${list(capabilities.runtimes)}`);
  }
  return problems;
}

/**
 * The names of what the capabilities leave out, as the conformance suite's `gaps` spell them:
 * `bindMounts`, `prebuild`, `volumes`, `network:<mode>`, `limits.cpus|memory|pids`. Sorted.
 */
export function capabilityGaps(capabilities: ProviderCapabilities): string[] {
  const gaps: string[] = [];
  if (!capabilities.bindMounts) gaps.push('bindMounts');
  if (!capabilities.prebuild) gaps.push('prebuild');
  if (!capabilities.volumes) gaps.push('volumes');
  for (const mode of ['none', 'bridge', 'model-only'] as const) if (!capabilities.networks.includes(mode)) gaps.push(`network:${mode}`);
  for (const limit of ['cpus', 'memory', 'pids'] as const) if (!capabilities.limits[limit]) gaps.push(`limits.${limit}`);
  return gaps.sort();
}

function list(items: readonly string[]): string {
  return items.length ? items.map((i) => `"${i}"`).join(', ') : 'none';
}
