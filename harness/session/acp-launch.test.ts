// How each agent's headless configuration becomes its ACP launch, without a sandbox: Codex's
// flags written into its config.toml (codex-acp's app server takes no flags); unknown agents refused.
import { describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import { createAgent, type AttemptContext } from '../../agents/index.ts';
import { acpBuilds, acpLaunch, acpMcpServers, withCodexFlags } from './acp-launch.ts';

describe('acp launch', () => {
  it("moves Codex's --disable and -c flags into config.toml, keeping what it holds; the prompt after -- is not a flag", () => {
    const launch = withCodexFlags({
      argv: ['codex', 'exec', '--json', '--disable', 'plugins', '-c', 'analytics.enabled=false', '--disable', 'shell_tool', '-c', 'web_search="disabled"', '-c', 'tools.x=[1, 2]', '-m', 'm', '--', '-c', 'not=flag'],
      env: {},
      files: [{ path: '/h/config.toml', content: 'model = "m"\n[model_providers.cagebench]\nbase_url = "http://b"\n' }, { path: '/h/rules/x.rules', content: 'r' }],
    });
    expect(parse(launch.files![0]!.content)).toEqual({
      model: 'm',
      model_providers: { cagebench: { base_url: 'http://b' } },
      features: { plugins: false, shell_tool: false },
      analytics: { enabled: false },
      web_search: 'disabled',
      tools: { x: [1, 2] },
    });
    expect(launch.files![1]).toEqual({ path: '/h/rules/x.rules', content: 'r' });
  });

  it('names the builds per agent (its own first) and refuses an agent without an ACP adapter', () => {
    expect(acpBuilds('claude_code')).toEqual(['claude_code', 'node', 'claude_agent_acp']);
    expect(acpBuilds('codex_cli')).toEqual(['codex_cli', 'node', 'codex_acp']);
    expect(acpBuilds('gemini_cli')).toEqual(['gemini_cli', 'node']);
    expect(acpBuilds('opencode')).toEqual(['opencode']);
    expect(() => acpBuilds('oracle')).toThrow(/no ACP adapter.*headless/);
  });

  it('gives MCP servers in ACP shape', () => {
    expect(acpMcpServers({ a: { command: '/bin/s', args: ['-x'], env: { K: 'v' } }, b: { url: 'http://h/mcp', headers: { H: '1' } } })).toEqual([
      { name: 'a', command: '/bin/s', args: ['-x'], env: [{ name: 'K', value: 'v' }] },
      { type: 'http', name: 'b', url: 'http://h/mcp', headers: [{ name: 'H', value: '1' }] },
    ]);
  });

  it("gives Claude's ACP session the sample's host tools as the MCP server cagebench", async () => {
    const hostTools = { url: 'http://172.30.0.2:4000/mcp', headers: { Authorization: 'Bearer cb-x' } };
    const ctx = {
      task: { instruction: 'x', environment: { workdir: '/w' } },
      attempt: 1,
      timeoutMs: 1000,
      installed: { claude_code: { binary: '/c/claude', path: ['/c'] }, node: { binary: '/n/node', path: ['/n'] }, claude_agent_acp: { binary: '/a/acp.js', path: ['/a'] } },
      model: { model: 'mock/echo', token: 'cb-x', baseUrls: { anthropic: 'http://b', openai: 'http://b/v1', gemini: 'http://b' }, hostTools },
      identity: { user: undefined, uid: 0, gid: 0, owner: '0:0', home: '/root', path: '/usr/bin:/bin' },
    } as unknown as AttemptContext;
    const launch = await acpLaunch(createAgent('claude_code', {}), ctx);
    expect(launch.mcpServers).toEqual([{ type: 'http', name: 'cagebench', url: hostTools.url, headers: [{ name: 'Authorization', value: 'Bearer cb-x' }] }]);
  });
});
