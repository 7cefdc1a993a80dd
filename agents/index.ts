// Public surface of agents/: the contract and the name -> factory map.
import { AgentError, type AgentAdapter } from './agent.ts';
import { createClaudeCodeAgent } from './claude-code.ts';
import { createNopAgent } from './nop.ts';
import { createOpenCodeAgent } from './opencode.ts';
import { createOracleAgent } from './oracle.ts';

export type { AgentAdapter, AgentEvent, AgentUsage, AttemptContext, AttemptResult, ContinueContext, ModelAccess } from './agent.ts';
export { AgentError } from './agent.ts';
export { AGENTS_ROOT, agentMount, agentPaths, copyAgent, pathWith, type AgentInSandbox } from './install.ts';

const FACTORIES: Readonly<Record<string, () => AgentAdapter>> = {
  oracle: createOracleAgent,
  nop: createNopAgent,
  opencode: createOpenCodeAgent,
  claude_code: createClaudeCodeAgent,
};

export const AGENT_NAMES = Object.keys(FACTORIES);

export function createAgent(name: string): AgentAdapter {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new AgentError('CB_AGENT_UNKNOWN', `Unknown agent "${name}". Known agents: ${AGENT_NAMES.join(', ')}.`, { kind: 'config' });
  }
  return factory();
}
