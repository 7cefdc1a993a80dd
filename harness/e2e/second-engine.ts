// A second, throw-away Docker engine for tests that must stop and start an engine (outages)
// without touching the machine's own, which other tests are using. It runs the machine's
// `dockerd` with everything of its own: socket, data-root, exec-root, pidfile, config file,
// managed containerd (and containerd namespaces), cgroup parent, network namespace. It
// makes no bridge and writes no iptables rule or sysctl, so the main engine's networking is
// never touched (its docker0 above all, which a --bridge=none dockerd would delete).
// The consequence: there is no default `bridge` network (so no `model-only` relay either),
// and where bridged traffic goes through iptables (br_netfilter, FORWARD policy DROP, as
// here) containers on its user-defined networks cannot reach each other. Tests that need a
// sandbox with network `none` (the oracle and nop agents) run on it unchanged.
//
// With `tls: true` it is a *remote* engine as far as cagebench can tell: its network
// namespace is a named one made for it, joined to the host by a veth pair on a /30 of
// 10.251.0.0/16 that no route here overlaps, and it listens there on tcp://ADDR:2376 with
// mutual TLS (a CA, a server and a client certificate made with openssl for it; without the
// client certificate it refuses). Its unix socket stays, for the test's own bookkeeping.
// With `bridge: true` as well, it has a default bridge, iptables rules and forwarding of
// its own, all inside that namespace (the host's are never touched), and host.docker.internal
// (--host-gateway-ip) is the host's end of the veth, as a remote engine's would be the harness.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { connectEngine, type Dockerode } from '../../sandboxes/docker/client.ts';
import { cmdline, comm, killPid, littleEndian, makeVethNamespace, mountsUnder, pickVethPair, pidsMentioning, ping, removeNet, rmdirTree, run, tail, untilAnswering, waitUntil, within } from './host-support.ts';

export interface SecondEngineOptions {
  /** Images copied from the main engine (`docker save | docker load`). @default ['debian:bookworm-slim'] */
  readonly images?: readonly string[];
  /** The engine the images come from. @default $DOCKER_HOST or unix:///var/run/docker.sock */
  readonly from?: string;
  /** More dockerd flags, appended. */
  readonly dockerdArgs?: readonly string[];
  /** Its daemon.json (e.g. `runtimes` with runtimeArgs, which --add-runtime cannot give). @default {} */
  readonly daemonConfig?: Readonly<Record<string, unknown>>;
  /** Give up when /_ping has not answered after this long. @default 30000 */
  readonly startTimeoutMs?: number;
  /** Also listen on tcp://ADDR:2376 with mutual TLS, ADDR being its end of a veth pair to the host (see `remote`). */
  readonly tls?: boolean;
  /** With `tls`: a default bridge (and iptables, forwarding, NAT) inside its own namespace; host-gateway is the host's veth end. */
  readonly bridge?: boolean;
}

/** How to reach a `tls` engine as a remote one. */
export interface RemoteEndpoint {
  /** For DOCKER_HOST: `tcp://10.251.X.Y:2376`. */
  readonly host: string;
  /** For DOCKER_CERT_PATH: ca.pem, cert.pem and key.pem of a client the engine trusts. */
  readonly certPath: string;
  /** The host's own address on the veth pair (what the engine's containers reach the host at). */
  readonly hostAddress: string;
  /** DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as a user would set them. */
  readonly env: Readonly<Record<string, string>>;
}

