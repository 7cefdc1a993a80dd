// The shared headless mechanics with a scripted stand-in for the sandbox's exec (the real
// binaries run in the e2e tests): streamed lines into events, transcripts kept, and Claude
// Code's crash recovery resuming the session until retry_uncaught_errors is spent.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecOptions, ExecResult, Sandbox } from '../sandboxes/index.ts';
import type { AgentEvent, AttemptContext } from './agent.ts';
import { createClaudeCodeAgent } from './claude-code.ts';
import { withTaskOptions } from './headless.ts';

interface Scripted {
  readonly stdout: readonly object[];
  readonly exitCode: number;
  readonly stderr?: string;
}

/** A sandbox whose agent command plays the given runs in order; other commands succeed. */
function scriptedSandbox(runs: Scripted[]): { sandbox: Sandbox; argvs: string[][]; uploads: string[] } {
  const argvs: string[][] = [];
  const uploads: string[] = [];
  const exec = async (cmd: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> => {
    const argv = typeof cmd === 'string' ? [cmd] : [...cmd];
    const agent = argv.some((a) => a.endsWith('/claude'));
    if (!agent) return { exitCode: 0, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 1 };
    argvs.push(argv);
    const run = runs.shift()!;
    const text = run.stdout.map((l) => `${JSON.stringify(l)}\n`).join('');
    // Split mid-line, as a real stream arrives.
    options.onOutput?.(text.slice(0, 7), 'stdout');
    options.onOutput?.(text.slice(7), 'stdout');
    return { exitCode: run.exitCode, stdout: text, stderr: run.stderr ?? '', timedOut: false, truncated: false, durationMs: 5 };
  };
  const upload = async (_from: string, to: string) => void uploads.push(to);
  const sandbox = { exec, writeFile: async () => undefined, upload, download: async () => undefined } as unknown as Sandbox;
  return { sandbox, argvs, uploads };
}

async function context(sandbox: Sandbox, events: AgentEvent[]): Promise<AttemptContext> {
  return {
    sandbox,
    task: { instruction: 'fix it', environment: { workdir: '/app' } },
    attempt: 1,
    timeoutMs: 60_000,
    logDir: await mkdtemp(join(tmpdir(), 'cagebench-headless-')),
    emit: (e: AgentEvent) => events.push(e),
    model: { model: 'mock/solve', token: 't', baseUrls: { anthropic: 'http://h:1', openai: 'http://h:1/v1', gemini: 'http://h:1' } },
    installed: { claude_code: { binary: '/opt/cagebench/agents/claude_code/claude', path: ['/opt/cagebench/agents/claude_code'] } },
    identity: { user: undefined, uid: 0, gid: 0, owner: '0:0', home: '/root', path: '/usr/local/bin:/usr/bin:/bin', root: true, homeWritable: true },
  } as unknown as AttemptContext;
}

const init = { type: 'system', subtype: 'init', session_id: 's1' };
const done = { type: 'result', subtype: 'success', is_error: false, session_id: 's1', result: 'Fixed.', stop_reason: 'end_turn' };
const crash: Scripted = { stdout: [init], exitCode: 1 };

describe('headless agents', () => {
  it('a crash (exit 1, silent stderr, no refusal) resumes the session, and the attempt ends well', async () => {
    const { sandbox, argvs, uploads } = scriptedSandbox([crash, { stdout: [init, done], exitCode: 0 }]);
    const events: AgentEvent[] = [];
    const ctx = await context(sandbox, events);
    const result = await createClaudeCodeAgent({ skills: ['/host/skills/review'] }).run(ctx);
    // The skill went in once, not again for the resumed run.
    expect(uploads).toEqual(['/var/tmp/cagebench/claude_code/config/skills/review']);
    expect(result).toMatchObject({ finalMessage: 'Fixed.', exitCode: 0, sessionId: 's1', stopReason: 'end_turn' });
    expect(argvs).toHaveLength(2);
    expect(argvs[1]!.slice(-2)).toEqual(['--resume', 's1']);
    expect(events.filter((e) => e.type === 'agent.recover')).toEqual([{ type: 'agent.recover', recovery: 1, exitCode: 1, resume: 's1' }]);
    // Both runs' output is the attempt's transcript.
    const transcript = await readFile(join(ctx.logDir, 'claude-attempt-1.jsonl'), 'utf8');
    expect(transcript.trim().split('\n')).toHaveLength(3);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['agent.command', 'agent.init', 'agent.result', 'agent.command.end']));
  });

  it('gives up after retry_uncaught_errors recoveries, and never recovers a crash that wrote to stderr', async () => {
    const twice = scriptedSandbox([crash, crash, crash]);
    const result = await createClaudeCodeAgent({ retry_uncaught_errors: 2 }).run(await context(twice.sandbox, []));
    expect(twice.argvs).toHaveLength(3);
    expect(result.exitCode).toBe(1);

    const loud = scriptedSandbox([{ ...crash, stderr: 'TypeError: boom' }]);
    const events: AgentEvent[] = [];
    const ctx = await context(loud.sandbox, events);
    expect((await createClaudeCodeAgent().run(ctx)).exitCode).toBe(1);
    expect(loud.argvs).toHaveLength(1);
    expect(await readdir(ctx.logDir)).toEqual(expect.arrayContaining(['claude-attempt-1.jsonl', 'claude-attempt-1.stderr.txt']));
  });

  it('an error result is an agent failure, not a crash to resume', async () => {
    const failed = scriptedSandbox([{ stdout: [init, { type: 'result', is_error: true, api_error_status: 400, result: 'bad request', session_id: 's1' }], exitCode: 1 }]);
    await expect(createClaudeCodeAgent().run(await context(failed.sandbox, []))).rejects.toThrow('claude_code stopped with an error: API status 400: bad request');
    expect(failed.argvs).toHaveLength(1);
  });
});

describe('withTaskOptions', () => {
  it("merges the task's MCP servers under the run's own (the run's win by name), in the agents' shape", () => {
    const task = { mcpServers: { docs: { command: '/opt/docs', args: ['--stdio'] }, events: { url: 'http://10.0.0.5:8/sse', transport: 'sse' as const }, shared: { command: '/task/one' } } };
    const merged = withTaskOptions({ mcp_servers: { shared: { command: '/run/one' } }, system_prompt: 'x' }, { task } as unknown as AttemptContext);
    expect(merged).toEqual({
      system_prompt: 'x',
      mcp_servers: { docs: { command: '/opt/docs', args: ['--stdio'] }, events: { url: 'http://10.0.0.5:8/sse', transport: 'sse' }, shared: { command: '/run/one' } },
    });
    const none = { system_prompt: 'y' };
    expect(withTaskOptions(none, { task: {} } as unknown as AttemptContext)).toBe(none);
  });

  it("adds the sample's host tools as the MCP server cagebench, over a run's server of that name", () => {
    const hostTools = { url: 'http://172.30.0.2:4000/mcp', headers: { Authorization: 'Bearer cb-x' } };
    const merged = withTaskOptions({ mcp_servers: { cagebench: { command: '/mine' }, other: { command: '/o' } } }, { task: {}, model: { hostTools } } as unknown as AttemptContext);
    expect(merged.mcp_servers).toEqual({ other: { command: '/o' }, cagebench: hostTools });
  });
});

