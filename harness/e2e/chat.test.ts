// `cagebench chat` end to end: the real CLI, a real container, the Claude Code build from the
// cache and the scripted mock model. Once from a pipe (lines run in order, EOF or /quit
// closes the session), and as a terminal UI in tmux (typed prompts, /files, Ctrl-C during a
// turn, Ctrl-D), each ending with no container or network left behind.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, leftovers, outDir, waitFor } from './support.ts';

const BIN = fileURLToPath(new URL('../../bin/cagebench.js', import.meta.url));
const MODEL = `mock/${join(FIXTURES, 'three-turns.yaml')}`;
const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;

/** The CLI with `input` on its stdin (then EOF). */
function chatPiped(args: readonly string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'chat', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

function sessionIdIn(text: string): string {
  const id = /^session (\S+) in /m.exec(text)?.[1];
  if (!id) throw new Error(`no "session <id> in <dir>" line in:\n${text}`);
  return id;
}

describe('cagebench chat, piped', () => {
  it('runs the lines in order: two turns streamed, /files, /save, /help, /quit; exit 0, nothing left', async () => {
    const dir = join(await outDir(), 'session');
    const { code, stdout, stderr } = await chatPiped(['--agent', 'claude_code', '--model', MODEL, '--dir', dir], 'Create notes.txt.\nAdd a line.\n/files\n/save\n/approve\n/help\n/quit\nnever sent\n');
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`in ${dir} (transcript: events.jsonl)`);
    // Each turn: the echoed prompt, its tool call, the agent's text, the summary line; in order.
    const order = ['> Create notes.txt.', '⏺ Bash(echo one > notes.txt)', '⏺ created notes.txt', '── end_turn · 1 created, 0 modified, 0 deleted', '> Add a line.', '⏺ Bash(echo two >> notes.txt)', '⏺ modified notes.txt', '── end_turn · 0 created, 1 modified, 0 deleted', '> /files', 'modified: notes.txt'];
    const at = order.map((text) => stdout.indexOf(text));
    expect(at.every((i) => i >= 0), stdout).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(stdout).toMatch(/── end_turn · 1 created, 0 modified, 0 deleted · [\d,]+ tokens · \d+\.\ds/);
    expect(stdout).toContain('created: (none)');
    expect(stdout).toContain(`saved: ${join(dir, 'session.json')}`);
    expect(existsSync(join(dir, 'session.json'))).toBe(true);
    expect(stdout).toContain('no tool call is waiting for an answer');
    expect(stdout).toContain('/deny [ID] [REASON]');
    // /quit ends it: the line after it is never sent.
    expect(stdout).not.toContain('never sent');
    const id = sessionIdIn(stdout);
    expect(await leftovers(`session-${id}`)).toBe(0);
    const { connectEngine } = await import('../../sandboxes/index.ts');
    await (await connectEngine()).docker.getImage(`cagebench/session:${id.toLowerCase()}`).remove().catch(() => undefined);
  }, 300_000);

  it('EOF after the last line closes the session; a usage error is one line, exit 2, no sandbox', async () => {
    const dir = join(await outDir(), 'session');
    const piped = await chatPiped(['--agent', 'claude_code', '--model', MODEL, '--dir', dir], 'Create notes.txt.\n');
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('── end_turn · 1 created');
    expect(piped.stdout).toContain('session closed');
    expect(await leftovers(`session-${sessionIdIn(piped.stdout)}`)).toBe(0);

    const bad = await chatPiped(['--agent', 'claude_code', '--model', 'no-slash'], '');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cagebench: error: --model must look like provider\/model/)]);
  }, 300_000);
});

