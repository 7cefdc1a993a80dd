// A throw-away rootful Podman engine behind its Docker-compatible API, for tests: Debian's
// `podman system service` with everything of its own, so it leaves nothing behind and never
// touches the machine's Docker engine, which other tests are using at the same time.
//
// - Its own configuration, given through the environment (CONTAINERS_CONF,
//   CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF), never /etc/containers: storage root
//   and run root, libpod's tmp dir, volumes, events log, file locks and CNI network configs,
//   all in one temp dir; runc and cgroupfs (no systemd here); no registry to pull from.
// - Its own network namespace, joined to the host by a veth pair on a /30 of 10.252.0.0/16
//   that no route here overlaps. Podman's bridges (cni-podman*), its iptables chains (CNI-*)
//   and its containers' networks all live in that namespace, so the host's links, routes and
//   iptables (docker0 and Docker's chains above all) are never touched; deleting the
//   namespace takes them all. The host's end of the veth is where its containers reach this
//   machine (`host_containers_internal_ip`), as a harness's bridge would be reached from a
//   Podman on another host.
// - Its own socket: unix://DIR/podman.sock.
// Images come from the main engine (`docker save` | `podman load`): no registry is reachable.
// Outside its dir it writes only containers/image's blob-info cache under /var/lib/containers
// (no setting moves it), removed again when it was not there before.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { connectEngine, type Dockerode } from '../../sandboxes/docker/client.ts';
import { cmdline, comm, killPid, makeVethNamespace, mountsUnder, pickVethPair, pidsMentioning, removeNet, rmdirTree, run, tail, untilAnswering, waitUntil, within } from './host-support.ts';

export interface PodmanEngineOptions {
  /** Images copied from the main engine. @default ['debian:bookworm-slim', 'cagebench/relay:bookworm'] */
  readonly images?: readonly string[];
  /** The engine the images come from. @default $DOCKER_HOST or unix:///var/run/docker.sock */
  readonly from?: string;
  /** Give up when /_ping has not answered after this long. @default 30000 */
  readonly startTimeoutMs?: number;
}

