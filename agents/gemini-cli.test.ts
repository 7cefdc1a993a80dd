import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttemptContext } from './agent.ts';
import {
  apiErrorText,
  exitReason,
  geminiInteractive,
  geminiLaunch,
  geminiModelName,
  geminiOptionsSchema,
  GeminiReader,
  geminiRecover,
  gitConfigEnv,
  MAX_PROMPT_ARG_BYTES,
  newEnoughNode,
  parseGitConfigList,
} from './gemini-cli.ts';
import type { ReaderState } from './headless.ts';
import { createAgent } from './index.ts';
import { parseAgentOptions } from './options.ts';
import type { ExecResult } from '../sandboxes/index.ts';

const NODE = '/opt/cagebench/agents/node/bin/node';
const BUNDLE = '/opt/cagebench/agents/gemini_cli/bundle/gemini.js';
const ctx = {
  task: { instruction: 'do it', environment: { workdir: '/app' } },
  identity: { user: undefined, uid: 0, gid: 0, owner: '0:0', home: '/root', path: '/usr/local/bin:/usr/bin:/bin', root: true, homeWritable: true },
  installed: {
    gemini_cli: { binary: BUNDLE, path: ['/opt/cagebench/agents/gemini_cli/bundle'] },
    node: { binary: NODE, path: ['/opt/cagebench/agents/node/bin', '/opt/cagebench/agents/node/bin'] },
  },
  model: { model: 'mock/solve', token: 'tok', baseUrls: { anthropic: 'http://10.213.0.2:9000', openai: 'http://10.213.0.2:9000/v1', gemini: 'http://10.213.0.2:9000' } },
} as unknown as AttemptContext;
const options = (raw: unknown) => parseAgentOptions('gemini_cli', geminiOptionsSchema, raw);
const HOME = '/var/tmp/cagebench/gemini_cli';
const fileAt = (launch: ReturnType<typeof geminiLaunch>, path: string): string | undefined => launch.files?.find((f) => f.path === path)?.content;

describe('gemini_cli interactive (centaur)', () => {
  it('the bundle with --yolo and the model, no -p or --output-format; the same settings and environment', () => {
    const launch = geminiInteractive(ctx, options({}));
    expect(launch.alias).toBe('gemini');
    expect(launch.argv).toEqual([NODE, BUNDLE, '--yolo', '--skip-trust', '-m', 'solve']);
    const headless = geminiLaunch(ctx, { prompt: 'do it' }, options({}));
    expect(launch.env).toEqual(headless.env);
    expect(launch.files).toEqual(headless.files);
  });
});

