// An agent that needs a build from the cache gets it in every sandbox without a network: the
// runner fetches it once per run (through the machine's npm registry, into the user's cache,
// reused by later runs) and mounts it read-only.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { AgentAdapter } from '../../agents/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

/** Writes the installed OpenCode's version into out.txt; the task wants "ok" there only if it ran. */
const opencodeProbe: AgentAdapter = {
  name: 'opencode-probe',
  needsModel: false,
  builds: ['opencode'],
  async run(ctx) {
    const opencode = ctx.installed!.opencode!;
    const r = await ctx.sandbox.exec([opencode.binary, '--version']);
    ctx.emit({ type: 'agent.note', text: `opencode ${r.stdout.trim()}` });
    if (r.exitCode === 0 && /^\d+\.\d+\.\d+/.test(r.stdout.trim())) await ctx.sandbox.exec('echo ok > out.txt', { cwd: ctx.task.environment.workdir });
    return { timedOut: false, exitCode: r.exitCode };
  },
};

describe('agent builds in a run', () => {
  it('are fetched once, mounted read-only in each sample (network none), and run there', async () => {
    const runId = testRunId('builds');
    const outcome = await run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: opencodeProbe, epochs: 2, agentVersion: 'latest', out: await outDir(), runId });
    const rs = await results(outcome.runDir);
    expect(rs.map((r) => r.outcome)).toEqual(['pass', 'pass']);
    expect(await leftovers(runId)).toBe(0);
  }, 180_000);

  it("a musl sandbox gets the agent's -musl build copied in, beside the mounted glibc one", async () => {
    const runId = testRunId('builds-musl');
    /** Says where its Claude Code is; the task passes only if it is the musl build, in place. */
    const muslProbe: AgentAdapter = {
      name: 'musl-probe',
      needsModel: false,
      builds: ['claude_code'],
      async run(ctx) {
        const claude = ctx.installed!.claude_code!;
        ctx.emit({ type: 'agent.note', binary: claude.binary });
        const r = await ctx.sandbox.exec(['test', '-x', claude.binary]);
        if (r.exitCode === 0 && claude.binary.startsWith('/opt/cagebench/agents-linux-')) await ctx.sandbox.exec('echo ok > out.txt', { cwd: ctx.task.environment.workdir });
        return { timedOut: false, exitCode: r.exitCode };
      },
    };
    const outcome = await run({ paths: [join(FIXTURES, 'musl-marked.yaml')], agent: muslProbe, out: await outDir(), runId });
    const [r] = await results(outcome.runDir);
    expect(r!.outcome, r!.error?.message).toBe('pass');
    const events = await sampleEvents(outcome.runDir, r!.sampleId);
    expect(events.find((e) => e.type === 'agent.install')).toMatchObject({ source: 'cache', platform: expect.stringMatching(/^linux-(x64|arm64)-musl$/), copied: [expect.stringMatching(/^claude_code \d/)] });
    expect(events.find((e) => e.type === 'agent.note')).toMatchObject({ binary: expect.stringMatching(/^\/opt\/cagebench\/agents-linux-(x64|arm64)-musl\/claude_code\/claude$/) });
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);

  it('offline, a build missing from the cache is an error naming the download command', async () => {
    const previous = process.env.CAGEBENCH_CACHE_DIR;
    process.env.CAGEBENCH_CACHE_DIR = await outDir(); // an empty cache
    try {
      await expect(run({ paths: [join(FIXTURES, 'quick.yaml')], task: 'write-ok', agent: opencodeProbe, offline: true, out: await outDir() })).rejects.toMatchObject({
        message: expect.stringMatching(/cagebench download opencode --version stable --platform linux-(x64|arm64)/),
      });
    } finally {
      if (previous === undefined) delete process.env.CAGEBENCH_CACHE_DIR;
      else process.env.CAGEBENCH_CACHE_DIR = previous;
    }
  });
});
