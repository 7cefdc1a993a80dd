// A run on a provider that cannot do what a task asks is refused before run.json (exit 2),
// naming the task, what it asks and what the provider offers; a provider given to run() is used.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentAdapter } from '../../agents/index.ts';
import { capabilityGaps, capabilityProblems, createDockerProvider, type ProviderCapabilities, type SandboxProvider } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { RUNTIME_PATTERN } from '../../tasks/validate.ts';
import { suiteFile } from '../../tasks/test-support/suite.ts';
import { FIXTURES, leftovers, outDir } from '../e2e/support.ts';
import { RUN_OPTIONS } from '../options.ts';
import { run } from './run.ts';
import { checkProviderFits, loadSelectedTasks, providerProblems, runtimeConflicts, taskNeeds } from './validate.ts';

const QUICK = join(FIXTURES, 'quick.yaml');
const FULL: ProviderCapabilities = {
  bindMounts: true,
  volumes: true,
  networks: ['none', 'bridge', 'model-only'],
  architectures: ['x64'],
  runtimes: ['runc'],
  prebuild: true,
  limits: { cpus: true, memory: true, pids: true },
};
const NARROW: ProviderCapabilities = { ...FULL, bindMounts: false, volumes: false, networks: ['none'], prebuild: false, runtimes: ['runc'], limits: { cpus: false, memory: false, pids: true } };

/** A provider that can start nothing: the run must refuse before asking it to. */
function narrowProvider(): SandboxProvider & { starts: number; closed: boolean } {
  return {
    name: 'narrow',
    location: 'a test provider',
    capabilities: NARROW,
    starts: 0,
    closed: false,
    async start() {
      this.starts++;
      throw new Error('must not start');
    },
    async close() {
      this.closed = true;
    },
  };
}

describe('capabilityProblems', () => {
  it('lists every need beyond the capabilities, naming what is asked and what is offered', () => {
    expect(capabilityProblems({ network: 'model-only', limits: { cpus: 1, memoryMb: 512, pids: 64 }, mounts: true, dockerfileBuild: true, architecture: 'arm64', runtime: 'runsc' }, NARROW)).toEqual([
      'it asks for the "model-only" network; the provider offers "none"',
      'it asks for a CPU limit (1); the provider cannot enforce CPU limits',
      'it asks for a memory limit (512 MB); the provider cannot enforce memory limits',
      "it needs host paths mounted into the sandbox; the provider cannot bind-mount this machine's files",
      'its environment is built from a Dockerfile; the provider cannot build images (give the task a prebuilt image)',
      'it needs the arm64 architecture; the provider runs "x64"',
      'it needs the container runtime "runsc"; the provider offers "runc"',
    ]);
    expect(capabilityProblems({ network: 'model-only', limits: { cpus: 1, memoryMb: 512, pids: 64 }, mounts: true, dockerfileBuild: true, architecture: 'x64', runtime: 'runc' }, FULL)).toEqual([]);
  });

  it('names the gaps as the conformance suite does', () => {
    expect(capabilityGaps(FULL)).toEqual([]);
    expect(capabilityGaps(NARROW)).toEqual(['bindMounts', 'limits.cpus', 'limits.memory', 'network:bridge', 'network:model-only', 'prebuild', 'volumes']);
  });

  it('providerProblems names the task; an agent with a model needs model-only', async () => {
    const tasks = await loadSelectedTasks([QUICK], 'write-ok');
    expect(providerProblems(tasks, NARROW, { needsModel: false })).toEqual([]);
    expect(providerProblems(tasks, NARROW, { needsModel: true })).toEqual([`${tasks[0]!.id}: it asks for the "model-only" network; the provider offers "none"`]);
  });
});

/** A suite of one quick sample per entry: id → its `runtime` (undefined: none named). */
function runtimeSuite(samples: Record<string, string | undefined>): Promise<string> {
  const lines = Object.entries(samples).map(
    ([id, runtime]) => `  - { id: ${id}, instruction: Write ok into out.txt., scorer: { type: file, path: out.txt, equals: "ok" }, solution: "echo ok > out.txt"${runtime ? `, runtime: ${runtime}` : ''} }`,
  );
  return suiteFile(`name: runtimes\nenvironment: { image: cagebench/sandbox:bookworm, workdir: /workspace }\nsamples:\n${lines.join('\n')}\n`);
}

