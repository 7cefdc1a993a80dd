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
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { UserConfig } from './config.ts';
import { ConfigError } from './errors.ts';

const count = z.number().int().min(1);
const FileSchema = z.strictObject({
  paths: z.array(z.string().min(1)).min(1).optional(),
  agent: z.string().min(1).optional(),
  agent_version: z.string().min(1).optional(),
  agent_options: z.record(z.string(), z.unknown()).optional(),
  model: z.string().optional(),
  model_aliases: z.record(z.string(), z.string()).optional(),
  epochs: count.optional(),
  attempts: count.optional(),
  incorrect_message: z.string().min(1).optional(),
  concurrency: count.optional(),
  limit: count.optional(),
  task: z.string().optional(),
  out: z.string().optional(),
  timeout_multiplier: z.number().positive().optional(),
  retries: z.number().int().min(0).optional(),
  max_errors: z.number().int().min(0).optional(),
  engine_grace: z.number().int().min(0).optional(),
  pass_env: z.array(z.string().min(1)).optional(),
  fail_under: z.number().min(0).max(1).optional(),
  token_limit: count.optional(),
  cost_limit: z.number().positive().optional(),
  request_limit: count.optional(),
  retry_refusals: z.number().int().min(0).optional(),
  log_model_bodies: z.boolean().optional(),
  filter: z.string().optional(),
  prices: z.string().optional(),
  openai_base_url: z.string().optional(),
  openai_api: z.enum(['chat', 'responses']).optional(),
  offline: z.boolean().optional(),
});

export type RunConfigFile = Partial<Omit<UserConfig, 'agent'>> & { readonly agent?: string };

export async function loadRunConfigFile(file: string): Promise<RunConfigFile> {
  const path = resolve(file);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`--config ${path} ${err.code === 'ENOENT' ? 'does not exist' : `cannot be read: ${err.message}`}.`);
  });
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length) throw new ConfigError(`${path}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const parsed = FileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const node = doc.getIn(at as unknown[], true) as { range?: [number] } | undefined;
    const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : '';
    const field = at.join('.') || '(top level)';
    const why = issue.code === 'unrecognized_keys' ? `is not a known key (known: ${Object.keys(FileSchema.shape).join(', ')})` : issue.message;
    throw new ConfigError(`${path}${line}: ${field}: ${why}`);
  }
  const f = parsed.data;
  const dir = dirname(path);
  const rel = (p: string | undefined): string | undefined => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(dir, p));
  const options = f.agent_options && Array.isArray(f.agent_options.skills)
    ? { ...f.agent_options, skills: f.agent_options.skills.map((s: unknown) => (typeof s === 'string' ? rel(s) : s)) }
    : f.agent_options;
  const config: Record<string, unknown> = {
    paths: f.paths?.map((p) => rel(p)!),
    agent: f.agent,
    agentVersion: f.agent_version,
    agentOptions: options,
    model: f.model,
    modelAliases: f.model_aliases,
    epochs: f.epochs,
    attempts: f.attempts,
    continueMessage: f.incorrect_message,
    concurrency: f.concurrency,
    limit: f.limit,
    task: f.task,
    out: rel(f.out),
    timeoutMultiplier: f.timeout_multiplier,
    retries: f.retries,
    maxErrors: f.max_errors,
    engineGraceSec: f.engine_grace,
    passEnv: f.pass_env,
    failUnder: f.fail_under,
    tokenLimit: f.token_limit,
    costLimit: f.cost_limit,
    requestLimit: f.request_limit,
    retryRefusals: f.retry_refusals,
    logModelBodies: f.log_model_bodies,
    filter: rel(f.filter),
    prices: rel(f.prices),
    openaiBaseUrl: f.openai_base_url,
    openaiApi: f.openai_api,
    offline: f.offline,
  };
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as RunConfigFile;
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
