// Public surface of agents/: the contract and the name -> factory map.
import { AgentError, type AgentAdapter } from './agent.ts';
import { createClaudeCodeAgent } from './claude-code.ts';
import { createCodexAgent } from './codex-cli.ts';
import { createGeminiAgent } from './gemini-cli.ts';
import { createNopAgent } from './nop.ts';
import { createOpenCodeAgent } from './opencode.ts';
import { parseAgentOptions } from './options.ts';
import { createOracleAgent } from './oracle.ts';
import { z } from 'zod';

export type { AgentAdapter, AgentEvent, AgentUsage, AttemptContext, AttemptResult, ContinueContext, ModelAccess } from './agent.ts';
export { AgentError, HOST_TOOLS_SERVER } from './agent.ts';
export { placeSolution, solutionEnv, SOLUTION_DIR, SOLVE_COMMAND } from './oracle.ts';
export type { CommonAgentOptions, McpServer } from './options.ts';
export { AGENTS_ROOT, agentMount, agentPaths, copyAgent, pathWith, type AgentInSandbox } from './install.ts';
export { agentCwd, isHeadlessAgent, modelId, placeLaunch, withTaskOptions, type HeadlessAgent, type InteractiveLaunch, type Launch, type Turn } from './headless.ts';

/** Model-free agents take no options; a typo in one still gets a clear error. */
const noOptions = (name: string, create: () => AgentAdapter) => (raw?: unknown): AgentAdapter => {
  parseAgentOptions(name, z.strictObject({}), raw);
  return create();
};

/** Each factory validates its options (from --agent-opt or a config file) before anything starts. */
const FACTORIES: Readonly<Record<string, (options?: unknown) => AgentAdapter>> = {
  oracle: noOptions('oracle', createOracleAgent),
  nop: noOptions('nop', createNopAgent),
  opencode: createOpenCodeAgent,
  claude_code: createClaudeCodeAgent,
  codex_cli: createCodexAgent,
  gemini_cli: createGeminiAgent,
};

export const AGENT_NAMES = Object.keys(FACTORIES);

export function createAgent(name: string, options?: Readonly<Record<string, unknown>>): AgentAdapter {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new AgentError('CB_AGENT_UNKNOWN', `Unknown agent "${name}". Known agents: ${AGENT_NAMES.join(', ')}.`, { kind: 'config' });
  }
  return factory(options);
}
