// A pool of two real engines through the real CLI: the machine's own and a remote one, a
// second dockerd this file starts in a network namespace of its own, reached over TCP with
// mutual TLS (second-engine.ts). It has only debian:bookworm-slim, so the pool copies what
// it needs there. The bundled smoke suite (Harbor tasks, images built from Dockerfiles) runs with
// `--engine A,capacity=2 --engine B,capacity=2`; B's dockerd is killed (SIGKILL) while it
// runs a sample. B is taken out, the samples it held run again on A, and every sample ends scored; the summary
// and each result say which engine ran it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LABEL_RUN } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';
import { cli, leftovers, outDir, results, sampleEvents, SUITES, summary, waitFor } from './support.ts';

const MAIN = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
const EPOCHS = 3;
let second: SecondEngine;
/** How the pool names the remote engine: its tcp:// address. */
const remote = (): string => second.remote!.host;
const dirs: string[] = [];

beforeAll(async () => {
  second = await startSecondEngine({ tls: true, bridge: true, images: ['debian:bookworm-slim'] });
}, 180_000);

afterAll(async () => {
  // Back up on its containerd, so its dispose() removes what the killed dockerd left running.
  await second?.start().catch(() => undefined);
  await second?.dispose();
  expect(await second?.residue()).toEqual([]);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}, 180_000);

/** Containers of the run running on the second engine now. */
async function runningOnSecond(runId: string): Promise<number> {
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId}`], status: ['running'] });
  return (await second.docker.listContainers({ filters }).catch(() => [])).length;
}

describe('a pool of two engines', () => {
  it('one engine killed mid-run: it is taken out, its samples run again on the other, and every sample ends scored', async () => {
    const out = await outDir();
    dirs.push(out);
    const runId = testRunId('pool');
    const runDir = join(out, runId);
    const suite = join(SUITES, 'smoke');
    const proc = cli(['run', suite, '--agent', 'oracle', '--epochs', String(EPOCHS), '--engine', `${MAIN},capacity=2`, '--engine', `${remote()},capacity=2,certs=${second.remote!.certPath}`, '--out', out, '--run-id', runId]);
    let exited: { code: number | null; stderr: string } | undefined;
    void proc.exited.then((e) => (exited = e));

    // Stop B while it runs a sample of this run.
    await waitFor(
      async () => {
        if (exited) throw new Error(`cagebench exited ${exited.code} before a sample ran on the second engine:\n${exited.stderr}`);
        return (await runningOnSecond(runId)) > 0;
      },
      'a sample running on the second engine',
      240_000,
    );
    await second.kill();

    const exit = await proc.exited;
    const context = `exit ${exit.code}\nstderr:\n${exit.stderr}`;
    expect(exit.code, context).toBe(0);
    expect(exit.stderr, context).toContain(`engine ${remote()} stopped answering: it is out of the pool`);

    const done = await results(runDir);
    expect(done, context).toHaveLength(6 * EPOCHS);
    for (const r of done) {
      expect(r.outcome, `${r.sampleId}: ${r.error?.message ?? ''}`).toBe('pass');
      expect([MAIN, remote()]).toContain(r.engine);
    }
    const sum = await summary(runDir);
    expect(sum, context).toMatchObject({ status: 'completed', pending: 0, counts: { pass: 6 * EPOCHS, error: 0 } });
    expect(sum!.engines?.[MAIN]?.pass, context).toBeGreaterThan(0);

    // The samples B held when it went ran again, on A, without spending a retry.
    const rerun: string[] = [];
    for (const r of done) {
      const events = await sampleEvents(runDir, r.sampleId);
      if (events.some((e) => e.type === 'sample.rerun' && e.reason === 'engine lost' && e.engine === remote())) rerun.push(r.sampleId);
    }
    expect(rerun.length, context).toBeGreaterThan(0);
    for (const id of rerun) expect(done.find((r) => r.sampleId === id)).toMatchObject({ engine: MAIN, retries: 0 });
    expect(await leftovers(runId)).toBe(0);
  }, 600_000);
});
