import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import type { AttemptContext } from './agent.ts';
import { CodexReader, codexInteractive, codexLaunch, codexOptionsSchema, createCodexAgent, tomlInline } from './codex-cli.ts';
import { parseAgentOptions } from './options.ts';

const BIN = '/opt/cagebench/agents/codex_cli/bin/codex';
const HOME = '/var/tmp/cagebench/codex_cli/home';
const ctx = {
  task: { instruction: 'do it', environment: { workdir: '/app' } },
  identity: { user: undefined, uid: 0, gid: 0, owner: '0:0', home: '/root', path: '/usr/local/bin:/usr/bin:/bin', root: true, homeWritable: true },
  installed: { codex_cli: { binary: BIN, path: ['/opt/cagebench/agents/codex_cli/bin', '/opt/cagebench/agents/codex_cli/codex-path'] } },
  model: { model: 'mock/solve', token: 'tok', baseUrls: { anthropic: 'http://10.213.0.2:9000', openai: 'http://10.213.0.2:9000/v1', gemini: 'http://10.213.0.2:9000' } },
} as unknown as AttemptContext;
const options = (raw: unknown) => parseAgentOptions('codex_cli', codexOptionsSchema, raw);
const FLAGS = ['--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--disable', 'plugins', '-c', 'analytics.enabled=false', '--disable', 'unbounded_connection_retries'];

