// `cagebench merge RUN_DIR... -o DIR`: join the shards of one run (`run --shard i/n`, one per
// CI job of a matrix) into one run directory, as if the run had been made whole: its samples
// (hard-linked where the filesystem allows, else copied), a run.json whose tasks are the
// union in the whole run's order and which names the shards (`mergedFrom`), summary.json by the
// runner's own buildSummary, then the CI outputs, the comparison with a baseline and the HTML
// report, and an exit code by the run's rules.
//
// The shards must belong together: each records the whole run's task list and its digest
// (harness/runner/shard.ts), so merge checks they split the same tasks, that each holds
// exactly the tasks dealt to it, that 1..n are all there once each, and that they ran with the
// same settings. Settings that may differ between CI jobs: --shard, --run-id and --out (not in
// the config record), --concurrency and --build-concurrency (how fast, not what is measured),
// the task paths (a checkout sits elsewhere on each runner; the tasks themselves are checked
// by id and digest) and --baseline (merge takes its own).
import { copyFile, link, mkdir, readdir, readlink, stat, symlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { compareOptionsOf } from '../config.ts';
import { loadArm } from '../compare/arm.ts';
import type { Comparison } from '../compare/compare.ts';
import { ConfigError } from '../errors.ts';
import { readRunDir, type RunView } from '../log/reader.ts';
import { type ResultRecord, type RunRecord, type RunStatus, type ShardRecord, type SummaryRecord, type TaskRef } from '../log/schema.ts';
import { runRecordHead } from '../log/run-record.ts';
import { writeJsonAtomic } from '../log/writer.ts';
import { writeCiOutputs } from '../report/ci/outputs.ts';
import { writeReport, type ReportWritten } from '../report/html/writer.ts';
import { planOrder } from '../runner/plan.ts';
import { buildSummary } from '../runner/run.ts';
import { compareWithBaseline, gateRun } from '../runner/gate.ts';
import { assignShards, taskListDigest } from '../runner/shard.ts';
import { checkOutputPath, readRunRecord } from '../runner/validate.ts';

export interface MergeOptions {
  /** The shards' run directories, in any order. */
  readonly runs: readonly string[];
  /** The merged run directory: new, or empty. Its name is the merged run's id. */
  readonly out: string;
  readonly junit?: string;
  readonly ctrf?: string;
  readonly prComment?: string;
  /** Compare the merged run with this baseline (a run directory or baseline file); compare.json and the exit code follow. */
  readonly baseline?: string;
  /** Also write the HTML report here. */
  readonly report?: string;
  /** Merge even when shards are missing (with a warning); their tasks are not in the merged run. */
  readonly allowPartial?: boolean;
  /** Lines for people (stderr in the CLI). */
  readonly note?: (line: string) => void;
  /** GITHUB_STEP_SUMMARY and friends, for the CI outputs. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where GitHub annotations go. @default console.log */
  readonly print?: (line: string) => void;
}

export interface MergeOutcome {
  readonly runDir: string;
  readonly summary: SummaryRecord;
  /** The run's rules: 0 ok, 1 under --fail-under or compare FAIL, 4 sample errors, 5 WARN, 6 INVALID, 75/130 a shard is unfinished. */
  readonly exitCode: number;
  readonly reasons: readonly string[];
  readonly comparison?: Comparison;
  readonly report?: ReportWritten;
  /** Files hard-linked and copied from the shards. */
  readonly files: { readonly linked: number; readonly copied: number };
}

/** Config keys that may differ between the shards of one run (see the header). */
const MAY_DIFFER = new Set(['shard', 'concurrency', 'buildConcurrency', 'paths', 'baseline']);

interface ShardRun {
  readonly dir: string;
  readonly view: RunView;
  readonly shard: ShardRecord;
}

export async function mergeCommand(options: MergeOptions): Promise<MergeOutcome> {
  const note = options.note ?? (() => undefined);
  if (!options.runs.length) throw new ConfigError('cagebench merge needs the run directories of the shards: cagebench merge runs/shard-1 runs/shard-2 ... -o runs/merged');
  // Everything is checked before the merged directory is made: a refusal leaves nothing behind.
  const out = resolve(options.out);
  for (const [flag, file, example] of [['--junit', options.junit, 'junit.xml'], ['--ctrf', options.ctrf, 'ctrf.json'], ['--pr-comment', options.prComment, 'comment.md']] as const) {
    if (file) await checkOutputPath(flag, file, example);
  }
  if (options.baseline) await loadArm(options.baseline);
  if (options.report) await checkReportDir(resolve(options.report));
  const shards = await readShards(options.runs);
  if (shards.some((s) => s.dir === out)) throw new ConfigError(`-o ${options.out} is one of the shards: give a new directory for the merged run`);
  await checkOutDir(out, options.out);
  const { missing } = checkShards(shards, options.allowPartial ?? false);
  const first = shards[0]!;
  const count = first.shard.count;
  if (missing.length) {
    note(`warning: merging ${shards.length} of ${count} shards (--allow-partial): shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} missing, so their tasks are not in ${out}`);
  }

  // The merged run's tasks: every present shard's, in the whole run's order.
  const refs = new Map<string, TaskRef>(shards.flatMap((s) => s.view.run.tasks.map((t) => [t.id, t] as const)));
  const tasks = first.shard.allTasks.flatMap((id) => (refs.has(id) ? [refs.get(id)!] : []));
  const { shard: _shard, ...config } = first.view.run.config;
  const epochs = config.epochs ?? 1;

  await mkdir(out, { recursive: true });
  const files = { linked: 0, copied: 0 };
  for (const s of shards) await copyShard(s, out, epochs, files, note);
  const runId = basename(out);
  const record: RunRecord = {
    ...runRecordHead(runId),
    config,
    tasks,
    mergedFrom: {
      shards: shards.map((s) => ({ dir: s.dir, runId: s.view.run.runId, shard: `${s.shard.index}/${count}`, ...(s.view.summary ? { status: s.view.summary.status } : {}) })),
      ...(missing.length ? { missing: missing.map((i) => `${i}/${count}`) } : {}),
    },
  };
  await writeJsonAtomic(join(out, 'run.json'), record);

  // The summary a whole run would have written: the runner's buildSummary over the results in
  // the runner's order; the status and times are the shards'.
  const merged = await readRunDir(out);
  const plan = planOrder(tasks, epochs);
  const bySample = new Map(merged.results.map((r) => [r.sampleId, r]));
  const results = plan.flatMap((p) => (bySample.has(p.id) ? [bySample.get(p.id)!] : []));
  const unfinished = shards.filter((s) => s.view.summary?.status !== 'completed');
  const status: RunStatus = !unfinished.length
    ? 'completed'
    : unfinished.some((s) => !s.view.summary || s.view.summary.status === 'interrupted')
      ? 'interrupted'
      : 'aborted';
  const interruptedBy = status === 'interrupted' ? (unfinished.some((s) => s.view.summary?.interruptedBy === 'engine') ? 'engine' : 'signal') : undefined;
  const engineOutages = shards.reduce((n, s) => n + (s.view.summary?.engineOutages ?? 0), 0);
  // Task images the shard jobs built and pruned, summed (each job's engine is its own).
  const images = shards.reduce(
    (sum, s) => {
      const i = s.view.summary?.images;
      return i ? { built: sum.built + i.built, bytesBuilt: sum.bytesBuilt + i.bytesBuilt, pruned: sum.pruned + i.pruned, bytesPruned: sum.bytesPruned + i.bytesPruned } : sum;
    },
    { built: 0, bytesBuilt: 0, pruned: 0, bytesPruned: 0 },
  );
  const timings = spanOf(shards, results);
  const agent = shards.find((s) => s.view.summary)?.view.summary?.agent ?? config.agent;
  const summary: SummaryRecord = {
    ...buildSummary({ runId }, agent, results, plan.length, status, new Date(timings.startedAt)),
    ...(interruptedBy ? { interruptedBy } : {}),
    ...(engineOutages ? { engineOutages } : {}),
    ...(images.built || images.pruned ? { images } : {}),
    timings,
  };
  await writeJsonAtomic(join(out, 'summary.json'), summary);
  const view: RunView = { dir: out, run: record, summary, results: merged.results };

  // The gate against a baseline, unless a shard did not finish (as `run` does).
  const comparison = options.baseline && status !== 'interrupted' ? await compareWithBaseline(options.baseline, compareOptionsOf(config), view) : undefined;
  await writeCiOutputs(view, comparison, { junit: options.junit, ctrf: options.ctrf, prComment: options.prComment, ...(options.env ? { env: options.env } : {}), ...(options.print ? { print: options.print } : {}) });
  const report = options.report ? await writeReport({ runs: [view], out: options.report, ...(options.baseline ? { baseline: options.baseline } : {}) }) : undefined;

  // The exit code by the run's rules, over the merged run.
  const unfinishedLines = unfinished.map((s) => {
    const why = s.view.summary ? `ended ${s.view.summary.status}${s.view.summary.pending ? ` with ${s.view.summary.pending} sample(s) to go` : ''}` : 'has no summary.json (it did not finish)';
    return `shard ${s.shard.index}/${count} (${s.dir}) ${why}: finish it with 'cagebench resume ${s.dir}', then merge again`;
  });
  const { exitCode, reasons } = gateRun({ summary, maxErrors: config.maxErrors, failUnder: config.failUnder, ...(comparison ? { comparison } : {}), unfinished: unfinishedLines });
  return { runDir: out, summary, exitCode, reasons, files, ...(comparison ? { comparison } : {}), ...(report ? { report } : {}) };
}

async function readShards(dirs: readonly string[]): Promise<ShardRun[]> {
  const seen = new Map<string, string>();
  const shards: ShardRun[] = [];
  for (const given of dirs) {
    const dir = resolve(given);
    if (seen.has(dir)) throw new ConfigError(`${given} is given twice (as ${seen.get(dir)} and ${given}): give each shard's run directory once`);
    seen.set(dir, given);
    await readRunRecord(dir); // a run directory this cagebench reads, or a message saying why not
    const view = await readRunDir(dir);
    if (!view.run.shard) {
      throw new ConfigError(`${given} is not a shard: its run.json records no --shard. merge joins the run directories of 'cagebench run --shard i/n' (one per shard, 1..n)`);
    }
    shards.push({ dir, view, shard: view.run.shard });
  }
  return shards.sort((a, b) => a.shard.index - b.shard.index);
}

/** The shards split one run, each holds what was dealt to it, and 1..n are there once each. Returns the missing shard numbers. */
export function checkShards(shards: readonly ShardRun[], allowPartial: boolean): { readonly missing: readonly number[] } {
  const first = shards[0]!;
  const list = (pick: (s: ShardRun) => string): string => shards.map((s) => `${s.dir} (${pick(s)})`).join(', ');
  if (shards.some((s) => s.shard.count !== first.shard.count)) {
    throw new ConfigError(`the shards are of different splits: ${list((s) => `shard ${s.shard.index}/${s.shard.count}`)}. Give the shards of one run`);
  }
  if (shards.some((s) => s.shard.tasksDigest !== first.shard.tasksDigest)) {
    throw new ConfigError(
      `the shards split different task lists: ${list((s) => `${s.shard.allTasks.length} tasks, ${s.shard.tasksDigest.slice(0, 19)}…`)}. ` +
        'Run every shard from the same checkout with the same --task and --limit',
    );
  }
  const differences = configDifferences(shards);
  if (differences.length) {
    throw new ConfigError(`the shards were run with different settings (only --shard, --run-id, --out, --concurrency and the task paths may differ):\n  ${differences.join('\n  ')}`);
  }
  // Each shard's tasks are exactly those dealt to it (so the shards are disjoint).
  const dealt = assignShards(first.shard.allTasks, first.shard.count);
  for (const s of shards) {
    const own = s.view.run.tasks.map((t) => t.id);
    const expected = first.shard.allTasks.filter((id) => dealt.get(id) === s.shard.index);
    if (own.length !== expected.length || own.some((id) => dealt.get(id) !== s.shard.index)) {
      const stray = own.filter((id) => dealt.get(id) !== s.shard.index);
      throw new ConfigError(
        `${s.dir} (shard ${s.shard.index}/${s.shard.count}) does not hold the tasks dealt to it: ${own.length} task(s), ${expected.length} expected` +
          `${stray.length ? `; not its own: ${stray.slice(0, 5).join(', ')}${stray.length > 5 ? ' …' : ''}` : ''}. Its run.json was changed after the run started`,
      );
    }
  }
  const byIndex = new Map<number, ShardRun[]>();
  for (const s of shards) byIndex.set(s.shard.index, [...(byIndex.get(s.shard.index) ?? []), s]);
  const twice = [...byIndex].filter(([, runs]) => runs.length > 1);
  if (twice.length) {
    throw new ConfigError(
      `a shard is given more than once: ${twice.map(([i, runs]) => `shard ${i}/${first.shard.count} in ${runs.map((r) => r.dir).join(' and ')}`).join('; ')}. ` +
        'Give one run directory per shard (resume an unfinished shard rather than running it again)',
    );
  }
  const missing = Array.from({ length: first.shard.count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length && !allowPartial) {
    throw new ConfigError(
      `shard(s) ${missing.map((i) => `${i}/${first.shard.count}`).join(', ')} missing: given ${list((s) => `shard ${s.shard.index}/${s.shard.count}`)}. ` +
        'Give every shard\'s run directory, or --allow-partial to merge these anyway',
    );
  }
  // With every shard there, the tasks' own digests are the ones the split was made over.
  if (!missing.length) {
    const refs = new Map(shards.flatMap((s) => s.view.run.tasks.map((t) => [t.id, t] as const)));
    const whole = first.shard.allTasks.map((id) => refs.get(id)!);
    if (taskListDigest(whole) !== first.shard.tasksDigest) {
      throw new ConfigError(`the shards' task digests do not add up to the task list they split (${first.shard.tasksDigest.slice(0, 19)}…): a shard's run.json was changed after the run started`);
    }
  }
  return { missing };
}

/** `epochs: 1 in runs/a, 2 in runs/b`, per setting that differs between the shards. */
function configDifferences(shards: readonly ShardRun[]): string[] {
  const keys = new Set(shards.flatMap((s) => Object.keys(s.view.run.config)));
  const lines: string[] = [];
  for (const key of [...keys].sort()) {
    if (MAY_DIFFER.has(key)) continue;
    const values = shards.map((s) => stable((s.view.run.config as Record<string, unknown>)[key]));
    if (new Set(values).size > 1) lines.push(`${key}: ${shards.map((s, i) => `${values[i] ?? 'unset'} in ${s.dir}`).join(', ')}`);
  }
  const versions = shards.map((s) => s.view.run.harness.version);
  if (new Set(versions).size > 1) lines.push(`cagebench version: ${shards.map((s, i) => `${versions[i]} in ${s.dir}`).join(', ')}`);
  return lines;
}

/** JSON with sorted keys, so equal settings compare equal whatever their key order. */
function stable(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const sort = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : Array.isArray(v) ? v.map(sort) : v;
  return JSON.stringify(sort(value));
}

async function checkOutDir(out: string, given: string): Promise<void> {
  const entries = await readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new ConfigError(`-o ${given}: ${err.code === 'ENOTDIR' ? 'is a file' : `cannot be read (${err.code ?? err.message})`}: give a new directory for the merged run`);
  });
  if (entries.length) throw new ConfigError(`-o ${given} is not empty: give a new directory for the merged run (its name becomes the run id)`);
}

