// A run configuration file (`cagebench run --config eval.yaml`): the run's flags in YAML, with
// snake_case keys, plus what is awkward on a command line (agent options, MCP servers). Paths
// in it are relative to the file. Flags given on the command line win over the file.
//
//   paths: [tasks/suites/smoke]
//   agent: claude_code
//   agent_version: 2.1.330
//   model: anthropic/claude-sonnet-4-5
//   attempts: 2
//   incorrect_message: Your answer was wrong; try again.
//   agent_options:
//     system_prompt: Prefer small patches.
//     disallowed_tools: [WebFetch, WebSearch]
//     mcp_servers: { docs: { command: /opt/docs-mcp, args: [--stdio] } }
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { importUserModule } from '../scorers/index.ts';
import { renderProblem, type TaskProblem } from '../tasks/index.ts';
import type { UserConfig } from './config.ts';
import { runOptionProblems } from './config-schema.ts';
import type { CagebenchConfig } from './define.ts';
import { ConfigError } from './errors.ts';
import { RUN_OPTIONS, snake, type RunOptionKey } from './options.ts';

export type RunConfigFile = CagebenchConfig;

/** Looked for, in this order, in the working directory when no --config is given. */
export const CONFIG_FILE_NAMES = ['cagebench.config.ts', 'cagebench.config.mts', 'cagebench.config.js', 'cagebench.config.mjs', 'cagebench.config.yaml', 'cagebench.config.yml'];

/** The config file in `dir`, if there is one. */
export function findConfigFile(dir = process.cwd()): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => join(dir, name)).find((path) => existsSync(path));
}

/** Read a config file (YAML, or a TS/JS module whose default export is the config); paths in it are relative to it. */
export async function loadRunConfigFile(file: string): Promise<RunConfigFile> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`--config ${path} does not exist.`);
  const ext = extname(path);
  const raw = ['.yaml', '.yml'].includes(ext) ? await readYaml(path) : ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].includes(ext) ? await importConfig(path) : undefined;
  if (raw === undefined) throw new ConfigError(`--config ${path}: a config file is .ts, .mts, .js, .mjs, .yaml or .yml (got "${ext || 'no extension'}").`);
  return withPathsFrom(dirname(path), raw.values);
}

interface RawConfig {
  readonly values: Record<string, unknown>;
}

async function readYaml(path: string): Promise<RawConfig> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`--config ${path} cannot be read: ${err.message}`);
  });
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length) throw new ConfigError(doc.errors.map((e) => `${path}${e.linePos ? `:${e.linePos[0].line}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`).join('\n'));
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data) || data === null) throw new ConfigError(`${path}: a config file is a mapping of run options (agent: ..., model: ...).`);
  // Keys are the options' names; a snake_case spelling of one (max_errors) means the same.
  const values: Record<string, unknown> = {};
  const spelled = new Map<string, string>();
  for (const [key, value] of Object.entries(data)) {
    const name = SNAKE_TO_KEY.get(key) ?? key;
    spelled.set(name, key);
    values[name] = value;
  }
  const locate = (at: readonly PropertyKey[]): number | undefined => {
    const inFile = [spelled.get(String(at[0])) ?? at[0], ...at.slice(1)];
    const node = doc.getIn(inFile, true) as { range?: [number] } | undefined;
    return node?.range ? lines.linePos(node.range[0]).line : undefined;
  };
  const problems: TaskProblem[] = runOptionProblems(values, { file: path, locate, spelled: (key) => spelled.get(key) ?? key });
  for (const key of Object.keys(values)) {
    const rule = RUN_OPTIONS[key as RunOptionKey]?.value;
    if (rule?.type !== 'code') continue;
    const line = locate([key]);
    problems.push({ file: path, field: spelled.get(key) ?? key, ...(line === undefined ? {} : { line }), text: `can be given only in a TS or JS config file (it is ${rule.what})` });
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (problems.length) throw new ConfigError(problems.map(renderProblem).join('\n'));
  return { values };
}

const SNAKE_TO_KEY = new Map(Object.keys(RUN_OPTIONS).map((key) => [snake(key), key]));

async function importConfig(path: string): Promise<RawConfig> {
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(path);
  } catch (cause) {
    throw new ConfigError(`--config ${path} cannot be loaded: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  let config = mod.default ?? mod.config;
  // vitest's convention: the export may be a function of nothing that returns the config.
  if (typeof config === 'function') config = await (config as () => unknown)();
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError(`--config ${path}: its default export must be the config, e.g. export default defineConfig({ agent: 'oracle' }) (found: ${Object.keys(mod).join(', ') || 'no exports'}).`);
  }
  const problems = runOptionProblems(config, { file: path });
  if (problems.length) throw new ConfigError(problems.map(renderProblem).join('\n'));
  return { values: config as Record<string, unknown> };
}

/** Paths in a config file are relative to it. */
function withPathsFrom(dir: string, values: Record<string, unknown>): RunConfigFile {
  const rel = (p: unknown): unknown => (typeof p === 'string' && !isAbsolute(p) ? resolve(dir, p) : p);
  const out: Record<string, unknown> = { ...values };
  for (const [key, def] of Object.entries(RUN_OPTIONS)) {
    if (out[key] === undefined) continue;
    if (def.value.type === 'path') out[key] = rel(out[key]);
    if (def.value.type === 'paths') out[key] = (typeof out[key] === 'string' ? [out[key]] : Array.isArray(out[key]) ? out[key] : [out[key]]).map(rel);
  }
  if (Array.isArray(out.paths)) out.paths = out.paths.map(rel);
  const options = out.agentOptions as Record<string, unknown> | undefined;
  if (options && Array.isArray(options.skills)) out.agentOptions = { ...options, skills: options.skills.map(rel) };
  return out as RunConfigFile;
}

/**
 * The file's settings under the command line's: a flag given wins, and agent options merge
 * key by key (a flag's `--agent-opt debug=true` keeps the file's system_prompt).
 */
export function mergeRunConfig(file: RunConfigFile, flags: Partial<UserConfig>): Partial<UserConfig> {
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as Partial<UserConfig>;
  const agentOptions = file.agentOptions || given.agentOptions ? { ...file.agentOptions, ...given.agentOptions } : undefined;
  return { ...file, ...given, ...(agentOptions ? { agentOptions } : {}) };
}
