// JS bundles with dependencies (the ACP adapters) are installed by npm itself, into a temp
// directory, with the user's environment and npm configuration: npm resolves the
// dependency tree through the same registry and verifies every tarball's integrity. Only
// production dependencies, no optional ones, no install scripts. The top-level package's
// integrity is then checked against the registry's, as for every other entry.
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Platform } from './agents.ts';
import { CacheError } from './errors.ts';
import type { RegistryConfig } from './npm-config.ts';
import { parseIntegrity } from './verify.ts';

export interface NpmInstallOptions {
  readonly pkg: string;
  readonly version: string;
  readonly platform: Platform;
  /** The directory to install into (it gets `node_modules/`); created by npm. */
  readonly into: string;
  /** The registry's integrity for `pkg@version`, as `parseIntegrity(...).sri`. */
  readonly integrity: string;
  /** Only when the cache was given a registry explicitly: npm is pointed at it. Otherwise npm reads its own configuration. */
  readonly registry?: RegistryConfig;
  readonly env: NodeJS.ProcessEnv;
  /** @default 'npm' */
  readonly npm?: string;
}

const TAIL_BYTES = 4_000;

/** The user's environment; with an explicit registry, npm_config_registry (which outranks any .npmrc) set to it. */
function installEnv(o: NpmInstallOptions): NodeJS.ProcessEnv {
  if (!o.registry) return o.env;
  const env = Object.fromEntries(Object.entries(o.env).filter(([k]) => k.toLowerCase() !== 'npm_config_registry'));
  return { ...env, npm_config_registry: o.registry.registry };
}

export async function npmInstall(o: NpmInstallOptions): Promise<void> {
  await writeFile(join(o.into, 'package.json'), '{ "name": "cagebench-agent-entry", "private": true }\n');
  if (o.registry) {
    // A project .npmrc in the prefix: npm reads it as the project config. Removed after.
    const url = new URL(o.registry.registry);
    const lines = [`registry=${o.registry.registry}`];
    if (o.registry.authToken) lines.push(`//${url.host}${url.pathname}:_authToken=${o.registry.authToken}`);
    await writeFile(join(o.into, '.npmrc'), `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  const arch = o.platform.includes('arm64') ? 'arm64' : 'x64';
  const libc = o.platform.endsWith('-musl') ? 'musl' : 'glibc';
  const args = [
    'install',
    '--prefix', o.into,
    '--omit=dev', '--omit=optional',
    '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier',
    '--os=linux', `--cpu=${arch}`, `--libc=${libc}`,
    '--loglevel=warn',
    `${o.pkg}@${o.version}`,
  ];
  try {
    await new Promise<void>((done, fail) => {
      const child = spawn(o.npm ?? 'npm', args, { cwd: o.into, env: installEnv(o), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-TAIL_BYTES)));
      child.on('error', (err) => fail(new CacheError('CB_CACHE_INSTALL', `Could not run npm to install ${o.pkg}@${o.version}: ${err.message}`, { cause: err })));
      child.on('close', (code, signal) => {
        if (code === 0) done();
        else fail(new CacheError('CB_CACHE_INSTALL', `npm install ${o.pkg}@${o.version} failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`));
      });
    });
  } finally {
    await rm(join(o.into, '.npmrc'), { force: true });
  }

  const installed = join(o.into, 'node_modules', ...o.pkg.split('/'));
  const manifest = await readFile(join(installed, 'package.json'), 'utf8').then((t) => JSON.parse(t) as { version?: string }, () => undefined);
  if (manifest?.version !== o.version) {
    throw new CacheError('CB_CACHE_INSTALL', `npm install ${o.pkg}@${o.version} left ${manifest ? `version ${manifest.version}` : 'nothing'} in ${installed}.`);
  }
  // npm checked each tarball against the integrity it resolved; make sure that is the registry's.
  // No recorded integrity is no proof: refused, as a tarball without one is.
  const lock = await readFile(join(o.into, 'package-lock.json'), 'utf8').then((t) => JSON.parse(t) as { packages?: Record<string, { integrity?: string }> }, () => undefined);
  const locked = lock?.packages?.[`node_modules/${o.pkg}`]?.integrity;
  if (locked === undefined) {
    throw new CacheError('CB_CACHE_INTEGRITY', `npm recorded no integrity for ${o.pkg}@${o.version} in package-lock.json, so it cannot be checked against the registry's ${o.integrity}. Nothing was stored.`);
  }
  if (parseIntegrity(locked, `${o.pkg}@${o.version} in package-lock.json`).sri !== o.integrity) {
    throw new CacheError('CB_CACHE_INTEGRITY', `npm installed ${o.pkg}@${o.version} with integrity ${locked}, not the registry's ${o.integrity}. Nothing was stored.`);
  }
}
