// The example CI files (examples/ci/) run here, step by step, against run directories made on
// disk: their shell is the shell a runner would execute, with three stand-ins on PATH
// (test-fixtures/): `npx cagebench run` copies a prepared run instead of running Docker and
// then writes the CI outputs as the run does; `gh` and `curl` answer like GitHub's and
// GitLab's APIs without any network. `cagebench baseline save` and `compare` are the real CLI.
// What is checked: the exit codes the scripts end with for PASS / WARN / FAIL / INVALID, the
// comment and summary they produce (and their limits), and how the sticky comment is found.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PR_COMMENT_LIMIT, PR_COMMENT_MARKER } from './pr-comment.ts';
import { STEP_SUMMARY_LIMIT } from './step-summary.ts';
import { uniform, writeFakeRun, type Cell } from './test-support.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./test-fixtures/', import.meta.url));
const CLI = join(REPO, 'bin', 'cagebench.js');

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly run?: string;
  readonly env?: Record<string, string>;
}
interface Workflow {
  readonly env: Record<string, string>;
  readonly jobs: Record<string, { readonly steps: readonly Step[] }>;
}
interface GitlabJob {
  readonly script: readonly string[];
  readonly artifacts?: { readonly reports?: { readonly junit?: string } };
}

const github = parse(await readFile(join(REPO, 'examples/ci/github-actions.yml'), 'utf8')) as Workflow;
const gitlab = parse(await readFile(join(REPO, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<string, GitlabJob> & { variables: Record<string, string> };

function step(job: string, id: string): Step {
  const found = github.jobs[job]?.steps.find((s) => s.id === id);
  if (!found?.run) throw new Error(`examples/ci/github-actions.yml: no step with id ${id} and a run script in job ${job}`);
  return found;
}

/** GitHub's `${{ … }}` in a step's env, from a table of the values this test gives. */
function expand(value: string, context: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => context[expr] ?? '');
}

interface Shell {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** This process's environment less what a CI system sets (a real CI job must not leak into the scenarios). */
function hostEnvWithoutCi(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !/^(CI|CI_.*|GITHUB_.*|GITLAB_.*|RUNNER_.*)$/.test(e[0])));
}

/** A script as runners run it: bash with errexit and pipefail, the stand-ins first on PATH. */
function sh(script: string, cwd: string, env: Record<string, string>): Shell {
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd,
    encoding: 'utf8',
    // The machine's own environment (its HOME, its tools) without the CI system's variables, which
    // each scenario sets itself; the stand-ins first on PATH.
    env: { ...hostEnvWithoutCi(), ...env, PATH: [FIXTURES, process.env.PATH ?? ''].join(delimiter) },
    timeout: 120_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const temp: string[] = [];
let root: string;
let base: string;
const cands: Record<string, string> = {};
const expected = { PASS: 0, WARN: 5, FAIL: 1, INVALID: 6 } as const;
type Scenario = keyof typeof expected;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cb-ci-examples-'));
  temp.push(root);
  const tasks = uniform(20, [1, 1, 1, 0, 0]);
  base = await writeFakeRun(join(root, 'prepared'), { runId: 'main-run', tasks });
  const variant = async (name: Scenario, changes: Record<string, readonly Cell[]>): Promise<void> => {
    cands[name] = await writeFakeRun(join(root, 'prepared'), { runId: `cand-${name}`, tasks: { ...tasks, ...changes } });
  };
  await variant('PASS', {});
  // Three tasks lose two epochs, one gains one: Δ −5 pts, CI about [−12, +2.4].
  await variant('WARN', { t0000: [1, 0, 0, 0, 0], t0001: [1, 0, 0, 0, 0], t0002: [1, 0, 0, 0, 0], t0003: [1, 1, 1, 1, 0] });
  await variant('FAIL', Object.fromEntries(Object.keys(tasks).slice(0, 12).map((id) => [id, [0, 0, 0, 0, 0]])));
  await variant('INVALID', Object.fromEntries(Object.keys(tasks).slice(0, 6).map((id) => [id, ['e', 'e', 'e', 'e', 'e']])));
});

