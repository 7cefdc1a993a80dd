// A remote Docker engine over TCP with mutual TLS: a second dockerd in a network namespace of
// its own, reached through a veth pair at its own address, with certificates made for it.
// cagebench connects as a user would (DOCKER_HOST=tcp://…:2376, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH); the engine refuses a client without a certificate; sandboxes start,
// exec and move files there; a run of a bundled suite passes there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, createDockerProvider, LABEL_RUN, type DockerProvider } from '../../sandboxes/index.ts';
import { sandboxContract } from '../../sandboxes/contract.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.ts';

const IMAGE = 'cagebench/sandbox:bookworm';
let engine: SecondEngine;
let provider: DockerProvider | undefined;
const runId = testRunId('remote-tls');

beforeAll(async () => {
  engine = await startSecondEngine({ tls: true, images: [IMAGE, 'debian:bookworm-slim'] });
}, 180_000);

afterAll(async () => {
  await provider?.close();
  await engine?.dispose();
  expect(await engine?.residue()).toEqual([]);
}, 180_000);

/** DOCKER_HOST and the TLS variables set as a user would, for the length of `body`. */
async function withEnv<T>(env: Readonly<Record<string, string>>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('a remote engine over TCP with TLS', () => {
  it('answers a client with the certificate, as DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH say, and is remote', async () => {
    const remote = engine.remote!;
    expect(remote.host).toMatch(/^tcp:\/\/10\.251\.\d+\.\d+:2376$/);
    const connected = await withEnv(remote.env, () => connectEngine());
    expect(connected.isLocal).toBe(false);
    expect(connected.tls?.certPath).toBe(remote.certPath);
    const info = (await connected.docker.info()) as { DockerRootDir: string };
    expect(info.DockerRootDir).toBe(join(engine.dir, 'data'));
  });

  it('refuses a client without a certificate, and plain HTTP', async () => {
    const remote = engine.remote!;
    const caOnly = await mkdtemp(join(tmpdir(), 'cb-ca-only-'));
    try {
      await copyFile(join(remote.certPath, 'ca.pem'), join(caOnly, 'ca.pem'));
      await expect(connectEngine({ host: remote.host, tls: { certPath: caOnly } })).rejects.toMatchObject({
        code: 'CB_ENGINE_UNREACHABLE',
        message: expect.stringContaining('did not complete the TLS handshake'),
      });
      await expect(connectEngine({ host: remote.host, tls: false, pingTimeoutMs: 3000 })).rejects.toMatchObject({ code: 'CB_ENGINE_UNREACHABLE' });
      // Raw: the handshake itself fails without a client certificate.
      const status = await new Promise<string>((resolve) => {
        const url = new URL(remote.host.replace('tcp:', 'https:'));
        const req = request({ host: url.hostname, port: url.port, path: '/_ping', ca: readFileSync(join(remote.certPath, 'ca.pem')), agent: false, timeout: 5000 }, (res) => {
          res.resume();
          resolve(String(res.statusCode));
        });
        req.on('error', (err) => resolve(`error: ${err.message}`));
        req.end();
      });
      expect(status).toMatch(/^error: /);
    } finally {
      await rm(caOnly, { recursive: true, force: true });
    }
  });

  it('starts sandboxes that exec and move files', async () => {
    provider = await withEnv(engine.remote!.env, () => createDockerProvider({ teardownOnExit: false }));
    await using sandbox = await provider.start({ source: { image: IMAGE }, runId, sampleId: 'remote-a' });
    const r = await sandbox.exec('echo hello from $(hostname)');
    expect(r.exitCode).toBe(0);
    await sandbox.writeFile('/tmp/x.txt', 'payload');
    expect((await sandbox.readFile('/tmp/x.txt')).toString()).toBe('payload');
  });
});

// The conformance suite over TLS: an engine without a default bridge declares only `none`,
// and nothing of this machine's files can be bind-mounted into it.
sandboxContract('docker (remote, TCP with TLS)', async () => {
  const connected = await withEnv(engine.remote!.env, () => connectEngine());
  const own = await createDockerProvider({ engine: connected, teardownOnExit: false });
  return {
    provider: own,
    image: 'debian:bookworm-slim',
    gaps: ['bindMounts', 'network:bridge', 'network:model-only'],
    close: async () => undefined,
    removeVolume: (name) => own.volumes.remove(name),
    async leftovers(id) {
      const filters = JSON.stringify({ label: [`${LABEL_RUN}=${id}`] });
      const containers = await connected.docker.listContainers({ all: true, filters });
      return containers.map((c) => `container ${c.Names[0]}`);
    },
  };
});