describe('gemini_cli launch', () => {
  it('a first attempt: the bundle on the cached Node, headless stream-json, model pinned, bridge URL and token, stdin closed', () => {
    const launch = geminiLaunch(ctx, { prompt: 'do it' }, options({}));
    expect(launch.argv).toEqual([NODE, BUNDLE, '-p', 'do it', '--output-format', 'stream-json', '--yolo', '--skip-trust', '-m', 'solve']);
    expect(launch.stdin).toBeUndefined();
    expect(launch.env).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin:/opt/cagebench/agents/node/bin',
      GEMINI_CLI_HOME: HOME,
      GEMINI_API_KEY: 'tok',
      GOOGLE_GEMINI_BASE_URL: 'http://10.213.0.2:9000',
      GEMINI_CLI_NO_RELAUNCH: 'true',
    });
    expect(launch.dirs).toEqual([`${HOME}/.gemini`]);
    expect(launch.files!.map((f) => f.path)).toEqual([`${HOME}/.gemini/settings.json`]);
    expect(JSON.parse(fileAt(launch, `${HOME}/.gemini/settings.json`)!)).toEqual({
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    });
    expect(launch.skills).toBe(`${HOME}/.gemini/skills`);
  });

  it('a later attempt resumes the session by id; options become settings, a policy, GEMINI.md, skills and --debug', () => {
    const launch = geminiLaunch(ctx, { prompt: 'again', resume: '6d1e-sess' }, options({
      system_prompt: 'Prefer small patches.',
      disallowed_tools: ['web_fetch', 'google_web_search'],
      mcp_servers: { docs: { command: '/opt/docs', args: ['--stdio'], env: { A: '1' }, cwd: '/srv' }, web: { url: 'http://10.0.0.5:8/mcp', headers: { Authorization: 'Bearer x' } } },
      skills: ['/host/skills/review'],
      debug: true,
    }));
    expect(launch.argv.slice(2, 4)).toEqual(['-p', 'again']);
    expect(launch.argv.slice(-3)).toEqual(['--debug', '--resume', '6d1e-sess']);
    expect(JSON.parse(fileAt(launch, `${HOME}/.gemini/settings.json`)!).mcpServers).toEqual({
      docs: { command: '/opt/docs', args: ['--stdio'], env: { A: '1' }, cwd: '/srv' },
      web: { httpUrl: 'http://10.0.0.5:8/mcp', headers: { Authorization: 'Bearer x' } },
    });
    expect(fileAt(launch, `${HOME}/.gemini/policies/cagebench.toml`)).toBe(
      '[[rule]]\ntoolName = "web_fetch"\ndecision = "deny"\npriority = 900\n\n[[rule]]\ntoolName = "google_web_search"\ndecision = "deny"\npriority = 900\n',
    );
    expect(fileAt(launch, `${HOME}/.gemini/GEMINI.md`)).toBe('Prefer small patches.\n');
    expect(launch.skills).toBe(`${HOME}/.gemini/skills`);
  });

  it("the image's own Node when it is new enough (no PATH change), and the image's git config handed to the shell", () => {
    const launch = geminiLaunch(ctx, { prompt: 'do it' }, options({}), { node: '/usr/local/bin/node', gitConfig: [['user.name', 'cagebench'], ['safe.directory', '*']] });
    expect(launch.argv.slice(0, 2)).toEqual(['/usr/local/bin/node', BUNDLE]);
    expect(launch.env.PATH).toBeUndefined();
    expect(launch.env).toMatchObject({ GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'cagebench', GIT_CONFIG_KEY_1: 'safe.directory', GIT_CONFIG_VALUE_1: '*' });
  });

  it("a gemini program found on the image's PATH runs as itself", () => {
    const own = { ...ctx, installed: { ...ctx.installed, gemini_cli: { binary: '/usr/local/bin/gemini', path: ['/usr/local/bin'] } } } as unknown as AttemptContext;
    expect(geminiLaunch(own, { prompt: 'do it' }, options({})).argv.slice(0, 3)).toEqual(['/usr/local/bin/gemini', '-p', 'do it']);
  });

  it("a command may stay silent for the agent's whole time (its shell's 5-minute inactivity kill raised)", () => {
    const launch = geminiLaunch({ ...ctx, timeoutMs: 1_800_000 } as AttemptContext, { prompt: 'do it' }, options({}));
    expect(JSON.parse(fileAt(launch, `${HOME}/.gemini/settings.json`)!).tools).toEqual({ shell: { inactivityTimeout: 1800 } });
  });

  it('a prompt too long for one argument goes on stdin', () => {
    const prompt = 'x'.repeat(MAX_PROMPT_ARG_BYTES + 1);
    const launch = geminiLaunch(ctx, { prompt }, options({}));
    expect(launch.argv.slice(2, 4)).toEqual(['-p', '']);
    expect(launch.stdin).toBe(prompt);
  });

  it('pins a model name that is safe in a URL path and not one of Gemini CLI\'s aliases', () => {
    expect(geminiModelName('openai/gpt-5.1')).toBe('gpt-5.1');
    expect(geminiModelName('anthropic/claude-sonnet-4-5')).toBe('claude-sonnet-4-5');
    expect(geminiModelName('mock//work/main/harness/e2e/fixtures/fatal.yaml')).toBe('fatal');
    expect(geminiModelName('openai/org/model:free')).toBe('model-free');
    expect(geminiModelName('openai/auto')).toBe('cagebench-auto');
    expect(geminiModelName('openai/flash')).toBe('cagebench-flash');
  });
});

