// Who is to blame for a failed build: the task (its Dockerfile, its base image) or the engine.
// A fake engine on a unix socket plays each failure exactly, including a connection cut
// mid-build, which the real engine cannot be made to do on demand.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Engine } from './client.ts';
import { ImageStore } from './images.ts';

type BuildReply = (res: ServerResponse) => void;

let dir: string;
let server: Server;
let engine: Engine;
let reply: BuildReply = () => undefined;
let present = new Set<string>();
let builds = 0;

const lines = (res: ServerResponse, events: object[]): void => {
  res.writeHead(200, { 'content-type': 'application/json' });
  for (const e of events) res.write(`${JSON.stringify(e)}\r\n`);
};
const log = Array.from({ length: 40 }, (_, i) => ({ stream: `log line ${i + 1}\n` }));
const stepError = (message: string): object => ({ errorDetail: { message }, error: message });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cagebench-fake-engine-'));
  const socketPath = join(dir, 'engine.sock');
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const image = /^\/images\/(.+)\/json$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && image) {
      const name = decodeURIComponent(image);
      res.writeHead(present.has(name) ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(present.has(name) ? { Id: 'sha256:1' } : { message: `No such image: ${name}` }));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/build') {
      builds++;
      req.resume();
      req.on('end', () => reply(res));
      return;
    }
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  engine = { docker: new Docker({ socketPath }), address: `unix://${socketPath}`, isLocal: true };
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  present = new Set(['debian:bookworm-slim']);
  builds = 0;
});

async function context(dockerfile: string): Promise<string> {
  const ctx = await mkdtemp(join(dir, 'ctx-'));
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  return ctx;
}

type BuildErr = Error & { code: string; kind: string };

async function caught(promise: Promise<unknown>): Promise<BuildErr> {
  try {
    await promise;
  } catch (e) {
    return e as BuildErr;
  }
  throw new Error('the build should have failed');
}

async function buildError(dockerfile: string): Promise<BuildErr> {
  present = new Set([...present, 'debian:bookworm-slim']);
  return caught(new ImageStore(engine).ensure({ dockerfile: await context(dockerfile) }));
}

describe('a failed build', () => {
  it('a failing RUN is the task\'s, with the last lines of the log; no retry', async () => {
    reply = (res) => {
      lines(res, [...log, stepError("The command '/bin/sh -c exit 3' returned a non-zero code: 3")]);
      res.end();
    };
    const err = await buildError('FROM debian:bookworm-slim\nRUN exit 3\n');
    expect(err).toMatchObject({ code: 'CB_IMAGE_BUILD_FAILED', kind: 'task' });
    expect(err.message).toContain('returned a non-zero code: 3');
    expect(err.message).toContain('log line 40');
    expect(err.message).not.toContain('log line 10\n'); // only the tail
  });

  it('a Dockerfile the engine refuses to parse is the task\'s', async () => {
    reply = (res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'dockerfile parse error line 2: unknown instruction: FOO' }));
    const err = await buildError('FROM debian:bookworm-slim\nFOO bar\n');
    expect(err).toMatchObject({ code: 'CB_IMAGE_BUILD_FAILED', kind: 'task', message: expect.stringContaining('unknown instruction: FOO') });
  });

  it('a missing base image is named, with how to provide it, before any build is tried', async () => {
    const store = new ImageStore(engine);
    const err = await caught(store.ensure({ dockerfile: await context('FROM cagebench-test/absent:1\nRUN true\n') }));
    expect(err).toMatchObject({ code: 'CB_BASE_IMAGE_MISSING', kind: 'task' });
    expect(err.message).toContain('"cagebench-test/absent:1"');
    expect(err.message).toContain("docker load -i");
    expect(builds).toBe(0);
  });

  it('a base image the engine could not pull (one the check could not name) is the task\'s', async () => {
    reply = (res) => {
      lines(res, [stepError('pull access denied for x, repository does not exist or may require \'docker login\'')]);
      res.end();
    };
    const err = await buildError('ARG B\nFROM $B\n');
    expect(err).toMatchObject({ code: 'CB_BASE_IMAGE_MISSING', kind: 'task' });
  });

  it('a step the engine itself failed (no network endpoint) is infra', async () => {
    reply = (res) => {
      lines(res, [...log, stepError('failed to create endpoint x on network bridge: could not find bridge docker0')]);
      res.end();
    };
    const err = await buildError('FROM debian:bookworm-slim\nRUN true\n');
    expect(err).toMatchObject({ code: 'CB_BUILD_INTERRUPTED', kind: 'infra' });
  });

  it('a connection cut mid-build is infra, and a later build is tried again', async () => {
    reply = (res) => {
      lines(res, log.slice(0, 3));
      setTimeout(() => res.socket?.destroy(), 50);
    };
    const dockerfile = 'FROM debian:bookworm-slim\nRUN sleep 100\n';
    const ctx = await context(dockerfile);
    const store = new ImageStore(engine);
    const err = await caught(store.ensure({ dockerfile: ctx }));
    expect(err).toMatchObject({ code: 'CB_BUILD_INTERRUPTED', kind: 'infra' });
    expect(err.message).toContain('log line 3');
    await store.ensure({ dockerfile: ctx }).catch(() => undefined);
    expect(builds).toBe(2); // an engine failure is not remembered
  });

  it('a stream that ends without an error and without an image is infra', async () => {
    reply = (res) => {
      lines(res, log.slice(0, 2));
      res.end();
    };
    const err = await buildError('FROM debian:bookworm-slim\nRUN true\n');
    expect(err).toMatchObject({ code: 'CB_BUILD_INTERRUPTED', kind: 'infra' });
  });

  it('an engine that does not answer at all is infra', async () => {
    const gone: Engine = { docker: new Docker({ socketPath: join(dir, 'nobody.sock') }), address: 'unix://gone', isLocal: true };
    const err = await caught(new ImageStore(gone).ensure({ dockerfile: await context('FROM debian:bookworm-slim\n') }));
    expect(err.kind).toBe('infra');
  });

  it("a task's failure is remembered: the sample's second start does not build again", async () => {
    reply = (res) => {
      lines(res, [stepError("The command '/bin/sh -c false' returned a non-zero code: 1")]);
      res.end();
    };
    const ctx = await context('FROM debian:bookworm-slim\nRUN false\n');
    const store = new ImageStore(engine);
    const first = await store.ensure({ dockerfile: ctx }).catch((e: unknown) => e);
    const second = await store.ensure({ dockerfile: ctx }).catch((e: unknown) => e);
    expect(second).toBe(first);
    expect(builds).toBe(1);
  });
});
