// The conformance suite every SandboxProvider passes (test support, not shipped): exec, files,
// lifecycle, networks and limits, against a plain Debian image on the provider's backend.
// A provider calls it from its own test file:
//
//   sandboxContract('docker (local)', async () => ({ provider: await createDockerProvider(), image: 'debian:bookworm-slim', close: async () => {} }));
//
// `target` may be called more than once (a test that closes the provider mid-start gets its
// own). What the provider declares it cannot do is named in `gaps`, which must equal
// `capabilityGaps(provider.capabilities)`; the tests of those are skipped, saying why.
// Network tests connect only to listeners this suite starts on this machine.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { capabilityGaps } from './capabilities.ts';
import { SandboxError } from './errors.ts';
import type { Sandbox, SandboxProvider, SandboxSpec } from './sandbox.ts';
import { testRunId } from './test-support/run-id.ts';

export interface ContractTarget {
  readonly provider: SandboxProvider;
  /** A plain debian:bookworm-slim-like image on that backend (sh, bash, coreutils; no python, no ps). */
  readonly image: string;
  /** Release what the target set up besides the provider (the suite closes the provider itself). */
  close(): Promise<void>;
  /**
   * Capabilities the provider declares it lacks, as `capabilityGaps` names them (`bindMounts`,
   * `prebuild`, `network:model-only`, `limits.memory`…): their tests are skipped with the
   * reason, and the list must match the provider's capabilities.
   */
  readonly gaps?: readonly string[];
  /**
   * What the backend still holds for a run id (containers, networks… by their run label),
   * one description each. Absent: the leak checks are skipped.
   */
  leftovers?(runId: string): Promise<readonly string[]>;
  /**
   * Remove the volume `name` (`SandboxSpec.volumes`) and what the provider made for it: volumes
   * outlive runs, so the suite removes those it filled. Needed unless `volumes` is a gap.
   */
  removeVolume?(name: string): Promise<void>;
}

