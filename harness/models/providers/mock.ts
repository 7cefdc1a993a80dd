// `mock/<script>`: a scripted model for tests and offline demos. A script is a list of
// steps; the n-th model call of a conversation (counted by the assistant turns it already
// holds) plays step n, the last step repeating. "Run this shell command" is mapped onto
// whichever shell-like tool the request declares, with the argument its schema asks for,
// so one script drives Claude Code, Codex, Gemini CLI, OpenCode or a generic agent.
// Likewise an MCP tool is called by its plain name (`mcp: { tool: secret_value }`), mapped
// onto the name the agent declared for it, and `{{last_tool_result}}` in a later `shell` or
// `say` step is the text the last tool returned (shell-quoted inside `shell`). Every step:
// mock-scripts/README.md.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { ModelRequest, StreamEvent, ToolSpec } from '../canonical.ts';
import { ZERO_USAGE } from '../canonical.ts';
import { UpstreamError, type ModelProvider, type ProviderCall } from '../provider.ts';

export type MockStep =
  | { readonly say: string }
  /** Run the sample's reference solution through the agent's shell tool. */
  | { readonly solve: true }
  | { readonly echo: true }
  | { readonly shell: string }
  | { readonly tool: { readonly name: string; readonly arguments: Readonly<Record<string, unknown>> } }
  /** Call an MCP server's tool by its plain name (server default `cagebench`, the host tools). */
  | { readonly mcp: { readonly tool: string; readonly server?: string; readonly arguments?: Readonly<Record<string, unknown>> } }
  /** Refuse; with `times`, only the first `times` tries of this turn, then play `then`. */
  | { readonly refuse: string; readonly times?: number; readonly then?: MockStep }
  | { readonly fail: { readonly status: number; readonly message?: string; readonly retry_after?: number } };

export interface MockScript {
  readonly steps: readonly MockStep[];
}

/** Known shell tools, by the name each agent gives its own. */
const SHELL_TOOLS = ['Bash', 'exec_command', 'run_shell_command', 'bash', 'shell', 'local_shell'];
const BUNDLED = fileURLToPath(new URL('./mock-scripts/', import.meta.url));

export function loadMockScript(name: string): MockScript {
  const file = name.endsWith('.yaml') || name.endsWith('.yml') ? name : `${BUNDLED}${name}.yaml`;
  if (!existsSync(file)) {
    throw new UpstreamError(`mock script "${name}" not found (looked for ${file}); bundled: echo, shell-then-answer`, 404);
  }
  const script = parseYaml(readFileSync(file, 'utf8')) as MockScript | null;
  if (!script || !Array.isArray(script.steps) || script.steps.length === 0) {
    throw new UpstreamError(`mock script ${file} must have a non-empty "steps" list`, 400);
  }
  return script;
}

export function createMockProvider(): ModelProvider {
  const scripts = new Map<string, MockScript>();
  const refusals = new Map<string, number>();
  return {
    name: 'mock',
    stream(call: ProviderCall): AsyncIterable<StreamEvent> {
      let script = scripts.get(call.model);
      if (!script) {
        script = loadMockScript(call.model);
        scripts.set(call.model, script);
      }
      // A command the agent left running (Codex yields after at most 30 s) is waited for
      // first; those polls are not steps of the script.
      const poll = pendingPoll(call.request);
      if (poll) return play({ tool: poll }, call);
      const turn = call.request.messages.filter((m) => m.role === 'assistant' && !m.content.some((p) => p.type === 'tool_call' && p.name === POLL_TOOL)).length;
      let step = script.steps[Math.min(turn, script.steps.length - 1)]!;
      if ('refuse' in step && step.times !== undefined) {
        // Tries of one turn (the bridge's refusal retries) are counted per sample and turn.
        const key = `${call.model}|${call.sample?.sampleId ?? ''}|${turn}`;
        const tries = refusals.get(key) ?? 0;
        refusals.set(key, tries + 1);
        if (tries >= step.times) step = step.then ?? { say: 'OK.' };
      }
      return play(step, call);
    },
  };
}

