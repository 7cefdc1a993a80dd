// The `runtime` option: a sandbox under gVisor (Debian's runsc) or crun, on a second engine
// they are registered with (the machine's own engine is never reconfigured); a runtime the
// engine does not offer is refused before anything is created, naming the ones it does.
// A suite's own `runtime` (per task): `cagebench run` puts its sample under gVisor and the
// suite's other sample under the engine's default; a run whose --runtime differs, or an
// engine without the runtime, is refused (exit 2) before run.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connectEngine, createDockerProvider, type DockerProvider } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { suiteFile } from '../../tasks/test-support/suite.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';
import { cli, outDir, results } from './support.ts';

const IMAGE = 'cagebench/sandbox:bookworm';
const runId = testRunId('runtimes');
let engine: SecondEngine;
let provider: DockerProvider;

beforeAll(async () => {
  for (const bin of ['/usr/bin/runsc', '/usr/bin/crun']) if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/setup.sh (it installs Debian's runsc and crun)`);
  engine = await startSecondEngine({
    images: [IMAGE],
    daemonConfig: {
      runtimes: {
        // gVisor. In a VM without nested KVM the ptrace platform is the one that works; and its
        // own network stack refuses to start in a namespace it takes for the root one (this
        // engine's), so sandboxes here run with --network=none (they are `none` sandboxes anyway).
        runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--platform=ptrace', '--network=none'] },
        crun: { path: '/usr/bin/crun' },
      },
    },
  });
  provider = await createDockerProvider({ engine: await connectEngine({ host: engine.host }), teardownOnExit: false });
}, 180_000);

afterAll(async () => {
  await provider?.close();
  await engine?.dispose();
  expect(await engine?.residue()).toEqual([]);
}, 180_000);

describe('runtime', () => {
  it('offers what the engine registered', () => {
    expect(provider.capabilities.runtimes).toEqual(expect.arrayContaining(['runc', 'runsc', 'crun']));
  });

  it('runs a sandbox under gVisor with runtime: runsc', async () => {
    await using sandbox = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'runsc', runtime: 'runsc' });
    const info = await engine.docker.getContainer(sandbox.id).inspect();
    expect(info.HostConfig.Runtime).toBe('runsc');
    const r = await sandbox.exec('dmesg 2>/dev/null | head -3; cat /proc/version');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/gVisor/i);
    await sandbox.writeFile('/tmp/f', 'under gVisor');
    expect((await sandbox.readFile('/tmp/f')).toString()).toBe('under gVisor');
  });

  // crun 1.8 (Debian 12) cannot run on a hybrid cgroup host (v1 controllers plus a v2 mount
  // at /sys/fs/cgroup/unified, as this machine is); there the engine's own error must come through.
  const hybrid = existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
  it(`runs a sandbox with runtime: crun${hybrid ? ' (hybrid cgroups here: refused with crun\'s reason)' : ''}`, async () => {
    if (hybrid) {
      await expect(provider.start({ source: { image: IMAGE }, runId, sampleId: 'crun', runtime: 'crun' })).rejects.toMatchObject({
        code: 'CB_SANDBOX_FAILED',
        message: expect.stringContaining('cgroups in hybrid mode not supported'),
      });
      return;
    }
    await using sandbox = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'crun', runtime: 'crun' });
    expect((await engine.docker.getContainer(sandbox.id).inspect()).HostConfig.Runtime).toBe('crun');
    const r = await sandbox.exec('echo ok');
    expect(r.stdout.trim()).toBe('ok');
  });

  it('refuses a runtime the engine does not offer, before creating anything, naming those it does', async () => {
    const before = (await engine.docker.listContainers({ all: true })).length;
    await expect(provider.start({ source: { image: IMAGE }, runId, sampleId: 'kata', runtime: 'kata' })).rejects.toMatchObject({
      code: 'CB_BAD_SPEC',
      message: expect.stringMatching(/runtime "kata" is not one .* offers \(it offers .*"crun".*"runc".*"runsc"/),
    });
    expect((await engine.docker.listContainers({ all: true })).length).toBe(before);
  });
});

// Under gVisor the kernel log is gVisor's own ("Starting gVisor..."); under runc it is the
// host's, or unreadable. Each sample's scorer passes only where it ran as it asked.
const RUNTIME_SUITE = `name: runtimes
environment: { image: ${IMAGE}, workdir: /workspace }
samples:
  - id: gvisor
    instruction: Nothing to do.
    runtime: runsc
    scorer: { type: command, command: "dmesg 2>/dev/null | grep -qi gvisor" }
    solution: "true"
  - id: default
    instruction: Nothing to do.
    scorer: { type: command, command: "! (dmesg 2>/dev/null | grep -qi gvisor)" }
    solution: "true"
`;

describe("a task's own runtime (suite YAML runtime: runsc), through cagebench run", () => {
  it('runs that sample under gVisor, and the one naming none under the engine default', async () => {
    const out = await outDir();
    const id = testRunId('task-runtime');
    const { code, stdout, stderr } = await cli(['run', await suiteFile(RUNTIME_SUITE), '--agent', 'oracle', '--out', out, '--run-id', id], { DOCKER_HOST: engine.host }).exited;
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const byId = Object.fromEntries((await results(join(out, id))).map((r) => [r.sampleId, r]));
    expect(byId['gvisor__e1']).toMatchObject({ outcome: 'pass' });
    expect(byId['default__e1']).toMatchObject({ outcome: 'pass' });
  }, 180_000);

  it("refuses a run whose --runtime is another than a task's, before run.json, naming both", async () => {
    const out = await outDir();
    const id = testRunId('task-runtime-conflict');
    const { code, stderr } = await cli(['run', await suiteFile(RUNTIME_SUITE), '--agent', 'oracle', '--runtime', 'crun', '--out', out, '--run-id', id], { DOCKER_HOST: engine.host }).exited;
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/gvisor \(.*suite\.yaml\) asks for the container runtime "runsc"; the run's is "crun"/);
    expect(stderr).toMatch(/give --runtime runsc/);
    expect(existsSync(join(out, id, 'run.json'))).toBe(false);
  }, 60_000);

  it('refuses it, naming the task, on an engine without runsc (the machine\'s own), before run.json', async () => {
    const local = await connectEngine();
    const offered = Object.keys(((await local.docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {});
    if (offered.includes('runsc')) throw new Error('the main engine offers runsc: this test needs one that does not');
    const out = await outDir();
    const id = testRunId('task-runtime-missing');
    const { code, stderr } = await cli(['run', await suiteFile(RUNTIME_SUITE), '--agent', 'oracle', '--out', out, '--run-id', id], { DOCKER_HOST: '' }).exited;
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/gvisor: it needs the container runtime "runsc"; the provider offers .*"runc"/);
    expect(stderr).not.toMatch(/default: /);
    expect(existsSync(join(out, id, 'run.json'))).toBe(false);
  }, 60_000);
});
