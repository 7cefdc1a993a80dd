// Host-side helpers for the tests' throw-away engines (second-engine.ts, podman-engine.ts):
// processes, mounts and sockets of this machine, looked at through /proc and spawned tools.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';

export function littleEndian(hex: string): number {
  const n = Number.parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >> 8) & 0xff) << 16) | (((n >> 16) & 0xff) << 8) | ((n >> 24) & 0xff)) >>> 0;
}

export function ping(socketPath: string, timeoutMs: number): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    // A fresh connection (no keep-alive pool): a dockerd shutting down still answers on
    // connections already open, for as long as it takes to stop its containers.
    const req = request({ socketPath, path: '/_ping', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: Error) => `(no log: ${err.message})`);
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when the promise settled within `ms`. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  return Promise.race([p.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

export function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export async function cmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
}

/** Processes whose command line names `dir`: dockerd, its containerd and the shims all do. */
export async function pidsMentioning(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  const found: number[] = [];
  for (const pid of pids) if (pid !== process.pid && (await cmdline(pid)).includes(dir)) found.push(pid);
  return found;
}

export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and the like escaped as octal.
  const points = text.split('\n').map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`));
}

export function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

/**
 * A /30 of 10.OCTET.0.0/16 that no route here overlaps, for a veth pair between the host and a
 * test engine's network namespace: [the host's end, the engine's end].
 */
export function pickVethPair(octet: number, who: string): [string, string] {
  const taken = new Set<number>();
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [, dest, , , , , , mask] = line.trim().split(/\s+/);
      if (!dest || !mask || Number.parseInt(mask, 16) === 0) continue;
      const d = littleEndian(dest);
      const m = littleEndian(mask);
      // Any route covering part of 10.OCTET.X.0/24 takes that whole /24 out of the draw.
      for (let x = 0; x < 256; x++) {
        const cand = ((10 << 24) | (octet << 16) | (x << 8)) >>> 0;
        const common = (m & 0xffffff00) >>> 0;
        if (((d & common) >>> 0) === ((cand & common) >>> 0)) taken.add(x);
      }
    }
  } catch {
    // no procfs route table: any will do
  }
  const free = Array.from({ length: 256 }, (_, x) => x).filter((x) => !taken.has(x));
  if (!free.length) throw new Error(`${who}: every 10.${octet}.X.0/24 is routed on this machine; no address is free for the veth pair`);
  const x = free[randomBytes(1).readUInt8() % free.length]!;
  const base = 4 * (randomBytes(1).readUInt8() % 64);
  return [`10.${octet}.${x}.${base + 1}`, `10.${octet}.${x}.${base + 2}`];
}

/** Delete a namespace's name and the host's veth end (which takes the other end with it). Synchronous, never throws. */
export function removeNet(netns: string, hostLink: string): void {
  if (existsSync(`/sys/class/net/${hostLink}`)) spawnSync('ip', ['link', 'delete', hostLink], { stdio: 'ignore' });
  if (existsSync(`/run/netns/${netns}`)) spawnSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
}

/**
 * rmdir a cgroup and its children, deepest first (cgroup files cannot be unlinked; rmdir is
 * how). A cgroup whose last process was just killed stays busy until the kernel has reaped
 * it, so EBUSY is retried for a few seconds.
 */
export async function rmdirTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await rmdirTree(join(dir, e.name));
  for (let tries = 0; ; tries++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || tries >= 50) throw err;
      await sleep(100);
    }
  }
}

/** A named network namespace joined to the host by a veth pair, each end given its /30 address, both up. */
export async function makeVethNamespace(net: { readonly netns: string; readonly hostLink: string; readonly nsLink: string; readonly hostAddress: string; readonly engineAddress: string }): Promise<void> {
  await run('ip', ['netns', 'add', net.netns]);
  await run('ip', ['link', 'add', net.hostLink, 'type', 'veth', 'peer', 'name', net.nsLink]);
  await run('ip', ['link', 'set', net.nsLink, 'netns', net.netns]);
  await run('ip', ['addr', 'add', `${net.hostAddress}/30`, 'dev', net.hostLink]);
  await run('ip', ['link', 'set', net.hostLink, 'up']);
  await run('ip', ['-n', net.netns, 'addr', 'add', `${net.engineAddress}/30`, 'dev', net.nsLink]);
  await run('ip', ['-n', net.netns, 'link', 'set', net.nsLink, 'up']);
  await run('ip', ['-n', net.netns, 'link', 'set', 'lo', 'up']);
}

/** Poll a test engine's socket until /_ping answers: undefined, or why not (it exited, or the time ran out). */
export async function untilAnswering(socket: string, options: { readonly timeoutMs: number; readonly running: () => boolean; readonly exited: string }): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (!options.running()) return options.exited;
    if (await ping(socket, 1000)) return undefined;
    await sleep(100);
  }
  return `/_ping did not answer within ${options.timeoutMs} ms`;
}

