// Bad input, as a user types it (issue 12 D): one line that names the flag or file and says
// what to do, exit 2 (usage), no stack trace, and no run directory written first.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('./cagebench.js', import.meta.url));
const smoke = fileURLToPath(new URL('../tasks/suites/smoke', import.meta.url));

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAGEBENCH_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Exit 2 and exactly one line on stderr matching `pattern`, with no stack frame. */
function usageError(r: CliRun, pattern: RegExp): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^cagebench: error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(2);
}

/** An --out directory, and a check that the run wrote nothing into it. */
async function outDir(): Promise<{ out: string; args: string[]; untouched: () => Promise<void> }> {
  const out = await mkdtemp(join(tmpdir(), 'cagebench-input-'));
  return {
    out,
    args: ['--out', out, '--run-id', 'bad-input'],
    untouched: async () => {
      expect(existsSync(join(out, 'bad-input'))).toBe(false);
      expect(await readdir(out)).toEqual([]);
    },
  };
}

describe('run: every input is checked before the run directory exists', () => {
  it('--fail-under abc is a usage error naming the flag', async () => {
    const { args, untouched } = await outDir();
    usageError(await cli(['run', smoke, '--agent', 'oracle', ...args, '--fail-under', 'abc']), /--fail-under must be a score between 0 and 1.*"abc"/);
    await untouched();
  });

  // Other malformed tables: harness/runner/validate.test.ts.
  it('--prices: a missing file and invalid YAML each name the file', async () => {
    const { args, untouched } = await outDir();
    const files = await mkdtemp(join(tmpdir(), 'cagebench-prices-'));
    const missing = join(files, 'nope.yaml');
    await writeFile(join(files, 'broken.yaml'), 'gpt-5: [1, 2\n');
    const [gone, broken] = await Promise.all([
      cli(['run', smoke, '--agent', 'oracle', ...args, '--prices', missing]),
      cli(['run', smoke, '--agent', 'oracle', ...args, '--prices', join(files, 'broken.yaml')]),
    ]);
    usageError(gone, new RegExp(`--prices ${missing} does not exist`));
    usageError(broken, /--prices .*broken\.yaml: invalid YAML/);
    await untouched();
  });

  it('--junit into a missing directory is caught before the run', async () => {
    const { out, args, untouched } = await outDir();
    const junit = join(out, 'reports', 'junit.xml');
    usageError(await cli(['run', smoke, '--agent', 'oracle', ...args, '--junit', junit]), /--junit .*reports\/junit\.xml: the directory .*reports does not exist/);
    await untouched();
  });

  it('--task matching nothing lists task ids that exist, never a run of nothing', async () => {
    const { args, untouched } = await outDir();
    const r = await cli(['run', smoke, '--agent', 'oracle', ...args, '--task', 'no-such-*']);
    usageError(r, /--task 'no-such-\*' matches no task/);
    expect(r.stderr).toMatch(/c-checksum, fix-python-bug, git-revert, hello-file, status-counts and 1 more/);
    await untouched();
  });

  // Every accepted and refused form: versionSpecProblem in harness/runner/validate.test.ts.
  it('an unknown --agent-version tag is an error, not a warning, before anything is fetched', async () => {
    const { args, untouched } = await outDir();
    // --offline as well: whatever happens, no registry is asked.
    const r = await cli(['run', smoke, '--agent', 'claude_code', '--model', 'mock/echo', '--offline', ...args, '--agent-version', 'nightly']);
    usageError(r, /--agent-version "nightly" is not a version cagebench knows: use stable, latest, an exact version X\.Y\.Z/);
    await untouched();
  });

  // Every malformed form: sandboxes/docker/engine-address.test.ts.
  it('a malformed DOCKER_HOST names the variable and the forms it takes', async () => {
    const { args, untouched } = await outDir();
    const hosts = ['bogus://x', 'tcp://host:notaport'];
    const runs = await Promise.all(hosts.map((host) => cli(['run', smoke, '--agent', 'oracle', ...args], { DOCKER_HOST: host })));
    for (const [i, r] of runs.entries()) usageError(r, new RegExp(`DOCKER_HOST=${hosts[i]!.replace(/[/:]/g, '\\$&')} .*unix:///.*tcp://HOST:PORT`));
    await untouched();
  });

  it('an engine that does not answer: exit 125 within seconds, nothing written', async () => {
    const { args, untouched } = await outDir();
    const r = await cli(['run', smoke, '--agent', 'oracle', ...args], { DOCKER_HOST: `unix://${join(tmpdir(), 'cagebench-no-engine.sock')}` });
    expect(r.stderr).toMatch(/^cagebench: error: No Docker engine answers at unix:\/\/.*cagebench-no-engine\.sock/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(125);
    expect(r.ms).toBeLessThan(20_000);
    await untouched();
  });

  it('with CAGEBENCH_DEBUG=1 the same error comes with its stack', async () => {
    const { args } = await outDir();
    const r = await cli(['run', smoke, '--agent', 'oracle', ...args, '--prices', '/nonexistent/prices.yaml'], { CAGEBENCH_DEBUG: '1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cagebench: error: --prices \/nonexistent\/prices\.yaml does not exist/);
    expect(r.stderr).toMatch(/^\s+at .*validate\.ts/m);
  });
});

describe('resume: a path that is not a run it can finish', () => {
  it('a file, a truncated run.json, and another format version: one line naming the path, exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cagebench-resume-'));
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await mkdir(join(dir, 'truncated'));
    await writeFile(join(dir, 'truncated', 'run.json'), '{"version": 1, "runId": "trunc');
    await mkdir(join(dir, 'future'));
    const record = { version: 99, runId: 'future', harness: { name: 'cagebench', version: '9.0.0' }, config: {}, tasks: [] };
    await writeFile(join(dir, 'future', 'run.json'), JSON.stringify(record));
    const [file, truncated, future] = await Promise.all(['notes.txt', 'truncated', 'future'].map((p) => cli(['resume', join(dir, p)])));
    usageError(file!, new RegExp(`${join(dir, 'notes.txt')} is a file, not a run directory`));
    usageError(truncated!, new RegExp(`${join(dir, 'truncated', 'run.json')} is not valid JSON.*truncated`));
    usageError(future!, new RegExp(`${join(dir, 'future', 'run.json')} is run format version 99; cagebench \\S+ reads version \\d+\\. Resume it with cagebench 9\\.0\\.0`));
  });
});

