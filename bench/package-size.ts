// Installed footprint of the package, before and after issue 13: the tarball `npm pack` makes
// (bytes, unpacked bytes, files) and what `npm install <tarball>` puts in an empty project's
// node_modules (`du -sb`, installed packages).
//
// - After: the working tree as it is (tracked and untracked files that git does not ignore),
//   copied to a temporary directory with a node_modules symlink for the build, and packed there:
//   `npm pack` runs the build (prepack), and doing that in the shared tree would remove and
//   rewrite its dist/ under whoever else uses it. `--after REV` packs a commit instead.
// - Before: `git archive REV` (default 79c8321) unpacked into a temporary directory and packed
//   as it is (it has no build and no `files` field).
// - Each tarball goes into its own empty project with
//   `npm install --no-audit --no-fund --prefer-offline <tarball>`. npm reaches the registry only
//   through the machine's own npm configuration.
// - Packages are counted by walking node_modules (every directory with a package.json, nested
//   ones too, the package itself included). The per-package sizes below the table are each
//   package's own files, without its nested node_modules.
//
//   npm run bench:size                          # the figures in bench/README.md (1 to 3 minutes)
//   npm run --silent bench:size -- --json       # the same as JSON on stdout
//   npm run bench:size -- --before a6ac8c1 --keep
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFlags, runMain, UsageError } from './cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BEFORE = '79c8321';
const GOAL_BYTES = 40_000_000;
const USAGE = 'Usage: npm run bench:size -- [--before 79c8321] [--after REV] [--keep] [--json]';

interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
}

interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly path: string;
  /** Its own files (apparent sizes, like du -sb), without its nested node_modules. */
  readonly bytes: number;
}

interface Side {
  readonly label: string;
  readonly source: string;
  readonly tarballBytes: number;
  readonly unpackedBytes: number;
  readonly files: number;
  readonly nodeModulesBytes: number;
  readonly packages: number;
  readonly npmSays: string;
  readonly installMs: number;
  readonly installed: readonly InstalledPackage[];
}

