// The Claude ACP adapter is installed by npm (the user's npm, pointed at the cache's registry) with
// their production dependencies and without optional ones or install scripts.
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentCache } from './index.ts';
import { npmInstall } from './npm-install.ts';
import { buildTgz, startRegistry, type FakeRegistry } from './test-support/registry.ts';
import { tempDir } from './test-support/temp.ts';

const run = promisify(execFile);
const ACP = '@agentclientprotocol/claude-agent-acp';
let registry: FakeRegistry;

const manifest = (name: string, version: string, extra: object = {}) => ({ name: 'package/package.json', content: JSON.stringify({ name, version, ...extra }) });

beforeAll(async () => {
  registry = await startRegistry();
  for (const v of ['1.0.0', '1.2.0', '2.0.0']) {
    registry.publish('acp-dep', v, await buildTgz([manifest('acp-dep', v, { main: 'index.js' }), { name: 'package/index.js', content: `module.exports = '${v}';\n` }]));
  }
  registry.tag('acp-dep', 'latest', '2.0.0');
  registry.publish('acp-native', '1.0.0', await buildTgz([manifest('acp-native', '1.0.0'), { name: 'package/install.js', content: 'throw 1' }]));
  const deps = { dependencies: { 'acp-dep': '^1.0.0' }, optionalDependencies: { 'acp-native': '1.0.0' } };
  const bin = { 'claude-agent-acp': 'dist/index.js' };
  registry.publish(
    ACP,
    '0.100.0',
    await buildTgz([
      manifest(ACP, '0.100.0', { bin, scripts: { postinstall: 'exit 1' }, ...deps }),
      { name: 'package/dist/index.js', content: "#!/usr/bin/env node\nconsole.log('acp with dep ' + require('acp-dep'));\n", mode: 0o755 },
    ]),
    { ...deps, manifest: { bin, scripts: { postinstall: 'exit 1' } } },
  );
});
afterAll(() => registry.close());

it('installs an ACP adapter with its production dependencies through npm', async () => {
  const home = await tempDir('acp-home');
  await writeFile(join(home, '.npmrc'), '');
  const env = { ...process.env, HOME: home, npm_config_userconfig: join(home, '.npmrc'), npm_config_cache: join(home, 'npm-cache') };
  const cache = createAgentCache({ dir: await tempDir('acp'), registry: { registry: registry.url, authToken: 'acp-token' }, env, log: () => undefined });

  const entry = await cache.ensure('claude_agent_acp', { version: 'latest', platform: 'linux-x64' });
  expect(entry).toMatchObject({ version: '0.100.0', package: `${ACP}@0.100.0`, integrity: expect.stringMatching(/^sha512-/) });
  expect(entry.entrypoint).toBe(join(entry.dir, 'node_modules', ACP, 'dist/index.js'));
  expect(entry.pathDirs).toEqual([join(entry.dir, 'node_modules/.bin')]);
  // The dependency resolved through the registry (^1.0.0 → 1.2.0); no optional dependency, no scripts run.
  const modules = await readdir(join(entry.dir, 'node_modules'));
  expect(modules.sort()).toEqual(['.bin', '.package-lock.json', '@agentclientprotocol', 'acp-dep']);
  expect((await run(process.execPath, [entry.entrypoint])).stdout.trim()).toBe('acp with dep 1.2.0');
  expect((await run(join(entry.dir, 'node_modules/.bin/claude-agent-acp'))).stdout.trim()).toBe('acp with dep 1.2.0');
  // npm was pointed at the cache's registry with its token, and the temporary .npmrc is gone.
  expect(registry.requests.filter((r) => r.url.includes('acp')).every((r) => r.authorization === 'Bearer acp-token')).toBe(true);
  expect(registry.tarballGets('acp-native')).toEqual([]);
  await expect(readFile(join(entry.dir, '.npmrc'))).rejects.toThrow();
});

it('names npm failure output', async () => {
  const home = await tempDir('acp-home');
  await writeFile(join(home, '.npmrc'), '');
  const env = { ...process.env, HOME: home, npm_config_userconfig: join(home, '.npmrc'), npm_config_cache: join(home, 'npm-cache') };
  const dir = await tempDir('acp-fail');
  registry.publish(ACP, '0.99.0', await buildTgz([manifest(ACP, '0.99.0', { dependencies: { 'missing-dep': '1.0.0' } })]), {
    dependencies: { 'missing-dep': '1.0.0' },
  });
  const cache = createAgentCache({ dir, registry: { registry: registry.url }, env, log: () => undefined });
  await expect(cache.ensure('claude_agent_acp', { version: '0.99.0', platform: 'linux-arm64-musl' })).rejects.toMatchObject({
    code: 'CB_CACHE_INSTALL',
    message: expect.stringMatching(/npm install @agentclientprotocol\/claude-agent-acp@0\.99\.0 failed[^]*missing-dep/),
  });
  expect(await readdir(join(dir, 'claude_agent_acp', '0.99.0'))).toEqual([]);
});

describe('the installed adapter is the registry\'s', () => {
  const REGISTRY_SRI = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;

  /** An npm stand-in that installs the package and writes `lock` as package-lock.json. */
  async function fakeNpm(lock: object): Promise<string> {
    const bin = join(await tempDir('fake-npm'), 'npm');
    const script = `#!/usr/bin/env node
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const prefix = process.argv[process.argv.indexOf('--prefix') + 1];
const at = join(prefix, 'node_modules', ${JSON.stringify(ACP)});
mkdirSync(at, { recursive: true });
writeFileSync(join(at, 'package.json'), JSON.stringify({ name: ${JSON.stringify(ACP)}, version: '0.101.0' }));
writeFileSync(join(prefix, 'package-lock.json'), ${JSON.stringify(JSON.stringify(lock))});
`;
    await writeFile(bin, script, { mode: 0o755 });
    return bin;
  }

  const install = async (lock: object) =>
    npmInstall({ pkg: ACP, version: '0.101.0', platform: 'linux-x64', into: await tempDir('acp-into'), integrity: REGISTRY_SRI, env: process.env, npm: await fakeNpm(lock) });
  const locked = (integrity?: string) => ({ packages: { '': {}, [`node_modules/${ACP}`]: { version: '0.101.0', ...(integrity ? { integrity } : {}) } } });

  it('accepts the integrity npm locked when it is the registry\'s', async () => {
    await expect(install(locked(REGISTRY_SRI))).resolves.toBeUndefined();
  });

  it('refuses another integrity', async () => {
    const other = `sha512-${Buffer.alloc(64, 2).toString('base64')}`;
    await expect(install(locked(other))).rejects.toMatchObject({ code: 'CB_CACHE_INTEGRITY', message: expect.stringContaining(`not the registry's ${REGISTRY_SRI}`) });
  });

  it('refuses an install whose integrity npm did not record', async () => {
    await expect(install(locked())).rejects.toMatchObject({ code: 'CB_CACHE_INTEGRITY', message: expect.stringContaining('recorded no integrity') });
    await expect(install({})).rejects.toMatchObject({ code: 'CB_CACHE_INTEGRITY' });
  });
});
