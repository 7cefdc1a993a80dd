// Permission requests over ACP: what a request is asking (the canonical tool and command the
// session's gate decides on), and which of the adapter's options carries a decision. An
// approval is always an `allow_once` option, never `allow_always`, so the session's rules stay
// the authority; a refusal is the option that lets the turn go on (Codex offers two
// `reject_once` options: `decline` continues, `cancel` ends the turn).
import type * as acp from '@agentclientprotocol/sdk';
import type { PermissionRequest } from './permissions.ts';

/** Each adapter's own `allow_once` id: Claude, Codex, Gemini CLI, OpenCode. */
const ALLOW_ONCE_IDS = ['allow-once', 'allow_once', 'proceed_once', 'once'];
/** Each adapter's refusal that lets the turn go on: Claude, Codex, OpenCode, Gemini CLI. */
const REJECT_IDS = ['reject', 'decline', 'reject_once', 'cancel'];

/** The option that approves this call once; undefined when the adapter offers none. */
export function allowOnceOption(options: readonly acp.PermissionOption[]): string | undefined {
  const once = options.filter((o) => o.kind === 'allow_once');
  return (once.find((o) => ALLOW_ONCE_IDS.includes(o.optionId)) ?? once[0])?.optionId;
}

/** The option that refuses this call and lets the turn go on; undefined when there is none. */
export function rejectOption(options: readonly acp.PermissionOption[]): string | undefined {
  const reject = options.filter((o) => o.kind === 'reject_once');
  for (const id of REJECT_IDS) {
    const found = reject.find((o) => o.optionId === id);
    if (found) return found.optionId;
  }
  return reject[0]?.optionId;
}

const BY_KIND: Readonly<Record<string, string>> = { execute: 'bash', edit: 'edit', delete: 'edit', move: 'edit', read: 'read', search: 'read', fetch: 'fetch' };
const CLAUDE_TOOLS: Readonly<Record<string, string>> = { Bash: 'bash', Edit: 'edit', MultiEdit: 'edit', Write: 'write', NotebookEdit: 'edit', Read: 'read', WebFetch: 'fetch' };
const OPENCODE_TOOLS: Readonly<Record<string, string>> = { bash: 'bash', edit: 'edit', write: 'write', read: 'read', webfetch: 'fetch' };

/**
 * What the gate decides on: the tool (Claude's tool name in `_meta.claudeCode.toolName`, an
 * OpenCode permission kind in the title, else the ACP kind) and, for a shell command, its
 * command line (`rawInput.command`, a string or an argv; else the title of an `execute` call).
 */
export function gateRequest(request: acp.RequestPermissionRequest): PermissionRequest {
  const call = request.toolCall;
  const meta = (call._meta ?? {}) as { claudeCode?: { toolName?: unknown } };
  const claudeTool = typeof meta.claudeCode?.toolName === 'string' ? meta.claudeCode.toolName : undefined;
  const title = call.title ?? '';
  const tool = (claudeTool && (CLAUDE_TOOLS[claudeTool] ?? claudeTool)) ?? OPENCODE_TOOLS[title] ?? (call.kind ? BY_KIND[call.kind] : undefined) ?? (title || 'other');
  const input = call.rawInput ?? null;
  const raw = (input && typeof input === 'object' ? (input as { command?: unknown }).command : undefined) ?? undefined;
  // Gemini CLI sends no input with its request: its title is the command (and, after it, the
  // directory and description, which a rule matching the first words does not reach).
  const command = typeof raw === 'string' ? raw : Array.isArray(raw) ? shellLine(raw.map(String)) : call.kind === 'execute' && title ? title : undefined;
  return { id: call.toolCallId, tool, ...(tool === 'bash' && command ? { command } : {}), input };
}

/** An argv as the command it runs: `bash -lc "<script>"` is the script. */
function shellLine(argv: readonly string[]): string {
  if (argv.length === 3 && /(^|\/)(ba|z)?sh$/.test(argv[0]!) && /^-l?c$/.test(argv[1]!)) return argv[2]!;
  return argv.join(' ');
}
