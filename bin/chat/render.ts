// What `cagebench chat` prints for a turn: the agent's text, one line per tool call, a one-line
// summary, and the /files and /help answers. Pure text in, text out: no streams, no harness.
import type { TurnResult } from '../../harness/index.ts';
import { fit } from '../progress/fit.ts';

/** The argument a tool call is best known by, first found wins (`Bash(echo hi)`, `Read(src/a.ts)`). */
const SALIENT_KEYS = ['command', 'cmd', 'file_path', 'filePath', 'absolute_path', 'path', 'pattern', 'query', 'url', 'description', 'prompt'];

export const HELP = [
  'Type a prompt and press Enter: it is sent to the agent as one turn. Commands:',
  '  /files    the files the last turn created, modified and deleted',
  '  /cancel   stop the turn in progress (also Ctrl-C during a turn)',
  '  /save     save the session (session.json; the container is kept as an image)',
  '  /quit     close the session, remove its sandbox and exit (also Ctrl-D, or Ctrl-C at the prompt)',
  '  /approve [ID]           allow a tool call the agent asked about (the oldest waiting one, or ID)',
  '  /deny [ID] [REASON]     refuse it; the reason is shown in the log',
  '  /model P/M              send the next turns to another model (provider/model)',
  '  /help     this list',
].join('\n');

/** Commands kept in /help whose feature comes later. */
export const NOT_YET = new Set<string>();

/** `? Bash wants to run rm keep.txt: /approve or /deny (30 s)`: a parked permission request. */
export function askLine(tool: unknown, command: unknown, timeoutMs: unknown, width: number): string {
  const what = typeof command === 'string' && command ? `wants to run ${oneLine(command)}` : `wants to use ${typeof tool === 'string' ? tool : 'a tool'}`;
  const secs = typeof timeoutMs === 'number' ? ` (${Math.round(timeoutMs / 1000)} s, then refused)` : '';
  return fit(`? ${typeof tool === 'string' ? tool : 'the agent'} ${what}: /approve or /deny${secs}`, width);
}

/** `⏺ Bash(echo one > notes.txt)`: one line, cut to `width` columns. */
export function toolCallLine(name: unknown, input: unknown, width: number): string {
  return fit(`⏺ ${typeof name === 'string' && name ? name : 'tool'}(${oneLine(salientArgument(input))})`, width);
}

/** The first line of a failed tool call's output, under its call. */
export function toolErrorLine(output: unknown, width: number): string {
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? '');
  return fit(`  ⎿ ${oneLine(text.trim().split('\n')[0] ?? '')}`, width);
}

/** The agent's text, marked like a tool call; continuation lines indented under it. */
export function messageText(text: string): string {
  return `⏺ ${text.trim().split('\n').join('\n  ')}`;
}

/** `── end_turn · 1 created, 0 modified, 0 deleted · 8,874 tokens · 1.1s` */
export function turnSummary(result: TurnResult): string {
  const { created, modified, deleted } = result.files;
  const tokens = result.usage.inputTokens + result.usage.outputTokens;
  const cost = result.usage.costUsd > 0 ? ` ($${result.usage.costUsd.toFixed(4)})` : '';
  return `── ${result.stopReason} · ${created.length} created, ${modified.length} modified, ${deleted.length} deleted · ${tokens.toLocaleString('en-US')} tokens${cost} · ${(result.durationMs / 1000).toFixed(1)}s`;
}

/** The /files answer: each list on its own line, `(none)` when empty. */
export function filesReport(result: TurnResult): string {
  const list = (paths: readonly string[]): string => (paths.length ? paths.join(', ') : '(none)');
  return [`${result.runId}:`, `  created: ${list(result.files.created)}`, `  modified: ${list(result.files.modified)}`, `  deleted: ${list(result.files.deleted)}`].join('\n');
}

function salientArgument(input: unknown): string {
  if (input === undefined || input === null) return '';
  if (typeof input !== 'object') return String(input);
  const record = input as Record<string, unknown>;
  for (const key of SALIENT_KEYS) {
    const value = record[key];
    if (typeof value === 'string' && value) return value;
    if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'string')) return value.join(' ');
  }
  const text = Object.values(record).find((v): v is string => typeof v === 'string' && v !== '');
  return text ?? JSON.stringify(input);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ⏎ ');
}
