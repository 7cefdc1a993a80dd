// Host tools as run options: `--tools FILE` (repeatable), `tools:` in a config file (one path
// or a list, relative to the file), tools in code, `--tool-limit`; and a bad tools file
// stopping the CLI before any run directory exists.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadRunConfigFile } from '../config-file.ts';
import { checkRunOptions } from '../config-schema.ts';
import { resolveConfig } from '../config.ts';
import { defineTool } from './define.ts';

const tool = defineTool({ name: 'echo', description: 'Echo', parameters: z.object({ text: z.string() }), run: ({ text }) => text });

describe('tools as run options', () => {
  it('reads tools: from a config file, one path or a list, relative to the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cagebench-tools-'));
    await writeFile(join(dir, 'one.yaml'), 'agent: oracle\ntools: tools/a.ts\ntool_limit: 4\n');
    await writeFile(join(dir, 'two.yaml'), 'agent: oracle\ntools: [a.ts, /abs/b.ts]\n');
    expect(await loadRunConfigFile(join(dir, 'one.yaml'))).toMatchObject({ tools: [join(dir, 'tools/a.ts')], toolLimit: 4 });
    expect((await loadRunConfigFile(join(dir, 'two.yaml'))).tools).toEqual([join(dir, 'a.ts'), '/abs/b.ts']);
    await writeFile(join(dir, 'bad.yaml'), 'agent: oracle\ntools: [1]\ntool_limit: 0\n');
    const lines = ((await loadRunConfigFile(join(dir, 'bad.yaml')).catch((e: Error) => e)) as Error).message.split('\n');
    expect(lines[0]).toMatch(/bad\.yaml: tools\[0\] must be a file path or a list of them \(in code, also tools made with defineTool\(\)\)/);
    expect(lines[1]).toMatch(/bad\.yaml: tool_limit must be an integer >= 1 \(got 0\)/);
  });

  it('takes tools in code beside files: run.json records the files, and that code must come back on resume', () => {
    const config = resolveConfig({ paths: ['x'], agent: 'oracle', tools: ['rel/t.ts', tool], toolLimit: 2 });
    expect(config.tools).toEqual([join(process.cwd(), 'rel/t.ts'), tool]);
    expect(config.record.tools).toEqual([join(process.cwd(), 'rel/t.ts')]);
    expect(config.record.inline).toEqual(['tools']);
    expect(config.bridge.limits.toolCalls).toBe(2);
    expect(resolveConfig({ paths: ['x'], agent: 'oracle', tools: ['t.ts'] }).record.inline).toBeUndefined();
    expect(() => checkRunOptions({ agent: 'oracle', tools: [{ name: 'echo' }] }, { file: 'run() options' })).toThrow(/tools\[0\] must be a file path or a list of them/);
  });

  it('cagebench run --tools with a missing file: exit 2 naming it, no run directory', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cagebench-tools-out-'));
    const bin = fileURLToPath(new URL('../../bin/cagebench.js', import.meta.url));
    const smoke = fileURLToPath(new URL('../../tasks/suites/smoke', import.meta.url));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'run', smoke, '--agent', 'oracle', '--tools', '/nonexistent/tools.ts', '--out', out, '--run-id', 'r'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CAGEBENCH_DEBUG: '' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Tools file \/nonexistent\/tools\.ts does not exist/);
    expect(existsSync(join(out, 'r'))).toBe(false);
  }, 60_000);
});
