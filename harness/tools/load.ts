// Loading host tools from files (`--tools FILE`, `tools:` in a config or a suite): the file's
// default export (a tool or a list of tools) and its named exports that are tools. Every
// problem is a ConfigError naming the file, raised before any sandbox starts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { importUserModule } from '../../scorers/index.ts';
import type { Task } from '../../tasks/index.ts';
import { ConfigError } from '../errors.ts';
import { isHostTool, type HostTool } from './define.ts';

/** A tool or a tools file, as run options give them. */
export type ToolSource = string | HostTool;

const HOW = 'export tools made with defineTool() from cagebench: `export default [a, b]` or `export const a = defineTool({...})`';

/** The tools one file exports, in export order, each once. */
export async function loadToolsFile(file: string): Promise<HostTool[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`Tools file ${path} does not exist: give the path of a .ts or .js file that ${HOW.replace(/^export/, 'exports')}.`);
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(path);
  } catch (cause) {
    throw new ConfigError(`Tools file ${path} cannot be loaded: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  const found: HostTool[] = [];
  if (mod.default !== undefined) {
    const list = Array.isArray(mod.default) ? mod.default : [mod.default];
    list.forEach((item: unknown, i) => {
      if (!isHostTool(item)) {
        const what = Array.isArray(mod.default) ? `its default export's item ${i}` : 'its default export';
        throw new ConfigError(`Tools file ${path}: ${what} is not a tool (${describe(item)}); ${HOW}.`);
      }
      found.push(item);
    });
  }
  for (const [key, value] of Object.entries(mod)) if (key !== 'default' && isHostTool(value)) found.push(value);
  if (!found.length) throw new ConfigError(`Tools file ${path} exports no tools (exports: ${Object.keys(mod).join(', ') || 'none'}); ${HOW}.`);
  return uniqueTools([...new Set(found)], path);
}

/** Tools from files and tool objects, in order; two tools with one name are an error. */
export async function loadTools(sources: readonly ToolSource[], where = 'the run options', load: (file: string) => Promise<readonly HostTool[]> = loadToolsFile): Promise<HostTool[]> {
  const all: { tool: HostTool; from: string }[] = [];
  for (const source of sources) {
    if (typeof source === 'string') for (const tool of await load(source)) all.push({ tool, from: resolve(source) });
    else if (isHostTool(source)) all.push({ tool: source, from: where });
    else throw new ConfigError(`${where}: tools must be file paths or tools made with defineTool() (got ${describe(source)}).`);
  }
  const seen = new Map<string, { tool: HostTool; from: string }>();
  for (const entry of all) {
    const before = seen.get(entry.tool.name);
    if (before && before.tool !== entry.tool) throw duplicate(entry.tool.name, before.from, entry.from);
    seen.set(entry.tool.name, entry);
  }
  return [...seen.values()].map((e) => e.tool);
}

/**
 * A sample's tools: the run's, with the task's added. A task's tool named like one of the
 * run's replaces it for that task's samples (the task knows its own needs best).
 */
export function mergeTools(run: readonly HostTool[], task: readonly HostTool[]): HostTool[] {
  const names = new Set(task.map((t) => t.name));
  return [...run.filter((t) => !names.has(t.name)), ...task];
}

/** A run's host tools: its own, and each task's (suite `tools:`) on top. */
export interface RunTools {
  /** The run's own tools (`tools` in the run options). */
  readonly run: readonly HostTool[];
  /** What a sample of `task` is served. */
  forTask(task: Pick<Task, 'id' | 'tools'>): readonly HostTool[];
}

/** Load the run's tools and every task's, each file once: every problem before any sandbox starts. */
export async function loadRunTools(sources: readonly ToolSource[], tasks: readonly Pick<Task, 'id' | 'tools'>[]): Promise<RunTools> {
  const files = new Map<string, Promise<HostTool[]>>();
  const load = (file: string): Promise<HostTool[]> => {
    const path = resolve(file);
    let found = files.get(path);
    if (!found) files.set(path, (found = loadToolsFile(path)));
    return found;
  };
  const run = await loadTools(sources, 'the run options', load);
  const byTask = new Map<string, HostTool[]>();
  for (const task of tasks) {
    if (task.tools?.length) byTask.set(task.id, mergeTools(run, await loadTools(task.tools, `task ${task.id}`, load)));
  }
  return { run, forTask: (task) => byTask.get(task.id) ?? run };
}

function uniqueTools(tools: readonly HostTool[], path: string): HostTool[] {
  const names = new Set<string>();
  for (const tool of tools) {
    if (names.has(tool.name)) throw duplicate(tool.name, path, path);
    names.add(tool.name);
  }
  return [...tools];
}

function duplicate(name: string, a: string, b: string): ConfigError {
  const where = a === b ? `Tools file ${a} exports two tools` : `Two tools (from ${a} and ${b}) are`;
  return new ConfigError(`${where} named "${name}": tool names must be unique; rename one.`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function; wrap it in defineTool({ name, description, parameters, run })';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : `an object with keys ${Object.keys(value).slice(0, 5).join(', ') || 'none'}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