async function checkReportDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length && !entries.includes('index.html')) throw new ConfigError(`--report ${dir} is not empty and holds no earlier cagebench report: give a new or empty directory`);
}

/** Link (or copy) a shard's planned sample directories and their history into the merged run. */
async function copyShard(s: ShardRun, out: string, epochs: number, files: { linked: number; copied: number }, note: (line: string) => void): Promise<void> {
  const planned = new Set(planOrder(s.view.run.tasks, epochs).map((p) => p.id));
  for (const area of ['samples', 'history']) {
    const ids = await readdir(join(s.dir, area)).catch(() => [] as string[]);
    const stray = ids.filter((id) => !planned.has(id));
    if (stray.length && area === 'samples') note(`${s.dir}: left out ${stray.length} sample director${stray.length === 1 ? 'y' : 'ies'} not in its plan (${stray.slice(0, 3).join(', ')}${stray.length > 3 ? ', …' : ''})`);
    for (const id of ids.filter((i) => planned.has(i))) await linkTree(join(s.dir, area, id), join(out, area, id), files);
  }
}

/** A hard link per file where the filesystem allows one (the shards and the merge on one disk), else a copy. */
async function linkTree(src: string, dest: string, files: { linked: number; copied: number }): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const entry of await readdir(src, { withFileTypes: true })) {
    const [from, to] = [join(src, entry.name), join(dest, entry.name)];
    if (entry.isDirectory()) await linkTree(from, to, files);
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (entry.isFile()) {
      const linked = await link(from, to).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EACCES'].includes(err.code ?? '')) return false;
          throw err;
        },
      );
      if (linked) files.linked++;
      else {
        await copyFile(from, to);
        files.copied++;
      }
    }
  }
}

