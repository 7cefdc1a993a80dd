import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerProvider, type DockerProvider } from '../index.ts';
import { contextDigest } from './images.ts';
import { testRunId } from '../test-support/run-id.ts';

const runId = testRunId('images');
let provider: DockerProvider;
const builtTags: string[] = [];

async function contextDir(dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cagebench-ctx-'));
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

beforeAll(async () => {
  provider = await createDockerProvider({ teardownOnExit: false });
});
afterAll(async () => {
  await provider?.close();
  for (const tag of builtTags) await provider.engine.docker.getImage(tag).remove({ force: true }).catch(() => undefined);
});

describe('an image with its Dockerfile beside it (Harbor docker_image)', () => {
  it('uses the image when the engine has it, and builds the Dockerfile when it does not', async () => {
    const dir = await contextDir(`FROM cagebench/sandbox:bookworm\nRUN echo fallback-${Date.now()} > /built\n`);
    expect(await provider.images.ensure({ image: 'cagebench/sandbox:bookworm', dockerfile: dir })).toBe('cagebench/sandbox:bookworm');
    const tag = await provider.images.ensure({ image: `cagebench/absent:${Date.now()}`, dockerfile: dir });
    builtTags.push(tag);
    expect(tag).toBe(`cagebench/env:${(await contextDigest(dir)).slice(0, 16)}`);
    await using box = await provider.start({ source: { image: 'cagebench/absent:never', dockerfile: dir }, runId, sampleId: 'fallback' });
    expect(box.image).toBe(tag);
    expect((await box.exec('cat /built')).stdout).toMatch(/^fallback-/);
  });
});

describe('images from a Dockerfile context', () => {
  it('builds through the engine, tags by content, and builds once for many concurrent samples', async () => {
    const nonce = `${Date.now()}-${Math.random()}`;
    const dir = await contextDir(`FROM cagebench/sandbox:bookworm\nCOPY hello.txt /hello.txt\nRUN echo built-${nonce} >> /build-count\n`, { 'hello.txt': 'from the context' });
    const tags = await Promise.all(Array.from({ length: 4 }, () => provider.images.ensure({ dockerfile: dir })));
    expect(new Set(tags).size).toBe(1);
    const tag = tags[0]!;
    builtTags.push(tag);
    expect(tag).toBe(`cagebench/env:${(await contextDigest(dir)).slice(0, 16)}`);
    await using box = await provider.start({ source: { dockerfile: dir }, runId, sampleId: 'built' });
    expect((await box.exec('cat /hello.txt; echo; cat /build-count')).stdout).toBe(`from the context\nbuilt-${nonce}\n`);
    // The image carries exactly one build layer for the RUN step: it was built once.
    const history = await provider.engine.docker.getImage(tag).history();
    expect(history.filter((h: { CreatedBy: string }) => h.CreatedBy.includes(`built-${nonce}`))).toHaveLength(1);
  });

  it('changes the tag when the content changes', async () => {
    const a = await contextDir('FROM cagebench/sandbox:bookworm\n', { 'f.txt': 'one' });
    const b = await contextDir('FROM cagebench/sandbox:bookworm\n', { 'f.txt': 'two' });
    expect(await contextDigest(a)).not.toBe(await contextDigest(b));
  });

  it('a failing Dockerfile shows the tail of the build log', async () => {
    const dir = await contextDir('FROM cagebench/sandbox:bookworm\nRUN echo about-to-fail && exit 3\n');
    const err = (await provider.start({ source: { dockerfile: dir }, runId, sampleId: 'fails' }).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('CB_IMAGE_BUILD_FAILED');
    expect(err).toMatchObject({ kind: 'task' }); // the task's to fix: never retried
    expect(err.message).toContain(join(dir, 'Dockerfile'));
    expect(err.message).toContain('about-to-fail');
    expect(err.message).toMatch(/returned a non-zero code: 3/);
  });

  it('a missing context directory is named in the error', async () => {
    await expect(provider.start({ source: { dockerfile: '/nonexistent/ctx' }, runId, sampleId: 'nodir' })).rejects.toMatchObject({
      code: 'CB_BAD_SPEC',
      message: /\/nonexistent\/ctx/,
    });
  });
});

describe('.dockerignore', () => {
  it('leaves ignored paths out of the build context and out of the content hash, as the engine would', async () => {
    const dir = await contextDir('FROM cagebench/sandbox:bookworm\nCOPY . /ctx\n', {
      '.dockerignore': '# comment\n*.log\nsecrets\n!keep.log\n',
      'app.txt': 'app',
      'debug.log': 'noise',
      'keep.log': 'kept',
    });
    await mkdir(join(dir, 'secrets'));
    await writeFile(join(dir, 'secrets', 'key'), 'do not send');
    const digest = await contextDigest(dir);
    await writeFile(join(dir, 'debug.log'), 'other noise');
    await writeFile(join(dir, 'secrets', 'key'), 'changed');
    expect(await contextDigest(dir)).toBe(digest); // ignored changes do not force a rebuild
    await using box = await provider.start({ source: { dockerfile: dir }, runId, sampleId: 'ignore' });
    builtTags.push(`cagebench/env:${digest.slice(0, 16)}`);
    const listing = (await box.exec('cd /ctx && find . -type f | sort')).stdout.trim().split('\n');
    expect(listing).toEqual(['./.dockerignore', './Dockerfile', './app.txt', './keep.log']);
  });
});
