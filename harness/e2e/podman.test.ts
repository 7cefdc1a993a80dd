// Podman through its Docker-compatible API: a rootful `podman system service` of the test's
// own (podman-engine.ts), spoken to by the same Docker provider. It recognises Podman, offers
// what Podman can do, passes the whole conformance suite with no gap, runs a bundled suite
// with the oracle agent, and leaves nothing behind, on the host's network least of all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { capabilityGaps, connectEngine, createDockerProvider, LABEL_RUN, type DockerProvider } from '../../sandboxes/index.ts';
import { sandboxContract } from '../../sandboxes/contract.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { outDir, results, SUITES } from './support.ts';
import { podmanMissing, podmanOnHostNetwork, startPodmanEngine, type PodmanEngine } from './podman-engine.ts';

const IMAGES = ['debian:bookworm-slim', 'cagebench/relay:bookworm', 'cagebench/sandbox:bookworm'];
let engine: PodmanEngine | undefined;
/** Podman's links and iptables lines on the host before (a system Podman's, if any): the test adds none. */
let hostNetworkBefore: string[] = [];

beforeAll(async () => {
  const missing = podmanMissing();
  if (missing) throw new Error(`Podman tests: ${missing}`);
  hostNetworkBefore = podmanOnHostNetwork();
  engine = await startPodmanEngine({ images: IMAGES });
}, 240_000);

afterAll(async () => {
  if (!engine) return;
  await engine.dispose();
  expect(await engine.residue()).toEqual([]);
  expect(podmanOnHostNetwork(), 'what of Podman shows on the host network').toEqual(hostNetworkBefore);
}, 180_000);

function podman(): PodmanEngine {
  if (!engine) throw new Error('the Podman engine did not start (see beforeAll)');
  return engine;
}

/** Containers and networks labelled with the run id, on the Podman engine. */
async function leftovers(runId: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] });
  const containers = await podman().docker.listContainers({ all: true, filters });
  const networks = (await podman().docker.listNetworks({ filters })) as { Name: string }[];
  return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`)];
}

describe('Podman behind the Docker API', () => {
  let provider: DockerProvider;
  beforeAll(async () => {
    provider = await createDockerProvider({ engine: await connectEngine({ host: podman().host }), teardownOnExit: false });
  });
  afterAll(async () => {
    await provider?.close();
  });

  it('is recognised as Podman, offers every capability, and only the runtimes it has', async () => {
    expect(provider.location).toBe(`the Podman engine at ${podman().host}`);
    expect(capabilityGaps(provider.capabilities)).toEqual([]);
    expect(provider.capabilities.bindMounts).toBe(true);
    expect(provider.capabilities.networks).toEqual(['none', 'bridge', 'model-only']);
    // Its /info lists kata, krun, runj… from its configuration's table; only installed ones are offered.
    const listed = Object.keys(((await podman().docker.info()) as { Runtimes: Record<string, unknown> }).Runtimes);
    expect(listed).toEqual(expect.arrayContaining(['runc', 'kata']));
    expect(provider.capabilities.runtimes).toContain('runc');
    expect(provider.capabilities.runtimes).not.toContain('kata');
  });

  it('runs the sandbox through runc on its own storage, reaching this machine as host.containers.internal', async () => {
    const runId = testRunId('podman-basics');
    await using box = await provider.start({ source: { image: 'debian:bookworm-slim' }, runId, sampleId: 'basics', network: 'bridge', endpointPort: 9 });
    expect(box.endpoint).toEqual({ host: 'host.containers.internal', port: 9 });
    expect((await box.exec(['getent', 'hosts', 'host.containers.internal'])).stdout).toContain(podman().hostAddress);
    const info = (await podman().docker.info()) as { DockerRootDir: string };
    expect(info.DockerRootDir).toBe(join(podman().dir, 'root'));
    expect(await leftovers(runId)).toHaveLength(1);
  });
});

sandboxContract('podman (rootful, Docker API)', async () => {
  const connected = await connectEngine({ host: podman().host });
  const own = await createDockerProvider({ engine: connected, teardownOnExit: false });
  return { provider: own, image: 'debian:bookworm-slim', gaps: [], close: async () => undefined, leftovers };
});

describe('a run on Podman', () => {
  it('runs the smoke suite with the oracle agent: every sample scored, a pass', async () => {
    const runId = testRunId('podman-run');
    const provider = await createDockerProvider({ engine: await connectEngine({ host: podman().host }), teardownOnExit: false });
    const outcome = await run({ paths: [join(SUITES, 'smoke.yaml')], agent: 'oracle', out: await outDir(), runId, concurrency: 3 }, { provider });
    const rs = await results(outcome.runDir);
    expect(rs.length).toBeGreaterThanOrEqual(6);
    expect(rs.filter((r) => r.outcome !== 'pass').map((r) => `${r.sampleId}: ${r.outcome} ${r.error?.message ?? r.attempts.at(-1)?.explanation ?? ''}`)).toEqual([]);
    expect(outcome.summary.score.mean).toBe(1);
    expect(await leftovers(runId)).toEqual([]);
  }, 300_000);

  it('refuses up front a run asking for a runtime Podman lists but does not have, before run.json and before any container', async () => {
    const runId = testRunId('podman-kata');
    const provider = await createDockerProvider({ engine: await connectEngine({ host: podman().host }), teardownOnExit: false });
    const out = await outDir();
    const before = (await podman().docker.listContainers({ all: true })).length;
    const err = await run({ paths: [join(SUITES, 'smoke.yaml')], agent: 'oracle', out, runId, runtime: 'kata' }, { provider }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CB_CONFIG' });
    expect((err as Error).message).toMatch(/write-greeting: it needs the container runtime "kata"; the provider offers .*"runc"/);
    expect((err as Error).message).toContain(`the Podman engine at ${podman().host}`);
    expect(existsSync(join(out, runId, 'run.json'))).toBe(false);
    expect((await podman().docker.listContainers({ all: true })).length).toBe(before);
  });
});
