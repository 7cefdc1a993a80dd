import { describe, expect, it } from 'vitest';
import type { TurnResult } from '../../harness/index.ts';
import { filesReport, HELP, messageText, toolCallLine, toolErrorLine, turnSummary } from './render.ts';

const result: TurnResult = {
  runId: 'run-2',
  ok: true,
  finalMessage: 'done',
  stopReason: 'end_turn',
  files: { created: ['a.txt', 'b.txt'], modified: [], deleted: ['c.txt'] },
  usage: { requests: 2, inputTokens: 8856, outputTokens: 18, costUsd: 0 },
  durationMs: 1234,
};

describe('chat rendering', () => {
  it('a tool call is one line: its salient argument, newlines shown, cut to the width', () => {
    expect(toolCallLine('Bash', { command: 'echo one > notes.txt', timeout: 600000 }, 80)).toBe('⏺ Bash(echo one > notes.txt)');
    expect(toolCallLine('Read', { file_path: '/w/a.ts', limit: 5 }, 80)).toBe('⏺ Read(/w/a.ts)');
    expect(toolCallLine('shell', { command: ['bash', '-lc', 'ls'] }, 80)).toBe('⏺ shell(bash -lc ls)');
    expect(toolCallLine('Bash', { command: 'cd x\nmake' }, 80)).toBe('⏺ Bash(cd x ⏎ make)');
    expect(toolCallLine('custom', { n: 1 }, 80)).toBe('⏺ custom({"n":1})');
    const long = toolCallLine('Bash', { command: 'x'.repeat(200) }, 40);
    expect(Array.from(long)).toHaveLength(40);
    expect(long.endsWith('…')).toBe(true);
    expect(toolErrorLine('Exit code 137\nKilled', 80)).toBe('  ⎿ Exit code 137');
  });

  it('text, the summary and /files', () => {
    expect(messageText('one\ntwo\n')).toBe('⏺ one\n  two');
    expect(turnSummary(result)).toBe('── end_turn · 2 created, 0 modified, 1 deleted · 8,874 tokens · 1.2s');
    expect(turnSummary({ ...result, usage: { ...result.usage, costUsd: 0.01 } })).toContain('8,874 tokens ($0.0100)');
    expect(filesReport(result)).toBe('run-2:\n  created: a.txt, b.txt\n  modified: (none)\n  deleted: c.txt');
    for (const name of ['/files', '/cancel', '/save', '/quit', '/approve', '/deny', '/model', '/help']) expect(HELP).toContain(`  ${name} `);
  });
});
