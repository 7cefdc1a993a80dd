// Podman behind its Docker-compatible API (`podman system service`): the same provider, with
// the few places where Podman answers differently from dockerd.
//
// - It names itself in /version: a component "Podman Engine".
// - The host, as its containers reach it, is `host.containers.internal`, an entry Podman
//   writes into every container's /etc/hosts (the default network's gateway, or the address
//   containers.conf sets as `host_containers_internal_ip`). Podman 4.3 (Debian 12) copies
//   Docker's `host-gateway` word literally into /etc/hosts instead of resolving it, so the
//   model relay and a `bridge` sandbox's endpoint use Podman's own name.
// - /info lists every runtime of its configuration's table (crun, runc, kata, krun, runsc,
//   runj…), installed or not, each with its path: on a local engine only those whose binary
//   exists are offered.
// Everything else (internal networks with no host address, static addresses on connect,
// limits, builds through Buildah, exec, archives) behaves as the conformance suite expects.
import { existsSync } from 'node:fs';

/** The part of /version that tells Podman from dockerd. */
export interface EngineVersion {
  readonly Components?: readonly { readonly Name?: string }[];
}

/** True when the engine answering the Docker API is Podman. */
export function isPodman(version: EngineVersion | undefined): boolean {
  return (version?.Components ?? []).some((c) => /^podman\b/i.test(c.Name ?? ''));
}

/** How a Podman container reaches the host (an /etc/hosts entry Podman writes). */
export const PODMAN_HOST_NAME = 'host.containers.internal';

/**
 * The runtimes a Podman engine can run: on a local engine the configured ones whose binary is
 * there (its /info lists every runtime of the configuration's table, with paths); remote, all
 * it lists.
 */
export function podmanRuntimes(runtimes: Record<string, unknown> | undefined, isLocal: boolean): string[] {
  const listed = Object.entries(runtimes ?? { runc: {} });
  if (!isLocal) return listed.map(([name]) => name).sort();
  return listed
    .filter(([, value]) => {
      const path = (value as { path?: unknown } | undefined)?.path;
      return typeof path !== 'string' || existsSync(path);
    })
    .map(([name]) => name)
    .sort();
}
