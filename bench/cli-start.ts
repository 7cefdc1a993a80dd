// CLI start time: `cagebench --help` and `cagebench --version` from the compiled package
// (`node dist/bin/cagebench.js`) and from the source-tree launcher that runs the TypeScript
// through tsx (`node bin/cagebench.js`, the way before the build existed), against `node -e 0`
// measured in the same rounds.
//
// - Each round runs every variant once, in an order that rotates from round to round, so drift
//   on a shared machine hits all of them alike. Warm-up rounds come first and are not counted.
// - Wall time: process.hrtime around a spawnSync of `node …` itself (stdout and stderr to
//   /dev/null), nothing wrapped around the child.
// - CPU time: user + sys of the child, from a second spawn of the same command in the same
//   round under bash's `time` keyword (TIMEFORMAT `%3R %3U %3S`: the child's rusage, in ms).
//   bash's own start-up is outside what it reports.
// - Ratios: the variant's median over the `node -e 0` median of the same block, and the median
//   of the per-round ratios.
//
//   npm run bench:cli                          # the figures in bench/README.md (about 1 minute)
//   npm run --silent bench:cli -- --json       # the same as JSON on stdout
//   npm run bench:cli -- --n 20 --warmup 3
//
// Needs the compiled package: run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveInteger, readFlags, runMain } from './cli.ts';
import { median, round, summarize, type Summary } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED = 'dist/bin/cagebench.js';
const LAUNCHER = 'bin/cagebench.js';
const ARGS = ['--help', '--version'] as const;
const GOAL = 2.0;
const USAGE = 'Usage: npm run bench:cli -- [--n 10] [--warmup 2] [--json]';

interface Variant {
  readonly name: string;
  readonly argv: readonly string[];
}

interface VariantResult {
  readonly variant: string;
  readonly command: string;
  readonly wall: Summary;
  readonly cpu: Summary;
  readonly user: Summary;
  readonly sys: Summary;
  /** The child's real time as bash reports it: a check that the wall figures hold no spawn overhead of note. */
  readonly wallInBash: Summary;
  readonly wallRatio: number;
  readonly wallRatioPaired: number;
  readonly cpuRatio: number;
  readonly cpuRatioPaired: number;
}

// The children get the bench's environment without anything that would load code into them.
const ENV = { ...process.env };
delete ENV.NODE_OPTIONS;