export interface SecondEngine {
  /** For DOCKER_HOST: `unix:///tmp/cb-engine-…/docker.sock`. */
  readonly host: string;
  /** A client for it; it keeps working across stop() and start(). */
  readonly docker: Dockerode;
  /** The temp dir holding everything of this engine. */
  readonly dir: string;
  /** Set with `tls: true`. */
  readonly remote?: RemoteEndpoint;
  /** dockerd's (and its containerd's) output, appended on every start. */
  readonly logFile: string;
  readonly running: boolean;
  /** True when /_ping answers within a second. */
  ping(): Promise<boolean>;
  /** SIGTERM dockerd; resolves once it and its containerd are gone and the socket is removed. */
  stop(): Promise<void>;
  /**
   * SIGKILL dockerd, as a crash would: its API (socket, TCP) is gone at once, while its
   * containerd and containers live on until start() takes them up again (or dispose()).
   */
  kill(): Promise<void>;
  /** Start it again on the same data-root (images, containers kept); resolves once /_ping answers. */
  start(): Promise<void>;
  /** Remove its containers, stop it, remove its temp dir and cgroups. Idempotent. */
  dispose(): Promise<void>;
  /** What of it still exists on the machine (processes, mounts, files, cgroups): [] after dispose(). */
  residue(): Promise<string[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_IMAGES = ['debian:bookworm-slim'];
const STOP_TIMEOUT_MS = 90_000;
/** Where `docker save` output is kept between engines (and test runs): one file per image id. */
const IMAGE_CACHE = fileURLToPath(new URL('../../node_modules/.cache/cagebench/second-engine/', import.meta.url));
/** Unix socket paths must stay under 108 bytes; the deepest is exec/containerd/containerd.sock.ttrpc. */
const MAX_DIR_LENGTH = 60;
/** Second octets of 10.X.0.0/16 a second engine may take for its address pool (10.213 is model-only's default). */
const POOL_OCTETS = Array.from({ length: 51 }, (_, i) => 200 + i).filter((x) => x !== 213);

/** Process names an engine runs: only these are killed when they outlive dispose's stop. */
const ENGINE_PROCESS = /^(dockerd|containerd|containerd-shim.*|runc|crun|runsc.*|exe|docker-proxy|docker-init)$/; // gVisor's runsc re-executes itself: comm "exe"

/** dockerds this process started and has not stopped: stopped when the process exits. */
const live = new Set<ChildProcess>();
/** Network namespaces and host veth ends this process made and has not removed: removed when it exits. */
const liveNets = new Map<string, string>();
/** The /16 the veth pairs of `tls` engines take their /30s from. */
const VETH_OCTET = 251;
let exitHookInstalled = false;

export async function startSecondEngine(options: SecondEngineOptions = {}): Promise<SecondEngine> {
  const dockerd = findOnPath('dockerd', ['/usr/sbin', '/usr/bin', '/usr/local/bin']);
  if (!dockerd) throw new Error('startSecondEngine: no dockerd on PATH (or in /usr/sbin, /usr/bin): run scripts/setup.sh as root');
  const base = tmpdir().length + 16 <= MAX_DIR_LENGTH ? tmpdir() : '/tmp';
  const dir = await mkdtemp(join(base, 'cb-engine-'));
  let engine: Engine;
  try {
    engine = new Engine(dir, dockerd, options);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  try {
    await engine.prepareNetwork();
    await engine.start();
    await loadImages(options.from ?? (process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'), engine, options.images ?? DEFAULT_IMAGES);
  } catch (err) {
    await engine.dispose().catch(() => undefined);
    throw err;
  }
  return engine;
}

interface OwnNet {
  readonly netns: string;
  readonly hostLink: string;
  readonly nsLink: string;
  readonly hostAddress: string;
  readonly engineAddress: string;
  readonly bridge: boolean;
}

class Engine implements SecondEngine {
  readonly host: string;
  readonly logFile: string;
  remote: RemoteEndpoint | undefined;
  private readonly net: OwnNet | undefined;
  private client: Dockerode | undefined;
  private readonly socket: string;
  private readonly execRoot: string;
  private readonly args: string[];
  private readonly cgroupName: string;
  private readonly startTimeoutMs: number;
  private readonly daemonConfig: Readonly<Record<string, unknown>>;
  private child: ChildProcess | undefined;
  private disposing: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private readonly dockerd: string,
    options: SecondEngineOptions,
  ) {
    const tag = dir.slice(dir.lastIndexOf('-') + 1).toLowerCase().replace(/[^a-z0-9]/g, '') || randomBytes(3).toString('hex');
    this.socket = join(dir, 'docker.sock');
    this.host = `unix://${this.socket}`;
    this.execRoot = join(dir, 'exec');
    this.logFile = join(dir, 'dockerd.log');
    this.cgroupName = `cagebench-e2e-${tag}`;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.daemonConfig = options.daemonConfig ?? {};
    if (options.bridge && !options.tls) throw new Error('second engine: bridge needs tls (a named network namespace joined to the host)');
    let tcp: string[] = [];
    if (options.tls) {
      const [hostAddress, engineAddress] = pickVethPair(VETH_OCTET, 'second engine');
      const net: OwnNet = { netns: `cb-${tag}`, hostLink: `cbh${tag}`.slice(0, 15), nsLink: `cbn${tag}`.slice(0, 15), hostAddress, engineAddress, bridge: options.bridge ?? false };
      this.net = net;
      const tlsDir = join(dir, 'tls');
      tcp = [
        `--host=tcp://${engineAddress}:2376`,
        '--tlsverify',
        `--tlscacert=${join(tlsDir, 'ca.pem')}`,
        `--tlscert=${join(tlsDir, 'server-cert.pem')}`,
        `--tlskey=${join(tlsDir, 'server-key.pem')}`,
      ];
      this.remote = {
        host: `tcp://${engineAddress}:2376`,
        certPath: join(tlsDir, 'client'),
        hostAddress,
        env: { DOCKER_HOST: `tcp://${engineAddress}:2376`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(tlsDir, 'client') },
      };
    }
    // Inside its own named namespace a bridge, iptables and forwarding are its alone.
    const networking = this.net?.bridge
      ? [`--bip=172.31.${randomBytes(1).readUInt8()}.1/24`, `--host-gateway-ip=${this.net.hostAddress}`]
      : ['--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false'];
    this.args = [
      // Not /etc/docker/daemon.json: the machine's hosts, bip or pools there are the main engine's.
      `--config-file=${join(dir, 'daemon.json')}`,
      `--host=${this.host}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${this.execRoot}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
      // Its own namespaces too, so even a shared containerd could never mix the two engines.
      `--containerd-namespace=${this.cgroupName}`,
      `--containerd-plugins-namespace=${this.cgroupName}-plugins`,
      `--cgroup-parent=/${this.cgroupName}`,
      // In its own network namespace (see start()), and (unless asked for a bridge) even there
      // no bridge, no iptables rules, no sysctls: the host's networking stays the main engine's alone.
      ...networking,
      ...tcp,
      // User-defined networks get subnets no other engine here uses.
      `--default-address-pool=base=10.${pickPoolOctet()}.0.0/16,size=24`,
      ...(options.dockerdArgs ?? []),
    ];
  }

  get docker(): Dockerode {
    if (!this.client) throw new Error(`second engine ${this.host}: no client before the first start()`);
    return this.client;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  ping(): Promise<boolean> {
    return ping(this.socket, 1000);
  }

  /**
   * For `tls`: the certificates, and the named namespace joined to the host by a veth pair.
   * Kept across stop() and start(); removed by dispose() (and when this process exits).
   */
  async prepareNetwork(): Promise<void> {
    const net = this.net;
    if (!net) return;
    await makeCertificates(join(this.dir, 'tls'), net.engineAddress);
    liveNets.set(net.netns, net.hostLink);
    installExitHook();
    await makeVethNamespace(net);
  }

  async start(): Promise<void> {
    if (this.disposing) throw new Error(`second engine ${this.dir}: start() after dispose()`);
    if (this.child) return;
    await mkdir(join(this.dir, 'data'), { recursive: true });
    if (!existsSync(join(this.dir, 'daemon.json'))) await writeFile(join(this.dir, 'daemon.json'), `${JSON.stringify(this.daemonConfig, null, 2)}\n`);
    const log = openSync(this.logFile, 'a');
    writeSync(log, `--- cagebench second engine: start at ${new Date().toISOString()} ---\n`);
    // Its own network namespace: a dockerd with --bridge=none deletes any link named docker0
    // it can see, which would take the main engine's bridge away from every other test.
    // With `tls`, the named one prepareNetwork() made (nsenter keeps the host's mount namespace).
    const enter = this.net ? findOnPath('nsenter', ['/usr/bin', '/bin']) : findOnPath('unshare', ['/usr/bin', '/bin']);
    if (!enter) throw new Error(`second engine: needs ${this.net ? 'nsenter' : 'unshare'} (util-linux) to keep its dockerd off the host's network`);
    const daemon = this.net ? [enter, `--net=/run/netns/${this.net.netns}`, '--', this.dockerd, ...this.args] : [enter, '--net', '--', this.dockerd, ...this.args];
    // --pdeathsig: should this process die without dispose(), dockerd shuts down cleanly with it.
    const setpriv = findOnPath('setpriv', ['/usr/bin', '/bin']);
    const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', ...daemon]] : [daemon[0]!, daemon.slice(1)];
    const child = spawn(cmd, argv, { stdio: ['ignore', log, log], env: dockerdEnv() });
    closeSync(log);
    this.track(child);
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(`dockerd exited (${signal ?? `code ${code}`})`));
      child.once('error', (err) => resolve(`dockerd did not start: ${err.message}`));
    });
    const failure = await Promise.race([this.untilAnswering(), exited]);
    if (failure) {
      await this.stop().catch(() => undefined);
      throw new Error(`second engine ${this.host}: ${failure}. Last lines of ${this.logFile}:\n${await tail(this.logFile, 25)}`);
    }
    // Proof it runs its own containerd: dockerd starts one under its exec-root only when no
    // system containerd answers at /run/containerd/containerd.sock; otherwise it would share it.
    if (!existsSync(join(this.execRoot, 'containerd', 'containerd.sock'))) {
      await this.stop().catch(() => undefined);
      throw new Error(
        `second engine ${this.host}: dockerd did not start a containerd of its own (none at ${this.execRoot}/containerd/containerd.sock); ` +
          'a system containerd at /run/containerd/containerd.sock would be shared with the main engine, which these tests must not do',
      );
    }
    // Made once it answers (connectEngine pings); it keeps working across stop() and start().
    this.client ??= (await connectEngine({ host: this.host })).docker;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.pid === undefined) {
      // It never started (spawn failed): nothing to signal.
      this.child = undefined;
      live.delete(child);
      return;
    }
    const containerd = await this.ownPid(join(this.execRoot, 'containerd', 'containerd.pid'));
    const gone = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    child.kill('SIGTERM');
    // It stops running containers first, each with its own stop timeout (10 s by default).
    if (!(await within(gone, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await gone;
    }
    this.child = undefined;
    live.delete(child);
    // A clean exit removes the socket; after a SIGKILL it is ours to remove.
    if (!(await waitUntil(() => !existsSync(this.socket), 5_000))) await rm(this.socket, { force: true });
    if (containerd !== undefined && !(await waitUntil(() => !this.isOurs(containerd), 15_000))) {
      killPid(containerd, 'SIGKILL');
      await waitUntil(() => !this.isOurs(containerd), 5_000);
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    child.kill('SIGKILL');
    await gone;
    this.child = undefined;
    live.delete(child);
    await rm(this.socket, { force: true });
  }

  dispose(): Promise<void> {
    this.disposing ??= this.teardown();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async residue(): Promise<string[]> {
    const found: string[] = [];
    if (existsSync(this.dir)) found.push(`directory ${this.dir}`);
    for (const pid of await pidsMentioning(this.dir)) found.push(`process ${pid}: ${(await cmdline(pid)).slice(0, 160)}`);
    for (const m of await mountsUnder(this.dir)) found.push(`mount ${m}`);
    for (const c of await cgroupDirs(this.cgroupName)) found.push(`cgroup ${c}`);
    if (this.net) {
      if (existsSync(`/run/netns/${this.net.netns}`)) found.push(`network namespace ${this.net.netns}`);
      if (existsSync(`/sys/class/net/${this.net.hostLink}`)) found.push(`link ${this.net.hostLink}`);
    }
    return found;
  }

  private async teardown(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>): Promise<void> => {
      await step().catch((err: unknown) => problems.push(`${what}: ${(err as Error).message}`));
    };
    // Removed (killed) now rather than stopped by dockerd's shutdown, 10 s each.
    if (this.child && this.client && (await this.ping())) {
      await attempt('removing containers', async () => {
        const all = await this.docker.listContainers({ all: true });
        await Promise.all(all.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true })));
      });
    }
    await attempt('stopping dockerd', () => this.stop());
    // An engine process still naming our dir (a shim that outlived a killed containerd) is ours;
    // anything else naming it (someone's `tail -f` of the log) is left alone, and reported.
    await attempt('ending leftover processes', async () => {
      const ours = async (): Promise<number[]> => (await pidsMentioning(this.dir)).filter((pid) => ENGINE_PROCESS.test(comm(pid)));
      for (const pid of await ours()) killPid(pid, 'SIGKILL');
      await waitUntil(async () => (await ours()).length === 0, 5_000);
    });
    // dockerd unmounts on a clean shutdown; after a kill, overlays and netns files stay.
    await attempt('unmounting', async () => {
      for (const m of (await mountsUnder(this.dir)).sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]);
    });
    await attempt(`removing ${this.dir}`, () => rm(this.dir, { recursive: true, force: true, maxRetries: 3 }));
    await attempt('removing cgroups', async () => {
      for (const c of await cgroupDirs(this.cgroupName)) await rmdirTree(c);
    });
    const net = this.net;
    if (net) {
      await attempt(`removing network namespace ${net.netns} and link ${net.hostLink}`, async () => {
        removeNet(net.netns, net.hostLink);
        if (!(await waitUntil(() => !existsSync(`/sys/class/net/${net.hostLink}`) && !existsSync(`/run/netns/${net.netns}`), 5_000))) {
          throw new Error(`still there after ip netns delete / ip link delete`);
        }
        liveNets.delete(net.netns);
      });
    }
    if (problems.length) throw new Error(`second engine ${this.host}: dispose left work undone:\n  ${problems.join('\n  ')}`);
  }

