import { describe, expect, it } from 'vitest';
import { agentOption } from './commands/shared.ts';

const parse = (...flags: string[]) => flags.reduce<Record<string, unknown>>((acc, f) => agentOption(f, acc), {});

describe('--agent-opt key=value', () => {
  it('parses YAML-looking values and keeps prose as text', () => {
    expect(parse('disallowed_tools=[WebFetch, WebSearch]', 'debug=true', 'retry_uncaught_errors=0', 'system_prompt=Note: be brief, {really}')).toEqual({
      disallowed_tools: ['WebFetch', 'WebSearch'],
      debug: true,
      retry_uncaught_errors: 0,
      system_prompt: 'Note: be brief, {really}',
    });
  });

  it('reaches into maps with dotted keys and lets a later flag win', () => {
    expect(parse('env.A=1', 'env.B=two', 'mcp_servers.docs.command=/opt/docs', 'mcp_servers.docs.args=[--stdio]', 'env.A=3')).toEqual({
      env: { A: 3, B: 'two' },
      mcp_servers: { docs: { command: '/opt/docs', args: ['--stdio'] } },
    });
  });

  it('says what is wrong with a bad flag', () => {
    expect(() => parse('debug')).toThrow(/must be KEY=VALUE/);
    expect(() => parse('skills=[a, b')).toThrow(/skills: the value "\[a, b" is not valid YAML/);
  });
});
