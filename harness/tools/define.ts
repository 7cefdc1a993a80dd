// Host tools: functions that run on the host, in the harness's process, and that any agent
// in a sandbox calls over MCP through the bridge (harness/bridge/mcp.ts). A tool is data plus
// one function; defineTool checks the shape once, so a bad tool fails before any sandbox starts.
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** What a tool's `run` knows about the call. */
export interface ToolContext {
  /** The sample calling, e.g. `hello__1`. */
  readonly sampleId: string;
  readonly taskId: string;
  /** Aborted when the agent cancels the call or goes away. */
  readonly signal: AbortSignal;
}

/** A JSON-able value; an object or array is sent to the agent as JSON text. */
export type ToolResult = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown };

export interface ToolDefinition<S extends z.ZodObject = z.ZodObject> {
  /** What the agent calls it: letters, digits, _ and - (agents show it as e.g. `mcp__cagebench__<name>`). */
  readonly name: string;
  /** What the model reads to decide when to call it. */
  readonly description: string;
  /** The arguments, as a zod object schema: agents get it as JSON Schema, calls are checked against it. */
  readonly parameters: S;
  run(args: z.infer<S>, ctx: ToolContext): ToolResult | Promise<ToolResult>;
}

/** A tool as the harness holds it. */
export interface HostTool extends ToolDefinition {
  readonly [HOST_TOOL]: true;
}

const HOST_TOOL = Symbol.for('cagebench.hostTool');

export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A host tool: `defineTool({ name, description, parameters: z.object({...}), run(args, ctx) })`.
 * What `run` returns goes back to the agent (an object as JSON); what it throws goes back as a
 * tool error, and the agent carries on.
 */
export function defineTool<S extends z.ZodObject>(definition: ToolDefinition<S>): HostTool {
  const where = `defineTool(${JSON.stringify(definition?.name ?? '')})`;
  if (!definition || typeof definition !== 'object') throw new ConfigError('defineTool takes { name, description, parameters, run }.');
  if (typeof definition.name !== 'string' || !TOOL_NAME.test(definition.name)) {
    throw new ConfigError(`${where}: name must be 1-64 letters, digits, _ or - (got ${JSON.stringify(definition.name)}).`);
  }
  if (typeof definition.description !== 'string' || !definition.description.trim()) throw new ConfigError(`${where}: give a description; the model reads it to decide when to call the tool.`);
  if (!isZodObject(definition.parameters)) throw new ConfigError(`${where}: parameters must be a zod object schema, e.g. z.object({ path: z.string() }).`);
  if (typeof definition.run !== 'function') throw new ConfigError(`${where}: run must be a function (args, ctx) => result.`);
  return Object.freeze({ ...(definition as unknown as ToolDefinition), [HOST_TOOL]: true as const });
}

export function isHostTool(value: unknown): value is HostTool {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[HOST_TOOL] === true;
}

/**
 * A zod object schema, by shape rather than `instanceof`: a tools file loaded through tsx may
 * get its own copy of zod.
 */
function isZodObject(value: unknown): value is z.ZodObject {
  const schema = value as { safeParse?: unknown; _zod?: { def?: { type?: string } }; _def?: { typeName?: string } } | null;
  if (!schema || typeof schema.safeParse !== 'function') return false;
  return schema._zod?.def?.type === 'object' || schema._def?.typeName === 'ZodObject';
}