async function* play(step: MockStep, call: ProviderCall): AsyncGenerator<StreamEvent> {
  const { request } = call;
  const id = `mock-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const inputTokens = estimateTokens(JSON.stringify(request.messages)) + estimateTokens(request.system ?? '');
  if ('fail' in step) {
    throw new UpstreamError(step.fail.message ?? `mock failure ${step.fail.status}`, step.fail.status, {
      retryAfterMs: step.fail.retry_after === undefined ? undefined : step.fail.retry_after * 1000,
    });
  }
  yield { type: 'start', id, model: call.model };
  if ('solve' in step && !call.sample?.solution) {
    throw new UpstreamError(`mock: a "solve" step needs the sample's reference solution, and ${call.sample?.sampleId ?? 'this call'} has none`, 400);
  }
  if ('shell' in step || 'tool' in step || 'solve' in step || 'mcp' in step) {
    const { name, args } =
      'tool' in step
        ? { name: step.tool.name, args: step.tool.arguments }
        : 'mcp' in step
          ? { name: mcpToolName(request.tools, step.mcp.tool, step.mcp.server), args: step.mcp.arguments ?? {} }
          : shellCall(request.tools, 'shell' in step ? withToolResult(step.shell, request, shellQuote) : solutionCommand(call.sample!.solution!));
    const json = JSON.stringify(args);
    yield { type: 'block_start', index: 0, block: { type: 'tool_call', id: `call_${id}`, name } };
    for (const piece of pieces(json, 3)) yield { type: 'tool_arguments_delta', index: 0, json: piece };
    yield { type: 'block_end', index: 0 };
    yield { type: 'stop', stopReason: 'tool_use', usage: { ...ZERO_USAGE, inputTokens, outputTokens: estimateTokens(json) } };
    return;
  }
  // After a `solve`, say so when the solution failed: the scripted model must not claim a
  // success the oracle would not have had.
  const failed = 'say' in step ? solutionFailure(request) : undefined;
  const text = failed ?? ('say' in step ? withToolResult(step.say, request, (t) => t) : 'refuse' in step ? step.refuse : lastUserText(request));
  yield { type: 'block_start', index: 0, block: { type: 'text' } };
  for (const piece of pieces(text, 4)) yield { type: 'text_delta', index: 0, text: piece };
  yield { type: 'block_end', index: 0 };
  yield { type: 'stop', stopReason: 'refuse' in step ? 'refusal' : 'end_turn', usage: { ...ZERO_USAGE, inputTokens, outputTokens: estimateTokens(text) } };
}

/** Codex's tool for polling a command that is still running, and how it says one is. */
const POLL_TOOL = 'write_stdin';
const STILL_RUNNING = /Process running with session ID (\d+)/;
/** Long enough for a reference solution; tools cap it at their own maximum. */
const LONG_MS = 3_600_000;

/** A poll of the command the last tool result says is still running, when the agent can poll. */
function pendingPoll(request: ModelRequest): { name: string; arguments: Record<string, unknown> } | undefined {
  if (!request.tools.some((t) => t.name === POLL_TOOL)) return undefined;
  const last = request.messages.at(-1);
  const result = last?.role === 'user' ? last.content.findLast((p) => p.type === 'tool_result') : undefined;
  if (!result || result.type !== 'tool_result') return undefined;
  const text = result.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
  const session = STILL_RUNNING.exec(text)?.[1];
  return session === undefined ? undefined : { name: POLL_TOOL, arguments: { session_id: Number(session), chars: '', yield_time_ms: 300_000 } };
}

/**
 * The longest wait a tool takes for a command (`timeout` in ms, Codex's `yield_time_ms`): its
 * schema's maximum, or a `max N` in its description, capped at an hour. Undefined: no such
 * parameter, so the tool's own default applies.
 */
function waitArgument(tool: ToolSpec): Record<string, number> {
  const properties = (tool.parameters.properties ?? {}) as Record<string, { maximum?: number; description?: string }>;
  for (const key of ['timeout', 'timeout_ms', 'yield_time_ms']) {
    const p = properties[key];
    if (!p) continue;
    const described = /max(?:imum)?[^0-9]{0,12}(\d[\d,_]*)/i.exec(p.description ?? '')?.[1]?.replace(/[,_]/g, '');
    const range = /range is \d+-(\d+)/.exec(p.description ?? '')?.[1];
    const cap = Math.min(LONG_MS, p.maximum ?? Infinity, Number(range ?? described ?? Infinity));
    return { [key]: cap };
  }
  return {};
}

/** The shell tool the agent declared, and arguments in the form its schema asks for. */
export function shellCall(tools: readonly ToolSpec[], command: string): { name: string; args: Record<string, unknown> } {
  const tool = SHELL_TOOLS.map((n) => tools.find((t) => t.name === n)).find(Boolean) ?? tools.find((t) => /shell|bash|exec|command/i.test(t.name));
  if (!tool) {
    const names = tools.map((t) => t.name).join(', ') || 'none';
    throw new UpstreamError(`mock: the script wants a shell command but the request declares no shell-like tool (tools: ${names})`, 400);
  }
  const properties = (tool.parameters.properties ?? {}) as Record<string, { type?: string | string[] }>;
  const key = ['command', 'cmd', 'script'].find((k) => k in properties) ?? 'command';
  const wantsArray = [properties[key]?.type].flat().includes('array');
  // Gemini CLI's run_shell_command refuses any command with `$(`, backticks, `<(` or `>(`
  // outside single quotes (`$((1 + 1))` included), even in YOLO mode; single-quoted text
  // passes, so such a script is handed to `eval` in single quotes and runs the same.
  if (tool.name === 'run_shell_command' && SUBSTITUTION.test(command)) command = `eval ${shellQuote(command)}`;
  // Not a login shell: /etc/profile would reset the image's PATH, which a task's own exec keeps.
  return { name: tool.name, args: { [key]: wantsArray ? ['bash', '-c', command] : command, ...waitArgument(tool) } };
}

