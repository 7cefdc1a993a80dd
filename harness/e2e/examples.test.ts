// The examples are run as a user runs them: typechecked against the public entry, then each
// started in its own process with tsx (examples/tsconfig.json maps `cagebench` to the sources),
// over real Docker. Each asserts its exit code, what it printed, and that nothing was left.
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { cli, leftovers, outDir, results, summary } from './support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSCONFIG = join(ROOT, 'examples/tsconfig.json');

interface Exited {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function npx(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function example(file: string, ...args: string[]): Promise<Exited> {
  return npx(['tsx', '--tsconfig', TSCONFIG, join(ROOT, 'examples', file), ...args]);
}

/** The run directory an example printed. */
function printedRunDir(stdout: string): string {
  const dir = /^run directory: (.+)$/m.exec(stdout)?.[1];
  if (!dir) throw new Error(`the example printed no run directory:\n${stdout}`);
  return dir;
}

describe('examples', () => {
  it('typecheck against the public entry', { timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await npx(['tsc', '-p', TSCONFIG, '--noEmit']);
    expect(stdout + stderr).toBe('');
    expect(code).toBe(0);
  });

  it('run-suite.ts runs two tasks in code with the oracle and exits with the outcome', { timeout: 180_000 }, async () => {
    const out = await outDir();
    const { code, stdout, stderr } = await example('run-suite.ts', out);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('pass 2, fail 0, error 0 of 2');
    expect(stdout).toMatch(/mean score 1\.00 ± 0\.00 \(n=2\), pass@1 1\.00/);
    const runDir = printedRunDir(stdout);
    expect(runDir.startsWith(out)).toBe(true);
    const rs = await results(runDir);
    expect(rs.map((r) => `${r.sampleId}:${r.outcome}`)).toEqual(['fix-sum__e1:pass', 'write-greeting__e1:pass']);
    // fix-sum was scored by the example's defineScorer function.
    expect(rs[0]!.attempts[0]!.explanation).toBe('bash sum.sh 1 2 3 printed "6"');
    expect(await leftovers(basename(runDir))).toBe(0);
  });

  it('agent-adapter.ts runs a custom adapter object as the agent', { timeout: 180_000 }, async () => {
    const out = await outDir();
    const { code, stdout, stderr } = await example('agent-adapter.ts', out);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('agent shell: pass 1, fail 0, error 0 of 1; mean score 1');
    const runDir = printedRunDir(stdout);
    expect((await summary(runDir))?.agent).toBe('shell');
    const [r] = await results(runDir);
    expect(r!.agent).toBe('shell');
    expect(await leftovers(basename(runDir))).toBe(0);
  });

  it('sandbox-provider.ts starts, uses and removes a sandbox through the wrapped provider', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await example('sandbox-provider.ts');
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('read back: hello from the host');
    expect(stdout).toContain('a failing command is a result: exit 3');
    expect(stdout).toMatch(/\[provider\] stopped [0-9a-f]{12}/);
    const runId = /for run (\S+)/.exec(stdout)?.[1];
    expect(runId).toBeDefined();
    expect(await leftovers(runId!)).toBe(0);
  });

  it('session.ts embeds a three-turn session and prints each turn\'s files', { timeout: 300_000 }, async () => {
    const { code, stdout, stderr } = await npx(['tsx', '--tsconfig', TSCONFIG, join(ROOT, 'examples', 'session.ts')], { SESSION_DIR: join(await outDir(), 'session') });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('run-1: end_turn; created [notes.txt] modified [] deleted []');
    expect(stdout).toContain('run-2: end_turn; created [] modified [notes.txt] deleted []');
    expect(stdout).toContain('run-3: end_turn; created [other.txt] modified [] deleted [notes.txt]');
  });

  it('model-provider.ts serves a custom provider through a bridge in two APIs', { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await example('model-provider.ts');
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('openai chat: The answer is 42.');
    expect(stdout).toContain('anthropic stream: The answer is 42.');
    expect(stdout).toMatch(/session: 2 calls, \d+ input and 8 output tokens/);
  });

  it('cagebench.config.ts loads through the CLI, its scorer scoring (flags win: oracle, one epoch)', { timeout: 180_000 }, async () => {
    const out = await outDir();
    const runId = testRunId('example-config');
    const config = join(ROOT, 'examples/cagebench.config.ts');
    const { code, stdout, stderr } = await cli(['run', '--config', config, '--agent', 'oracle', '--epochs', '1', '--out', out, '--run-id', runId], { TSX_TSCONFIG_PATH: TSCONFIG }).exited;
    expect(code, stdout + stderr).toBe(0);
    const [r] = await results(join(out, runId));
    expect(r!.outcome).toBe('pass');
    expect(r!.attempts[0]!.explanation).toBe('greeting.txt: "hello world\\n"');
    expect(await leftovers(runId)).toBe(0);
  });
});
