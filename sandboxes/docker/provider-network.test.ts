// Isolation of the network modes, proved only against listeners this test starts itself:
// on the host (all addresses) and inside other samples' sandboxes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createDockerProvider, LABEL_RUN, type DockerProvider, type Sandbox } from '../index.ts';
import { testRunId } from '../test-support/run-id.ts';

const IMAGE = 'cagebench/sandbox:bookworm';
const runId = testRunId('network');
let provider: DockerProvider;
let endpoint: Server;
let other: Server;
let sandbox: Sandbox;

function listen(reply: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.end(reply));
    server.listen(0, '0.0.0.0', () => resolve(server));
  });
}
const portOf = (s: Server): number => (s.address() as { port: number }).port;

/** 'OPEN <reply>' or 'CLOSED <reason>' for a TCP connect from inside the sandbox. */
async function probe(from: Sandbox, host: string, port: number): Promise<string> {
  const script = [
    'import socket, sys',
    's = socket.socket(); s.settimeout(2)',
    'try:',
    `    s.connect((${JSON.stringify(host)}, ${port})); print("OPEN", s.recv(64).decode())`,
    'except Exception as e: print("CLOSED", e)',
  ].join('\n');
  return (await from.exec(['python3', '-c', script])).stdout.trim();
}

/** Start a TCP listener inside a sandbox and return its address on its own network. */
async function listenerIn(box: Sandbox): Promise<string> {
  await box.exec('nohup python3 -c "import socket\ns=socket.socket(); s.bind((\'0.0.0.0\', 8080)); s.listen()\nwhile True: s.accept()[0].close()" >/dev/null 2>&1 &');
  const ip = (await box.exec("hostname -I | awk '{print $1}'")).stdout.trim();
  expect(await probe(box, ip, 8080)).toMatch(/^OPEN/); // the listener is really there
  return ip;
}

beforeAll(async () => {
  provider = await createDockerProvider({ teardownOnExit: false });
  endpoint = await listen('bridge-ok');
  other = await listen('other-port');
  sandbox = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'a', network: 'model-only', endpointPort: portOf(endpoint) });
});
afterAll(async () => {
  await provider?.close();
  endpoint?.close();
  other?.close();
});

describe('model-only network', () => {
  it('reaches the named endpoint, and says where it is in CAGEBENCH_ENDPOINT', async () => {
    const { host, port } = sandbox.endpoint!;
    expect(port).toBe(portOf(endpoint));
    expect(await probe(sandbox, host, port)).toBe('OPEN bridge-ok');
    expect((await sandbox.exec('echo $CAGEBENCH_ENDPOINT')).stdout.trim()).toBe(`${host}:${port}`);
  });

  it('cannot reach another port at the same address', async () => {
    expect(await probe(sandbox, sandbox.endpoint!.host, portOf(other))).toMatch(/^CLOSED/);
  });

  it('cannot reach the host on its other interfaces: the bridge gateway and the host network', async () => {
    // The default bridge's gateway is the host's address on it, as a bridged container sees it.
    let gateway = '';
    {
      await using bridged = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'gw', network: 'bridge' });
      gateway = (await provider.engine.docker.getContainer(bridged.id).inspect()).NetworkSettings.Networks['bridge']?.Gateway ?? '';
    }
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await probe(sandbox, gateway, portOf(other))).toMatch(/^CLOSED/);
    expect(await probe(sandbox, gateway, portOf(endpoint))).toMatch(/^CLOSED/); // not even the endpoint, bypassing the relay
    const hostAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal && a.address !== gateway)
      .map((a) => a!.address);
    for (const address of hostAddresses) expect(await probe(sandbox, address, portOf(other))).toMatch(/^CLOSED/);
  });

  it("cannot reach a listener inside another sample's sandbox", async () => {
    await using neighbour = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'b', network: 'model-only', endpointPort: portOf(endpoint) });
    const ip = await listenerIn(neighbour);
    expect(await probe(sandbox, ip, 8080)).toMatch(/^CLOSED/);
    await using bridged = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'c', network: 'bridge' });
    const bridgedIp = await listenerIn(bridged);
    expect(await probe(sandbox, bridgedIp, 8080)).toMatch(/^CLOSED/);
  });

  it('gives each live sample its own labelled network, hands a released one to the next sample, removes all on close', async () => {
    const own = await createDockerProvider({ engine: provider.engine, teardownOnExit: false });
    const id = testRunId('network-reuse');
    const byRun = JSON.stringify({ label: [`${LABEL_RUN}=${id}`] });
    const networkOf = async (box: Sandbox): Promise<string[]> =>
      Object.keys((await provider.engine.docker.getContainer(box.id).inspect()).NetworkSettings.Networks);
    try {
      const spec = { source: { image: IMAGE }, runId: id, network: 'model-only' as const, endpointPort: portOf(endpoint) };
      const d1 = await own.start({ ...spec, sampleId: 'd1' });
      const d2 = await own.start({ ...spec, sampleId: 'd2' });
      const [net1] = await networkOf(d1);
      const [net2] = await networkOf(d2);
      expect(net1).toMatch(/^cagebench-/);
      expect(net2).not.toBe(net1);
      expect((await provider.engine.docker.listNetworks({ filters: byRun })).map((n) => n.Name).sort()).toEqual([net1, net2].sort());
      await d1.stop();
      const d3 = await own.start({ ...spec, sampleId: 'd3' });
      expect(await networkOf(d3)).toEqual([net1]); // reused, now that d1's container is gone
      expect(await probe(d3, d3.endpoint!.host, portOf(endpoint))).toBe('OPEN bridge-ok');
      // The network holds only d3 and the relay: nothing of d1 survives into d3's network.
      const members = (await provider.engine.docker.getNetwork(net1!).inspect()).Containers as Record<string, unknown>;
      expect(Object.keys(members)).toHaveLength(2);
    } finally {
      await own.close();
    }
    expect(await provider.engine.docker.listNetworks({ filters: byRun })).toHaveLength(0);
    expect(await provider.engine.docker.listContainers({ all: true, filters: byRun })).toHaveLength(0);
  });

  it('handles address-pool exhaustion with a clear error, and reuses released subnets', async () => {
    const small = await createDockerProvider({ engine: provider.engine, teardownOnExit: false, subnetPool: '10.214.7.0/27' }); // 2 subnets
    try {
      const spec = { source: { image: IMAGE }, runId, network: 'model-only' as const, endpointPort: portOf(endpoint) };
      const first = await small.start({ ...spec, sampleId: 'p1' });
      await small.start({ ...spec, sampleId: 'p2' });
      await expect(small.start({ ...spec, sampleId: 'p3' })).rejects.toMatchObject({ code: 'CB_NETWORK_POOL_EXHAUSTED', message: /cagebench sandbox cleanup|CAGEBENCH_SUBNET_POOL/ });
      await first.stop();
      const again = await small.start({ ...spec, sampleId: 'p4' });
      expect(await probe(again, again.endpoint!.host, portOf(endpoint))).toBe('OPEN bridge-ok');
    } finally {
      await small.close();
    }
  });
});