/** A recorded `codex exec --json` transcript (agents/fixtures/), one object per line. */
function transcript(name: string): Record<string, unknown>[] {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('codex_cli interactive (centaur)', () => {
  it('codex with the same flags and config as exec, without --json, --skip-git-repo-check or a prompt', () => {
    const launch = codexInteractive(ctx, options({ disallowed_tools: ['web_search'] }));
    const headless = codexLaunch(ctx, { prompt: 'do it' }, options({ disallowed_tools: ['web_search'] }));
    expect(launch.alias).toBe('codex');
    expect(launch.argv).toEqual([BIN, ...headless.argv.slice(2, -2).filter((a) => a !== '--json' && a !== '--skip-git-repo-check')]);
    expect(launch.argv).toContain('--dangerously-bypass-approvals-and-sandbox');
    expect(launch.argv.slice(-2)).toEqual(['-m', 'solve']);
    expect(launch.argv).not.toContain('exec');
    expect(launch.env).toEqual(headless.env);
    expect(launch.files).toEqual(headless.files);
  });
});

describe('codex_cli launch', () => {
  it('a first attempt: exec --json, no approvals, no side traffic, the model id, the prompt last; config.toml points at the bridge', () => {
    const launch = codexLaunch(ctx, { prompt: 'do it' }, options({}));
    expect(launch.argv).toEqual([BIN, 'exec', ...FLAGS, '-m', 'solve', '--', 'do it']);
    expect(launch.stdin).toBeUndefined();
    expect(launch.env).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin:/opt/cagebench/agents/codex_cli/bin:/opt/cagebench/agents/codex_cli/codex-path', CODEX_HOME: HOME, CAGEBENCH_BRIDGE_TOKEN: 'tok' });
    expect(launch.dirs).toEqual([HOME]);
    // The allow rules that let `rm -f` and friends run (Codex's built-in check refuses them otherwise).
    expect(launch.files!.map((f) => f.path)).toEqual([`${HOME}/config.toml`, `${HOME}/rules/cagebench.rules`]);
    expect(launch.files![1]!.content).toContain('prefix_rule(pattern=["rm"], decision="allow")');
    expect(codexLaunch(ctx, { prompt: 'do it' }, options({ allow_all_commands: false })).files!.map((f) => f.path)).toEqual([`${HOME}/config.toml`]);
    expect(parseToml(launch.files![0]!.content)).toEqual({
      model: 'solve',
      model_provider: 'cagebench',
      web_search: 'disabled',
      allow_login_shell: false,
      model_providers: {
        cagebench: { name: 'cagebench bridge', base_url: 'http://10.213.0.2:9000/v1', env_key: 'CAGEBENCH_BRIDGE_TOKEN', wire_api: 'responses', stream_idle_timeout_ms: 3_600_000 },
      },
    });
  });

  it('a later attempt resumes the thread with the same flags; options become flags, config and uploads', () => {
    const launch = codexLaunch(ctx, { prompt: '-not a flag', resume: 'thread-1' }, options({
      system_prompt: 'Prefer "small" patches.\nAlways.',
      web_search: 'live',
      disallowed_tools: ['view_image', 'get_goal', 'create_goal', 'multi_agent_v1'],
      config_overrides: { model_reasoning_effort: 'low', 'features.memories': false, shell_environment_policy: { inherit: 'all', set: { A: 'x y' } }, 'tools.list': [1, 'two'] },
      mcp_servers: { docs: { command: '/opt/docs', args: ['--stdio'], env: { K: 'v' } }, web: { url: 'http://10.0.0.5:8/mcp', headers: { 'X-Key': 'k' } } },
      skills: ['/host/skills/review'],
      debug: true,
    }));
    expect(launch.argv).toEqual([
      BIN, 'exec', 'resume', ...FLAGS,
      '--disable', 'view_image', '--disable', 'goals', '--disable', 'multi_agent',
      '-c', 'model_reasoning_effort="low"', '-c', 'features.memories=false', '-c', 'shell_environment_policy={ inherit = "all", set = { A = "x y" } }', '-c', 'tools.list=[1, "two"]',
      '-m', 'solve', '--', 'thread-1', '-not a flag',
    ]);
    expect(launch.env.RUST_LOG).toBe('debug');
    expect(parseToml(launch.files![0]!.content)).toMatchObject({
      web_search: 'live',
      developer_instructions: 'Prefer "small" patches.\nAlways.',
      mcp_servers: { docs: { command: '/opt/docs', args: ['--stdio'], env: { K: 'v' } }, web: { url: 'http://10.0.0.5:8/mcp', http_headers: { 'X-Key': 'k' } } },
    });
    expect(launch.skills).toBe(`${HOME}/skills`);
  });

  it('-c values are TOML on one line, escaped by the TOML library', () => {
    expect(tomlInline('a "b"\n')).toBe('"a \\"b\\"\\n"');
    expect(tomlInline(3)).toBe('3');
    expect(tomlInline(true)).toBe('true');
    expect(tomlInline({ 'a.b': [{ c: 1 }] })).toBe('{ "a.b" = [{ c = 1 }] }');
    expect(parseToml(`v = ${tomlInline({ s: 'x=y', n: [1.5, 'q'] })}`)).toEqual({ v: { s: 'x=y', n: [1.5, 'q'] } });
  });
});

describe('codex_cli host tools', () => {
  it('the host tools\' server is required (waited for before the first model call), with its tools approved; other servers keep the defaults', () => {
    const launch = codexLaunch(ctx, { prompt: 'do it' }, options({ mcp_servers: { cagebench: { url: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' } }, web: { url: 'http://10.0.0.5:8/mcp' } } }));
    expect(parseToml(launch.files![0]!.content).mcp_servers).toEqual({
      cagebench: { url: 'http://10.213.0.2:9000/mcp', http_headers: { Authorization: 'Bearer tok' }, required: true, startup_timeout_sec: 120, default_tools_approval_mode: 'approve' },
      web: { url: 'http://10.0.0.5:8/mcp' },
    });
  });
});

describe('codex_cli options', () => {
  it('an unknown option, a bad web_search or a bad config key is a config error naming it', () => {
    expect(() => createCodexAgent({ sandbox: 'none' })).toThrow(/Agent codex_cli options: sandbox is not a known field \(known fields: .*web_search, config_overrides/);
    expect(() => createCodexAgent({ web_search: 'on' })).toThrow(/web_search must be one of "disabled", "cached", "live" \(got "on"\)/);
    expect(() => createCodexAgent({ config_overrides: { 'bad key': 1 } })).toThrow(/config_overrides\["bad key"\] the key must be a dotted config path/);
    expect(() => createCodexAgent({ config_overrides: { x: null } })).toThrow(/config_overrides\.x is not valid \(got null\)/);
  });

  it('a tool Codex cannot turn off is refused before anything runs; a feature name is taken as is', () => {
    expect(() => createCodexAgent({ disallowed_tools: ['WebFetch'] })).toThrow(/option "disallowed_tools": Codex cannot turn off "WebFetch".*Known: exec_command, /);
    expect(() => createCodexAgent({ disallowed_tools: ['shell_tool', 'web_search'] })).not.toThrow();
    const launch = codexLaunch(ctx, { prompt: 'p' }, options({ disallowed_tools: ['exec_command', 'write_stdin', 'web_search'] }));
    expect(launch.argv.slice(FLAGS.length + 2, -4)).toEqual(['--disable', 'shell_tool', '-c', 'web_search="disabled"']);
  });

  it('the adapter needs its build and a model', () => {
    expect(createCodexAgent()).toMatchObject({ name: 'codex_cli', needsModel: true, builds: ['codex_cli'] });
  });
});

describe('CodexReader on recorded transcripts', () => {
  it('a first attempt: the thread id, the command as a tool call and result, the last message, usage', () => {
    const reader = new CodexReader({});
    const events = transcript('codex-resume-attempt-1.jsonl').flatMap((l) => reader.line(l));
    expect(events.map((e) => e.type)).toEqual(['agent.session', 'agent.warning', 'agent.turn', 'agent.tool_call', 'agent.tool_result', 'agent.message', 'agent.result']);
    expect(events[3]).toEqual({ type: 'agent.tool_call', id: 'item_1', name: 'command_execution', input: { command: expect.stringContaining("echo 'Hello, world' > /app/hello.txt") } });
    expect(events[4]).toMatchObject({ type: 'agent.tool_result', id: 'item_1', status: 'completed', exitCode: 0, isError: false, output: '' });
    const usage = { input_tokens: 10150, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 18, reasoning_output_tokens: 0 };
    expect(reader.state).toEqual({
      sessionId: '01a1fe6c-ffd4-7db2-a2a6-042409f68c4f',
      finalMessage: 'Done.',
      stopReason: 'completed',
      usage: { inputTokens: 10150, outputTokens: 18, cachedInputTokens: 0, reasoningTokens: 0 },
      agentState: { cumulativeUsage: usage },
    });
  });

  it('after exec resume the thread total is cumulative: the attempt reports the difference and carries the new total', () => {
    const first = new CodexReader({});
    for (const l of transcript('codex-resume-attempt-1.jsonl')) first.line(l);
    const second = new CodexReader({ resume: first.state.sessionId!, state: first.state.agentState! });
    for (const l of transcript('codex-resume-attempt-2.jsonl')) second.line(l);
    expect(second.state).toMatchObject({
      sessionId: first.state.sessionId,
      finalMessage: 'Fixed.',
      usage: { inputTokens: 20646 - 10150, outputTokens: 45 - 18, cachedInputTokens: 0, reasoningTokens: 0 },
      agentState: { cumulativeUsage: { input_tokens: 20646, output_tokens: 45 } },
    });
  });

  it('a failed turn is the attempt\'s error, in words; an item error is only a warning', () => {
    const reader = new CodexReader({});
    const events = transcript('codex-fatal.jsonl').flatMap((l) => reader.line(l));
    expect(events.find((e) => e.type === 'agent.warning')).toMatchObject({ message: expect.stringMatching(/^Model metadata/) });
    expect(events.filter((e) => e.type === 'agent.error')).toEqual([{ type: 'agent.error', message: 'invalid_request_error: upstream: fatal error on purpose', fatal: true }]);
    expect(reader.state).toMatchObject({ stopReason: 'failed', error: 'invalid_request_error: upstream: fatal error on purpose' });
    expect(reader.state.usage).toBeUndefined();
  });

  it('"Reconnecting... n/5" is not fatal by itself; the error after the last one is', () => {
    const lines = transcript('codex-unreachable.jsonl');
    const reader = new CodexReader({});
    const retries = lines.filter((l) => String(l.message).startsWith('Reconnecting'));
    expect(retries).toHaveLength(5);
    for (const l of lines.slice(0, lines.indexOf(retries.at(-1)!) + 1)) reader.line(l);
    expect(reader.state.error).toBeUndefined();
    for (const l of lines.slice(lines.indexOf(retries.at(-1)!) + 1)) reader.line(l);
    expect(reader.state.error).toBe('Connection failed: error sending request');
    // A turn that completes after an error was not fatal.
    reader.line({ type: 'turn.completed', usage: { input_tokens: 1, output_tokens: 1 } });
    expect(reader.state.error).toBeUndefined();
  });

  it('other items: reasoning, file changes, MCP calls, todo lists', () => {
    const reader = new CodexReader({});
    const events = [
      { type: 'item.completed', item: { id: 'i1', type: 'reasoning', text: 'thinking' } },
      { type: 'item.completed', item: { id: 'i2', type: 'file_change', changes: [{ path: '/app/a.py', kind: 'update' }], status: 'completed' } },
      { type: 'item.started', item: { id: 'i3', type: 'mcp_tool_call', server: 'docs', tool: 'search', arguments: { q: 'x' }, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'i3', type: 'mcp_tool_call', server: 'docs', tool: 'search', arguments: { q: 'x' }, error: { message: 'boom' }, status: 'failed' } },
      { type: 'item.updated', item: { id: 'i4', type: 'todo_list', items: [{ text: 'a', completed: false }] } },
    ].flatMap((l) => reader.line(l));
    expect(events).toEqual([
      { type: 'agent.reasoning', id: 'i1', text: 'thinking' },
      { type: 'agent.tool_call', id: 'i2', name: 'file_change', input: { changes: [{ path: '/app/a.py', kind: 'update' }] } },
      { type: 'agent.tool_result', id: 'i2', name: 'file_change', status: 'completed', isError: false, output: [{ path: '/app/a.py', kind: 'update' }] },
      { type: 'agent.tool_call', id: 'i3', name: 'mcp__docs__search', input: { q: 'x' } },
      { type: 'agent.tool_result', id: 'i3', name: 'mcp__docs__search', status: 'failed', isError: true, output: { message: 'boom' } },
      { type: 'agent.todo', id: 'i4', items: [{ text: 'a', completed: false }] },
    ]);
  });
});
