// The package as a user gets it: `npm pack` (which builds dist/), installed into an empty
// project, then `npx cagebench` on a Harbor task over plain debian:bookworm-slim run as a
// non-root user, a TypeScript program that imports `run` from 'cagebench', a typed config
// file that tsc holds to the option types, and a global install. npm reaches the registry
// through the machine's own npm configuration (dependencies come from its cache).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
const typesNode = (JSON.parse(await readFile(join(repo, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sh(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Result> {
  return new Promise((done) => {
    execFile(file, args, { cwd: options.cwd, env: { ...process.env, CI: '1', ...options.env }, timeout: options.timeout ?? 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

let work: string;
let project: string;
let tarball: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cagebench-package-'));
  const packed = await sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  // What ships: compiled code and types, no sources' tests, benchmarks or fixtures.
  const paths = info!.files.map((f) => f.path);
  expect(paths).toContain('dist/bin/cagebench.js');
  expect(paths).toContain('dist/harness/index.d.ts');
  expect(paths.filter((p) => /\.test\.|^bench\/|test-support|\/e2e\/|^scripts\//.test(p))).toEqual([]);

  project = join(work, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  const installed = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@types/node@${typesNode}`], { cwd: project });
  expect(installed.code, installed.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A Harbor task on plain debian:bookworm-slim whose image runs as a non-root user. */
async function harborTask(dir: string): Promise<void> {
  await mkdir(join(dir, 'environment'), { recursive: true });
  await mkdir(join(dir, 'solution'), { recursive: true });
  await mkdir(join(dir, 'tests'), { recursive: true });
  await writeFile(join(dir, 'task.toml'), 'version = "1.0"\n\n[verifier]\ntimeout_sec = 60.0\n\n[agent]\ntimeout_sec = 60.0\n');
  await writeFile(join(dir, 'instruction.md'), 'Write the word done into answer.txt in your home directory.\n');
  await writeFile(join(dir, 'environment', 'Dockerfile'), 'FROM debian:bookworm-slim\nRUN useradd --create-home --shell /bin/bash worker\nUSER worker\nWORKDIR /home/worker\n');
  await writeFile(join(dir, 'solution', 'solve.sh'), '#!/usr/bin/env bash\nset -eu\necho done > "$HOME/answer.txt"\n');
  await writeFile(
    join(dir, 'tests', 'test.sh'),
    '#!/usr/bin/env bash\nmkdir -p /logs/verifier\nif [ "$(cat /home/worker/answer.txt 2>/dev/null)" = done ] && [ "$(stat -c %U /home/worker/answer.txt)" = worker ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n',
  );
}

describe('the packed package, installed into an empty project', () => {
  it('npx cagebench --version and --help answer from the compiled CLI', async () => {
    const v = await sh('npx', ['--no-install', 'cagebench', '--version'], { cwd: project });
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await sh('npx', ['--no-install', 'cagebench', 'run', '--help'], { cwd: project });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--max-errors <n>/);
    expect(help.stdout).toMatch(/--build-concurrency <n>/);
  });

  it('npx cagebench run <a Harbor task dir> --agent oracle passes, and writes a run directory', async () => {
    const task = join(project, 'hello-task');
    await harborTask(task);
    const r = await sh('npx', ['--no-install', 'cagebench', 'run', task, '--agent', 'oracle', '--out', 'runs', '--run-id', 'packed', '--json'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { counts: { pass: number; error: number } };
    expect(summary.counts).toMatchObject({ pass: 1, error: 0 });
    expect(await readdir(join(project, 'runs', 'packed'))).toEqual(expect.arrayContaining(['run.json', 'summary.json', 'samples']));

    // The installed package carries the report's page and builds its client; baseline save and compare answer.
    const report = await sh('npx', ['--no-install', 'cagebench', 'report', join('runs', 'packed'), '-o', 'report'], { cwd: project });
    expect(report.code, report.stderr).toBe(0);
    expect(await readdir(join(project, 'report'))).toEqual(expect.arrayContaining(['index.html', 'app.js', 'style.css', 'data']));
    expect((await readFile(join(project, 'report', 'app.js'), 'utf8')).length).toBeGreaterThan(1000);
    const saved = await sh('npx', ['--no-install', 'cagebench', 'baseline', 'save', join('runs', 'packed'), '-o', 'baseline.json'], { cwd: project });
    expect(saved.code, saved.stderr).toBe(0);
    const compared = await sh('npx', ['--no-install', 'cagebench', 'compare', 'baseline.json', join('runs', 'packed'), '--min-pairs', '1'], { cwd: project });
    expect(compared.code, compared.stdout + compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/^PASS/);
  });

  it('a TypeScript program imports run from cagebench, passes a defineScorer scorer, and gets typed results', async () => {
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'], outDir: 'out' }, include: ['app.ts'] }),
    );
    await writeFile(
      join(project, 'app.ts'),
      [
        "import { run, defineScorer, defineTask, type RunOutcome } from 'cagebench';",
        '',
        '// Scores by the file the agent left behind, not by the task\'s own scorer.',
        'const hasDone = defineScorer(async ({ sandbox }) => (await sandbox.exec([\'cat\', \'/workspace/out.txt\'])).stdout.trim() === \'done\');',
        'const tasks = [',
        "  defineTask({ id: 'writes-done', instruction: 'Write done into out.txt.', scorer: { type: 'command', command: 'false' }, solution: 'echo done > out.txt' }),",
        "  defineTask({ id: 'writes-nothing', instruction: 'Do nothing.', scorer: { type: 'command', command: 'false' }, solution: 'true' }),",
        '];',
        "const outcome: RunOutcome = await run({ agent: 'oracle', tasks, scorer: hasDone, out: 'runs', runId: 'from-code' });",
        'const passed: number = outcome.summary.counts.pass;',
        'console.log(JSON.stringify({ passed, total: outcome.summary.counts.total, exitCode: outcome.exitCode, runDir: outcome.runDir }));',
        '',
      ].join('\n'),
    );
    const compiled = await sh(process.execPath, [tsc, '-p', '.'], { cwd: project });
    expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
    const r = await sh(process.execPath, ['out/app.js'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { passed: number; total: number; exitCode: number; runDir: string };
    // The run's scorer replaced the tasks' (which always fail): one task wrote the file.
    expect(line).toMatchObject({ passed: 1, total: 2, exitCode: 0, runDir: join(project, 'runs', 'from-code') });
  });

  it('cagebench.config.ts is type-checked against the run options: a wrong type fails tsc, naming the option', async () => {
    const check = async (body: string): Promise<Result> => {
      await writeFile(join(project, 'cagebench.config.ts'), `import { defineConfig } from 'cagebench';\n\nexport default defineConfig(${body});\n`);
      await writeFile(
        join(project, 'tsconfig.config.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'], noEmit: true }, include: ['cagebench.config.ts'] }),
      );
      return sh(process.execPath, [tsc, '-p', 'tsconfig.config.json'], { cwd: project });
    };
    expect((await check("{ agent: 'oracle', epochs: 2, openaiApi: 'responses', scorer: () => true }")).code).toBe(0);
    const wrongType = await check("{ agent: 'oracle', epochs: 'two' }");
    expect(wrongType.code).not.toBe(0);
    expect(wrongType.stdout).toMatch(/cagebench\.config\.ts.*error TS2322.*'string' is not assignable to type 'number'/s);
    const typo = await check("{ agent: 'oracle', epoch: 2 }");
    expect(typo.stdout).toMatch(/'epoch' does not exist/);
    const badChoice = await check("{ agent: 'oracle', openaiApi: 'soap' }");
    expect(badChoice.stdout).toMatch(/"soap"' is not assignable/);
    // And the CLI finds it in the working directory: with it, `cagebench run` needs no flags.
    await harborTask(join(project, 'hello-task'));
    expect((await check("{ agent: 'oracle', paths: ['hello-task'], out: 'runs', runId: 'by-config', scorer: () => true }")).code).toBe(0);
    await rm(join(project, 'tsconfig.config.json'));
    const r = await sh('npx', ['--no-install', 'cagebench', 'run', '--json'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { runId: string; counts: { pass: number } })).toMatchObject({ runId: 'by-config', counts: { pass: 1 } });
    await rm(join(project, 'cagebench.config.ts'));
  });

  it('npm install -g puts a working cagebench on the PATH', async () => {
    const prefix = join(work, 'global');
    const g = await sh('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefer-offline', '--prefix', prefix, tarball], { cwd: work });
    expect(g.code, g.stderr).toBe(0);
    const v = await sh(join(prefix, 'bin', 'cagebench'), ['--version'], { cwd: work });
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
