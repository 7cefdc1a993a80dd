// The agent cache: agent programs from the npm registry, verified, extracted and kept per
// version and platform under the user's cache directory. Imports nothing of ours.
export { createAgentCache } from './cache.ts';
export type { AgentCache, AgentCacheOptions, CacheEntry, EnsureOptions, Release, RemoveOptions } from './cache.ts';
export type { DownloadProgress } from './download.ts';
export { BUILD_NAMES, AGENT_SOURCES, PLATFORMS, isAgentName, isPlatform } from './agents.ts';
export type { AgentName, AgentSource, Platform, PlatformBuild } from './agents.ts';
export { CacheError, downloadCommand } from './errors.ts';
export type { CacheErrorCode } from './errors.ts';
export { readNpmRegistryConfig } from './npm-config.ts';
export type { RegistryConfig } from './npm-config.ts';
export { isSandboxSpec } from './versions.ts';
export type { VersionSpec } from './versions.ts';
