import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findConfigFile, loadRunConfigFile, mergeRunConfig } from './config-file.ts';

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
      incorrectMessage: 'Wrong, again.',
      agentOptions: { system_prompt: 'Be brief.', skills: [join(dir, 'skills/review')] },
      out: join(dir, 'runs'),
    });
  });

  it('names the file, the line and the field of every mistake, and what is allowed', async () => {
    const typo = await file('agent: oracle\nattemps: 2\nconcurrency: two\nfail_under: 3\nopenai_api: soap\n');
    const error = await loadRunConfigFile(typo).catch((e: Error) => e);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/eval\.yaml: attemps is not a known field \(known fields: paths, tasks, agent, .*attempts.*\) \(line 2\)$/);
    expect(lines[1]).toMatch(/eval\.yaml: concurrency must be an integer >= 1 \(got "two"\) \(line 3\)$/);
    expect(lines[2]).toMatch(/eval\.yaml: fail_under must be a score between 0 and 1 \(got 3\) \(line 4\)$/);
    expect(lines[3]).toMatch(/eval\.yaml: openai_api must be one of "chat", "responses" \(got "soap"\) \(line 5\)$/);
    await expect(loadRunConfigFile('/nonexistent/eval.yaml')).rejects.toThrow('--config /nonexistent/eval.yaml does not exist.');
  });

  it('takes camelCase keys in YAML too; code-only options are refused there, by name', async () => {
    const path = await file('agent: oracle\nmaxErrors: 2\nengine_grace: 30\nscorer: x\n');
    await expect(loadRunConfigFile(path)).rejects.toThrow(/eval\.yaml: scorer can be given only in a TS or JS config file .*\(line 4\)/);
    const ok = await file('agent: oracle\nmaxErrors: 2\nengine_grace: 30\n');
    expect(await loadRunConfigFile(ok)).toEqual({ agent: 'oracle', maxErrors: 2, engineGrace: 30 });
  });

  it('loads a TypeScript config (through tsx) with functions in it, paths relative to it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cagebench-config-'));
    const path = join(dir, 'cagebench.config.ts');
    await writeFile(
      path,
      [
        "const scorer = (ctx: { answer?: string }): boolean => (ctx.answer ?? '').includes('ok');",
        "export default { agent: 'oracle', paths: ['suite.yaml'], out: 'runs', epochs: 2 as number, scorer };",
      ].join('\n'),
    );
    expect(findConfigFile(dir)).toBe(path);
    const config = await loadRunConfigFile(path);
    expect(config).toMatchObject({ agent: 'oracle', paths: [join(dir, 'suite.yaml')], out: join(dir, 'runs'), epochs: 2 });
    expect(typeof config.scorer).toBe('function');
    const bad = join(dir, 'bad.config.mjs');
    await writeFile(bad, "export default { agent: 'oracle', epochs: 0, retries: 'many' };\n");
    await expect(loadRunConfigFile(bad)).rejects.toThrow(/bad\.config\.mjs: epochs must be an integer >= 1 \(got 0\)\n.*bad\.config\.mjs: retries must be an integer >= 0 \(got "many"\)/);
    const noDefault = join(dir, 'none.config.mjs');
    await writeFile(noDefault, 'export const x = 1;\n');
    await expect(loadRunConfigFile(noDefault)).rejects.toThrow(/its default export must be the config, e\.g\. export default defineConfig\(.*found: x/);
  });

  it('flags win over the file; agent options merge key by key', () => {
    const merged = mergeRunConfig(
      { agent: 'claude_code', attempts: 2, agentOptions: { system_prompt: 'a', debug: false } },
      { attempts: 3, model: undefined, agentOptions: { debug: true } },
    );
    expect(merged).toEqual({ agent: 'claude_code', attempts: 3, agentOptions: { system_prompt: 'a', debug: true } });
  });
});