export interface PodmanEngine {
  /** For DOCKER_HOST / connectEngine: `unix:///tmp/cb-podman-…/podman.sock`. */
  readonly host: string;
  readonly docker: Dockerode;
  /** The temp dir holding everything of this engine. */
  readonly dir: string;
  /** The host's end of the veth pair: where its containers reach this machine. */
  readonly hostAddress: string;
  /** The service's output. */
  readonly logFile: string;
  /** Remove its containers and networks, stop the service, remove its namespace, mounts, cgroups and dir. Idempotent. */
  dispose(): Promise<void>;
  /** What of it still exists on the machine (processes, mounts, files, namespaces, links, cgroups): [] after dispose(). */
  residue(): Promise<string[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_IMAGES = ['debian:bookworm-slim', 'cagebench/relay:bookworm'];
const VETH_OCTET = 252;
/** Process names of the engine: only these are killed when they outlive the service's stop. */
const ENGINE_PROCESS = /^(podman|conmon|runc|crun|catatonit|exe)$/;
/** Where a rootful Podman puts its containers' network namespaces (not configurable in 4.3). */
const NETNS_DIR = '/run/netns';
/**
 * The one path outside its dir a rootful Podman 4.3 writes to, which no setting moves: the
 * machine-wide cache of blob digests (containers/image's blob-info-cache, on every image load).
 */
const BLOB_INFO_CACHE = '/var/lib/containers';

/** Services this process started and has not stopped, and namespaces it made: cleaned when it exits. */
const live = new Set<ChildProcess>();
const liveNets = new Map<string, string>();
let exitHookInstalled = false;

/** What is missing on this machine to start one, or undefined. */
export function podmanMissing(): string | undefined {
  const missing = ['podman', 'conmon', 'runc', 'nsenter', 'setpriv', 'ip'].filter((bin) => !findOnPath(bin));
  if (!existsSync('/usr/lib/cni/bridge') && !existsSync('/usr/libexec/cni/bridge')) missing.push('the CNI plugins (containernetworking-plugins)');
  if (process.getuid?.() !== 0) return `the Podman tests run a rootful podman and need root (uid 0); this process runs as uid ${process.getuid?.()}`;
  if (missing.length) return `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: run scripts/setup.sh as root (it installs Debian's podman, with conmon, runc and the CNI plugins)`;
  return undefined;
}

export async function startPodmanEngine(options: PodmanEngineOptions = {}): Promise<PodmanEngine> {
  const missing = podmanMissing();
  if (missing) throw new Error(`startPodmanEngine: ${missing}`);
  // Unix socket paths stay short: the deepest is conmon's attach socket under the run root.
  const dir = await mkdtemp('/tmp/cb-podman-');
  const engine = new Podman(dir, options);
  try {
    await engine.start();
    await loadImages(options.from ?? (process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'), engine.docker, options.images ?? DEFAULT_IMAGES);
  } catch (err) {
    await engine.dispose().catch(() => undefined);
    throw err;
  }
  return engine;
}

class Podman implements PodmanEngine {
  readonly host: string;
  readonly logFile: string;
  readonly hostAddress: string;
  private readonly engineAddress: string;
  private readonly socket: string;
  private readonly netns: string;
  private readonly hostLink: string;
  private readonly nsLink: string;
  private readonly startTimeoutMs: number;
  /** Container network namespaces and cgroup parents that existed before it started (not its to remove). */
  private readonly netnsBefore: Set<string>;
  private readonly cgroupsBefore: Set<string>;
  private readonly blobCacheBefore: boolean;
  private client: Dockerode | undefined;
  private child: ChildProcess | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    options: PodmanEngineOptions,
  ) {
    const tag = dir.slice(dir.lastIndexOf('-') + 1).toLowerCase().replace(/[^a-z0-9]/g, '') || randomBytes(3).toString('hex');
    this.socket = join(dir, 'podman.sock');
    this.host = `unix://${this.socket}`;
    this.logFile = join(dir, 'service.log');
    this.netns = `cbp-${tag}`;
    this.hostLink = `cbph${tag}`.slice(0, 15);
    this.nsLink = `cbpn${tag}`.slice(0, 15);
    [this.hostAddress, this.engineAddress] = pickVethPair(VETH_OCTET, 'podman engine');
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.netnsBefore = new Set(listDir(NETNS_DIR));
    this.cgroupsBefore = new Set(libpodCgroups());
    this.blobCacheBefore = existsSync(BLOB_INFO_CACHE);
  }

  get docker(): Dockerode {
    if (!this.client) throw new Error(`podman engine ${this.host}: no client before start()`);
    return this.client;
  }

  private get env(): NodeJS.ProcessEnv {
    // Not the test's DOCKER_*/CONTAINER_* settings: this service's configuration is its own.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DOCKER_|CONTAINER_|CONTAINERS_)/.test(k)));
    return {
      ...inherited,
      CONTAINERS_CONF: join(this.dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(this.dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: join(this.dir, 'registries.conf'),
    };
  }

  async start(): Promise<void> {
    const d = this.dir;
    await writeFile(
      join(d, 'containers.conf'),
      [
        '[containers]',
        // The service's own limits are the machine's (often unlimited), which runc refuses to hand on as is.
        'default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]',
        `host_containers_internal_ip = "${this.hostAddress}"`,
        '',
        '[engine]',
        // Debian 12's crun 1.8 cannot run on a hybrid cgroup host; runc can.
        'runtime = "runc"',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${join(d, 'events.log')}"`,
        `tmp_dir = "${join(d, 'tmp')}"`,
        `volume_path = "${join(d, 'volumes')}"`,
        `static_dir = "${join(d, 'root', 'libpod')}"`,
        // Not the machine's shared-memory lock table (/dev/shm/libpod_lock).
        'lock_type = "file"',
        '',
        '[network]',
        'network_backend = "cni"',
        `network_config_dir = "${join(d, 'cni')}"`,
        'default_network = "podman"',
        'default_subnet = "10.88.0.0/16"',
        '',
      ].join('\n'),
    );
    await writeFile(join(d, 'storage.conf'), ['[storage]', 'driver = "overlay"', `graphroot = "${join(d, 'root')}"`, `runroot = "${join(d, 'run')}"`, ''].join('\n'));
    // No registry is reachable, and none may be tried: short names resolve locally or not at all.
    await writeFile(join(d, 'registries.conf'), ['unqualified-search-registries = []', 'short-name-mode = "disabled"', ''].join('\n'));

    liveNets.set(this.netns, this.hostLink);
    installExitHook();
    await makeVethNamespace({ netns: this.netns, hostLink: this.hostLink, nsLink: this.nsLink, hostAddress: this.hostAddress, engineAddress: this.engineAddress });
    // Its NAT sends containers' traffic out through the veth: the host is the next hop.
    await run('ip', ['-n', this.netns, 'route', 'add', 'default', 'via', this.hostAddress]);

    const log = openSync(this.logFile, 'a');
    // --pdeathsig: should this process die without dispose(), the service ends with it.
    const argv = ['--pdeathsig', 'TERM', '--', findOnPath('nsenter')!, `--net=${join(NETNS_DIR, this.netns)}`, '--', findOnPath('podman')!, 'system', 'service', '--time=0', this.host];
    // In its own dir: conmon writes a file named `oom` into its working directory when a
    // container is OOM-killed (the contract's memory-limit test), which must not land in the repo.
    const child = spawn(findOnPath('setpriv')!, argv, { stdio: ['ignore', log, log], env: this.env, cwd: this.dir });
    closeSync(log);
    this.child = child;
    live.add(child);
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(`podman system service exited (${signal ?? `code ${code}`})`));
      child.once('error', (err) => resolve(`podman system service did not start: ${err.message}`));
    });
    const failure = await Promise.race([this.untilAnswering(), exited]);
    if (failure) throw new Error(`podman engine ${this.host}: ${failure}. Last lines of ${this.logFile}:\n${await tail(this.logFile, 25)}`);
    this.client = (await connectEngine({ host: this.host })).docker;
  }

  private untilAnswering(): Promise<string | undefined> {
    return untilAnswering(this.socket, { timeoutMs: this.startTimeoutMs, running: () => this.child !== undefined, exited: 'the service exited' });
  }

  dispose(): Promise<void> {
    this.disposing ??= this.doDispose();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async doDispose(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>): Promise<void> => {
      try {
        await step();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (this.client && this.child) {
      const docker = this.client;
      // Through the service, so Podman tears their networks down itself (CNI DEL, netns removed).
      await attempt('removing containers', async () => {
        const all = await docker.listContainers({ all: true });
        await Promise.all(all.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
      });
      await attempt('removing networks', async () => {
        const nets = (await docker.listNetworks()) as { Name: string }[];
        for (const n of nets.filter((n) => !['bridge', 'podman', 'host', 'none'].includes(n.Name))) await docker.getNetwork(n.Name).remove();
      });
    }
    await attempt('stopping the service', async () => {
      const child = this.child;
      if (!child) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      if (!(await within(gone, 20_000))) {
        child.kill('SIGKILL');
        await within(gone, 5_000);
      }
    });
    // conmon and the runtime name our dir on their command lines; anything else (someone's tail -f) is left alone.
    await attempt('ending leftover processes', async () => {
      const ours = async (): Promise<number[]> => (await pidsMentioning(this.dir)).filter((pid) => ENGINE_PROCESS.test(comm(pid)));
      for (const pid of await ours()) killPid(pid, 'SIGKILL');
      if (!(await waitUntil(async () => (await ours()).length === 0, 5_000))) throw new Error(`still running: ${(await ours()).join(', ')}`);
    });
    await attempt('unmounting', async () => {
      for (const m of (await mountsUnder(this.dir)).sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]);
    });
    // Containers' network namespaces Podman made and did not remove (after a kill): each is a mount under /run/netns.
    await attempt('removing container network namespaces', async () => {
      for (const name of this.newNetns()) await run('ip', ['netns', 'delete', name]);
    });
    await attempt(`removing network namespace ${this.netns} and link ${this.hostLink}`, async () => {
      removeNet(this.netns, this.hostLink);
      if (!(await waitUntil(() => !existsSync(`/sys/class/net/${this.hostLink}`) && !existsSync(join(NETNS_DIR, this.netns)), 5_000))) throw new Error('still there after ip netns delete / ip link delete');
      liveNets.delete(this.netns);
    });
    await attempt(`removing ${this.dir}`, () => rm(this.dir, { recursive: true, force: true, maxRetries: 3 }));
    // Made by this engine's loads on a machine where no Podman ran before (a fresh CI machine): gone again.
    if (!this.blobCacheBefore) await attempt(`removing ${BLOB_INFO_CACHE}`, () => rm(BLOB_INFO_CACHE, { recursive: true, force: true }));
    await attempt('removing cgroups', async () => {
      for (const c of this.newCgroups().sort((a, b) => b.length - a.length)) await rmdirTree(c);
    });
    if (problems.length) throw new Error(`podman engine ${this.host}: dispose left work undone:\n  ${problems.join('\n  ')}`);
  }

  /** Network namespaces under /run/netns that appeared since it started, its own excepted: its containers'. */
  private newNetns(): string[] {
    return listDir(NETNS_DIR).filter((n) => !this.netnsBefore.has(n) && n !== this.netns && /^(cni|netns)-/.test(n));
  }

  /** The cgroups of Podman's cgroupfs manager (libpod_parent, in every hierarchy) that appeared since it started. */
  private newCgroups(): string[] {
    return libpodCgroups().filter((c) => !this.cgroupsBefore.has(c));
  }

  async residue(): Promise<string[]> {
    const found: string[] = [];
    for (const pid of await pidsMentioning(this.dir)) found.push(`process ${pid} (${comm(pid)}): ${(await cmdline(pid)).slice(0, 200)}`);
    for (const m of await mountsUnder(this.dir)) found.push(`mount ${m}`);
    if (existsSync(this.dir)) found.push(`dir ${this.dir}`);
    if (existsSync(join(NETNS_DIR, this.netns))) found.push(`network namespace ${this.netns}`);
    if (existsSync(`/sys/class/net/${this.hostLink}`)) found.push(`link ${this.hostLink}`);
    for (const n of this.newNetns()) found.push(`container network namespace ${n}`);
    for (const c of this.newCgroups()) found.push(`cgroup ${c}`);
    if (!this.blobCacheBefore && existsSync(BLOB_INFO_CACHE)) found.push(`dir ${BLOB_INFO_CACHE}`);
    return found;
  }
}

/**
 * What of Podman shows in the host's own network stack: links named like its bridges and
 * iptables lines of its CNI plugins. Empty while it keeps to its namespace.
 */
export function podmanOnHostNetwork(): string[] {
  const links = listDir('/sys/class/net').filter((l) => /^(cni-podman|podman)\d*$/.test(l)).map((l) => `link ${l}`);
  const rules: string[] = [];
  for (const table of ['filter', 'nat']) {
    const out = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' });
    for (const line of (out.stdout ?? '').split('\n')) if (/CNI|cni-podman|10\.88\./.test(line)) rules.push(`iptables -t ${table}: ${line}`);
  }
  return [...links, ...rules];
}

/** `docker save` of all the images at once (their shared layers once), loaded through the Docker API. */
async function loadImages(from: string, podman: Dockerode, images: readonly string[]): Promise<void> {
  if (!images.length) return;
  const main = await connectEngine({ host: from });
  for (const name of images) {
    await main.docker
      .getImage(name)
      .inspect()
      .catch((cause: unknown) => {
        throw new Error(`podman engine: image ${name} is not in the engine at ${from} (run scripts/setup.sh)`, { cause });
      });
  }
  // dockerode's getImages (GET /images/get?names=…) is missing from its type definitions.
  const withGetImages = main.docker as unknown as { getImages(opts: { names: string[] }): Promise<NodeJS.ReadableStream> };
  const archive = await withGetImages.getImages({ names: [...images] });
  const response = (await podman.loadImage(archive, { quiet: true })) as NodeJS.ReadableStream;
  let body = '';
  for await (const chunk of response) body += String(chunk);
  const failed = body.split('\n').find((l) => /"error"/i.test(l));
  if (failed) throw new Error(`podman engine: loading ${images.join(', ')} failed: ${failed}`);
  for (const name of images) {
    await podman
      .getImage(name)
      .inspect()
      .catch((cause: unknown) => {
        throw new Error(`podman engine: ${name} is not in Podman after the load (it answered: ${body.trim().slice(0, 500)})`, { cause });
      });
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGTERM');
    for (const [netns, link] of liveNets) removeNet(netns, link);
  });
}

function findOnPath(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `libpod_parent` (Podman's cgroupfs parent) and the cgroups below it, in every hierarchy that has one. */
function libpodCgroups(): string[] {
  const root = '/sys/fs/cgroup';
  const found: string[] = [];
  const walk = (dir: string): void => {
    found.push(dir);
    for (const e of listDir(dir)) if (!e.includes('.') && existsSync(join(dir, e, 'cgroup.procs'))) walk(join(dir, e));
  };
  for (const c of [join(root, 'libpod_parent'), ...listDir(root).map((h) => join(root, h, 'libpod_parent'))]) if (existsSync(c)) walk(c);
  return found;
}
