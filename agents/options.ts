// Agent options: the ones every model agent takes (what inspect_swe users expect) and each
// adapter's own, validated once when the agent is created so a typo fails the run before any
// sandbox starts, with the option's name in the message.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { renderProblem } from '../tasks/errors.ts';
import { validate } from '../tasks/issues.ts';
import { AgentError } from './agent.ts';

/** Env-like maps: `--agent-opt env.N=1` arrives as a number and means the text "1". */
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
/** A list, or one comma-separated string (`--agent-opt disallowed_tools=WebFetch,WebSearch`). */
const names = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)));

/** An MCP server in one shape; each adapter writes it in its agent's own config format. */
export const mcpServerSchema = z.union([
  z.strictObject({
    command: z.string().min(1),
    args: z.array(z.string()).optional(),
    env: stringMap.optional(),
    cwd: z.string().optional(),
  }),
  z.strictObject({
    url: z.string().url(),
    headers: stringMap.optional(),
    /** `http` (streamable HTTP, the default) or `sse` (the older server-sent events transport). */
    transport: z.enum(['http', 'sse']).optional(),
  }),
]);
export type McpServer = z.infer<typeof mcpServerSchema>;

export const commonOptionsShape = {
  /** Appended to the agent's own system prompt. */
  system_prompt: z.string().optional(),
  /** Tool names the agent must not use (the agent's own names: `WebFetch`, `web_fetch`, ...). */
  disallowed_tools: names.optional(),
  /** Host directories, each a skill (a SKILL.md inside), installed where the agent looks. */
  skills: z.array(z.string().min(1)).optional(),
  /** MCP servers by name, written in the agent's own config format. */
  mcp_servers: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'), mcpServerSchema).optional(),
  /** Directory the agent starts in (default: the task's working directory). */
  cwd: z.string().startsWith('/', 'must be an absolute sandbox path').optional(),
  /** Extra environment for the agent's process; wins over the adapter's. */
  env: stringMap.optional(),
  /** Run the agent as this sandbox user (default root). */
  user: z.string().min(1).optional(),
  /** The agent's own debug output, kept in its transcript. */
  debug: z.boolean().optional(),
};

export const commonOptionsSchema = z.strictObject(commonOptionsShape);
export type CommonAgentOptions = z.infer<typeof commonOptionsSchema>;

/**
 * Validate `raw` (from --agent-opt flags or a config file) with an adapter's schema. Skill
 * directories are made absolute against `baseDir` so a later resume finds them.
 */
export function parseAgentOptions<S extends z.ZodType>(agent: string, schema: S, raw: unknown, baseDir = process.cwd()): z.infer<S> {
  const keys = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  if (keys.length === 0 && raw && typeof raw === 'object' && Object.keys(raw).length) {
    throw new AgentError('CB_AGENT_OPTIONS', `Agent ${agent} takes no options (got ${Object.keys(raw).join(', ')}).`, { kind: 'config' });
  }
  const parsed = validate(schema, raw ?? {}, { file: `Agent ${agent} options`, notation: 'yaml' });
  if (!parsed.ok) throw new AgentError('CB_AGENT_OPTIONS', parsed.problems.map(renderProblem).join('\n'), { kind: 'config' });
  const options = parsed.data as { skills?: string[] };
  if (options.skills) options.skills = options.skills.map((dir) => (isAbsolute(dir) ? dir : resolve(baseDir, dir)));
  return parsed.data;
}