describe('model-only relay', () => {
  it('is started again when it stopped (an engine restart stops it), and a stopped sample network works again', async () => {
    const relayRunId = testRunId('relay-revive');
    const own = await createDockerProvider({ teardownOnExit: false });
    try {
      const first = await own.start({ source: { image: IMAGE }, runId: relayRunId, sampleId: 'r1', network: 'model-only', endpointPort: portOf(endpoint) });
      expect(await probe(first, first.endpoint!.host, first.endpoint!.port)).toBe('OPEN bridge-ok');
      await first.stop(); // its network goes idle, wired to the relay
      const filters = JSON.stringify({ label: [`${LABEL_RUN}=${relayRunId}`, 'cagebench.role=relay'] });
      const [relay] = await own.engine.docker.listContainers({ filters });
      expect(relay).toBeDefined();
      await own.engine.docker.getContainer(relay!.Id).stop({ t: 0 });
      // The next sample gets the idle network; the relay behind it runs again.
      const second = await own.start({ source: { image: IMAGE }, runId: relayRunId, sampleId: 'r2', network: 'model-only', endpointPort: portOf(endpoint) });
      expect(await probe(second, second.endpoint!.host, second.endpoint!.port)).toBe('OPEN bridge-ok');
      // A relay removed altogether is made anew, on a fresh network.
      await own.engine.docker.getContainer(relay!.Id).remove({ force: true });
      await second.stop();
      const third = await own.start({ source: { image: IMAGE }, runId: relayRunId, sampleId: 'r3', network: 'model-only', endpointPort: portOf(endpoint) });
      expect(await probe(third, third.endpoint!.host, third.endpoint!.port)).toBe('OPEN bridge-ok');
    } finally {
      await own.close();
    }
    const left = JSON.stringify({ label: [`${LABEL_RUN}=${relayRunId}`] });
    expect((await own.engine.docker.listContainers({ all: true, filters: left })).length + (await own.engine.docker.listNetworks({ filters: left })).length).toBe(0);
  }, 60_000);
});

describe('none network', () => {
  it('has only loopback', async () => {
    await using box = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'none', network: 'none' });
    expect((await box.exec('ls /sys/class/net')).stdout.trim()).toBe('lo');
  });
});

describe('bridge with an endpoint', () => {
  it('reaches the host endpoint through the default bridge gateway, named in CAGEBENCH_ENDPOINT', async () => {
    await using box = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'bridge-endpoint', network: 'bridge', endpointPort: portOf(endpoint) });
    expect(box.endpoint?.port).toBe(portOf(endpoint));
    expect((await box.exec('echo $CAGEBENCH_ENDPOINT')).stdout.trim()).toBe(`${box.endpoint!.host}:${portOf(endpoint)}`);
    expect(await probe(box, box.endpoint!.host, portOf(endpoint))).toBe('OPEN bridge-ok');
  });
});