describe.runIf(HAS_TMUX)(`cagebench chat in a terminal (tmux)${HAS_TMUX ? '' : ': skipped, tmux is not installed (apt-get install -y tmux)'}`, () => {
  /** A tmux server of its own (its environment is this process's), and its one pane. */
  async function inTmux(args: readonly string[], body: (pane: Pane) => Promise<void>): Promise<void> {
    const socket = `cagebench-chat-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const tmux = (...a: string[]): string => {
      const r = spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux ${a.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const command = [process.execPath, BIN, 'chat', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // The shell prints the exit code; remain-on-exit keeps the screen readable after it.
    tmux('new-session', '-d', '-s', 'chat', '-x', '120', '-y', '40', `${command}; echo "[chat exited $?]"`, ';', 'set-option', '-t', 'chat', 'remain-on-exit', 'on');
    try {
      const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', 'chat');
      await body({
        screen,
        keys: (...keys) => void tmux('send-keys', '-t', 'chat', ...keys),
        until: (pattern, what, timeoutMs = 180_000) => waitFor(() => pattern.test(screen()), `${what}; the screen:\n${screen()}`, timeoutMs),
        exitStatus: () => {
          const status = /\[chat exited (\d+)\]/.exec(screen())?.[1];
          return status === undefined ? undefined : Number(status);
        },
      });
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
    }
  }

  interface Pane {
    screen(): string;
    keys(...keys: string[]): void;
    until(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
    exitStatus(): number | undefined;
  }

  it('a typed prompt streams its tool call, text and summary; /files; /quit closes the session, exit 0', async () => {
    const dir = join(await outDir(), 'session');
    await inTmux(['--agent', 'claude_code', '--model', MODEL, '--dir', dir], async (pane) => {
      await pane.until(/\/help lists the commands/, 'the session to start');
      pane.keys('Create notes.txt.', 'Enter');
      await pane.until(/── end_turn · 1 created, 0 modified, 0 deleted/, 'the turn summary');
      const screen = pane.screen();
      expect(screen).toContain('⏺ Bash(echo one > notes.txt)');
      expect(screen).toContain('⏺ created notes.txt');
      pane.keys('/files', 'Enter');
      await pane.until(/created: notes\.txt/, '/files');
      pane.keys('/quit', 'Enter');
      await pane.until(/session closed/, 'the session to close');
      await waitFor(() => pane.exitStatus() !== undefined, 'the chat to exit');
      expect(pane.exitStatus()).toBe(0);
      expect(await leftovers(`session-${sessionIdIn(pane.screen())}`)).toBe(0);
    });
  }, 300_000);

  it('through one approval (acp driver, --ask bash:rm): the request is shown inline, /approve lets it run', async () => {
    const dir = join(await outDir(), 'session');
    const script = join(await outDir(), 'rm.yaml');
    await writeFile(script, 'steps:\n  - shell: rm -f keep.txt\n  - say: removed keep.txt\n');
    await inTmux(['--agent', 'claude_code', '--model', `mock/${script}`, '--driver', 'acp', '--ask', 'bash:rm', '--dir', dir], async (pane) => {
      await pane.until(/\/help lists the commands/, 'the session to start');
      pane.keys('touch keep.txt is done for you; remove keep.txt.', 'Enter');
      await pane.until(/\? \S+ wants to run rm -f keep\.txt: \/approve or \/deny/, 'the permission request');
      pane.keys('/approve', 'Enter');
      await pane.until(/approved: rm -f keep\.txt/, 'the approval');
      await pane.until(/── end_turn · /, 'the turn summary');
      pane.keys('/quit', 'Enter');
      await waitFor(() => pane.exitStatus() !== undefined, 'the chat to exit');
      expect(pane.exitStatus()).toBe(0);
      const events = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; approve?: boolean; by?: string });
      expect(events.find((e) => e.type === 'permission')).toMatchObject({ approve: true, by: 'human' });
      expect(await leftovers(`session-${sessionIdIn(pane.screen())}`)).toBe(0);
    });
  }, 300_000);

  it('Ctrl-C during a turn cancels it (input stays live: a prompt typed meanwhile is queued, then dropped); the next turn works; Ctrl-D quits', async () => {
    const dir = join(await outDir(), 'session');
    const script = join(await outDir(), 'long.yaml');
    // As in the session test: how the interrupted call lands in the agent's history varies, so the next step is played twice.
    await writeFile(script, 'steps:\n  - shell: echo start > a.txt && sleep 600\n  - shell: echo after > b.txt\n  - shell: echo after > b.txt\n  - say: wrote b.txt\n');
    await inTmux(['--agent', 'claude_code', '--model', `mock/${script}`, '--dir', dir], async (pane) => {
      await pane.until(/\/help lists the commands/, 'the session to start');
      pane.keys('Start the long job.', 'Enter');
      await pane.until(/⏺ Bash\(echo start > a\.txt && sleep 600\)/, 'the long command');
      pane.keys('Then this.', 'Enter');
      await pane.until(/queued: it runs when this turn ends/, 'the prompt to be queued');
      pane.keys('C-c');
      await pane.until(/── cancelled · /, 'the cancelled turn');
      expect(pane.screen()).toContain('dropped 1 queued prompt');
      expect(pane.exitStatus()).toBeUndefined();
      pane.keys('Write b.', 'Enter');
      await pane.until(/⏺ wrote b\.txt[\s\S]*── end_turn · 1 created/, 'the next turn');
      pane.keys('C-d');
      await waitFor(() => pane.exitStatus() !== undefined, `the chat to exit; the screen:\n${pane.screen()}`, 120_000);
      expect(pane.exitStatus()).toBe(0);
      // The transcript: the cancelled turn, then the one typed after it; the dropped prompt never ran.
      const events = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; prompt?: string; stopReason?: string });
      expect(events.filter((e) => e.type === 'turn.start').map((e) => e.prompt)).toEqual(['Start the long job.', 'Write b.']);
      expect(events.filter((e) => e.type === 'turn.end').map((e) => e.stopReason)).toEqual(['cancelled', 'end_turn']);
      expect(await leftovers(`session-${sessionIdIn(pane.screen())}`)).toBe(0);
    });
  }, 300_000);
});