function sh(file: string, args: readonly string[], cwd: string, input?: string | Buffer): { stdout: string; stderr: string } {
  const res = spawnSync(file, args, { cwd, input, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (res.status !== 0) throw new Error(`${file} ${args.join(' ')} (in ${cwd}) exited ${res.status ?? res.signal}\n${res.stderr}`);
  return { stdout: res.stdout, stderr: res.stderr };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The working tree as it is: every tracked or untracked file git does not ignore. */
async function copyWorkingTree(to: string): Promise<string[]> {
  const listed = sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).stdout.split('\0').filter(Boolean);
  let copied = 0;
  for (const path of listed) {
    const from = join(ROOT, path);
    const st = await lstat(from).catch(() => undefined);
    if (!st || st.isDirectory()) continue; // deleted in the tree, or a submodule
    await mkdir(dirname(join(to, path)), { recursive: true });
    await cp(from, join(to, path), { verbatimSymlinks: true, preserveTimestamps: true });
    copied++;
  }
  log(`after: copied ${copied} files of the working tree`);
  return sh('git', ['status', '--porcelain', '--untracked-files=all'], ROOT)
    .stdout.split('\n')
    .filter(Boolean);
}

async function extractCommit(rev: string, to: string): Promise<string> {
  const commit = sh('git', ['rev-parse', '--verify', `${rev}^{commit}`], ROOT).stdout.trim();
  await mkdir(to, { recursive: true });
  const archive = spawnSync('git', ['archive', '--format=tar', commit], { cwd: ROOT, maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`git archive ${rev} failed: ${archive.stderr.toString()}`);
  sh('tar', ['-x', '-C', to], ROOT, archive.stdout);
  return commit;
}

function pack(dir: string, dest: string): Packed {
  const { stdout } = sh('npm', ['pack', '--json', '--pack-destination', dest], dir);
  // The prepack build may print before npm's JSON array.
  const start = stdout.search(/^\[/m);
  if (start < 0) throw new Error(`npm pack --json printed no JSON:\n${stdout}`);
  const [info] = JSON.parse(stdout.slice(start)) as Packed[];
  if (!info) throw new Error('npm pack --json printed an empty list');
  return info;
}

function duBytes(path: string): number {
  return Number(sh('du', ['-sb', path], ROOT).stdout.split(/\s/)[0]);
}

/**
 * Apparent size of everything under `dir`, skipping its node_modules. A file with more than one
 * link counts once, where it is met first (`seen`), as in du: esbuild's postinstall hard-links
 * its platform package's binary into esbuild/bin.
 */
async function ownBytes(dir: string, seen: Set<string>): Promise<number> {
  let total = (await lstat(dir)).size;
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      total += await ownBytes(p, seen);
      continue;
    }
    const st = await lstat(p);
    if (st.nlink > 1) {
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    total += st.size;
  }
  return total;
}

/** Every installed package under `nodeModules`, nested ones too. */
async function installedPackages(nodeModules: string, base: string, out: InstalledPackage[] = [], seen = new Set<string>()): Promise<InstalledPackage[]> {
  if (!existsSync(nodeModules)) return out;
  const dirs: string[] = [];
  for (const entry of await readdir(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
    if (entry.name.startsWith('@')) {
      for (const sub of await readdir(join(nodeModules, entry.name), { withFileTypes: true })) if (sub.isDirectory()) dirs.push(join(nodeModules, entry.name, sub.name));
    } else dirs.push(join(nodeModules, entry.name));
  }
  dirs.sort();
  for (const dir of dirs) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(await readFile(manifest, 'utf8')) as { name?: string; version?: string };
    out.push({ name: name ?? dir, version: version ?? '?', path: dir.slice(base.length + 1), bytes: await ownBytes(dir, seen) });
    await installedPackages(join(dir, 'node_modules'), base, out, seen);
  }
  return out;
}

async function install(label: string, source: string, tarball: string, packed: Packed, project: string): Promise<Side> {
  await mkdir(project, { recursive: true });
  await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: `size-probe-${label}`, version: '1.0.0', private: true }, null, 2)}\n`);
  log(`${label}: npm install ${tarball}`);
  // --loglevel only keeps npm's summary line under `npm run --silent`, whose silence children inherit.
  const t0 = Date.now();
  const { stdout } = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=notice', tarball], project);
  const installMs = Date.now() - t0;
  const nodeModules = join(project, 'node_modules');
  const installed = await installedPackages(nodeModules, nodeModules);
  return {
    label,
    source,
    tarballBytes: packed.size,
    unpackedBytes: packed.unpackedSize,
    files: packed.entryCount,
    nodeModulesBytes: duBytes(nodeModules),
    packages: installed.length,
    npmSays: stdout.trim().split('\n').find((l) => /added \d+ package/.test(l)) ?? '',
    installMs,
    installed,
  };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
const signed = (n: number, f: (x: number) => string = String) => (n > 0 ? `+${f(n)}` : n < 0 ? `-${f(-n)}` : '0');

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2), { before: { type: 'string' }, after: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, USAGE);
  const beforeRev = flags.before ?? BEFORE;
  if (spawnSync('git', ['rev-parse', '--verify', '--quiet', `${beforeRev}^{commit}`], { cwd: ROOT }).status !== 0) throw new UsageError(`--before ${beforeRev}: no such commit`);
  const head = sh('git', ['rev-parse', '--short', 'HEAD'], ROOT).stdout.trim();
  const work = await mkdtemp(join(tmpdir(), 'cagebench-size-'));
  try {
    // After
    const afterSrc = join(work, 'after-src');
    let afterSource: string;
    let uncommitted: string[] = [];
    if (flags.after) {
      afterSource = `commit ${(await extractCommit(flags.after, afterSrc)).slice(0, 7)}`;
    } else {
      await mkdir(afterSrc);
      uncommitted = await copyWorkingTree(afterSrc);
      afterSource = `working tree at ${head}${uncommitted.length ? ` with ${uncommitted.length} uncommitted paths` : ''}`;
    }
    // The build (prepack) needs the dev dependencies: the tree's own.
    await symlink(join(ROOT, 'node_modules'), join(afterSrc, 'node_modules'), 'dir');
    log(`after: npm pack (${afterSource}; runs the build)`);
    await mkdir(join(work, 'after-pack'));
    const afterPacked = pack(afterSrc, join(work, 'after-pack'));
    // Before
    const beforeSrc = join(work, 'before-src');
    const beforeCommit = await extractCommit(beforeRev, beforeSrc);
    log(`before: npm pack (commit ${beforeCommit.slice(0, 7)}, as it is)`);
    await mkdir(join(work, 'before-pack'));
    const beforePacked = pack(beforeSrc, join(work, 'before-pack'));

    const before = await install('before', `commit ${beforeCommit.slice(0, 7)}`, join(work, 'before-pack', beforePacked.filename), beforePacked, join(work, 'before-project'));
    const after = await install('after', afterSource, join(work, 'after-pack', afterPacked.filename), afterPacked, join(work, 'after-project'));

    const saved = before.nodeModulesBytes - after.nodeModulesBytes;
    const key = (p: InstalledPackage) => `${p.name}@${p.version}`;
    const afterKeys = new Set(after.installed.map(key));
    const beforeKeys = new Set(before.installed.map(key));
    const onlyBefore = before.installed.filter((p) => !afterKeys.has(key(p))).sort((a, b) => b.bytes - a.bytes);
    const onlyAfter = after.installed.filter((p) => !beforeKeys.has(key(p))).sort((a, b) => b.bytes - a.bytes);
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, npm: sh('npm', ['--version'], ROOT).stdout.trim() },
      goal: `node_modules at least ${GOAL_BYTES / 1e6} MB smaller`,
      goalMet: saved >= GOAL_BYTES,
      uncommitted,
      before: { ...before, installed: undefined },
      after: { ...after, installed: undefined },
      onlyBefore,
      onlyAfter,
      work: flags.keep ? work : undefined,
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const rows: [string, number, number, (x: number) => string][] = [
      ['tarball bytes', before.tarballBytes, after.tarballBytes, String],
      ['unpacked bytes', before.unpackedBytes, after.unpackedBytes, String],
      ['files in the tarball', before.files, after.files, String],
      ['node_modules bytes (du -sb)', before.nodeModulesBytes, after.nodeModulesBytes, String],
      ['installed packages', before.packages, after.packages, String],
    ];
    const out: string[] = [];
    out.push(`before: ${before.source}; after: ${after.source}`);
    out.push(`${report.machine.cpus} cores, Node ${process.version}, npm ${report.machine.npm}`, '');
    out.push(`  ${''.padEnd(28)} ${'before'.padStart(12)} ${'after'.padStart(12)} ${'difference'.padStart(12)} ${'after/before'.padStart(12)}`);
    for (const [name, b, a, f] of rows) out.push(`  ${name.padEnd(28)} ${f(b).padStart(12)} ${f(a).padStart(12)} ${signed(a - b, f).padStart(12)} ${(a / b).toFixed(3).padStart(12)}`);
    out.push('', `  node_modules: ${mb(before.nodeModulesBytes)} MB -> ${mb(after.nodeModulesBytes)} MB, ${saved >= 0 ? `${mb(saved)} MB less` : `${mb(-saved)} MB more`}`);
    out.push(`  goal (at least ${GOAL_BYTES / 1e6} MB less node_modules): ${report.goalMet ? 'met' : 'NOT met'}`);
    out.push(`  npm said: before "${before.npmSays}", after "${after.npmSays}"`);
    const self = (side: Side) => side.installed.find((p) => p.path === 'cagebench')?.bytes ?? NaN;
    out.push(`  cagebench itself in node_modules: ${mb(self(before))} MB -> ${mb(self(after))} MB`);
    const list = (title: string, pkgs: InstalledPackage[]) => {
      out.push('', `${title}: ${pkgs.length} packages, ${mb(pkgs.reduce((s, p) => s + p.bytes, 0))} MB of their own files`);
      for (const p of pkgs) out.push(`  ${key(p).padEnd(44)} ${mb(p.bytes).padStart(8)} MB  ${p.path}`);
    };
    list('only before', onlyBefore);
    list('only after', onlyAfter);
    const largest = [...after.installed].sort((a, b) => b.bytes - a.bytes).slice(0, 12);
    const sum = (side: Side) => mb(side.installed.reduce((t, p) => t + p.bytes, 0));
    out.push('', `largest after (packages' own files add up to ${sum(after)} MB before the hidden lockfile and .bin; du ${mb(after.nodeModulesBytes)} MB):`);
    for (const p of largest) out.push(`  ${key(p).padEnd(44)} ${mb(p.bytes).padStart(8)} MB  ${p.path}`);
    if (uncommitted.length) out.push('', `uncommitted in the packed working tree: ${uncommitted.map((l) => l.slice(3)).join(', ')}`);
    if (flags.keep) out.push('', `kept: ${work}`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    if (!flags.keep) await rm(work, { recursive: true, force: true });
  }
}

runMain(main, USAGE);