describe("a task's own container runtime", () => {
  it('is a name by the same rule as --runtime', () => {
    expect(RUNTIME_PATTERN.source).toBe((RUN_OPTIONS.runtime.value as { pattern: RegExp }).pattern.source);
  });

  it("is what the task needs, over the run's; the run's applies to tasks that name none", async () => {
    const [gvisor, plain] = await loadSelectedTasks([await runtimeSuite({ gvisor: 'runsc', plain: undefined })], undefined);
    expect(taskNeeds(gvisor!, { needsModel: false }).runtime).toBe('runsc');
    expect(taskNeeds(gvisor!, { needsModel: false }, 'runsc').runtime).toBe('runsc');
    expect(taskNeeds(plain!, { needsModel: false })).not.toHaveProperty('runtime');
    expect(taskNeeds(plain!, { needsModel: false }, 'crun').runtime).toBe('crun');
  });

  it('a task asking for a runtime the provider lacks is a problem naming the task, with or without --runtime', async () => {
    const tasks = await loadSelectedTasks([await runtimeSuite({ gvisor: 'runsc', plain: undefined, runc: 'runc' })], undefined);
    expect(providerProblems(tasks, FULL, { needsModel: false })).toEqual(['gvisor: it needs the container runtime "runsc"; the provider offers "runc"']);
    expect(providerProblems(tasks, { ...FULL, runtimes: ['runc', 'runsc'] }, { needsModel: false })).toEqual([]);
  });

  it("conflicts with the run's: each task naming another, none when they agree or the run names none", async () => {
    const file = await runtimeSuite({ gvisor: 'runsc', plain: undefined, crun: 'crun' });
    const tasks = await loadSelectedTasks([file], undefined);
    expect(runtimeConflicts(tasks, undefined)).toEqual([]);
    expect(runtimeConflicts(tasks, 'runsc')).toEqual([`crun (${file}) asks for the container runtime "crun"; the run's is "runsc"`]);
    expect(runtimeConflicts(tasks, 'runc')).toEqual([
      `gvisor (${file}) asks for the container runtime "runsc"; the run's is "runc"`,
      `crun (${file}) asks for the container runtime "crun"; the run's is "runc"`,
    ]);
    // Refused even on a provider that offers every runtime: the task would run under another than its own.
    const everything = { ...narrowProvider(), capabilities: { ...FULL, runtimes: ['runc', 'runsc', 'crun'] } };
    const [gvisor] = tasks;
    expect(() => checkProviderFits([gvisor!], everything, { needsModel: false }, 'runc')).toThrow(
      new RegExp(`^A task names another container runtime than the run's \\(--runtime runc\\):\\n  gvisor \\(.*\\) asks for the container runtime "runsc"; the run's is "runc"\\n.*Drop --runtime .*, give --runtime runsc, or leave the task out with --task\\.$`, 's'),
    );
    expect(() => checkProviderFits(tasks, everything, { needsModel: false }, 'runc')).toThrow(/^2 tasks name another .*Drop --runtime \(it applies only to tasks that name no runtime\), or leave these tasks out with --task\.$/s);
    expect(() => checkProviderFits([gvisor!], everything, { needsModel: false }, 'runsc')).not.toThrow();
  });
});

