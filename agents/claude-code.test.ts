import { describe, expect, it } from 'vitest';
import type { AttemptContext } from './agent.ts';
import { ClaudeReader, claudeInteractive, claudeLaunch, claudeOptionsSchema } from './claude-code.ts';
import { parseAgentOptions } from './options.ts';

const ctx = {
  task: { instruction: 'do it', environment: { workdir: '/app' } },
  identity: { user: undefined, uid: 0, gid: 0, owner: '0:0', home: '/root', path: '/usr/local/bin:/usr/bin:/bin', root: true, homeWritable: true },
  installed: { claude_code: { binary: '/opt/cagebench/agents/claude_code/claude', path: ['/opt/cagebench/agents/claude_code'] } },
  model: { model: 'mock/solve', token: 'tok', baseUrls: { anthropic: 'http://10.213.0.2:9000', openai: 'http://10.213.0.2:9000/v1', gemini: 'http://10.213.0.2:9000' } },
} as unknown as AttemptContext;
const options = (raw: unknown) => parseAgentOptions('claude_code', claudeOptionsSchema, raw);

describe('claude_code launch', () => {
  it('a first attempt: headless stream-json, permissions bypassed, bridge URL and token, prompt on stdin', () => {
    const launch = claudeLaunch(ctx, { prompt: 'do it' }, options({}));
    expect(launch.argv).toEqual(['/opt/cagebench/agents/claude_code/claude', '-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--strict-mcp-config']);
    expect(launch.stdin).toBe('do it');
    expect(launch.env).toMatchObject({ ANTHROPIC_BASE_URL: 'http://10.213.0.2:9000', ANTHROPIC_API_KEY: 'tok', IS_SANDBOX: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
    // The image's PATH as it is, the agent's directory after it; HOME untouched, state in CLAUDE_CONFIG_DIR.
    expect(launch.env.PATH).toBe('/usr/local/bin:/usr/bin:/bin:/opt/cagebench/agents/claude_code');
    expect(launch.env.HOME).toBeUndefined();
    expect(launch.env.CLAUDE_CONFIG_DIR).toBe('/var/tmp/cagebench/claude_code/config');
    // Its Bash tool's 10-minute cap is raised to the agent's time when that is longer.
    expect(launch.env.BASH_MAX_TIMEOUT_MS).toBeUndefined();
    expect(claudeLaunch({ ...ctx, timeoutMs: 1_800_000 } as AttemptContext, { prompt: 'do it' }, options({})).env.BASH_MAX_TIMEOUT_MS).toBe('1800000');
  });

  it('options become flags, env and files; a later attempt resumes the session', () => {
    const launch = claudeLaunch(ctx, { prompt: 'again', resume: 'sess-1' }, options({
      system_prompt: 'Prefer small patches.',
      disallowed_tools: ['WebFetch', 'WebSearch'],
      mcp_servers: { docs: { command: '/opt/docs', args: ['--stdio'] }, web: { url: 'http://10.0.0.5:8/mcp' }, events: { url: 'http://10.0.0.5:8/sse', transport: 'sse' } },
      skills: ['/host/skills/review'],
      haiku_model: 'mock/echo',
      debug: true,
    }));
    const argv = launch.argv;
    expect(argv.slice(argv.indexOf('--append-system-prompt'), argv.indexOf('--append-system-prompt') + 2)).toEqual(['--append-system-prompt', 'Prefer small patches.']);
    expect(argv[argv.indexOf('--disallowedTools') + 1]).toBe('WebFetch,WebSearch');
    expect(JSON.parse(argv[argv.indexOf('--mcp-config') + 1]!)).toEqual({
      mcpServers: { docs: { type: 'stdio', command: '/opt/docs', args: ['--stdio'] }, web: { type: 'http', url: 'http://10.0.0.5:8/mcp' }, events: { type: 'sse', url: 'http://10.0.0.5:8/sse' } },
    });
    expect(argv.slice(-3)).toEqual(['--debug', '--resume', 'sess-1']);
    expect(launch.env).toMatchObject({ ANTHROPIC_DEFAULT_HAIKU_MODEL: 'cagebench-haiku', MCP_CONNECTION_NONBLOCKING: 'false' });
    expect(launch.skills).toBe('/var/tmp/cagebench/claude_code/config/skills');
  });
});

describe('claude_code host tools', () => {
  it('the host tools\' server is loaded up front (never deferred behind ToolSearch) and waited for; other servers keep the defaults', () => {
    const launch = claudeLaunch(ctx, { prompt: 'do it' }, options({ mcp_servers: { cagebench: { url: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' } }, web: { url: 'http://10.0.0.5:8/mcp' } } }));
    expect(JSON.parse(launch.argv[launch.argv.indexOf('--mcp-config') + 1]!)).toEqual({
      mcpServers: {
        cagebench: { type: 'http', url: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' }, alwaysLoad: true },
        web: { type: 'http', url: 'http://10.0.0.5:8/mcp' },
      },
    });
    expect(launch.env).toMatchObject({ MCP_CONNECTION_NONBLOCKING: 'false' });
  });
});

describe('claude_code interactive (centaur)', () => {
  it('the same binary, permission and config flags without -p/stream-json; its first-run screens answered in .claude.json', () => {
    const launch = claudeInteractive({ ...ctx, model: { ...ctx.model!, token: 'cagebench-token-0123456789abcdefghij' } } as AttemptContext, options({ system_prompt: 'Be brief.' }));
    expect(launch.alias).toBe('claude');
    expect(launch.argv).toEqual(['/opt/cagebench/agents/claude_code/claude', '--dangerously-skip-permissions', '--strict-mcp-config', '--append-system-prompt', 'Be brief.']);
    expect(launch.env).toMatchObject({ ANTHROPIC_BASE_URL: 'http://10.213.0.2:9000', ANTHROPIC_API_KEY: 'cagebench-token-0123456789abcdefghij', IS_SANDBOX: '1', CLAUDE_CONFIG_DIR: '/var/tmp/cagebench/claude_code/config' });
    expect(launch.files?.map((f) => f.path)).toEqual(['/var/tmp/cagebench/claude_code/config/.claude.json']);
    // Claude Code remembers an approved key by its last 20 characters.
    expect(JSON.parse(launch.files![0]!.content)).toEqual({
      hasCompletedOnboarding: true,
      bypassPermissionsModeAccepted: true,
      customApiKeyResponses: { approved: ['0123456789abcdefghij'], rejected: [] },
      projects: { '/app': { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
    });
  });
});

describe('ClaudeReader', () => {
  const lines = [
    { type: 'system', subtype: 'init', session_id: 's1', model: 'claude-x', cwd: '/app', claude_code_version: '2.1.330', tools: ['Bash'] },
    { type: 'assistant', session_id: 's1', message: { stop_reason: 'tool_use', content: [{ type: 'text', text: 'Running it.' }, { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] } },
    { type: 'user', session_id: 's1', message: { content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'a b' }] }] } },
    { type: 'result', subtype: 'success', is_error: false, session_id: 's1', result: 'Done.', stop_reason: 'end_turn', usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 7 } },
  ];

  it('turns stream-json into events and the attempt state', () => {
    const reader = new ClaudeReader();
    const events = lines.flatMap((l) => reader.line(l));
    expect(events.map((e) => e.type)).toEqual(['agent.init', 'agent.message', 'agent.tool_call', 'agent.tool_result', 'agent.result']);
    expect(events[3]).toMatchObject({ id: 't1', output: 'a b', isError: false });
    expect(reader.state).toEqual({ sessionId: 's1', finalMessage: 'Done.', stopReason: 'end_turn', refused: false, usage: { inputTokens: 15, outputTokens: 7, cachedInputTokens: 5 } });
  });

  it('an error result is an agent failure with the API status; a refusal is not', () => {
    const failed = new ClaudeReader();
    failed.line({ type: 'result', subtype: 'success', is_error: true, api_error_status: 400, result: 'bad request', session_id: 's' });
    expect(failed.state.error).toBe('API status 400: bad request');
    const refused = new ClaudeReader();
    refused.line({ type: 'assistant', message: { stop_reason: 'refusal', content: [{ type: 'text', text: 'No.' }] } });
    refused.line({ type: 'result', is_error: true, result: 'No.', session_id: 's' });
    expect(refused.state).toMatchObject({ refused: true, finalMessage: 'No.' });
    expect(refused.state.error).toBeUndefined();
  });
});
