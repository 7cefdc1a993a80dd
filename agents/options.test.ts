import { describe, expect, it } from 'vitest';
import { AGENT_NAMES, createAgent } from './index.ts';
import { createClaudeCodeAgent, claudeOptionsSchema } from './claude-code.ts';
import { parseAgentOptions } from './options.ts';

describe('agent options', () => {
  it('are checked when the agent is created, naming the agent and the option', () => {
    expect(() => createAgent('claude_code', { sytem_prompt: 'x' })).toThrow(/Agent claude_code options: sytem_prompt is not a known field \(known fields: system_prompt, /);
    expect(() => createAgent('opencode', { debug: 'yes' })).toThrow(/Agent opencode options: debug must be true or false \(got "yes"\)/);
    expect(() => createAgent('claude_code', { mcp_servers: { docs: { command: '' } } })).toThrow(/mcp_servers\.docs\.command must be a non-empty string/);
    expect(() => createAgent('claude_code', { cwd: 'relative' })).toThrow(/options: cwd must be an absolute sandbox path \(got "relative"\)/);
    expect(() => createAgent('oracle', { debug: true })).toThrow(/oracle takes no options/);
  });

  it('errors are of kind config, so the CLI exits 2 before any sandbox starts', () => {
    try {
      createAgent('claude_code', { retry_uncaught_errors: -1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'CB_AGENT_OPTIONS', kind: 'config' });
    }
  });

  it('take a comma-separated string for a list, make skill dirs absolute, and fill defaults', () => {
    const o = parseAgentOptions('claude_code', claudeOptionsSchema, { disallowed_tools: 'WebFetch, WebSearch', skills: ['skills/review'] }, '/home/me');
    expect(o).toMatchObject({ disallowed_tools: ['WebFetch', 'WebSearch'], skills: ['/home/me/skills/review'], retry_uncaught_errors: 3 });
  });

  it('every agent that needs a model accepts the common options (tool names differ per agent, so not disallowed_tools)', () => {
    const common = { system_prompt: 'Be brief.', mcp_servers: { m: { url: 'http://10.0.0.1:9/mcp' } }, cwd: '/work', env: { A: '1' }, user: 'root', debug: true };
    for (const name of AGENT_NAMES) {
      const agent = createAgent(name, name === 'oracle' || name === 'nop' ? {} : common);
      expect(agent.name).toBe(name);
    }
  });

  it("Claude Code's role models become bridge aliases under names of their own", () => {
    const agent = createClaudeCodeAgent({ haiku_model: 'mock/echo', subagent_model: 'anthropic/claude-haiku-4-5' });
    expect(agent.modelAliases).toEqual({ 'cagebench-haiku': 'mock/echo', 'cagebench-subagent': 'anthropic/claude-haiku-4-5' });
    expect(createClaudeCodeAgent().modelAliases).toBeUndefined();
  });
});

describe('env-like maps', () => {
  it('take numbers and booleans as their text, as a shell would', () => {
    expect(parseAgentOptions('claude_code', claudeOptionsSchema, { env: { N: 1, DEBUG: true, S: 'x' } }).env).toEqual({ N: '1', DEBUG: 'true', S: 'x' });
  });
});
