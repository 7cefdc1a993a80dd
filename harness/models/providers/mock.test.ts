import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, type ContentPart, type ModelRequest, type ToolSpec } from '../canonical.ts';
import { UpstreamError } from '../provider.ts';
import { createMockProvider, lastToolResult, mcpToolName, shellCall } from './mock.ts';

const signal = new AbortController().signal;

function request(messages: ModelRequest['messages'], tools: ToolSpec[] = []): ModelRequest {
  return { model: 'anything', messages, tools, config: {}, stream: true };
}

const tool = (name: string, properties: Record<string, unknown>): ToolSpec => ({ name, parameters: { type: 'object', properties } });

describe('mock provider', () => {
  it('mock/echo answers with the last user text, in several deltas', async () => {
    const provider = createMockProvider();
    const events = [];
    for await (const e of provider.stream({ request: request([{ role: 'user', content: [{ type: 'text', text: 'hello there, bridge' }] }]), model: 'echo', signal })) events.push(e);
    expect(events.filter((e) => e.type === 'text_delta').length).toBeGreaterThan(1);
    const response = await collect((async function* () { yield* events; })());
    expect(response.content).toEqual([{ type: 'text', text: 'hello there, bridge' }]);
    expect(response.stopReason).toBe('end_turn');
    expect(response.usage.inputTokens).toBeGreaterThan(0);
  });

  it('maps "the shell tool" onto the tool each agent declares, with its argument name and type', () => {
    expect(shellCall([tool('Read', {}), tool('Bash', { command: { type: 'string' } })], 'ls')).toEqual({ name: 'Bash', args: { command: 'ls' } });
    expect(shellCall([tool('exec_command', { cmd: { type: 'string' } })], 'ls')).toEqual({ name: 'exec_command', args: { cmd: 'ls' } });
    expect(shellCall([tool('run_shell_command', { command: { type: 'string' } })], 'ls')).toEqual({ name: 'run_shell_command', args: { command: 'ls' } });
    expect(shellCall([tool('shell', { command: { type: 'array', items: { type: 'string' } } })], 'ls')).toEqual({ name: 'shell', args: { command: ['bash', '-c', 'ls'] } });
    expect(() => shellCall([tool('Read', {})], 'ls')).toThrow(/no shell-like tool \(tools: Read\)/);
  });

  it("hands Gemini CLI's run_shell_command a script with command substitution through eval, in single quotes", async () => {
    const gemini = [tool('run_shell_command', { command: { type: 'string' } })];
    const script = `bad=$(git log -n 1 --format=%H)\ni=$((i + 1)); echo "it's \`date\`"`;
    const { args } = shellCall(gemini, script);
    expect(args.command).toBe(`eval 'bad=$(git log -n 1 --format=%H)\ni=$((i + 1)); echo "it'\\''s \`date\`"'`);
    // The shell gets the script back unchanged.
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('bash', ['-c', `printf '%s' ${String(args.command).slice('eval '.length)}`], { encoding: 'utf8' })).toBe(script);
    // Other agents' shell tools, and commands without substitution, are left alone.
    expect(shellCall([tool('Bash', { command: { type: 'string' } })], script).args.command).toBe(script);
    expect(shellCall(gemini, 'echo "$HOME" > out.txt').args.command).toBe('echo "$HOME" > out.txt');
  });

  it('plays a script step by step, counting the assistant turns already in the conversation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mock-'));
    const file = join(dir, 'script.yaml');
    await writeFile(file, 'steps:\n  - shell: "make test"\n  - refuse: "no"\n  - fail: { status: 529, retry_after: 2 }\n');
    const provider = createMockProvider();
    const tools = [tool('bash', { command: { type: 'string' } })];
    const first = await collect(provider.stream({ request: request([{ role: 'user', content: [{ type: 'text', text: 'go' }] }], tools), model: file, signal }));
    expect(first.stopReason).toBe('tool_use');
    expect(first.content[0]).toMatchObject({ type: 'tool_call', name: 'bash', arguments: '{"command":"make test"}' });
    const afterOne = request(
      [
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        { role: 'assistant', content: [first.content[0]!] },
        { role: 'user', content: [{ type: 'tool_result', callId: 'x', content: [{ type: 'text', text: 'ok' }] }] },
      ],
      tools,
    );
    expect((await collect(provider.stream({ request: afterOne, model: file, signal }))).stopReason).toBe('refusal');
    const afterTwo = request([...afterOne.messages, { role: 'assistant', content: [{ type: 'text', text: 'no' }] }, { role: 'user', content: [{ type: 'text', text: 'please' }] }], tools);
    const err = await collect(provider.stream({ request: afterTwo, model: file, signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 529, options: { retryAfterMs: 2000 } });
  });

  it('maps an MCP tool\'s plain name onto the name each agent declares for it', () => {
    const at = (name: string) => [tool('Bash', {}), tool(name, {})];
    expect(mcpToolName(at('mcp__cagebench__secret_value'), 'secret_value')).toBe('mcp__cagebench__secret_value'); // Claude Code, Codex
    expect(mcpToolName(at('mcp_cagebench_secret_value'), 'secret_value')).toBe('mcp_cagebench_secret_value'); // Gemini CLI
    expect(mcpToolName(at('cagebench_secret_value'), 'secret_value')).toBe('cagebench_secret_value'); // OpenCode
    expect(mcpToolName(at('secret_value'), 'secret_value')).toBe('secret_value');
    expect(mcpToolName(at('mcp__probe__echo'), 'echo', 'probe')).toBe('mcp__probe__echo');
    // Another server's tool of the same name is not it.
    expect(() => mcpToolName(at('mcp__other__secret_value'), 'secret_value')).toThrow(/MCP tool "secret_value" of server "cagebench" but the request declares no such tool \(tools: Bash, mcp__other__secret_value\)/);
  });

  it('calls an MCP tool, then puts what it returned into a shell command (quoted) and an answer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mock-'));
    const file = join(dir, 'script.yaml');
    await writeFile(file, 'steps:\n  - mcp: { tool: secret_value, arguments: { key: alpha } }\n  - shell: "printf %s {{last_tool_result}} > secret.txt"\n  - say: "The secret is {{ last_tool_result }}."\n');
    const provider = createMockProvider();
    const tools = [tool('Bash', { command: { type: 'string' } }), tool('mcp__cagebench__secret_value', { key: { type: 'string' } })];
    const go: ModelRequest['messages'] = [{ role: 'user', content: [{ type: 'text', text: 'go' }] }];
    const first = await collect(provider.stream({ request: request(go, tools), model: file, signal }));
    expect(first.stopReason).toBe('tool_use');
    expect(first.content[0]).toMatchObject({ type: 'tool_call', name: 'mcp__cagebench__secret_value', arguments: '{"key":"alpha"}' });
    const answered: ModelRequest['messages'] = [
      ...go,
      { role: 'assistant', content: [first.content[0]!] },
      { role: 'user', content: [{ type: 'tool_result', callId: 'c1', content: [{ type: 'text', text: "it's s3cr$t" }] }] },
    ];
    const second = await collect(provider.stream({ request: request(answered, tools), model: file, signal }));
    expect(second.content[0]).toMatchObject({ type: 'tool_call', name: 'Bash', arguments: JSON.stringify({ command: `printf %s 'it'\\''s s3cr$t' > secret.txt` }) });
    const third = await collect(
      provider.stream({
        request: request([...answered, { role: 'assistant', content: [second.content[0]!] }, { role: 'user', content: [{ type: 'tool_result', callId: 'c2', content: [] }] }], tools),
        model: file,
        signal,
      }),
    );
    // The last tool result is the shell's (empty) one now.
    expect(third.content).toEqual([{ type: 'text', text: 'The secret is .' }]);
    // The framing agents put around an MCP tool's text is not part of it.
    const resultOf = (content: ContentPart[]) => lastToolResult(request([{ role: 'user', content: [{ type: 'tool_result', callId: 'c', content }] }]));
    expect(resultOf([{ type: 'text', text: 'Wall time: 0.0071 seconds\nOutput:' }, { type: 'text', text: 'k-1' }])).toBe('k-1'); // Codex
    expect(resultOf([{ type: 'text', text: '<untrusted_context>\nk-2\n</untrusted_context>' }])).toBe('k-2'); // Gemini CLI
    expect(resultOf([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }])).toBe('a\nb');
    // Before any tool result, the placeholder is an error that says so.
    await writeFile(file, 'steps:\n  - say: "{{last_tool_result}}"\n');
    const err = await collect(createMockProvider().stream({ request: request(go, tools), model: file, signal })).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, message: expect.stringMatching(/last_tool_result.*no tool result yet/) });
  });

  it('names a missing script and the bundled ones', () => {
    expect(() => createMockProvider().stream({ request: request([]), model: 'nope', signal })).toThrow(/mock script "nope" not found.*bundled: echo/);
  });
});

describe('mockSolves', () => {
  it('is true for a script with a solve step, also one reached after refusals, and false otherwise', async () => {
    const { mockSolves } = await import('./mock.ts');
    const { fileURLToPath } = await import('node:url');
    const fixture = (name: string) => fileURLToPath(new URL(`../../e2e/fixtures/${name}`, import.meta.url));
    expect(mockSolves('mock/solve')).toBe(true);
    expect(mockSolves(`mock/${fixture('refuse-twice.yaml')}`)).toBe(true);
    expect(mockSolves('mock/echo')).toBe(false);
    expect(mockSolves('openai/gpt-5')).toBe(false);
  });
});