/** Register the conformance suite for one provider. */
export function sandboxContract(name: string, target: () => Promise<ContractTarget>): void {
  describe(`sandbox contract: ${name}`, () => {
    let t: ContractTarget;
    let sandbox: Sandbox;
    let scratch: string;
    const runId = testRunId('contract');
    const spec = (sampleId: string, extra: Partial<SandboxSpec> = {}): SandboxSpec => ({ source: { image: t.image }, runId, sampleId, ...extra });
    /** Skip the test (printing why) when the provider declares the gap. */
    const requires = (ctx: TestContext, gap: string): void => {
      if (!(t.gaps ?? []).includes(gap)) return;
      const note = `${name} declares no ${gap} (gaps: ${t.gaps!.join(', ')})`;
      console.info(`skipped: ${ctx.task.name}: ${note}`);
      ctx.skip(note);
    };

    beforeAll(async () => {
      t = await target();
      scratch = await mkdtemp(join(tmpdir(), 'cb-contract-'));
      sandbox = await t.provider.start(spec('main', { env: { FROM_SPEC: 'spec' } }));
    });
    afterAll(async () => {
      await t?.provider.close();
      await t?.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    async function sh(script: string, box: Sandbox = sandbox): Promise<string> {
      const r = await box.exec(script, { user: 'root' });
      expect(r.exitCode, `${script}\n${r.stderr}`).toBe(0);
      return r.stdout;
    }

    /** Command lines of the sandbox's processes (no `ps` on a slim image). */
    async function processes(box: Sandbox = sandbox): Promise<string> {
      return (await box.exec(`for p in /proc/[0-9]*; do tr '\\0' ' ' < "$p/cmdline" 2>/dev/null; echo; done`, { user: 'root' })).stdout;
    }

    it('declares its gaps exactly as its capabilities say', () => {
      expect([...(t.gaps ?? [])].sort()).toEqual(capabilityGaps(t.provider.capabilities));
      expect(t.provider.capabilities.architectures.length).toBeGreaterThan(0);
      expect(typeof t.provider.location).toBe('string');
    });

    describe('exec', () => {
      it('returns exit code, stdout and stderr; a non-zero exit is a result', async () => {
        const r = await sandbox.exec('echo out; echo err >&2; exit 7');
        expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n', timedOut: false, truncated: false });
      });

      it('runs an argv without a shell; a missing command is 127', async () => {
        expect((await sandbox.exec(['printf', '%s|', 'a b', '$HOME'])).stdout).toBe('a b|$HOME|');
        expect((await sandbox.exec(['no-such-command-xyz'])).exitCode).toBe(127);
        expect((await sandbox.exec('no-such-command-xyz')).exitCode).toBe(127);
      });

      it('passes env (the spec env, exec env over it) and cwd', async () => {
        const r = await sandbox.exec('echo "$FROM_SPEC $FROM_EXEC $(pwd)"', { env: { FROM_EXEC: 'exec' }, cwd: '/tmp' });
        expect(r.stdout.trim()).toBe('spec exec /tmp');
        expect((await sandbox.exec('echo $FROM_SPEC', { env: { FROM_SPEC: 'override' } })).stdout.trim()).toBe('override');
      });

      it('runs as a user named by name or by uid', async () => {
        expect((await sandbox.exec('echo "$(id -un) $(id -u)"', { user: 'nobody' })).stdout.trim()).toBe('nobody 65534');
        expect((await sandbox.exec('id -u', { user: '65534' })).stdout.trim()).toBe('65534');
        expect((await sandbox.exec('id -u', { user: 'root' })).stdout.trim()).toBe('0');
      });

      it('feeds stdin from a string, bytes or a stream, and closes it', async () => {
        expect((await sandbox.exec('wc -c', { stdin: 'abc' })).stdout.trim()).toBe('3');
        expect((await sandbox.exec('od -An -tx1', { stdin: new Uint8Array([0, 255]) })).stdout.trim()).toBe('00 ff');
        const big = Readable.from([Buffer.alloc(300_000, 'x'), Buffer.alloc(200_000, 'y')]);
        expect((await sandbox.exec('wc -c', { stdin: big })).stdout.trim()).toBe('500000');
      });

      it('caps output with a visible marker, keeping head and tail', async () => {
        const r = await sandbox.exec('echo START; head -c 200000 /dev/zero | tr "\\0" x; echo; echo END', { maxOutputBytes: 1000 });
        expect(r.truncated).toBe(true);
        expect(r.stdout.startsWith('START')).toBe(true);
        expect(r.stdout.trimEnd().endsWith('END')).toBe(true);
        expect(r.stdout).toMatch(/\[cagebench: \d+ bytes of stdout truncated\]/);
        expect(r.stdout.length).toBeLessThan(1100);
      });

      it('a timeout ends the whole process tree: TERM first, so a trap can save its state', async () => {
        // A loop, not `wait`: wait returns 0 as soon as its children die, racing the shell's own TERM.
        const r = await sandbox.exec(`trap 'echo saved > /tmp/saved; exit 3' TERM; sleep 301 & setsid sleep 302 & while :; do sleep 1; done`, { user: 'nobody', timeoutMs: 500, killGraceMs: 4000 });
        expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: 3 });
        expect((await sandbox.readFile('/tmp/saved')).toString()).toBe('saved\n');
        expect(await processes()).not.toMatch(/sleep 30[12]/);
      });

      it('a tree that ignores TERM is killed after the grace, children that left the session too', async () => {
        const r = await sandbox.exec(`sh -c "trap '' TERM; sleep 311" & setsid sleep 312 & (sleep 313 &); trap '' TERM; sleep 314; echo never`, {
          user: 'nobody',
          timeoutMs: 300,
          killGraceMs: 1000,
        });
        expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
        expect(r.stdout).not.toContain('never');
        expect(await processes()).not.toMatch(/sleep 31[1-4]/);
      });

      it('an abort signal ends the tree as a timeout would, and the result says cancelled', async () => {
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 400);
        const r = await sandbox.exec("trap 'echo bye; exit 4' TERM; sleep 321 & while :; do sleep 1; done", { signal: abort.signal, killGraceMs: 3000 });
        expect(r).toMatchObject({ cancelled: true, timedOut: false, exitCode: 4 });
        expect(r.stdout).toContain('bye');
        expect(await processes()).not.toContain('sleep 321');
        const done = new AbortController();
        done.abort();
        expect(await sandbox.exec('touch /tmp/never-ran', { signal: done.signal })).toMatchObject({ cancelled: true });
        expect((await sandbox.exec('test -e /tmp/never-ran')).exitCode).toBe(1);
      });

      it('spawn (when offered) holds stdin open, and kill() ends the tree', async (ctx) => {
        if (!sandbox.spawn) ctx.skip(`${name} offers no spawn`);
        const proc = await sandbox.spawn!(['sh', '-c', 'read -r l; echo "got $l"; sleep 331 & setsid sleep 332 & cat']);
        const out = new Promise<string>((resolve) => proc.stdout.once('data', (c: Buffer) => resolve(c.toString())));
        proc.stdin.write('one\n');
        expect(await out).toBe('got one\n');
        const exit = await proc.kill();
        expect(exit.signal).toMatch(/^SIG(TERM|KILL)$/);
        expect(await processes()).not.toMatch(/sleep 33[12]/);
      });
    });

    describe('files', () => {
      const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
      const rejection = async (promise: Promise<unknown>): Promise<SandboxError> => {
        const err = await promise.then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(SandboxError);
        return err as SandboxError;
      };
      let host: string;
      let seq = 0;
      const fresh = async (): Promise<string> => {
        host = join(scratch, `case-${++seq}`);
        await mkdir(host);
        return host;
      };

      it('round-trip every byte value and invalid UTF-8, byte for byte', async () => {
        const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0x80, 0xc3, 0x28, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xfe, 0xff, 0x00])]);
        await sandbox.writeFile('/tmp/rt/bytes.bin', bytes);
        expect(await sandbox.readFile('/tmp/rt/bytes.bin')).toEqual(bytes);
        expect(await sh('sha256sum /tmp/rt/bytes.bin')).toBe(`${sha256(bytes)}  /tmp/rt/bytes.bin\n`);
        await sandbox.writeFile('/tmp/rt/text.txt', 'grüße, 世界\n');
        expect((await sandbox.readFile('/tmp/rt/text.txt')).toString('utf8')).toBe('grüße, 世界\n');
        await sandbox.writeFile('/tmp/rt/empty', new Uint8Array());
        expect((await sandbox.readFile('/tmp/rt/empty')).length).toBe(0);
      });

      it('20 MiB both ways: writeFile/readFile and upload/download', async () => {
        const big = randomBytes(20 * 1024 * 1024);
        await sandbox.writeFile('/tmp/big/a.bin', big);
        expect(await sh('sha256sum < /tmp/big/a.bin')).toBe(`${sha256(big)}  -\n`);
        expect(sha256(await sandbox.readFile('/tmp/big/a.bin'))).toBe(sha256(big));
        const dir = await fresh();
        await writeFile(join(dir, 'b.bin'), big);
        await sandbox.upload(join(dir, 'b.bin'), '/tmp/big-up');
        expect(await sh('sha256sum < /tmp/big-up/b.bin')).toBe(`${sha256(big)}  -\n`);
        await sandbox.download('/tmp/big-up/b.bin', join(dir, 'back'));
        expect(sha256(await readFile(join(dir, 'back', 'b.bin')))).toBe(sha256(big));
      }, 120_000);

      it('modes and owners: writeFile sets the mode, files are root’s, a user’s private file still reads', async () => {
        await sandbox.writeFile('/tmp/modes/tool.sh', '#!/bin/sh\necho "ran $1"\n', { mode: 0o755 });
        await sandbox.writeFile('/tmp/modes/plain.sh', '#!/bin/sh\necho no\n');
        expect(await sh('stat -c "%a %u:%g" /tmp/modes/tool.sh /tmp/modes/plain.sh')).toBe('755 0:0\n644 0:0\n');
        expect(await sandbox.exec(['/tmp/modes/tool.sh', 'x'])).toMatchObject({ exitCode: 0, stdout: 'ran x\n' });
        expect((await sandbox.exec('/tmp/modes/plain.sh')).exitCode).toBe(126);
        const made = await sandbox.exec('umask 077; echo mine > /tmp/private; stat -c "%a %U" /tmp/private', { user: 'nobody' });
        expect(made.stdout).toBe('600 nobody\n');
        expect((await sandbox.readFile('/tmp/private')).toString()).toBe('mine\n');
        expect((await sandbox.exec('cat /tmp/modes/../private', { user: 'nobody' })).stdout).toBe('mine\n');
      });

      it('a missing path is CB_PATH_NOT_FOUND naming it; a directory is not a file', async () => {
        const missing = await rejection(sandbox.readFile('/tmp/does/not/exist.txt'));
        expect(missing.code).toBe('CB_PATH_NOT_FOUND');
        expect(missing.message).toContain('/tmp/does/not/exist.txt');
        await sh('mkdir -p /tmp/adir && echo inner > /tmp/adir/inner.txt');
        expect((await rejection(sandbox.readFile('/tmp/adir'))).code).toBe('CB_PATH_NOT_FOUND');
        const dir = await fresh();
        expect((await rejection(sandbox.download('/tmp/nowhere', join(dir, 'target')))).code).toBe('CB_PATH_NOT_FOUND');
        expect(await readdir(dir)).toEqual([]);
      });

      it('relative paths are refused; `..` stays inside the sandbox', async () => {
        for (const attempt of [() => sandbox.writeFile('tmp/rel.txt', 'x'), () => sandbox.readFile('rel.txt'), () => sandbox.download('tmp', scratch)]) {
          expect((await rejection(attempt())).code).toBe('CB_BAD_SPEC');
        }
        await sandbox.writeFile('/tmp/dots/../../../../dotted.txt', 'inside');
        expect(await sh('cat /dotted.txt')).toBe('inside');
      });

      it('download refuses a symlink out of the tree, and link chains that climb out together', async () => {
        await sh('mkdir -p /tmp/leaky/sub && echo fine > /tmp/leaky/a.txt && ln -s /etc/passwd /tmp/leaky/sub/passwd');
        const dir = await fresh();
        const err = await rejection(sandbox.download('/tmp/leaky', join(dir, 'target')));
        expect(err.code).toBe('CB_ARCHIVE_ESCAPE');
        expect(err.message).toContain('/etc/passwd');
        await sh('mkdir -p /tmp/chain/a && ln -s .. /tmp/chain/a/up && ln -s up/.. /tmp/chain/a/out');
        expect((await rejection(sandbox.download('/tmp/chain', join(dir, 'chain')))).code).toBe('CB_ARCHIVE_ESCAPE');
        expect((await readdir(dir)).sort()).toEqual(expect.arrayContaining([]));
        expect(await readFile(join(dir, 'target', 'sub', 'passwd')).catch(() => 'absent')).toBe('absent');
      });

      it('upload refuses a host symlink pointing out, and sends nothing', async () => {
        const dir = await fresh();
        await mkdir(join(dir, 'src'));
        await writeFile(join(dir, 'src', 'a.txt'), 'a');
        await symlink('/etc/passwd', join(dir, 'src', 'z-passwd'));
        const err = await rejection(sandbox.upload(join(dir, 'src'), '/tmp/refused'));
        expect(err.code).toBe('CB_ARCHIVE_ESCAPE');
        expect((await sandbox.exec('test -e /tmp/refused')).exitCode).toBe(1);
      });
    });

    describe('lifecycle', () => {
      it('start, labels, stop: stop is idempotent, removes everything, and a stopped sandbox refuses work', async () => {
        const box = await t.provider.start(spec('lifecycle-a'));
        expect(box.id).toBeTruthy();
        expect(box.image).toBeTruthy();
        expect(await box.platform()).toMatch(/^linux-(x64|arm64)(-musl)?$/);
        if (t.leftovers) expect((await t.leftovers(runId)).length, 'the run label finds the live sandbox').toBeGreaterThan(0);
        await Promise.all([box.stop(), box.stop()]);
        await box.stop();
        await expect(box.exec('true')).rejects.toMatchObject({ code: 'CB_SANDBOX_STOPPED' });
      });

      it('await using removes the sandbox at the end of the block, even on a throw', async () => {
        const own = testRunId('contract-using');
        await expect(
          (async () => {
            await using box = await t.provider.start({ ...spec('using'), runId: own });
            expect(box.id).toBeTruthy();
            throw new Error('boom');
          })(),
        ).rejects.toThrow('boom');
        if (t.leftovers) expect(await t.leftovers(own)).toEqual([]);
      });

      it('close() while starts are in flight leaves nothing behind, and refuses later starts', async () => {
        const other = await target();
        const own = testRunId('contract-abort');
        try {
          const starts = Array.from({ length: 3 }, (_, i) => other.provider.start({ ...spec(`race-${i}`), runId: own }).then((s) => s, (e: unknown) => e));
          await new Promise((r) => setTimeout(r, 20));
          await other.provider.close();
          await Promise.all(starts);
          await expect(other.provider.start({ ...spec('after-close'), runId: own })).rejects.toMatchObject({ code: 'CB_SANDBOX_STOPPED' });
          if (other.leftovers) expect(await other.leftovers(own)).toEqual([]);
        } finally {
          await other.provider.close();
          await other.close();
        }
      });

      it('an image the backend lacks is CB_IMAGE_NOT_FOUND naming it', async () => {
        const err = await t.provider.start({ ...spec('no-image'), source: { image: 'cagebench/no-such-image:v0' } }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'CB_IMAGE_NOT_FOUND' });
        expect((err as Error).message).toContain('cagebench/no-such-image:v0');
      });

      it('builds an environment from a Dockerfile', async (ctx) => {
        requires(ctx, 'prebuild');
        const dir = await mkdtemp(join(scratch, 'build-'));
        await writeFile(join(dir, 'Dockerfile'), `FROM ${t.image}\nRUN echo built > /built\n`);
        const tag = await t.provider.prepareImage?.({ dockerfile: dir });
        await using box = await t.provider.start({ ...spec('built'), source: { dockerfile: dir } });
        if (tag) expect(box.image).toBe(tag);
        expect(await sh('cat /built', box)).toBe('built\n');
      }, 120_000);

      it('bind mounts host paths read-only', async (ctx) => {
        requires(ctx, 'bindMounts');
        const dir = await mkdtemp(join(scratch, 'mount-'));
        await writeFile(join(dir, 'agent.txt'), 'binary');
        await using box = await t.provider.start(spec('mount', { mounts: [{ source: dir, target: '/opt/agent' }] }));
        expect((await box.exec('cat /opt/agent/agent.txt')).stdout).toBe('binary');
        const write = await box.exec('echo x > /opt/agent/new.txt', { user: 'root' });
        expect(write.exitCode).not.toBe(0);
        expect(write.stderr).toMatch(/Read-only file system/);
      });

      it('volumes: filled once from a host directory, mounted read-only, the same files, modes and links; reused by later sandboxes and providers without filling again', async (ctx) => {
        requires(ctx, 'volumes');
        const dir = await mkdtemp(join(scratch, 'volume-'));
        await mkdir(join(dir, 'bin'));
        await mkdir(join(dir, 'lib', 'private'), { recursive: true });
        await writeFile(join(dir, 'bin', 'tool'), '#!/bin/sh\necho "tool $1"\n');
        await chmod(join(dir, 'bin', 'tool'), 0o755);
        await writeFile(join(dir, 'lib', 'data.bin'), randomBytes(300_000));
        await writeFile(join(dir, 'lib', 'private', 'secret'), 'only owner');
        await chmod(join(dir, 'lib', 'private', 'secret'), 0o600);
        await chmod(join(dir, 'lib', 'private'), 0o750);
        await writeFile(join(dir, 'empty'), '');
        await symlink('bin/tool', join(dir, 'tool-link'));
        await symlink('../lib', join(dir, 'bin', 'lib-dir'));
        /** `path type mode size target` per entry, sorted: how find(1) in the sandbox prints them. */
        const hostListing = async (): Promise<string> => {
          const lines: string[] = [];
          const visit = async (rel: string): Promise<void> => {
            for (const name of (await readdir(join(dir, rel))).sort()) {
              const path = rel ? `${rel}/${name}` : name;
              const st = await lstat(join(dir, path));
              const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f';
              lines.push(`${path} ${type} ${(st.mode & 0o7777).toString(8)} ${type === 'f' ? st.size : '-'} ${type === 'l' ? await readlink(join(dir, path)) : '-'}`);
              if (type === 'd') await visit(path);
            }
          };
          await visit('');
          return lines.sort().join('\n');
        };
        const at = '/opt/cagebench-volume';
        const listing = (box: Sandbox): Promise<string> =>
          sh(`cd ${at} && find . -mindepth 1 -printf '%P %y %m %s %l\\n' | awk '{ if ($2 != "f") $4 = "-"; if ($5 == "") $5 = "-"; print }' | sort`, box).then((out) => out.trim());
        const sums = async (box: Sandbox): Promise<string> => sh(`cd ${at} && find . -type f | sort | xargs sha256sum`, box);
        const hostSums = async (): Promise<string> => {
          const files = ['./bin/tool', './empty', './lib/data.bin', './lib/private/secret'];
          return files.map((f) => `${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}  ${f}`).join('\n') + '\n';
        };
        const name = `cagebench-contract-${runId}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
        const volumes = [{ name, source: dir, target: at }];
        const expected = await hostListing();
        const expectedSums = await hostSums();
        try {
          // Three at once: one fill, and each sees all of it.
          const boxes = await Promise.all([1, 2, 3].map((i) => t.provider.start(spec(`volume-${i}`, { volumes }))));
          try {
            for (const box of boxes) {
              expect(await listing(box)).toBe(expected);
              expect(await sums(box)).toBe(expectedSums);
            }
            const [box] = boxes;
            expect((await box!.exec([`${at}/tool-link`, 'ran'])).stdout).toBe('tool ran\n');
            expect((await box!.exec(`cat ${at}/lib/private/secret`, { user: 'nobody' })).exitCode).not.toBe(0);
            const write = await box!.exec(`echo x > ${at}/new.txt`, { user: 'root' });
            expect(write.exitCode).not.toBe(0);
            expect(write.stderr).toMatch(/Read-only file system/);
          } finally {
            await Promise.all(boxes.map((b) => b.stop()));
          }
          // The name promises the contents: a changed directory under the same name is not shipped again.
          await writeFile(join(dir, 'added-later'), 'not shipped');
          await using again = await t.provider.start(spec('volume-again', { volumes }));
          expect(await listing(again)).toBe(expected);
          const other = await target();
          try {
            await using elsewhere = await other.provider.start(spec('volume-other-provider', { volumes }));
            expect(await listing(elsewhere)).toBe(expected);
          } finally {
            await other.provider.close();
            await other.close();
          }
        } finally {
          await t.removeVolume?.(name);
        }
      }, 120_000);

      it('leaves nothing of the run behind once its sandboxes stopped and the provider closed', async (ctx) => {
        if (!t.leftovers) ctx.skip(`${name} gives no leftovers() to check with`);
        // A provider of its own: shared per-run resources (a relay, networks) go on close().
        const other = await target();
        const own = testRunId('contract-leak');
        try {
          const box = await other.provider.start({ ...spec('leak-check'), runId: own });
          const modelOnly = !(other.gaps ?? []).includes('network:model-only');
          const net = modelOnly ? await other.provider.start({ ...spec('leak-check-net'), runId: own, network: 'model-only', endpointPort: 9 }) : undefined;
          expect((await other.leftovers!(own)).length, 'the run label finds what runs').toBeGreaterThan(0);
          await box.stop();
          await net?.stop();
          await other.provider.close();
          expect(await other.leftovers!(own)).toEqual([]);
        } finally {
          await other.provider.close();
          await other.close();
        }
      });
    });

    describe('networks', () => {
      let endpoint: Server;
      let other: Server;
      const listen = (reply: string): Promise<Server> =>
        new Promise((resolve) => {
          const server = createServer((socket) => socket.end(reply));
          server.listen(0, '0.0.0.0', () => resolve(server));
        });
      const portOf = (s: Server): number => (s.address() as { port: number }).port;
      /** `OPEN <reply>` or `CLOSED …` for a TCP connect from inside the sandbox (bash's /dev/tcp). */
      const probe = async (from: Sandbox, host: string, port: number): Promise<string> => {
        const script = `if out=$(timeout 2 bash -c 'exec 3<>/dev/tcp/$0/$1 && head -c 64 <&3' ${host} ${port} 2>&1); then echo "OPEN $out"; else echo "CLOSED $out"; fi`;
        return (await from.exec(script)).stdout.trim();
      };
      /** This machine's own IPv4 addresses, loopback excepted. */
      const hostAddresses = (): string[] =>
        Object.values(networkInterfaces())
          .flat()
          .filter((a) => a && a.family === 'IPv4' && !a.internal)
          .map((a) => a!.address);

      beforeAll(async () => {
        endpoint = await listen('endpoint-ok');
        other = await listen('other-port');
      });
      afterAll(() => {
        endpoint?.close();
        other?.close();
      });

      it('none: only loopback', async (ctx) => {
        requires(ctx, 'network:none');
        await using box = await t.provider.start(spec('net-none', { network: 'none' }));
        expect((await box.exec('ls /sys/class/net')).stdout.trim()).toBe('lo');
        expect(await probe(box, hostAddresses()[0] ?? '10.0.0.1', portOf(other))).toMatch(/^CLOSED/);
      });

      it('model-only: reaches the endpoint it was given and nothing else on this machine', async (ctx) => {
        requires(ctx, 'network:model-only');
        await using box = await t.provider.start(spec('net-model', { network: 'model-only', endpointPort: portOf(endpoint) }));
        const { host, port } = box.endpoint!;
        expect(port).toBe(portOf(endpoint));
        expect(await probe(box, host, port)).toBe('OPEN endpoint-ok');
        expect((await box.exec('echo $CAGEBENCH_ENDPOINT')).stdout.trim()).toBe(`${host}:${port}`);
        expect(await probe(box, host, portOf(other))).toMatch(/^CLOSED/);
        // Our own listeners on every other address of this machine: neither is reachable, not even the endpoint's port.
        for (const address of hostAddresses()) {
          expect(await probe(box, address, portOf(other)), address).toMatch(/^CLOSED/);
          expect(await probe(box, address, portOf(endpoint)), address).toMatch(/^CLOSED/);
        }
      });

      it('model-only: cannot reach another sample’s sandbox', async (ctx) => {
        requires(ctx, 'network:model-only');
        await using a = await t.provider.start(spec('net-a', { network: 'model-only', endpointPort: portOf(endpoint) }));
        await using b = await t.provider.start(spec('net-b', { network: 'model-only', endpointPort: portOf(endpoint) }));
        const ip = (await b.exec("hostname -I | awk '{print $1}'")).stdout.trim();
        expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        // A reachable peer without a listener refuses; an isolated one is not there at all.
        const seen = await probe(a, ip, 8080);
        expect(seen).toMatch(/^CLOSED/);
        expect(seen).not.toMatch(/refused/i);
        expect(await probe(a, a.endpoint!.host, a.endpoint!.port)).toBe('OPEN endpoint-ok');
      });

      it('bridge with an endpoint: reaches it, named in CAGEBENCH_ENDPOINT', async (ctx) => {
        requires(ctx, 'network:bridge');
        await using box = await t.provider.start(spec('net-bridge', { network: 'bridge', endpointPort: portOf(endpoint) }));
        expect(box.endpoint?.port).toBe(portOf(endpoint));
        expect((await box.exec('echo $CAGEBENCH_ENDPOINT')).stdout.trim()).toBe(`${box.endpoint!.host}:${portOf(endpoint)}`);
        expect(await probe(box, box.endpoint!.host, portOf(endpoint))).toBe('OPEN endpoint-ok');
      });
    });

    describe('limits', () => {
      /** The first of these cgroup files (v2, then v1) that exists, trimmed. */
      const cgroup = async (box: Sandbox, ...paths: string[]): Promise<string> =>
        (await box.exec(`for f in ${paths.map((p) => `/sys/fs/cgroup/${p}`).join(' ')}; do [ -r "$f" ] && { cat "$f"; break; }; done`)).stdout.trim();

      it('memory: the limit is visible, and an allocation over it is killed', async (ctx) => {
        requires(ctx, 'limits.memory');
        await using box = await t.provider.start(spec('mem', { limits: { memoryMb: 64 } }));
        expect(await cgroup(box, 'memory.max', 'memory/memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
        // dd reads into one 256 MiB buffer, touching every page of it.
        const r = await box.exec('dd if=/dev/zero of=/dev/null bs=256M count=1 && echo survived', { timeoutMs: 30_000 });
        expect(r.stdout).not.toContain('survived');
        expect(r.exitCode).toBe(137);
      });

      it('pids: the limit is visible, and a fork storm stops at it', async (ctx) => {
        requires(ctx, 'limits.pids');
        await using box = await t.provider.start(spec('pids', { limits: { pids: 32 } }));
        expect(await cgroup(box, 'pids.max', 'pids/pids.max')).toBe('32');
        const r = await box.exec('i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); echo $i; done', { timeoutMs: 20_000, killGraceMs: 500 });
        const started = Number(r.stdout.trim().split('\n').pop());
        expect(started).toBeLessThan(32);
      });

      it('cpus: the quota is visible in the cgroup', async (ctx) => {
        requires(ctx, 'limits.cpus');
        await using box = await t.provider.start(spec('cpus', { limits: { cpus: 0.5 } }));
        const v2 = await cgroup(box, 'cpu.max');
        const [quota, period] = v2 ? v2.split(' ').map(Number) : [Number(await cgroup(box, 'cpu/cpu.cfs_quota_us', 'cpu,cpuacct/cpu.cfs_quota_us')), Number(await cgroup(box, 'cpu/cpu.cfs_period_us', 'cpu,cpuacct/cpu.cfs_period_us'))];
        expect(quota! / period!).toBeCloseTo(0.5, 5);
      });
    });
  });
}
