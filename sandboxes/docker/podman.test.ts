// Telling Podman from dockerd by /version, and what Podman's runtime list means. The whole
// provider against a real Podman is harness/e2e/podman.test.ts.
import { describe, expect, it } from 'vitest';
import { connectEngine } from './client.ts';
import { dockerCapabilities } from './provider.ts';
import { isPodman, podmanRuntimes } from './podman.ts';

// As `podman system service` 4.3.1 (Debian 12) answers /version, abridged.
const PODMAN_VERSION = {
  Platform: { Name: 'linux/amd64/debian-12' },
  Components: [
    { Name: 'Podman Engine', Version: '4.3.1', Details: { APIVersion: '4.3.1', MinAPIVersion: '4.0.0' } },
    { Name: 'Conmon', Version: 'conmon version 2.1.6, commit: unknown' },
    { Name: 'OCI Runtime (runc)', Version: 'runc version 1.1.5+ds1' },
  ],
  Version: '4.3.1',
  ApiVersion: '1.41',
};

describe('Podman detection', () => {
  it('knows Podman by its "Podman Engine" component, and dockerd by its absence', async () => {
    expect(isPodman(PODMAN_VERSION)).toBe(true);
    expect(isPodman({ Components: [{ Name: 'Engine' }, { Name: 'containerd' }, { Name: 'runc' }, { Name: 'docker-init' }] })).toBe(false);
    expect(isPodman({})).toBe(false);
    expect(isPodman(undefined)).toBe(false);
    // The machine's own engine is dockerd.
    const local = await connectEngine();
    expect(isPodman(await local.docker.version())).toBe(false);
  });

  it('offers, on a local engine, only the runtimes whose binary exists', () => {
    const runtimes = { runc: { path: '/usr/bin/runc' }, kata: { path: '/usr/bin/kata-runtime-not-here' }, krun: { path: '/usr/bin/krun-not-here' }, sh: { path: '/bin/sh' } };
    expect(podmanRuntimes(runtimes, true)).toEqual(['runc', 'sh']);
    expect(podmanRuntimes(runtimes, false)).toEqual(['kata', 'krun', 'runc', 'sh']);
    const engine = { isLocal: true } as Parameters<typeof dockerCapabilities>[0];
    expect(dockerCapabilities(engine, { Architecture: 'x86_64', Runtimes: runtimes }, { podman: true }).runtimes).toEqual(['runc', 'sh']);
    expect(dockerCapabilities(engine, { Architecture: 'x86_64', Runtimes: runtimes }).runtimes).toEqual(['kata', 'krun', 'runc', 'sh']);
  });
});
