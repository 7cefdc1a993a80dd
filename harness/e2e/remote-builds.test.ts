// Agent builds on a remote engine: a second dockerd over TCP with mutual TLS and a default
// bridge of its own (second-engine.ts), so model-only sandboxes reach the bridge through its
// relay. Nothing of this machine can be bind-mounted there, so the real Claude Code build
// (~400 MB) is shipped: once per engine into a volume every sample mounts read-only, instead of
// into every sample's sandbox. The same run with the volumes capability masked copies it into
// each sandbox, as before; both pass, and the samples' environment times are printed side by side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { connectEngine, createDockerProvider, LABEL_RUN, type DockerProvider, type SandboxProvider } from '../../sandboxes/index.ts';
import { LABEL_VOLUME } from '../../sandboxes/labels.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, outDir, results, sampleEvents } from './support.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';

const EPOCHS = 6;
let engine: SecondEngine;

beforeAll(async () => {
  engine = await startSecondEngine({ tls: true, bridge: true, images: ['cagebench/sandbox:bookworm', 'cagebench/relay:bookworm'] });
}, 240_000);

afterAll(async () => {
  await engine?.dispose();
  expect(await engine?.residue()).toEqual([]);
}, 180_000);

async function remoteProvider(): Promise<DockerProvider> {
  return createDockerProvider({ engine: await connectEngine({ host: engine.remote!.host, tls: { certPath: engine.remote!.certPath } }), teardownOnExit: false });
}

/** The provider as one that keeps no volumes: the builds are copied into each sandbox. */
function withoutVolumes(p: DockerProvider): SandboxProvider {
  return {
    name: p.name,
    location: p.location,
    capabilities: { ...p.capabilities, volumes: false },
    start: (spec, options) => p.start(spec, options),
    prepareImage: (source, options) => p.prepareImage(source, options),
    ping: (timeoutMs) => p.ping(timeoutMs),
    reap: () => p.reap(),
    sweep: (runId) => p.sweep(runId),
    close: () => p.close(),
  };
}

async function claudeRun(provider: SandboxProvider, name: string) {
  const runId = testRunId(name);
  const outcome = await run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: 'claude_code', model: 'mock/solve', epochs: EPOCHS, concurrency: 2, out: await outDir(), runId }, { provider });
  const rs = await results(outcome.runDir);
  expect(rs.map((r) => `${r.sampleId}: ${r.outcome} ${r.error?.message ?? ''}`.trim())).toEqual(rs.map((r) => `${r.sampleId}: pass`));
  expect(rs).toHaveLength(EPOCHS);
  const events = await Promise.all(rs.map((r) => sampleEvents(outcome.runDir, r.sampleId)));
  const installs = events.map((es) => es.filter((e) => e.type === 'agent.install'));
  // From the sandbox's start to the builds in place (the task's set-up, the identity probe, the copies if any).
  const at = (es: Record<string, unknown>[], type: string): number => Date.parse(String(es.find((e) => e.type === type)?.t));
  const afterStartMs = rs.map((r, i) => r.timings!.environmentMs! - (at(events[i]!, 'sandbox.start') - at(events[i]!, 'sample.start')));
  const containers = await engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] }) });
  expect(containers).toEqual([]);
  // The first two samples (concurrency 2) also pay the run's model-only network and relay on the engine.
  return { runId, installs, environmentMs: rs.map((r) => r.timings!.environmentMs!), steady: rs.slice(2).map((r) => r.timings!.environmentMs!), afterStartMs };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};

async function buildVolumes(): Promise<{ Name: string; Labels: Record<string, string> }[]> {
  const { Volumes } = (await engine.docker.listVolumes({ filters: JSON.stringify({ label: [LABEL_VOLUME] }) })) as { Volumes?: { Name: string; Labels: Record<string, string> }[] | null };
  return Volumes ?? [];
}

describe('agent builds on a remote engine', () => {
  it('claude_code with mock/solve: copied into every sandbox without volumes; with them, shipped once into a volume the engine keeps and every later sample and run mounts', async () => {
    const copied = await claudeRun(withoutVolumes(await remoteProvider()), 'remote-builds-copies');
    expect(await buildVolumes()).toEqual([]);
    for (const events of copied.installs) expect(events.filter((e) => e.source === 'volume')).toEqual([]);

    const provider = await remoteProvider();
    const shipped = await claudeRun(provider, 'remote-builds-volume');
    // One fill (the run's preflight or first sample), however many samples ran two at a time.
    expect(provider.volumes.fills).toBe(1);
    const volumes = await buildVolumes();
    expect(volumes.map((v) => v.Labels[LABEL_VOLUME]).sort()).toEqual(['content', 'ready']);
    const ready = volumes.find((v) => v.Labels[LABEL_VOLUME] === 'ready')!;
    expect(ready.Name).toMatch(/^cagebench-build-claude_code-\d[^-]*-linux-(x64|arm64)-[0-9a-f]{16}$/);
    for (const events of shipped.installs) expect(events).toContainEqual(expect.objectContaining({ source: 'volume', volumes: [ready.Name] }));

    // A later run on the engine finds the volume and ships nothing.
    const later = await remoteProvider();
    const again = await claudeRun(later, 'remote-builds-later');
    expect(later.volumes.fills).toBe(0);
    expect((await buildVolumes()).length).toBe(2);

    const line = (label: string, r: typeof copied): string =>
      `  ${label} environment median ${median(r.environmentMs)} [${r.environmentMs.join(', ')}]; after the first two samples median ${median(r.steady)}; sandbox started to builds in place median ${median(r.afterStartMs)} [${r.afterStartMs.join(', ')}]`;
    console.info(
      `remote engine, claude_code, per sample, ms (environment: sandbox start requested to builds in place):\n` +
        `${line('copies:              ', copied)}\n${line('volume (filling run):', shipped)}\n${line('volume (later run):  ', again)}\n` +
        `  the one fill: ${provider.volumes.filled[0]!.ms} ms`,
    );
    expect(median(again.steady)).toBeLessThan(median(copied.steady));
  }, 900_000);
});