/** The shards' wall span: the earliest start to the latest end, over their summaries and results (a resumed shard's summary covers its last invocation only). */
function spanOf(shards: readonly ShardRun[], results: readonly ResultRecord[]): SummaryRecord['timings'] {
  const starts = [...shards.flatMap((s) => (s.view.summary ? [s.view.summary.timings.startedAt] : [])), ...results.map((r) => r.timings.startedAt)].map(Date.parse).filter(Number.isFinite);
  const ends = [...shards.flatMap((s) => (s.view.summary ? [s.view.summary.timings.endedAt] : [])), ...results.map((r) => r.timings.endedAt)].map(Date.parse).filter(Number.isFinite);
  const start = starts.length ? Math.min(...starts) : Date.now();
  const end = ends.length ? Math.max(...ends) : start;
  return { startedAt: new Date(start).toISOString(), endedAt: new Date(end).toISOString(), durationMs: end - start };
}

/** Exported for bin/: what merge wrote, in one line. */
export function mergedLine(outcome: MergeOutcome, shards: number): string {
  const { linked, copied } = outcome.files;
  const how = copied ? (linked ? `${linked} file(s) hard-linked, ${copied} copied` : `${copied} file(s) copied`) : `${linked} file(s) hard-linked`;
  return `merged ${shards} shard(s) into ${outcome.runDir}: ${outcome.summary.counts.total} sample(s) (${how})`;
}
