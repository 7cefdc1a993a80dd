// Sizes and durations as typed, what counts as prunable, the LRU choice and `prune`'s selection,
// and the per-image records (no Docker).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { resolveConfig } from '../config.ts';
import { chooseLru, prunability, selectForPrune, type Candidate } from './policy.ts';
import { ImageRecords } from './records.ts';
import { formatBytes, parseDuration, parseSize } from './units.ts';

describe('parseSize', () => {
  it('reads decimal and binary units, any case, with or without B', () => {
    expect(parseSize('20GB')).toBe(20e9);
    expect(parseSize('20g')).toBe(20e9);
    expect(parseSize('500 MB')).toBe(500e6);
    expect(parseSize('1.5TiB')).toBe(1.5 * 1024 ** 4);
    expect(parseSize('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseSize('1000')).toBe(1000);
  });
  it('refuses what is not a size, saying what is allowed', () => {
    for (const bad of ['', 'GB', '20 gigs', '-1GB', '0', '20XB']) {
      expect(() => parseSize(bad, '--disk-budget')).toThrow(ConfigError);
    }
    expect(() => parseSize('20 gigs', '--disk-budget')).toThrow(/--disk-budget must be a number and a unit: B, KB, MB, GB, TB .* got "20 gigs"/);
  });
});

describe('parseDuration', () => {
  it('reads s, m, h, d, w', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    expect(parseDuration('1.5d')).toBe(129_600_000);
  });
  it('refuses a bare number or an unknown unit', () => {
    expect(() => parseDuration('7', '--older-than')).toThrow(/--older-than must be a number and a unit: s, m, h, d or w .* got "7"/);
    expect(() => parseDuration('7y')).toThrow(ConfigError);
  });
});

it('formatBytes prints as docker images does', () => {
  expect(formatBytes(900)).toBe('900 B');
  expect(formatBytes(1_234_567)).toBe('1.2 MB');
  expect(formatBytes(3.6e9)).toBe('3.6 GB');
});

describe('the run options', () => {
  it('take --cache-level and --disk-budget, task and no budget by default', () => {
    const base = { paths: ['x'], agent: 'nop' } as const;
    expect(resolveConfig(base).cacheLevel).toBe('task');
    expect(resolveConfig(base).diskBudgetBytes).toBeUndefined();
    const set = resolveConfig({ ...base, cacheLevel: 'none', diskBudget: '20GB' });
    expect(set.cacheLevel).toBe('none');
    expect(set.diskBudgetBytes).toBe(20e9);
    expect(() => resolveConfig({ ...base, diskBudget: 'lots' })).toThrow(/diskBudget.*must be a size such as 20GB/);
    expect(() => resolveConfig({ ...base, cacheLevel: 'env' as never })).toThrow(/cacheLevel/);
  });
});

describe('prunability', () => {
  const task = { 'cagebench.image.kind': 'task', 'cagebench.context': '/t/env' };
  it('a task image named by cagebench/env tags only is prunable (and one an earlier version built)', () => {
    expect(prunability({ tags: ['cagebench/env:0123456789abcdef'], labels: task })).toEqual({ prunable: true });
    expect(prunability({ tags: ['cagebench/env:0123456789abcdef'], labels: { 'cagebench.context': '/t/env' } })).toEqual({ prunable: true });
  });
  it('base images, saved sessions, untagged images and images the user also tagged are kept, whatever their labels', () => {
    for (const tag of ['debian:bookworm-slim', 'cagebench/sandbox:bookworm', 'cagebench/relay:bookworm']) {
      expect(prunability({ tags: [tag], labels: task })).toMatchObject({ prunable: false, reason: `base image ${tag}` });
    }
    expect(prunability({ tags: ['cagebench/session:abc'], labels: task })).toMatchObject({ prunable: false, reason: /saved session/ });
    expect(prunability({ tags: [], labels: task })).toMatchObject({ prunable: false, reason: 'no tag' });
    expect(prunability({ tags: ['cagebench/env:0123456789abcdef', 'mine:v1'], labels: task })).toMatchObject({ prunable: false, reason: /also tagged mine:v1/ });
  });
  it('an image cagebench did not build is kept even under a cagebench/env tag', () => {
    expect(prunability({ tags: ['cagebench/env:0123456789abcdef'], labels: {} })).toMatchObject({ prunable: false, reason: 'not built by cagebench' });
  });
});

const image = (id: string, bytes: number, lastUsedMs: number): Candidate => ({ id, bytes, lastUsedMs });

describe('chooseLru', () => {
  const images = [image('b', 300, 2_000), image('a', 200, 1_000), image('c', 100, 3_000)];
  it('removes least recently used first, only as many as make the build fit', () => {
    expect(chooseLru(images, { usage: 600, need: 100, budget: 600 }).map((i) => i.id)).toEqual(['a']);
    expect(chooseLru(images, { usage: 600, need: 300, budget: 500 }).map((i) => i.id)).toEqual(['a', 'b']);
  });
  it('removes nothing when the build fits, and everything when nothing else would do', () => {
    expect(chooseLru(images, { usage: 600, need: 100, budget: 700 })).toEqual([]);
    expect(chooseLru(images, { usage: 600, need: 900, budget: 500 }).map((i) => i.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('selectForPrune', () => {
  const day = 86_400_000;
  const now = 100 * day;
  const images = [image('old', 1, now - 10 * day), image('mid', 1, now - 5 * day), image('new', 1, now - day)];
  it('without options: all of them, least recently used first', () => {
    expect(selectForPrune(images, { now }).map((i) => i.id)).toEqual(['old', 'mid', 'new']);
  });
  it('--keep-last N keeps the N most recently used', () => {
    expect(selectForPrune(images, { now, keepLast: 1 }).map((i) => i.id)).toEqual(['old', 'mid']);
    expect(selectForPrune(images, { now, keepLast: 5 })).toEqual([]);
  });
  it('--older-than takes only those unused for longer, and combines with --keep-last', () => {
    expect(selectForPrune(images, { now, olderThanMs: 7 * day }).map((i) => i.id)).toEqual(['old']);
    expect(selectForPrune(images, { now, olderThanMs: 2 * day, keepLast: 2 }).map((i) => i.id)).toEqual(['old']);
  });
});

describe('ImageRecords', () => {
  it('keeps one record per image: a touch keeps what the record held and moves the last use', async () => {
    const records = new ImageRecords(await mkdtemp(join(tmpdir(), 'cb-image-records-')));
    const id = `sha256:${'a'.repeat(64)}`;
    await records.touch(id, { tag: 'cagebench/env:aaaa', taskId: 't1', bytes: 42, builtByRun: 'r1', lastRun: 'r1', lastUsedAt: '2026-01-01T00:00:00.000Z' });
    await records.touch(id, { tag: 'cagebench/env:aaaa', lastRun: 'r2' });
    const record = await records.get(id);
    expect(record).toMatchObject({ id, taskId: 't1', bytes: 42, builtByRun: 'r1', lastRun: 'r2' });
    expect(Date.parse(record!.lastUsedAt)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00.000Z'));
    expect([...(await records.all()).keys()]).toEqual([id]);
    await records.forget(id);
    expect(await records.get(id)).toBeUndefined();
  });
  it('counts live leases, and none once released', async () => {
    const records = new ImageRecords(await mkdtemp(join(tmpdir(), 'cb-image-records-')));
    const id = `sha256:${'b'.repeat(64)}`;
    const release = await records.lease(id);
    expect(await records.leases(id)).toBe(1);
    await release();
    expect(await records.leases(id)).toBe(0);
  });
  it('concurrent touches of one image leave one whole record', async () => {
    const records = new ImageRecords(await mkdtemp(join(tmpdir(), 'cb-image-records-')));
    const id = `sha256:${'c'.repeat(64)}`;
    await Promise.all(Array.from({ length: 20 }, (_, i) => records.touch(id, { tag: 'cagebench/env:cccc', lastRun: `r${i}` })));
    expect((await records.get(id))?.lastRun).toMatch(/^r\d+$/);
  });
});
