// `--agent-version auto|sandbox`: the agent's own program is looked up on the sandbox's PATH
// after the set-up. `auto` uses it when there and the cached stable build otherwise;
// `sandbox` never brings a build, and a sandbox without the program is a task error.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { createAgentCache } from '../../cache/index.ts';
import { hostPlatform, run } from '../index.ts';
import { FIXTURES, leftovers, outDir, results, sampleEvents } from './support.ts';

async function installEvent(runDir: string, sampleId: string): Promise<Record<string, unknown> | undefined> {
  return (await sampleEvents(runDir, sampleId)).find((e) => e.type === 'agent.install');
}

/**
 * For `sandbox` nothing is mounted, so the image must really hold the program: a copy of the
 * cached build placed by the sample's files, standing in for an image that ships Claude Code.
 */
async function suiteWithClaudeInImage(): Promise<string> {
  const entry = await createAgentCache({ log: () => undefined }).ensure('claude_code', { version: 'stable', platform: hostPlatform() });
  const yaml = (await readFile(join(FIXTURES, 'agent-in-image.yaml'), 'utf8')).replace(
    '    setup: "ln -s /opt/cagebench/agents/claude_code/claude /usr/local/bin/claude"\n',
    `    files:\n      - { path: /usr/local/bin/claude, source: ${JSON.stringify(entry.entrypoint)}, mode: 0o755 }\n`,
  );
  const path = join(await mkdtemp(join(tmpdir(), 'cagebench-suite-')), 'agent-in-image.yaml');
  await writeFile(path, yaml);
  return path;
}

describe('--agent-version auto and sandbox', () => {
  it.each(['auto', 'sandbox'] as const)('%s', async (agentVersion) => {
    const runId = testRunId(`agent-version-${agentVersion}`);
    const suite = agentVersion === 'sandbox' ? await suiteWithClaudeInImage() : join(FIXTURES, 'agent-in-image.yaml');
    const done = await run({ paths: [suite], agent: 'claude_code', agentVersion, model: 'mock/solve', concurrency: 2, out: await outDir(), runId });
    const [has, none] = await results(done.runDir);
    expect(has!.outcome, has!.error?.message).toBe('pass');
    expect(await installEvent(done.runDir, has!.sampleId)).toMatchObject({ source: 'sandbox', binary: '/usr/local/bin/claude' });
    if (agentVersion === 'auto') {
      expect(none!.outcome, none!.error?.message).toBe('pass');
      expect(await installEvent(done.runDir, none!.sampleId)).toMatchObject({ source: 'cache', binary: '/opt/cagebench/agents/claude_code/claude' });
    } else {
      expect(none).toMatchObject({ outcome: 'error', error: { kind: 'task', message: expect.stringContaining('the sandbox has no "claude" on its PATH') } });
    }
    expect(await leftovers(runId)).toBe(0);
  }, 300_000);
});