/**
 * The name an agent declared for an MCP server's tool: `mcp__<server>__<tool>` (Claude Code;
 * Codex, whose Responses namespace `mcp__<server>` the bridge flattens the same way),
 * `mcp_<server>_<tool>` (Gemini CLI), `<server>_<tool>` (OpenCode), or `<server>__<tool>`
 * and the plain name (older Gemini CLI).
 */
export function mcpToolName(tools: readonly ToolSpec[], tool: string, server = HOST_TOOLS_SERVER): string {
  const forms = [`mcp__${server}__${tool}`, `mcp_${server}_${tool}`, `${server}_${tool}`, `${server}__${tool}`, tool];
  const found = forms.find((f) => tools.some((t) => t.name === f));
  if (found) return found;
  const names = tools.map((t) => t.name).join(', ') || 'none';
  throw new UpstreamError(`mock: the script calls MCP tool "${tool}" of server "${server}" but the request declares no such tool (tools: ${names})`, 400);
}

/** The MCP server the harness serves its host tools as (agents get it under this name). */
const HOST_TOOLS_SERVER = 'cagebench';
const LAST_TOOL_RESULT = /\{\{\s*last_tool_result\s*\}\}/g;

/** `text` with `{{last_tool_result}}` replaced by the last tool result's text, put through `quote`. */
function withToolResult(text: string, request: ModelRequest, quote: (t: string) => string): string {
  if (text.search(LAST_TOOL_RESULT) < 0) return text;
  const result = lastToolResult(request);
  if (result === undefined) throw new UpstreamError('mock: the script uses {{last_tool_result}} but the conversation holds no tool result yet', 400);
  return text.replace(LAST_TOOL_RESULT, () => quote(result));
}

/** Codex's header before an MCP tool's own content, a text part of its own. */
const CODEX_TOOL_HEADER = /^Wall time: [\d.]+ seconds\nOutput:$/;
/** Gemini CLI's wrapping of an MCP tool's text. */
const GEMINI_UNTRUSTED = /^<untrusted_context>\n([\s\S]*)\n<\/untrusted_context>$/;

/** The text of the conversation's last tool result, without the framing agents add to it. */
export function lastToolResult(request: ModelRequest): string | undefined {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const result = request.messages[i]!.content.findLast((p) => p.type === 'tool_result');
    if (result?.type !== 'tool_result') continue;
    const texts = result.content.flatMap((p) => (p.type === 'text' ? [p.text] : []));
    const text = (texts.length > 1 && CODEX_TOOL_HEADER.test(texts[0]!) ? texts.slice(1) : texts).join('\n');
    return GEMINI_UNTRUSTED.exec(text)?.[1] ?? text;
  }
  return undefined;
}

/** What Gemini CLI takes for command substitution (a superset is fine: eval changes nothing). */
const SUBSTITUTION = /\$\(|`|[<>]\(/;

/** `text` as one word for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The line a solution command ends its output with (see `solutionCommand`). */
const SOLUTION_EXIT = /\[cagebench: the reference solution exited (\d+)\]/;

/**
 * The shell command a `solve` step runs: the solution as given, then a line with its exit
 * status, which the next turn reads to report a failure.
 */
export function solutionCommand(script: string): string {
  return `${script}\necho "[cagebench: the reference solution exited $?]"`;
}

/** `Failed: ...` when the last tool result reports a solution that exited non-zero. */
function solutionFailure(request: ModelRequest): string | undefined {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    for (const part of request.messages[i]!.content) {
      if (part.type !== 'tool_result') continue;
      const text = part.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
      const code = [...text.matchAll(new RegExp(SOLUTION_EXIT, 'g'))].at(-1)?.[1];
      if (code === undefined) return undefined;
      return code === '0' ? undefined : `Failed: the reference solution exited ${code}, so the task is not solved.`;
    }
  }
  return undefined;
}

const solving = new Map<string, boolean>();

/**
 * Whether a mock model's script runs the reference solution (it then needs the whole
 * solution/ in the sandbox). Asked for every sample: the script is read once per model.
 */
export function mockSolves(model: string): boolean {
  if (!model.startsWith('mock/')) return false;
  let answer = solving.get(model);
  if (answer === undefined) {
    answer = scriptSolves(model);
    solving.set(model, answer);
  }
  return answer;
}

function scriptSolves(model: string): boolean {
  try {
    const solves = (step: MockStep): boolean => 'solve' in step || ('refuse' in step && step.then !== undefined && solves(step.then));
    return loadMockScript(model.slice('mock/'.length)).steps.some(solves);
  } catch {
    return false;
  }
}

function lastUserText(request: ModelRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role !== 'user') continue;
    const text = m.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
    if (text) return text;
  }
  return '';
}

/** Split text into about n pieces, so streams have several deltas. */
function pieces(text: string, n: number): string[] {
  if (text.length <= n) return [text];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Roughly 4 characters a token: the mock's usage is for accounting tests, not billing. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
