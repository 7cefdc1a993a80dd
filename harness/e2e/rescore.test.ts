// `cagebench rescore` end to end, on real Docker: the bundled suites run with the oracle and
// rescored with the same scorers reproduce every score; a changed verifier (--task-dir) moves
// the delta down; a sample whose saved state is gone is reported as not rescorable; a binary
// file, a deletion and a mode change come back exactly as the scorer first saw them.
import { describe, expect, it } from 'vitest';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { rescore } from '../commands/rescore.ts';
import { readJson } from '../log/writer.ts';
import type { ResultRecord } from '../log/schema.ts';
import { cli, leftovers, outDir, results, sampleEvents, SUITES } from './support.ts';

async function oracleRun(paths: string[], prefix: string): Promise<string> {
  const outcome = await run({ paths, agent: 'oracle', out: await outDir(), runId: testRunId(prefix), concurrency: 3 });
  expect(outcome.summary.counts.error).toBe(0);
  return outcome.runDir;
}

describe.each([
  ['smoke (Harbor task directories)', join(SUITES, 'smoke')],
  ['smoke.yaml (cagebench suite)', join(SUITES, 'smoke.yaml')],
  ['fidelity (users, homes, git, deletions)', join(SUITES, 'fidelity')],
])('%s', (_name, path) => {
  it('rescored with the same scorers, every score is reproduced', async () => {
    const runDir = await oracleRun([path], 'rescore-src');
    const before = await results(runDir);
    expect(before.every((r) => r.attempts.at(-1)?.state && !('error' in r.attempts.at(-1)!.state!))).toBe(true);
    const runId = testRunId('rescore');
    const outcome = await rescore(runDir, { runId, concurrency: 3 });
    expect(outcome.notRescored).toEqual([]);
    expect(outcome.samples.filter((s) => s.after.score !== s.before.score || s.after.outcome !== s.before.outcome)).toEqual([]);
    expect(outcome.deltaLine).toBe(`rescored ${before.length} samples: changed 0 (up 0, down 0), mean 1.00 → 1.00`);
    expect(outcome.exitCode).toBe(0);
    const after = await results(outcome.runDir);
    expect(after.map((r) => [r.sampleId, r.outcome, r.score])).toEqual(before.map((r) => [r.sampleId, r.outcome, r.score]));
    // Agent facts are the original's; run.json links back.
    expect(after.map((r) => r.attempts[0]!.agent)).toEqual(before.map((r) => r.attempts[0]!.agent));
    const record = await readJson<{ rescoredFrom: { runDir: string; runId: string } }>(join(outcome.runDir, 'run.json'));
    expect(record?.rescoredFrom).toMatchObject({ runDir, runId: runDir.split('/').at(-1) });
    expect(outcome.summary.score.mean).toBe(1);
    expect(await leftovers(runId)).toBe(0);
  }, 600_000);
});

describe('rescore', () => {
  it('restores a binary file, a deletion and a mode change exactly; reports a sample whose state is gone; a changed verifier moves the delta down', async () => {
    const dir = await outDir();
    const suite = join(dir, 'restore.yaml');
    await writeFile(
      suite,
      [
        'name: restore-check',
        'environment: { image: "cagebench/sandbox:bookworm", workdir: /workspace, network: none }',
        'samples:',
        '  - id: binary-and-delete',
        '    instruction: Write blob.bin, remove old.txt, make keep.sh executable.',
        '    files:',
        '      old.txt: "remove me\\n"',
        '      keep.sh: "echo kept\\n"',
        '    solution:',
        "      - printf '\\000\\001\\377\\376binary' > blob.bin",
        '      - rm old.txt',
        '      - chmod 755 keep.sh',
        "    scorer: { type: command, command: \"printf '\\\\000\\\\001\\\\377\\\\376binary' | cmp -s - blob.bin && test ! -e old.txt && test -x keep.sh\" }",
        '',
      ].join('\n'),
    );
    const hello = join(dir, 'hello-file');
    await cp(join(SUITES, 'smoke', 'hello-file'), hello, { recursive: true });
    const runDir = await oracleRun([suite, join(SUITES, 'smoke', 'hello-file'), join(SUITES, 'smoke', 'status-counts')], 'rescore-mix');
    expect((await results(runDir)).map((r) => r.outcome)).toEqual(['pass', 'pass', 'pass']);

    // The same scorers: the binary/deletion/mode sample passes again, from the restored state alone.
    const same = await rescore(runDir, { runId: testRunId('rescore-same') });
    expect(same.deltaLine).toBe('rescored 3 samples: changed 0 (up 0, down 0), mean 1.00 → 1.00');
    const events = await sampleEvents(same.runDir, 'binary-and-delete__e1');
    expect(events.find((e) => e.type === 'workspace.restore')).toMatchObject({ root: '/workspace', deleted: 1, exitCode: 0 });

    // A verifier that now wants other content: through the CLI, the delta goes down.
    const test = join(hello, 'tests', 'test.sh');
    await writeFile(test, (await readFile(test, 'utf8')).replaceAll('Hello, cagebench!', 'Goodbye, cagebench!'));
    const changedId = testRunId('rescore-changed');
    const changed = await cli(['rescore', runDir, '--task-dir', hello, '--run-id', changedId]).exited;
    expect(changed.stdout).toContain('rescored 3 samples: changed 1 (up 0, down 1), mean 1.00 → 0.67');
    expect(changed.stdout).toMatch(/hello-file__e1: pass 1 → fail 0/);
    expect(changed.stdout).toContain('only the task\'s workdir is restored');
    expect(changed.code).toBe(0);
    const rescored = await readJson<ResultRecord>(join(runDir, '..', changedId, 'samples', 'hello-file__e1', 'result.json'));
    expect(rescored).toMatchObject({ outcome: 'fail', score: 0 });

    // A sample whose saved state is gone cannot be rescored: named, with the reason, exit 4.
    await rm(join(runDir, 'samples', 'status-counts__e1', 'artifacts', 'workspace-1.tar'));
    const missing = await cli(['rescore', runDir, '--run-id', testRunId('rescore-missing')]).exited;
    expect(missing.stdout).toContain('rescored 2 samples: changed 0 (up 0, down 0), mean 1.00 → 1.00');
    expect(missing.stdout).toMatch(/not rescored: 1 sample\(s\)\n {2}status-counts__e1: its saved workspace state \S+workspace-1\.tar is missing/);
    expect(missing.code).toBe(4);

    // Bad input: exit 2, nothing written.
    const bad = await cli(['rescore', runDir, '--scorer', 'nonsense']).exited;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scorer "nonsense" is not a scorer');
  }, 600_000);
});
