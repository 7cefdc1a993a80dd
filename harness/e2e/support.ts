// Helpers for the end-to-end tests: run directories in temp dirs, reading results back,
// running the real CLI, and counting what a run left in the engine.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectEngine, LABEL_RUN } from '../../sandboxes/index.ts';
import type { ResultRecord, SummaryRecord } from '../index.ts';
import { readJson } from '../log/writer.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const SUITES = fileURLToPath(new URL('../../tasks/suites/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/cagebench.js', import.meta.url));

export function outDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cagebench-e2e-'));
}

export async function results(runDir: string): Promise<ResultRecord[]> {
  const ids = await readdir(join(runDir, 'samples')).catch(() => [] as string[]);
  const all = await Promise.all(ids.map((id) => readJson<ResultRecord>(join(runDir, 'samples', id, 'result.json'))));
  return all.filter((r): r is ResultRecord => r !== undefined).sort((a, b) => a.sampleId.localeCompare(b.sampleId));
}

/** A sample's events.jsonl, one record per line. */
export async function sampleEvents(runDir: string, sampleId: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(runDir, 'samples', sampleId, 'events.jsonl'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function summary(runDir: string): Promise<SummaryRecord | undefined> {
  return readJson<SummaryRecord>(join(runDir, 'summary.json'));
}

/** Containers and networks labelled with this run id. */
export async function leftovers(runId: string): Promise<number> {
  const { docker } = await connectEngine();
  const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] });
  return (await docker.listContainers({ all: true, filters })).length + (await docker.listNetworks({ filters })).length;
}

export interface CliProcess {
  readonly pid: number;
  readonly kill: (signal: NodeJS.Signals) => void;
  readonly output: () => { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    pid: child.pid!,
    kill: (signal) => child.kill(signal),
    output: () => ({ stdout, stderr }),
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))),
  };
}

export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
