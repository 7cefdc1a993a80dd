import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunConfigFile, mergeRunConfig } from './config-file.ts';

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cagebench-config-'));
  const path = join(dir, 'eval.yaml');
  await writeFile(path, text);
  return path;
}

describe('run configuration file', () => {
  it('reads the flags as snake_case keys, paths relative to the file', async () => {
    const path = await file(['paths: [suites/smoke]', 'agent: claude_code', 'model: mock/solve', 'attempts: 2', 'incorrect_message: Wrong, again.', 'agent_options:', '  system_prompt: Be brief.', '  skills: [skills/review]', 'out: runs'].join('\n'));
    const dir = join(path, '..');
    expect(await loadRunConfigFile(path)).toEqual({
      paths: [join(dir, 'suites/smoke')],
      agent: 'claude_code',
      model: 'mock/solve',
      attempts: 2,
      continueMessage: 'Wrong, again.',
      agentOptions: { system_prompt: 'Be brief.', skills: [join(dir, 'skills/review')] },
      out: join(dir, 'runs'),
    });
  });

  it('names the file, the line and the field of a mistake', async () => {
    const typo = await file('agent: oracle\nattemps: 2\n');
    await expect(loadRunConfigFile(typo)).rejects.toThrow(`${typo}:2: attemps: is not a known key (known: paths, agent,`);
    const bad = await file('agent: oracle\nconcurrency: two\n');
    await expect(loadRunConfigFile(bad)).rejects.toThrow(new RegExp(`${bad}:2: concurrency: .*number`));
    await expect(loadRunConfigFile('/nonexistent/eval.yaml')).rejects.toThrow('--config /nonexistent/eval.yaml does not exist.');
  });

  it('flags win over the file; agent options merge key by key', () => {
    const merged = mergeRunConfig(
      { agent: 'claude_code', attempts: 2, agentOptions: { system_prompt: 'a', debug: false } },
      { attempts: 3, model: undefined, agentOptions: { debug: true } },
    );
    expect(merged).toEqual({ agent: 'claude_code', attempts: 3, agentOptions: { system_prompt: 'a', debug: true } });
  });
});