  private untilAnswering(): Promise<string | undefined> {
    return untilAnswering(this.socket, { timeoutMs: this.startTimeoutMs, running: () => this.child !== undefined, exited: 'dockerd exited' });
  }

  private track(child: ChildProcess): void {
    this.child = child;
    live.add(child);
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });
    installExitHook();
  }

  /** A pid from a pid file, only while that process still belongs to this engine. */
  private async ownPid(file: string): Promise<number | undefined> {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    return Number.isInteger(pid) && pid > 0 && this.isOurs(pid) ? pid : undefined;
  }

  private isOurs(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dir);
    } catch {
      return false;
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGTERM');
    // Deleting the name is safe with dockerd still in it: the namespace (and its veth end) goes when dockerd does.
    for (const [netns, link] of liveNets) removeNet(netns, link);
  });
}

/**
 * A CA, a server certificate for `ip` and a client certificate, with openssl, in `dir`:
 * ca.pem, server-cert.pem, server-key.pem, and client/{ca,cert,key}.pem (DOCKER_CERT_PATH's layout).
 */
async function makeCertificates(dir: string, ip: string): Promise<void> {
  const client = join(dir, 'client');
  await mkdir(client, { recursive: true });
  const f = (name: string): string => join(dir, name);
  const key = (out: string): Promise<void> => run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
  await key(f('ca-key.pem'));
  await run('openssl', ['req', '-new', '-x509', '-days', '2', '-key', f('ca-key.pem'), '-subj', '/CN=cagebench test CA', '-out', f('ca.pem')]);
  const sign = async (name: string, cn: string, ext: string): Promise<void> => {
    await key(f(`${name}-key.pem`));
    await run('openssl', ['req', '-new', '-key', f(`${name}-key.pem`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`)]);
    await writeFile(f(`${name}.ext`), ext);
    await run('openssl', ['x509', '-req', '-days', '2', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-extfile', f(`${name}.ext`), '-out', f(`${name}-cert.pem`)]);
  };
  await sign('server', ip, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  await sign('client', 'cagebench test client', 'extendedKeyUsage=clientAuth\n');
  await writeFile(join(client, 'ca.pem'), await readFile(f('ca.pem')));
  await writeFile(join(client, 'cert.pem'), await readFile(f('client-cert.pem')));
  await writeFile(join(client, 'key.pem'), await readFile(f('client-key.pem')), { mode: 0o600 });
}

/** Copy images from the main engine, each through a cached `docker save` file named by its image id. */
async function loadImages(from: string, engine: SecondEngine, images: readonly string[]): Promise<void> {
  if (!images.length) return;
  const main = await connectEngine({ host: from });
  await mkdir(IMAGE_CACHE, { recursive: true });
  for (const name of images) {
    const info = await main.docker
      .getImage(name)
      .inspect()
      .catch((cause: unknown) => {
        throw new Error(`second engine: image ${name} is not in the engine at ${from} (run scripts/setup.sh)`, { cause });
      });
    const stem = name.replace(/[^A-Za-z0-9_.-]/g, '_');
    const file = join(IMAGE_CACHE, `${stem}@${info.Id.replace(/^sha256:/, '').slice(0, 16)}.tar`);
    if (!existsSync(file)) {
      // Written aside and renamed: engines starting at once never read a half-written file.
      const partial = `${file}.${process.pid}-${randomBytes(3).toString('hex')}.partial`;
      try {
        await pipeline(await main.docker.getImage(name).get(), createWriteStream(partial));
        await rename(partial, file);
      } finally {
        await rm(partial, { force: true });
      }
      // Saves of this name's earlier builds are dead weight.
      for (const old of await readdir(IMAGE_CACHE)) {
        if (old.startsWith(`${stem}@`) && old.endsWith('.tar') && join(IMAGE_CACHE, old) !== file) await rm(join(IMAGE_CACHE, old), { force: true });
      }
    }
    const response = await engine.docker.loadImage(createReadStream(file), { quiet: true });
    let body = '';
    for await (const chunk of response) body += String(chunk);
    const failed = body.split('\n').find((l) => /"error"/.test(l));
    if (failed) throw new Error(`second engine: loading ${name} from ${file} failed: ${failed}`);
  }
}

function findOnPath(name: string, fallbacks: readonly string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...fallbacks];
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** The environment minus DOCKER_*: a test's DOCKER_HOST (or TLS settings) is not dockerd's. */
function dockerdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DOCKER_')));
}

/** A 10.X.0.0/16 that no route on this machine overlaps, chosen at random among the free ones. */
function pickPoolOctet(): number {
  const routes: { dest: number; mask: number }[] = [];
  try {
    // /proc/net/route: destination and mask as little-endian hex; the default route (mask 0) overlaps nothing.
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [, dest, , , , , , mask] = line.trim().split(/\s+/);
      if (dest && mask && Number.parseInt(mask, 16) !== 0) routes.push({ dest: littleEndian(dest), mask: littleEndian(mask) });
    }
  } catch {
    // no procfs route table: any candidate will do
  }
  const overlaps = (x: number): boolean => {
    const cand = ((10 << 24) | (x << 16)) >>> 0;
    return routes.some(({ dest, mask }) => {
      const common = (mask & 0xffff0000) >>> 0; // the shorter of the two prefixes
      return ((dest & common) >>> 0) === ((cand & common) >>> 0);
    });
  };
  const free = POOL_OCTETS.filter((x) => !overlaps(x));
  if (!free.length) throw new Error('second engine: every 10.200-250.0.0/16 is routed on this machine; no address pool is free');
  return free[randomBytes(1).readUInt8() % free.length]!;
}

/** The cgroup parent's directory in every hierarchy (v1: one per controller; v2: one). */
async function cgroupDirs(name: string): Promise<string[]> {
  const root = '/sys/fs/cgroup';
  const candidates = [join(root, name), ...(await readdir(root).catch(() => [] as string[])).map((c) => join(root, c, name))];
  return candidates.filter((c) => existsSync(c));
}
