// Workspace snapshots of a real Docker sandbox: the in-sandbox listing (only changed files copied
// out) on images we did not make, the same records as the archive download, the archive download
// when the image has no GNU find, the per-entry fallback when a link points out of the workdir
// (a virtual environment's python), and attempt after attempt on a small workdir.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerProvider, DEFAULT_SANDBOX_IMAGE, type DockerProvider, type Sandbox } from '../../sandboxes/index.ts';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { WorkspaceTracker, type WorkspaceTrackerOptions } from './workspace.ts';

let provider: DockerProvider;
let sandbox: Sandbox;
let scratch: string;
let seq = 0;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cb-workspace-sandbox-test-'));
  provider = await createDockerProvider({ teardownOnExit: false });
  sandbox = await provider.start({ source: { image: DEFAULT_SANDBOX_IMAGE }, runId: testRunId('workspace'), sampleId: 'workspace' });
});
afterAll(async () => {
  await provider?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function sh(script: string, box: Sandbox = sandbox): Promise<void> {
  const r = await box.exec(['sh', '-c', script], { user: 'root' });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
}

type Event = { type: string; [k: string]: unknown };

async function tracker(root: string, options: Partial<WorkspaceTrackerOptions> = {}): Promise<{ tracker: WorkspaceTracker; events: Event[]; sampleDir: string }> {
  const events: Event[] = [];
  const sampleDir = join(scratch, `sample-${++seq}`);
  await mkdir(join(sampleDir, 'artifacts'), { recursive: true });
  return { tracker: new WorkspaceTracker({ sandbox, root, sampleDir, emit: (type, fields) => events.push({ type, ...fields }), tempDir: scratch, ...options }), events, sampleDir };
}

describe('workspace snapshots in a Docker sandbox', () => {
  it("records an attempt's created, modified and deleted files and its diff, leaving out .git and node_modules", async () => {
    await sh(`mkdir -p /w1/src && cd /w1 && printf 'a\\nb\\nc\\n' > src/main.txt && echo old > gone.txt && git init -q . && mkdir -p node_modules/x && echo 1 > node_modules/x/i.js`);
    const { tracker: t, events, sampleDir } = await tracker('/w1');
    await t.before(1);
    await sh(`cd /w1 && printf 'a\\nB\\nc\\n' > src/main.txt && rm gone.txt && printf 'x\\000y' > data.bin && printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh && echo 2 > node_modules/x/i.js && git add -A`);
    const changes = await t.after(1);
    await t.dispose();
    expect(changes).toEqual({ created: ['data.bin', 'run.sh'], modified: ['src/main.txt'], deleted: ['gone.txt'], diffFile: 'artifacts/attempt-1.diff' });
    const diff = await readFile(join(sampleDir, 'artifacts', 'attempt-1.diff'), 'utf8');
    expect(diff).toContain('diff --git a/data.bin b/data.bin\nnew file mode 100644\nBinary files /dev/null and b/data.bin differ\n');
    expect(diff).toContain('diff --git a/run.sh b/run.sh\nnew file mode 100755\n--- /dev/null\n+++ b/run.sh\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+echo hi\n');
    expect(diff).toContain('--- a/src/main.txt\n+++ b/src/main.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
    expect(diff).toContain('diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n');
    expect(events.filter((e) => e.type === 'workspace.snapshot').map((e) => e.files)).toEqual([2, 3]);
  });

  it('by archive download, when a link points out of the workdir, copies each top-level entry and skips only the refused one', async () => {
    await sh(`mkdir -p /w2/.venv/bin /w2/pkg && cd /w2 && ln -s /usr/bin/python3 .venv/bin/python && ln -s /usr/bin/env tool && echo 1 > pkg/a.txt && echo h > .hidden`);
    const { tracker: t, events } = await tracker('/w2', { method: 'archive' });
    await t.before(1);
    await sh(`cd /w2 && echo 2 > pkg/a.txt && echo new > 'name with spaces.txt' && rm .hidden`);
    const changes = await t.after(1);
    await t.dispose();
    expect(changes).toEqual({ created: ['name with spaces.txt'], modified: ['pkg/a.txt'], deleted: ['.hidden'], diffFile: 'artifacts/attempt-1.diff', skipped: ['tool'] });
    expect(events.find((e) => e.type === 'workspace.snapshot')).toMatchObject({ skipped: ['tool'] });
  });

  // Its speed is a benchmark's business (bench/), not a test's: this machine is shared and noisy.
  it('sees each attempt\'s change to a small workdir, attempt after attempt, one snapshot event each', async () => {
    await sh(`mkdir -p /w3 && cd /w3 && for i in $(seq 1 20); do echo line $i > f$i.txt; done`);
    const { tracker: t, events } = await tracker('/w3');
    for (let attempt = 1; attempt <= 5; attempt++) {
      await t.before(attempt);
      await sh(`echo ${attempt} >> /w3/f1.txt`);
      expect(await t.after(attempt)).toMatchObject({ modified: ['f1.txt'] });
    }
    await t.dispose();
    const snapshots = events.filter((e) => e.type === 'workspace.snapshot');
    expect(snapshots.length).toBeGreaterThanOrEqual(5);
    for (const e of snapshots) expect(e.durationMs).toEqual(expect.any(Number));
  });
});

describe('the in-sandbox listing on debian:bookworm-slim', () => {
  let slim: Sandbox;
  let noFind: Sandbox;
  beforeAll(async () => {
    slim = await provider.start({ source: { image: 'debian:bookworm-slim' }, runId: testRunId('workspace-slim'), sampleId: 'workspace-slim' });
    // An image without GNU find, as busybox ones are (made here from one we did not make).
    const context = join(scratch, 'no-find');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'Dockerfile'), 'FROM debian:bookworm-slim\nRUN rm /usr/bin/find\n');
    noFind = await provider.start({ source: { dockerfile: context }, runId: testRunId('workspace-nofind'), sampleId: 'workspace-nofind' });
  });
  afterAll(async () => {
    await slim?.stop();
    await noFind?.stop();
  });

  /** The same attempt, tracked by listing and by archive download on one workdir: both records, diffs and saved states. */
  async function bothWays(box: Sandbox, root: string, setup: string, attempt: string) {
    await sh(`rm -rf ${root} && mkdir -p ${root} && cd ${root} && ${setup}`, box);
    const listed = await tracker(root, { sandbox: box, method: 'listing' });
    const archived = await tracker(root, { sandbox: box, method: 'archive' });
    await listed.tracker.before(1);
    await archived.tracker.before(1);
    await sh(`cd ${root} && ${attempt}`, box);
    const byListing = await listed.tracker.after(1);
    const byArchive = await archived.tracker.after(1);
    await listed.tracker.dispose();
    await archived.tracker.dispose();
    const read = async (dir: string, file: string) => readFile(join(dir, 'artifacts', file)).catch(() => undefined);
    for (const file of ['attempt-1.diff', 'workspace-1.json']) expect(await read(listed.sampleDir, file)).toEqual(await read(archived.sampleDir, file));
    expect(listed.tracker.state(1)).toEqual(archived.tracker.state(1));
    return { byListing, byArchive, events: listed.events };
  }

  it('copies out only the changed files and records what the archive download records (diff, saved state)', async () => {
    const { byListing, byArchive, events } = await bothWays(
      slim,
      '/ws1',
      `mkdir -p src .git/objects __pycache__ && printf 'a\\nb\\nc\\n' > src/main.txt && echo old > gone.txt && for i in 1 2 3 4 5 6; do echo $i > keep$i.txt; done && echo ref > .git/HEAD && echo x > __pycache__/m.pyc && ln -s src/main.txt link && chmod 640 keep1.txt`,
      `printf 'a\\nB\\nc\\n' > src/main.txt && rm gone.txt && printf 'x\\000y' > data.bin && printf '#!/bin/sh\\n' > run.sh && chmod +x run.sh keep2.txt && echo new > .git/HEAD && ln -sfn keep3.txt link && mkdir -p empty/dir && echo y > __pycache__/n.pyc`,
    );
    expect(byListing).toEqual(byArchive);
    expect(byListing).toMatchObject({ created: ['data.bin', 'run.sh'], modified: ['keep2.txt', 'link', 'src/main.txt'], deleted: ['gone.txt'] });
    const snapshots = events.filter((e) => e.type === 'workspace.snapshot');
    expect(snapshots.map((e) => e.method)).toEqual(['manifest', 'manifest']);
    // After the set-up every file crosses once; after the attempt only the written ones (not keep1, 3-6, gone).
    expect(snapshots[0]!.copied).toBe(9);
    expect(snapshots[1]!.copied).toBe(5); // main.txt, data.bin, run.sh, keep2.txt (its mode), .git/HEAD
    expect(events.some((e) => e.type === 'workspace.listing_fallback')).toBe(false);
  });

  it('finds files moved into place with their old ctimes (a directory renamed) through a second, targeted copy', async () => {
    await sh('rm -rf /ws2 && mkdir -p /ws2/old && cd /ws2 && echo one > old/a.txt && echo two > old/b.txt', slim);
    const { tracker: t, events, sampleDir } = await tracker('/ws2', { sandbox: slim, method: 'listing' });
    await t.before(1);
    // Older than the listing's slack, so the moved files' ctimes leave them out of its tar.
    await new Promise((r) => setTimeout(r, 200));
    await sh('cd /ws2 && mv old new', slim);
    const changes = await t.after(1);
    await t.dispose();
    expect(changes).toMatchObject({ created: ['new/a.txt', 'new/b.txt'], deleted: ['old/a.txt', 'old/b.txt'] });
    expect(await readFile(join(sampleDir, 'artifacts', 'attempt-1.diff'), 'utf8')).toContain('+++ b/new/b.txt\n@@ -0,0 +1,1 @@\n+two\n');
    expect(events.filter((e) => e.type === 'workspace.snapshot').map((e) => [e.method, e.copied])).toEqual([['manifest', 2], ['manifest', 2]]);
  });

  it('records a link pointing out of the workdir as a link instead of skipping its entry', async () => {
    await sh('rm -rf /ws3 && mkdir -p /ws3 && cd /ws3 && ln -s /usr/bin/env tool && echo 1 > a.txt', slim);
    const { tracker: t } = await tracker('/ws3', { sandbox: slim, method: 'listing' });
    await t.before(1);
    await sh('cd /ws3 && ln -sfn /usr/bin/true tool', slim);
    expect(await t.after(1)).toMatchObject({ modified: ['tool'] });
    await t.dispose();
  });

  it('by default downloads a small workdir and lists a large one from its second snapshot on', async () => {
    await sh('rm -rf /ws5 && mkdir -p /ws5/small /ws5/large && cd /ws5/large && seq 1 520 | sed s/^/f/ | xargs touch && echo 1 > /ws5/small/a', slim);
    const methods = async (root: string): Promise<unknown[]> => {
      const { tracker: t, events } = await tracker(root, { sandbox: slim });
      for (let n = 1; n <= 2; n++) {
        await t.before(n);
        await sh(`echo ${n} >> ${root}/f1; echo ${n} >> ${root}/a`, slim);
        expect(await t.after(n)).not.toHaveProperty('error');
      }
      await t.dispose();
      return events.filter((e) => e.type === 'workspace.snapshot').map((e) => e.method);
    };
    expect(await methods('/ws5/small')).toEqual(['archive', 'archive', 'archive', 'archive']);
    expect(await methods('/ws5/large')).toEqual(['archive', 'manifest', 'manifest', 'manifest']);
  });

  it('falls back to the archive download, once for the tracker, on an image without GNU find', async () => {
    const { byListing, byArchive, events } = await bothWays(noFind, '/ws4', `echo a > a.txt && echo b > b.txt`, `echo A > a.txt && rm b.txt && echo c > c.txt`);
    expect(byListing).toEqual(byArchive);
    expect(byListing).toMatchObject({ created: ['c.txt'], modified: ['a.txt'], deleted: ['b.txt'] });
    expect(events.filter((e) => e.type === 'workspace.snapshot').map((e) => e.method)).toEqual(['archive', 'archive']);
    const fallbacks = events.filter((e) => e.type === 'workspace.listing_fallback');
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]!.reason).toMatch(/no GNU find/);
  });
});