describe('gemini_cli host tools', () => {
  it('the host tools\' server is trusted (its tools allowed by a rule of their own); other servers are not', () => {
    const launch = geminiLaunch(ctx, { prompt: 'do it' }, options({ mcp_servers: { cagebench: { url: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' } }, web: { url: 'http://10.0.0.5:8/mcp' } } }));
    expect(JSON.parse(fileAt(launch, `${HOME}/.gemini/settings.json`)!).mcpServers).toEqual({
      cagebench: { httpUrl: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' }, trust: true },
      web: { httpUrl: 'http://10.0.0.5:8/mcp' },
    });
  });
});

describe('gemini_cli options', () => {
  it('takes the common options and names an unknown or malformed one', () => {
    expect(createAgent('gemini_cli', { debug: true })).toMatchObject({ name: 'gemini_cli', needsModel: true, builds: ['gemini_cli', 'node'] });
    expect(() => createAgent('gemini_cli', { sandbox: true })).toThrow(/Agent gemini_cli options: sandbox is not a known field \(known fields: system_prompt/);
    expect(() => createAgent('gemini_cli', { mcp_servers: { 'bad name': { command: 'x' } } })).toThrow(/mcp_servers\["bad name"\] has a key that is not valid/);
    expect(() => createAgent('gemini_cli', { cwd: 'relative' })).toThrow(/cwd must be an absolute sandbox path/);
  });
});

const fixture = (name: string): Record<string, unknown>[] =>
  readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('GeminiReader', () => {
  it('reads a recorded run (mock/solve through the bridge) into events and the attempt state', () => {
    const reader = new GeminiReader();
    const events = fixture('gemini-solve.jsonl').flatMap((l) => reader.line(l));
    expect(events.map((e) => e.type)).toEqual(['agent.init', 'agent.tool_call', 'agent.tool_result', 'agent.message', 'agent.result']);
    expect(events[0]).toEqual({ type: 'agent.init', sessionId: '160eef41-209c-40b2-a387-30e040a1e636', model: 'solve' });
    expect(events[1]).toMatchObject({ name: 'run_shell_command', id: events[2]!.id, input: { command: expect.stringContaining('Hello, cagebench!') } });
    expect(events[2]).toMatchObject({ isError: false, output: '' });
    expect(events[3]).toEqual({ type: 'agent.message', text: 'Done: I ran the solution.' });
    expect(reader.state).toEqual({
      sessionId: '160eef41-209c-40b2-a387-30e040a1e636',
      finalMessage: 'Done: I ran the solution.',
      stopReason: 'success',
      usage: { inputTokens: 15598, outputTokens: 33, cachedInputTokens: 0 },
    });
  });

  it('a resumed run (recorded attempt 2) reports the same session and its own usage', () => {
    const reader = new GeminiReader('c295d774-39a1-44b5-9065-505ea0296cce');
    fixture('gemini-resume.jsonl').forEach((l) => reader.line(l));
    expect(reader.state).toMatchObject({ sessionId: 'c295d774-39a1-44b5-9065-505ea0296cce', finalMessage: 'Fixed.', usage: { inputTokens: 16038, outputTokens: 28 } });
  });

  it('a model failure Gemini CLI gave up on (recorded) is an error with the API status', () => {
    const reader = new GeminiReader();
    const events = fixture('gemini-fatal.jsonl').flatMap((l) => reader.line(l));
    expect(reader.state.error).toBe('API status 400: upstream: fatal error on purpose');
    expect(reader.state.stopReason).toBe('error');
    expect(events.at(-1)).toMatchObject({ type: 'agent.result', status: 'error' });
  });

  it('joins assistant deltas into one message per completed message; the last is the final message', () => {
    const reader = new GeminiReader();
    const events = [
      { type: 'init', session_id: 's1', model: 'm' },
      { type: 'message', role: 'assistant', content: 'Let me ', delta: true },
      { type: 'message', role: 'assistant', content: 'look.', delta: true },
      { type: 'tool_use', tool_name: 'read_file', tool_id: 't1', parameters: { file_path: 'a' } },
      { type: 'tool_result', tool_id: 't1', status: 'error', output: '', error: { type: 'FILE_NOT_FOUND', message: 'no a' } },
      { type: 'error', severity: 'warning', message: 'Loop detected' },
      { type: 'message', role: 'assistant', content: 'All ', delta: true },
      { type: 'message', role: 'assistant', content: 'done.', delta: true },
      { type: 'result', status: 'success', stats: { input_tokens: 10, output_tokens: 4, cached: 3 } },
    ].flatMap((l) => reader.line(l));
    expect(events.filter((e) => e.type === 'agent.message').map((e) => e.text)).toEqual(['Let me look.', 'All done.']);
    expect(events.find((e) => e.type === 'agent.tool_result')).toMatchObject({ isError: true, error: { type: 'FILE_NOT_FOUND' } });
    expect(events.find((e) => e.type === 'agent.error')).toMatchObject({ severity: 'warning', message: 'Loop detected' });
    expect(reader.state).toMatchObject({ finalMessage: 'All done.', usage: { inputTokens: 10, outputTokens: 4, cachedInputTokens: 3 } });
    expect(reader.state.error).toBeUndefined();
  });

  it('an error result without details takes the last error event; a blocked response is a refusal, not an error', () => {
    const empty = new GeminiReader();
    empty.line({ type: 'error', severity: 'error', message: 'The model returned an empty response with no text or thoughts.' });
    empty.line({ type: 'result', status: 'error', stats: {} });
    expect(empty.state.error).toMatch(/empty response/);

    const blocked = new GeminiReader();
    blocked.line({ type: 'error', severity: 'error', message: 'The model response was blocked due to safety settings.' });
    blocked.line({ type: 'result', status: 'error', stats: {} });
    expect(blocked.state).toMatchObject({ refused: true, stopReason: 'error' });
    expect(blocked.state.error).toBeUndefined();
  });
});

describe('gemini_cli exits', () => {
  const exec = (exitCode: number, stderr: string, timedOut = false): ExecResult => ({ exitCode, stderr, stdout: '', timedOut, durationMs: 1 }) as ExecResult;

  it('a non-zero exit without a result is an agent error with what it printed; a clean or timed-out one is not', () => {
    const state: ReaderState = {};
    expect(geminiRecover({ exec: exec(41, 'YOLO mode is enabled. All tool calls will be automatically approved.\nInvalid auth method selected.\n'), state })).toBeUndefined();
    expect(state.error).toBe('Gemini CLI exited 41 (authentication error) without a result: Invalid auth method selected.');
    const ok: ReaderState = {};
    geminiRecover({ exec: exec(0, ''), state: ok });
    geminiRecover({ exec: exec(137, '', true), state: ok });
    expect(ok.error).toBeUndefined();
    const reported: ReaderState = { error: 'API status 400: bad' };
    geminiRecover({ exec: exec(144, 'stack...'), state: reported });
    expect(reported.error).toBe('API status 400: bad');
    expect(exitReason(137, '')).toBe('Gemini CLI exited 137 without a result and printed nothing on stderr');
  });

  it('API error texts', () => {
    expect(apiErrorText('[API Error: {"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}]')).toBe('API status 429: slow down');
    expect(apiErrorText('[API Error: fetch failed]')).toBe('API error: fetch failed');
    expect(apiErrorText('Something else')).toBe('Something else');
  });
});

describe('sandbox probes', () => {
  it("takes the image's node only at version 20 or later", () => {
    expect(newEnoughNode('/usr/bin/node\nv22.11.0\n')).toBe('/usr/bin/node');
    expect(newEnoughNode('/usr/bin/node\nv20.0.0\n')).toBe('/usr/bin/node');
    expect(newEnoughNode('/usr/bin/node\nv18.19.0\n')).toBeUndefined();
    expect(newEnoughNode('')).toBeUndefined();
  });

  it("reads git config --list -z and hands it over as GIT_CONFIG_* variables", () => {
    const entries = parseGitConfigList('user.name\ncagebench\0user.email\ncagebench@example.invalid\0core.bare\0alias.x\nline1\nline2\0');
    expect(entries).toEqual([['user.name', 'cagebench'], ['user.email', 'cagebench@example.invalid'], ['core.bare', 'true'], ['alias.x', 'line1\nline2']]);
    expect(gitConfigEnv(entries)).toMatchObject({ GIT_CONFIG_COUNT: '4', GIT_CONFIG_KEY_3: 'alias.x', GIT_CONFIG_VALUE_3: 'line1\nline2' });
    expect(gitConfigEnv([])).toEqual({});
  });
});