function wallOnce(argv: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const res = spawnSync(process.execPath, argv, { cwd: ROOT, env: ENV, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${res.status ?? res.signal}`);
  return ms;
}

const TIMED = 'TIMEFORMAT="%3R %3U %3S"; time "$@" >/dev/null 2>/dev/null';

function cpuOnce(argv: readonly string[]): { real: number; user: number; sys: number } {
  const res = spawnSync('bash', ['--norc', '--noprofile', '-c', TIMED, 'bench', process.execPath, ...argv], { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const last = res.stderr.trim().split('\n').at(-1) ?? '';
  const m = /^(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(last);
  if (res.status !== 0 || !m) throw new Error(`node ${argv.join(' ')} under bash time: exit ${res.status ?? res.signal}, stderr ${JSON.stringify(res.stderr)}`);
  return { real: Number(m[1]) * 1000, user: Number(m[2]) * 1000, sys: Number(m[3]) * 1000 };
}

/** The compiled CLI and the tsx launcher must print the same thing, or the comparison is moot. */
function checkSameOutput(arg: string): string {
  const out = (file: string) => {
    const res = spawnSync(process.execPath, [file, arg], { cwd: ROOT, env: ENV, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`node ${file} ${arg} exited ${res.status ?? res.signal}: ${res.stderr}`);
    return res.stdout;
  };
  const compiled = out(COMPILED);
  if (compiled !== out(LAUNCHER)) throw new Error(`node ${COMPILED} ${arg} and node ${LAUNCHER} ${arg} print different output`);
  return compiled;
}

function measure(arg: string, n: number, warmup: number): VariantResult[] {
  const variants: Variant[] = [
    { name: 'node -e 0', argv: ['-e', '0'] },
    { name: 'compiled', argv: [COMPILED, arg] },
    { name: 'tsx launcher', argv: [LAUNCHER, arg] },
  ];
  const wall = variants.map(() => [] as number[]);
  const real = variants.map(() => [] as number[]);
  const user = variants.map(() => [] as number[]);
  const sys = variants.map(() => [] as number[]);
  for (let r = 0; r < warmup + n; r++) {
    const seen: number[] = [];
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      const w = wallOnce(variants[i]!.argv);
      const c = cpuOnce(variants[i]!.argv);
      seen[i] = w;
      if (r < warmup) continue;
      wall[i]!.push(w);
      real[i]!.push(c.real);
      user[i]!.push(c.user);
      sys[i]!.push(c.sys);
    }
    process.stderr.write(`${arg}: round ${r + 1}/${warmup + n}${r < warmup ? ' (warm-up)' : ''}: ${variants.map((v, i) => `${v.name} ${round(seen[i]!)} ms`).join(', ')}\n`);
  }
  const cpu = variants.map((_, i) => user[i]!.map((u, j) => u + sys[i]![j]!));
  const paired = (xs: number[], base: number[]) => round(median(xs.map((x, j) => x / base[j]!)), 2);
  return variants.map((v, i) => ({
    variant: v.name,
    command: `node ${v.argv.join(' ')}`,
    wall: summarize(wall[i]!),
    cpu: summarize(cpu[i]!),
    user: summarize(user[i]!),
    sys: summarize(sys[i]!),
    wallInBash: summarize(real[i]!),
    wallRatio: round(median(wall[i]!) / median(wall[0]!), 2),
    wallRatioPaired: paired(wall[i]!, wall[0]!),
    cpuRatio: round(median(cpu[i]!) / median(cpu[0]!), 2),
    cpuRatioPaired: paired(cpu[i]!, cpu[0]!),
  }));
}

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2), { n: { type: 'string' }, warmup: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, USAGE);
  const n = flags.n ? positiveInteger('n', flags.n) : 10;
  const warmup = flags.warmup === '0' ? 0 : flags.warmup ? positiveInteger('warmup', flags.warmup) : 2;
  if (!existsSync(join(ROOT, COMPILED))) {
    process.stderr.write(`${COMPILED} is missing: run \`npm run build\` first.\n`);
    process.exitCode = 1;
    return;
  }
  const version = checkSameOutput('--version').trim();
  checkSameOutput('--help');
  const load1mAtStart = round(loadavg()[0] ?? NaN, 2);
  // Other work in the same tree may rebuild dist/ (npm pack runs the build): a run that saw
  // two builds is thrown away rather than reported.
  const builtAt = statSync(join(ROOT, COMPILED)).mtimeMs;
  const blocks = ARGS.map((arg) => ({ arg, results: measure(arg, n, warmup) }));
  if (!existsSync(join(ROOT, COMPILED)) || statSync(join(ROOT, COMPILED)).mtimeMs !== builtAt) throw new Error('dist/ was rebuilt during the run (another build in this tree?): run again');
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, load1mAtStart, load1mAtEnd: round(loadavg()[0] ?? NaN, 2) },
    cagebenchVersion: version,
    distBuiltAt: statSync(join(ROOT, COMPILED)).mtime.toISOString(),
    rounds: n,
    warmup,
    goal: `compiled wall <= ${GOAL} x node -e 0`,
    blocks,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  out.push(`cagebench ${version} CLI start, ${n} rounds after ${warmup} warm-ups, order rotating; ${report.machine.cpus} cores, Node ${process.version}, load ${load1mAtStart} -> ${report.machine.load1mAtEnd}`);
  for (const { arg, results } of blocks) {
    out.push('', `cagebench ${arg}`);
    out.push(`  ${'variant'.padEnd(40)} ${'wall ms'.padStart(8)} ${'p25'.padStart(7)} ${'p75'.padStart(7)} ${'x node'.padStart(7)} ${'paired'.padStart(7)}   ${'cpu ms'.padStart(7)} ${'user'.padStart(7)} ${'sys'.padStart(6)} ${'x node'.padStart(7)} ${'paired'.padStart(7)}`);
    for (const r of results) {
      out.push(
        `  ${r.command.padEnd(40)} ${String(r.wall.medianMs).padStart(8)} ${String(r.wall.p25Ms).padStart(7)} ${String(r.wall.p75Ms).padStart(7)} ${String(r.wallRatio).padStart(7)} ${String(r.wallRatioPaired).padStart(7)}   ${String(r.cpu.medianMs).padStart(7)} ${String(r.user.medianMs).padStart(7)} ${String(r.sys.medianMs).padStart(6)} ${String(r.cpuRatio).padStart(7)} ${String(r.cpuRatioPaired).padStart(7)}`,
      );
    }
    const [, compiled, tsx] = results;
    out.push(`  compiled / tsx launcher: wall ${round(compiled!.wall.medianMs / tsx!.wall.medianMs, 2)}, cpu ${round(compiled!.cpu.medianMs / tsx!.cpu.medianMs, 2)}`);
    out.push(`  goal (compiled <= ${GOAL} x node -e 0, wall medians): ${compiled!.wallRatio <= GOAL ? 'met' : 'NOT met'} (${compiled!.wallRatio})`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

runMain(main, USAGE);