afterAll(async () => {
  await Promise.all(temp.map((d) => rm(d, { recursive: true, force: true })));
});

function fakeEnv(work: string, extra: Record<string, string> = {}): Record<string, string> {
  return { CB_FIXTURES: FIXTURES, CB_BIN: CLI, CB_TSX: import.meta.resolve('tsx'), CB_FAKE_LOG: join(work, 'calls.log'), ...extra };
}

async function workdir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('the example CI files', () => {
  it('name the cagebench commands the issue asks for, with flags the CLI has', () => {
    const scripts = [...Object.values(github.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')), ...Object.values(gitlab).flatMap((j) => (Array.isArray((j as GitlabJob).script) ? (j as GitlabJob).script : []))].join('\n');
    const commands = scripts.replace(/\\\n/g, ' ').split('\n').filter((l) => /npx cagebench /.test(l));
    const prRuns = commands.filter((c) => /cagebench run /.test(c) && c.includes('--baseline'));
    expect(prRuns).toHaveLength(2);
    for (const c of prRuns) {
      for (const flag of ['--agent', '--model', '--epochs 5', '--baseline baseline.json', '--ctrf ctrf.json', '--junit junit.xml', '--pr-comment comment.md', '--out runs']) expect(c).toContain(flag);
    }
    expect(commands.filter((c) => /cagebench baseline save /.test(c))).toHaveLength(2);
    // Every flag the examples pass to `cagebench run` is one the CLI takes.
    const help = spawnSync('node', [CLI, 'run', '--help'], { encoding: 'utf8', cwd: REPO });
    expect(help.status).toBe(0);
    const used = new Set(commands.filter((c) => /cagebench run /.test(c)).flatMap((c) => c.match(/(?<=\s)(--[a-z-]+|-[a-zA-Z])(?=[\s=]|$)/g) ?? []));
    const offered = new Set(help.stdout.match(/(?<=^\s+|, )(--[a-z-]+|-[a-zA-Z])\b/gm) ?? []);
    expect([...used].filter((flag) => !offered.has(flag))).toEqual([]);
    // The marker the scripts search for is the one the comment carries.
    expect(scripts.split(PR_COMMENT_MARKER).length).toBeGreaterThan(2);
    expect(gitlab['cagebench-mr']!.artifacts?.reports?.junit).toBe('junit.xml');
  });

  it('GitHub, on main: the baseline job runs the suite and saves a baseline the pull requests read', async () => {
    const work = await workdir('gh-main');
    const context = { 'github.run_id': '100', 'github.run_attempt': '1', 'secrets.ANTHROPIC_API_KEY': '' };
    const output = join(work, 'github-output');
    const env = { ...fakeEnv(work, { CB_FAKE_CAND: base }), ...github.env, GITHUB_OUTPUT: output, GITHUB_ACTIONS: 'true', GITHUB_SHA: 'abcdef0123' };
    const runStep = step('baseline', 'main-run');
    const run = sh(runStep.run!, work, { ...env, ...Object.fromEntries(Object.entries(runStep.env ?? {}).map(([k, v]) => [k, expand(v, context)])) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const runDir = (await readFile(output, 'utf8')).match(/^run-dir=(.*)$/m)![1]!;
    const save = step('baseline', 'save');
    const saved = sh(save.run!, work, { ...env, ...Object.fromEntries(Object.entries(save.env ?? {}).map(([k, v]) => [k, expand(v, { ...context, 'steps.main-run.outputs.run-dir': runDir })])) });
    expect(saved.stdout).toMatch(/^saved \.cagebench\/baseline\.json: 20 tasks, 100 samples of run main-100-1/);
    expect(saved.code).toBe(0);
    const baseline = JSON.parse(await readFile(join(work, '.cagebench/baseline.json'), 'utf8')) as { format: string; tasks: unknown[] };
    expect(baseline).toMatchObject({ format: 'cagebench-baseline' });
    expect(baseline.tasks).toHaveLength(20);
  });

  for (const scenario of Object.keys(expected) as Scenario[]) {
    it(`GitHub, on a pull request, ${scenario}: exit ${expected[scenario]} from the run, the comment posted then updated, the gate ${scenario === 'PASS' || scenario === 'WARN' ? 'passes' : 'fails'}`, async () => {
      const work = await workdir(`gh-${scenario}`);
      // What the "Fetch main's baseline" step leaves (it reads main with git; not run here).
      const saved = spawnSync('node', [CLI, 'baseline', 'save', base, '-o', join(work, 'baseline.json')], { encoding: 'utf8' });
      expect(saved.status).toBe(0);
      const output = join(work, 'github-output');
      const summary = join(work, 'step-summary.md');
      const context: Record<string, string> = { 'github.run_id': '200', 'github.run_attempt': '1', 'github.event.pull_request.number': '7', 'github.token': 'fake-token', 'github.repository': 'octo/agent', 'secrets.ANTHROPIC_API_KEY': '', 'steps.artifacts.outputs.artifact-url': 'https://example.test/artifacts/9' };
      const env = { ...fakeEnv(work, { CB_FAKE_CAND: cands[scenario]! }), ...github.env, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: work };
      const stepEnv = (s: Step): Record<string, string> => Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, expand(v, context)]));

      const evalStep = step('pull-request', 'eval');
      const run = sh(evalStep.run!, work, { ...env, ...stepEnv(evalStep) });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0); // the run's code is kept for the gate
      const outputs = Object.fromEntries((await readFile(output, 'utf8')).trim().split('\n').map((l) => l.split('=') as [string, string]));
      expect(Number(outputs.code)).toBe(expected[scenario]);
      // The real `compare` gives the same verdict for the same two arms.
      expect(spawnSync('node', [CLI, 'compare', join(work, 'baseline.json'), join(work, outputs['run-dir']!)], { encoding: 'utf8' }).status).toBe(expected[scenario]);

      const comment = await readFile(join(work, 'comment.md'), 'utf8');
      expect(comment.length).toBeLessThan(PR_COMMENT_LIMIT);
      expect(comment.split(PR_COMMENT_MARKER)).toHaveLength(2);
      expect(comment).toContain(`cagebench: ${scenario}`);
      const summaryText = await readFile(summary, 'utf8');
      expect(Buffer.byteLength(summaryText)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
      expect(summaryText).toContain(`cagebench: ${scenario}`);
      const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error '));
      expect(errors.length).toBeLessThanOrEqual(10);
      if (scenario === 'FAIL') expect(errors).toHaveLength(10);
      if (scenario === 'FAIL') expect(run.stdout).toMatch(/^::notice title=cagebench%3A more regressed tasks::2 more task/m);
      if (scenario === 'PASS') expect(errors).toEqual([]);
      for (const f of ['ctrf.json', 'junit.xml']) expect((await readFile(join(work, f), 'utf8')).length).toBeGreaterThan(0);

      const commentStep = step('pull-request', 'comment');
      const posted = sh(commentStep.run!, work, { ...env, ...stepEnv(commentStep) });
      expect(posted).toMatchObject({ code: 0, stdout: 'posted a new comment\n' });
      const updated = sh(commentStep.run!, work, { ...env, ...stepEnv(commentStep), CB_FAKE_EXISTING: '4242' });
      expect(updated).toMatchObject({ code: 0, stdout: 'updated comment 4242\n' });
      const calls = await readFile(join(work, 'calls.log'), 'utf8');
      expect(calls).toContain('gh api -X POST repos/octo/agent/issues/7/comments -F body=@comment.md');
      expect(calls).toContain('gh api -X PATCH repos/octo/agent/issues/comments/4242 -F body=@comment.md');
      expect(await readFile(join(work, 'comment.md'), 'utf8')).toContain('(https://example.test/artifacts/9)');

      const gate = step('pull-request', 'gate');
      const gated = sh(gate.run!, work, { ...env, ...stepEnv(gate), ...{ CODE: outputs.code! } });
      expect(gated.code).toBe({ PASS: 0, WARN: 0, FAIL: 1, INVALID: 6 }[scenario]);
      if (scenario === 'WARN') expect(gated.stdout).toMatch(/^::notice title=cagebench WARN::/);
    });
  }

  it('GitLab, on the default branch: the baseline job saves baseline.json as its artifact', async () => {
    const work = await workdir('gl-main');
    const job = gitlab['cagebench-baseline']!;
    const result = sh(job.script.join('\n'), work, { ...fakeEnv(work, { CB_FAKE_CAND: base }), ...gitlab.variables, CI_PIPELINE_ID: '300' });
    expect(result.code).toBe(0);
    expect(JSON.parse(await readFile(join(work, 'baseline.json'), 'utf8'))).toMatchObject({ runId: 'main-300', epochs: 5 });
  });

  for (const scenario of Object.keys(expected) as Scenario[]) {
    it(`GitLab, in a merge request pipeline, ${scenario}: the note posted then updated, the job ${scenario === 'PASS' || scenario === 'WARN' ? 'passes' : 'fails'}`, async () => {
      const work = await workdir(`gl-${scenario}`);
      const baselineFile = join(work, 'main-baseline.json');
      expect(spawnSync('node', [CLI, 'baseline', 'save', base, '-o', baselineFile], { encoding: 'utf8' }).status).toBe(0);
      const job = gitlab['cagebench-mr']!;
      const env = {
        ...fakeEnv(work, { CB_FAKE_CAND: cands[scenario]!, CB_FAKE_BASELINE: baselineFile }),
        ...gitlab.variables,
        CI_API_V4_URL: 'https://gitlab.example.test/api/v4',
        CI_PROJECT_ID: '11',
        CI_PROJECT_URL: 'https://gitlab.example.test/g/p',
        CI_JOB_ID: '12',
        CI_JOB_TOKEN: 'job-token',
        CI_PIPELINE_ID: '13',
        CI_MERGE_REQUEST_IID: '5',
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
        CAGEBENCH_NOTES_TOKEN: 'notes-token',
      };
      const first = sh(job.script.join('\n'), work, env);
      expect(first.code).toBe({ PASS: 0, WARN: 0, FAIL: 1, INVALID: 6 }[scenario]);
      expect(first.stdout).toContain('posted a new note');
      expect(first.stdout).toContain(`cagebench: ${scenario}`);
      expect(Number(await readFile(join(work, 'cagebench-exit-code'), 'utf8'))).toBe(expected[scenario]);
      const note = JSON.parse(await readFile(join(work, 'comment.json'), 'utf8')) as { body: string };
      expect(note.body.length).toBeLessThan(PR_COMMENT_LIMIT + 200);
      expect(note.body.split(PR_COMMENT_MARKER)).toHaveLength(2);
      expect(note.body).toContain('https://gitlab.example.test/g/p/-/jobs/12/artifacts/browse');
      expect(await readFile(join(work, 'junit.xml'), 'utf8')).toMatch(/^<\?xml/);

      // The next push finds the note by its marker and edits it.
      await copyFile(join(work, 'calls.log'), join(work, 'calls-first.log'));
      await writeFile(join(work, 'calls.log'), '');
      await rm(join(work, 'runs'), { recursive: true });
      const second = sh(job.script.join('\n'), work, { ...env, CB_FAKE_EXISTING: '77' });
      expect(second.stdout).toContain('updated note 77');
      const calls = await readFile(join(work, 'calls.log'), 'utf8');
      expect(calls).toContain('curl GET https://gitlab.example.test/api/v4/projects/11/jobs/artifacts/main/raw/baseline.json?job=cagebench-baseline');
      expect(calls).toContain('curl PUT https://gitlab.example.test/api/v4/projects/11/merge_requests/5/notes/77 @comment.json');
      expect(await readFile(join(work, 'calls-first.log'), 'utf8')).toContain('curl POST https://gitlab.example.test/api/v4/projects/11/merge_requests/5/notes @comment.json');
    });
  }
});
