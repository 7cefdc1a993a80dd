// A local npm registry for the cache tests: node:http on port 0 serving packuments
// (`GET /<pkg>`, scoped names as `@scope%2fname`) and real gzipped tarballs built here
// with archives/ packEntries, every request recorded.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { packEntries } from '../../archives/index.ts';

export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link';
  readonly content?: string | Buffer;
  readonly mode?: number;
  readonly linkname?: string;
}

/** A .tgz of `entries`, names as given (include the `package/` prefix yourself). */
export async function buildTgz(entries: readonly TarEntry[]): Promise<Buffer> {
  return gzipSync(await buffer(packEntries(entries.map((e) => ({ ...e, content: Buffer.from(e.content ?? '') })))));
}

export const sri = (data: Buffer): string => `sha512-${createHash('sha512').update(data).digest('base64')}`;

export interface PublishOptions {
  /** Published integrity; the tarball's own by default. */
  readonly integrity?: string | null;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  /** More fields of the version's document (`bin`, ...), as a real registry copies them from package.json. */
  readonly manifest?: Record<string, unknown>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  /** When it arrived and when its response was finished (Date.now()). */
  readonly at: number;
  doneAt?: number;
}

interface Version {
  readonly tgz: Buffer;
  readonly integrity: string | null;
  readonly dependencies: Record<string, string>;
  readonly optionalDependencies: Record<string, string>;
  readonly manifest: Record<string, unknown>;
}

export interface FakeRegistry {
  /** Base URL with a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  publish(name: string, version: string, tgz: Buffer, options?: PublishOptions): void;
  tag(name: string, tag: string, version: string): void;
  /** Answer this status for the package's document (`undefined` restores it). */
  failPackument(name: string, status: number | undefined): void;
  /** Send tarballs in pieces with pauses, so concurrent downloads overlap. */
  slowTarballs(pauseMs: number): void;
  /** Requests for a tarball, optionally of one package. */
  tarballGets(name?: string): RecordedRequest[];
  packumentGets(name?: string): RecordedRequest[];
  close(): Promise<void>;
}

const tarballPath = (name: string, version: string): string => `/${name}/-/${name.split('/').pop()}-${version}.tgz`;

export async function startRegistry(): Promise<FakeRegistry> {
  const packages = new Map<string, { tags: Record<string, string>; versions: Map<string, Version> }>();
  const failures = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  let pauseMs = 0;
  let base = '';

  const pkg = (name: string) => {
    let p = packages.get(name);
    if (!p) packages.set(name, (p = { tags: {}, versions: new Map() }));
    return p;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const record: RecordedRequest = { method: req.method ?? 'GET', url, at: Date.now(), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) };
    requests.push(record);
    res.on('finish', () => (record.doneAt = Date.now()));
    const path = decodeURIComponent(url.split('?')[0]!);
    const dash = path.indexOf('/-/');
    if (dash !== -1) {
      const name = path.slice(1, dash);
      const entry = [...(packages.get(name)?.versions.entries() ?? [])].find(([v]) => tarballPath(name, v) === path);
      if (!entry) return void res.writeHead(404).end();
      const tgz = entry[1].tgz;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tgz.length });
      if (pauseMs === 0) return void res.end(tgz);
      const step = Math.max(1, Math.ceil(tgz.length / 5));
      // Pause between chunks, not after the last: the response is finished (doneAt) as soon as
      // its last byte is out, before a client that has read it all can look.
      for (let i = 0; i < tgz.length; i += step) {
        if (i > 0) await new Promise((r) => setTimeout(r, pauseMs));
        const last = i + step >= tgz.length;
        if (last) return void res.end(tgz.subarray(i));
        res.write(tgz.subarray(i, i + step));
      }
      return void res.end();
    }
    const name = path.slice(1);
    const failure = failures.get(name);
    if (failure !== undefined) return void res.writeHead(failure, { 'content-type': 'application/json' }).end('{"error":"failed on purpose"}');
    const p = packages.get(name);
    if (!p) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
    const versions = Object.fromEntries(
      [...p.versions].map(([v, d]) => [
        v,
        {
          ...d.manifest,
          name,
          version: v,
          dependencies: d.dependencies,
          optionalDependencies: d.optionalDependencies,
          dist: {
            tarball: `${base}${tarballPath(name, v).slice(1)}`,
            shasum: createHash('sha1').update(d.tgz).digest('hex'),
            ...(d.integrity !== null ? { integrity: d.integrity } : {}),
          },
        },
      ]),
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, 'dist-tags': p.tags, versions }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/`;

  return {
    url: base,
    port,
    requests,
    publish(name, version, tgz, options = {}) {
      const integrity = options.integrity === undefined ? sri(tgz) : options.integrity;
      pkg(name).versions.set(version, { tgz, integrity, dependencies: options.dependencies ?? {}, optionalDependencies: options.optionalDependencies ?? {}, manifest: options.manifest ?? {} });
      pkg(name).tags.latest ??= version;
    },
    tag(name, tag, version) {
      pkg(name).tags[tag] = version;
    },
    failPackument(name, status) {
      if (status === undefined) failures.delete(name);
      else failures.set(name, status);
    },
    slowTarballs(ms) {
      pauseMs = ms;
    },
    tarballGets(name) {
      return requests.filter((r) => r.url.includes('/-/') && (name === undefined || decodeURIComponent(r.url).startsWith(`/${name}/-/`)));
    },
    packumentGets(name) {
      return requests.filter((r) => !r.url.includes('/-/') && (name === undefined || decodeURIComponent(r.url) === `/${name}`));
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The smallest claude_code-shaped build: `package/claude`, an executable shell script. */
export function claudeBuild(version: string): Promise<Buffer> {
  return buildTgz([
    { name: 'package/package.json', content: JSON.stringify({ name: '@anthropic-ai/claude-code-linux-x64', version }) },
    { name: 'package/claude', content: `#!/bin/sh\necho "${version} (Claude Code)"\n`, mode: 0o755 },
    { name: 'package/README.md', content: 'not kept' },
  ]);
}

/** Publishes claude_code `version` for linux-x64 (and more platforms if named), tagging the wrapper. */
export async function publishClaude(registry: FakeRegistry, version: string, platforms: readonly string[] = ['linux-x64']): Promise<void> {
  registry.publish('@anthropic-ai/claude-code', version, await buildTgz([{ name: 'package/package.json', content: '{}' }]));
  registry.tag('@anthropic-ai/claude-code', 'latest', version);
  for (const p of platforms) registry.publish(`@anthropic-ai/claude-code-${p}`, version, await claudeBuild(version));
}