describe('tasks check', () => {
  it('--task matching nothing is an error listing task ids, not "0 task(s) valid"', async () => {
    const r = await cli(['tasks', 'check', smoke, '--task', 'zz*']);
    usageError(r, /--task 'zz\*' matches no task .*\(its tasks: c-checksum, .* and 1 more\)/);
    expect(r.stdout).not.toContain('0 task(s) valid');
  });
});

describe('bridge serve', () => {
  it('--port already in use: one line naming the port and what to do, non-zero exit', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await cli(['bridge', 'serve', '--model', 'mock/echo', '--port', String(port)]);
      usageError(r, new RegExp(`--port ${port}: 127\\.0\\.0\\.1:${port} is already in use\\..*another --port`));
      expect(r.stdout).toBe('');
    } finally {
      taken.close();
    }
  });

  it('--prices missing fails before it listens', async () => {
    usageError(await cli(['bridge', 'serve', '--model', 'mock/echo', '--prices', '/nonexistent/prices.yaml']), /--prices \/nonexistent\/prices\.yaml does not exist/);
  });
});

describe('download --version', () => {
  it('an unknown tag is a usage error before any registry is asked; auto is for runs only', async () => {
    usageError(await cli(['download', 'opencode', '--version', 'nightly', '--offline']), /--version "nightly" is not a version cagebench knows: use stable, latest/);
    usageError(await cli(['download', 'opencode', '--version', 'auto', '--offline']), /--version auto is only for runs/);
  });
});

describe('output into a closed pipe', () => {
  it('an error written to a reader that went away (`| head`) ends the process with its exit code, no spin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cagebench-pipe-'));
    await writeFile(join(dir, 'c.yaml'), 'agent: oracle\n');
    // The shell closes the pipe at once (head -c 0); the error line then meets EPIPE.
    const started = Date.now();
    const child = spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" run --config c.yaml 2>&1 | head -c 0`], { cwd: dir, stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(code).toBe(2);
  });
});