describe('run() and the provider', () => {
  const modelAgent: AgentAdapter = { name: 'needs-model', needsModel: true, run: async () => ({ timedOut: false, exitCode: 0 }) } as unknown as AgentAdapter;

  it('refuses a task the provider cannot run before run.json, with a config error, and closes the provider', async () => {
    const provider = narrowProvider();
    const out = await outDir();
    const runId = testRunId('provider-fits');
    const err = await run({ paths: [QUICK], task: 'write-ok', agent: modelAgent, model: 'mock/echo', out, runId }, { provider }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CB_CONFIG', kind: 'config' });
    expect((err as Error).message).toMatch(/write-ok: it asks for the "model-only" network; the provider offers "none"/);
    expect((err as Error).message).toContain('"narrow" (a test provider)');
    expect(existsSync(join(out, runId, 'run.json'))).toBe(false);
    expect(provider.starts).toBe(0);
    expect(provider.closed).toBe(true);
  });

  it('--runtime the provider does not offer is refused before run.json, naming the runtimes it has', async () => {
    const provider = narrowProvider();
    const out = await outDir();
    const runId = testRunId('provider-runtime');
    const err = await run({ paths: [QUICK], task: 'write-ok', agent: 'oracle', out, runId, runtime: 'runsc' }, { provider }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CB_CONFIG' });
    expect((err as Error).message).toMatch(/write-ok: it needs the container runtime "runsc"; the provider offers "runc"/);
    expect(existsSync(join(out, runId, 'run.json'))).toBe(false);
    expect(provider.starts).toBe(0);
  });

  it("a task's runtime the provider does not offer is refused before run.json, naming the task", async () => {
    const provider = narrowProvider();
    const out = await outDir();
    const runId = testRunId('provider-task-runtime');
    const err = await run({ paths: [await runtimeSuite({ gvisor: 'runsc', plain: undefined })], agent: 'oracle', out, runId }, { provider }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CB_CONFIG', kind: 'config' });
    expect((err as Error).message).toMatch(/^A task asks for more than .*\n  gvisor: it needs the container runtime "runsc"; the provider offers "runc"\n/);
    expect((err as Error).message).not.toMatch(/plain/);
    expect(existsSync(join(out, runId, 'run.json'))).toBe(false);
    expect(provider.starts).toBe(0);
    expect(provider.closed).toBe(true);
  });

  it("a task naming another runtime than the run's --runtime is refused before run.json, naming both", async () => {
    const provider = { ...narrowProvider(), capabilities: { ...NARROW, runtimes: ['runc', 'runsc', 'crun'] } };
    const out = await outDir();
    const runId = testRunId('provider-runtime-conflict');
    const err = await run({ paths: [await runtimeSuite({ gvisor: 'runsc' })], agent: 'oracle', out, runId, runtime: 'crun' }, { provider }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CB_CONFIG', kind: 'config' });
    expect((err as Error).message).toMatch(/gvisor \(.*suite\.yaml\) asks for the container runtime "runsc"; the run's is "crun"/);
    expect((err as Error).message).toMatch(/give --runtime runsc/);
    expect(existsSync(join(out, runId, 'run.json'))).toBe(false);
    expect(provider.starts).toBe(0);
  });

  it("a task's runtime reaches its sandbox; one naming none gets the engine's default (local engine, runc)", async () => {
    const provider = await createDockerProvider({ teardownOnExit: false });
    const started = new Map<string, string | undefined>();
    const start = provider.start.bind(provider);
    provider.start = async (spec, options) => (started.set(spec.sampleId, spec.runtime), start(spec, options));
    const suite = await runtimeSuite({ own: 'runc', plain: undefined });
    const runId = testRunId('provider-task-runc');
    const outcome = await run({ paths: [suite], agent: 'oracle', out: await outDir(), runId }, { provider });
    expect(outcome.summary.counts).toMatchObject({ pass: 2, total: 2 });
    expect(Object.fromEntries(started)).toEqual({ own__e1: 'runc', plain__e1: undefined });
    expect(await leftovers(runId)).toBe(0);
  });

  it('--runtime runc reaches the container on the local engine', async () => {
    const runId = testRunId('provider-runc');
    const agent = { name: 'writer', needsModel: false, run: async (ctx: Parameters<AgentAdapter['run']>[0]) => (await ctx.sandbox.exec('echo ok > out.txt', { cwd: ctx.task.environment.workdir }), { timedOut: false, exitCode: 0 }) } as unknown as AgentAdapter;
    const provider = await createDockerProvider({ teardownOnExit: false });
    const started: (string | undefined)[] = [];
    const start = provider.start.bind(provider);
    provider.start = async (spec, options) => (started.push(spec.runtime), start(spec, options));
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent, out: await outDir(), runId, runtime: 'runc' }, { provider });
    expect(outcome.summary.counts).toMatchObject({ pass: 1, total: 1 });
    expect(started).toEqual(['runc']);
  });

  it('runs on the provider a factory makes', async () => {
    let made = 0;
    const runId = testRunId('provider-factory');
    const agent = { name: 'writer', needsModel: false, run: async (ctx: Parameters<AgentAdapter['run']>[0]) => (await ctx.sandbox.exec('echo ok > out.txt', { cwd: ctx.task.environment.workdir }), { timedOut: false, exitCode: 0 }) } as unknown as AgentAdapter;
    const outcome = await run({ paths: [QUICK], task: 'write-ok', agent, out: await outDir(), runId }, {
      provider: async () => {
        made++;
        return createDockerProvider({ teardownOnExit: false });
      },
    });
    expect(made).toBe(1);
    expect(outcome.summary.counts).toMatchObject({ pass: 1, total: 1 });
    expect(await leftovers(runId)).toBe(0);
  });
});
