// Multi-turn sessions, headless: the real agent binary from the cache, a real container and
// the bridge with a scripted model. Three turns (create a file; modify it; delete it and
// create another) must report exactly those files, each turn resuming the agent's session.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession, resumeSession } from '../index.ts';
import { FIXTURES, leftovers, outDir } from './support.ts';

const MODEL = `mock/${join(FIXTURES, 'three-turns.yaml')}`;

/** A scripted model from its steps (YAML lines), as `mock/<file>`. */
async function mockModel(name: string, steps: readonly string[]): Promise<string> {
  const file = join(await outDir(), `${name}.yaml`);
  await writeFile(file, `steps:\n${steps.map((s) => `  - ${s}\n`).join('')}`);
  return `mock/${file}`;
}

describe.each(['claude_code', 'codex_cli', 'gemini_cli', 'opencode'])('%s session (headless)', (agent) => {
  it('three turns: created, modified, deleted+created, each continuing the agent session; events numbered and written', async () => {
    const dir = join(await outDir(), 'session');
    const session = await createSession({ agent, model: MODEL, dir, timeoutMs: 240_000 });
    try {
      const first = await session.send('Create notes.txt.');
      expect(first.files, first.finalMessage).toEqual({ created: ['notes.txt'], modified: [], deleted: [] });
      expect(first.finalMessage).toContain('created notes.txt');
      expect(first.usage.requests).toBeGreaterThanOrEqual(2);
      expect(first.agentSessionId).toEqual(expect.any(String));

      const stream = session.stream('Add a line to it.');
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      const second = await stream.result;
      expect(seen[0]).toBe('turn.start');
      expect(seen).toContain('turn.end');
      expect(second.files).toEqual({ created: [], modified: ['notes.txt'], deleted: [] });
      expect(second.agentSessionId).toBe(first.agentSessionId);

      const third = await session.send({ prompt: 'Replace it with other.txt.' });
      expect(third.files).toEqual({ created: ['other.txt'], modified: [], deleted: ['notes.txt'] });
      expect(third.finalMessage).toContain('replaced');

      expect(session.runs().map((r) => [r.runId, r.status])).toEqual([['run-1', 'done'], ['run-2', 'done'], ['run-3', 'done']]);
      const all = session.events();
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      const after = all.find((e) => e.runId === 'run-2')!.seq;
      expect(session.events('run-3', { after }).every((e) => e.runId === 'run-3' && e.seq > after)).toBe(true);
      const written = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
      expect(written.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    } finally {
      await session.close();
    }
    expect(await leftovers(`session-${session.id}`)).toBe(0);
  }, 600_000);
});

describe('session lifecycle', () => {
  it('cancel during a long command ends the turn as cancelled; the next turn works; save, close, resume continues', async () => {
    const dir = join(await outDir(), 'session');
    // How an interrupted turn lands in the agent's history (one assistant message or two)
    // varies, so the step after it is played twice: either way the next turn writes b.txt.
    const model = await mockModel('long', ['shell: echo start > a.txt && sleep 600', 'shell: echo after > b.txt', 'shell: echo after > b.txt', 'say: wrote b.txt', 'shell: cat a.txt b.txt > c.txt', 'say: joined']);
    const session = await createSession({ agent: 'claude_code', model, dir, timeoutMs: 240_000 });
    let record;
    try {
      const turn = session.send('Start the long job.');
      // Wait until the command runs, then cancel.
      for (let i = 0; i < 600 && !session.events().some((e) => e.type === 'model.call'); i++) await new Promise((r) => setTimeout(r, 250));
      await new Promise((r) => setTimeout(r, 3000));
      expect(session.active()?.runId).toBe('run-1');
      await session.cancel();
      const cancelled = await turn;
      expect(cancelled.stopReason).toBe('cancelled');
      expect(session.active()).toBeUndefined();
      // The next turn continues the interrupted one (its tool call is in the agent's history).
      const next = await session.send('Write b.txt.');
      expect(next.files.created).toContain('b.txt');
      expect(next.agentSessionId).toBe(cancelled.agentSessionId);
      record = await session.save();
      expect(record.image).toMatch(/^cagebench\/session:/);
    } finally {
      await session.close();
    }
    const again = await resumeSession(record!);
    try {
      const last = await again.send('Join them.');
      // The resumed container still holds the earlier files, and the agent's session goes on.
      expect(last.files.created).toEqual(['c.txt']);
      expect(last.finalMessage).toContain('joined');
      expect(again.runs().map((r) => r.runId)).toEqual(['run-1', 'run-2', 'run-3']);
    } finally {
      await again.close();
      const { connectEngine } = await import('../../sandboxes/index.ts');
      await (await connectEngine()).docker.getImage(record!.image).remove().catch(() => undefined);
    }
    expect(await leftovers(`session-${session.id}`)).toBe(0);
  }, 600_000);
});

describe('session rules and tools', () => {
  it('a deny rule on rm (compiled into Claude Code\'s own config) leaves the file in place, and the turn ends normally', async () => {
    const dir = join(await outDir(), 'session');
    const model = await mockModel('rm', ['shell: rm -f keep.txt', 'say: tried to remove it']);
    const session = await createSession({ agent: 'claude_code', model, dir, rules: [{ tool: 'bash', match: 'rm', action: 'deny' }] });
    try {
      await session.tools.write('keep.txt', 'precious\n');
      const turn = await session.send('Remove keep.txt.');
      expect(turn.stopReason).toBe('end_turn');
      expect(turn.files).toEqual({ created: [], modified: [], deleted: [] });
      expect(await session.tools.read('keep.txt')).toBe('precious\n');
      // The agent was told no: its tool result says the call was refused.
      expect(session.events('run-1').some((e) => e.type === 'agent.tool_result' && /permission|denied|not allowed/i.test(JSON.stringify(e)))).toBe(true);
    } finally {
      await session.close();
    }
  }, 300_000);

  it('a rule an agent cannot hold headless is refused before any sandbox starts', async () => {
    await expect(createSession({ agent: 'codex_cli', model: MODEL, rules: [{ tool: 'bash', match: 'rm', action: 'deny' }], dir: join(await outDir(), 's') })).rejects.toThrow(/Agent codex_cli cannot hold these permission rules headless/);
    await expect(createSession({ agent: 'opencode', model: MODEL, rules: [{ tool: 'bash', match: 'rm', action: 'ask' }], dir: join(await outDir(), 's') })).rejects.toThrow(/cannot match a command/);
  });

  it('direct tools work in the sandbox as the agent\'s user, and each call is an event', async () => {
    const session = await createSession({ agent: 'nop', dir: join(await outDir(), 'session') });
    try {
      const { tools } = session;
      await tools.write('src/a.txt', 'alpha\nbeta\n');
      await tools.edit('src/a.txt', { old: 'beta', new: 'gamma' });
      expect(await tools.read('src/a.txt')).toBe('alpha\ngamma\n');
      await expect(tools.edit('src/a.txt', { old: 'delta', new: 'x' })).rejects.toThrow(/occurs 0 times/);
      expect(await tools.grep('gam')).toEqual(['./src/a.txt:2:gamma']);
      expect(await tools.glob('**/*.txt')).toEqual(['src/a.txt']);
      expect((await tools.bash('pwd && whoami')).stdout).toBe('/workspace\nroot\n');
      expect((await tools.git(['init', '-q'])).exitCode).toBe(0);
      expect((await tools.git(['status', '--porcelain'])).stdout).toContain('?? src/');
      const calls = session.events().filter((e) => e.type === 'tool.direct').map((e) => [e.tool, e.ok]);
      expect(calls).toEqual([['write', true], ['edit', true], ['read', true], ['edit', false], ['grep', true], ['glob', true], ['bash', true], ['git', true], ['git', true]]);
    } finally {
      await session.close();
    }
  }, 120_000);
});

describe('session set', () => {
  it('set({ model }) between turns sends the next turn\'s calls to the new model; the agent\'s session goes on', async () => {
    const other = await mockModel('switched', ['say: not used', 'say: not used', 'shell: echo switched > s.txt', 'say: on the new model']);
    const session = await createSession({ agent: 'claude_code', model: MODEL, dir: join(await outDir(), 'session') });
    try {
      const first = await session.send('Create notes.txt.');
      expect(first.files.created).toEqual(['notes.txt']);
      await session.set({ model: other });
      const second = await session.send('Go on.');
      expect(second.files.created).toEqual(['s.txt']);
      expect(second.finalMessage).toContain('on the new model');
      expect(second.agentSessionId).toBe(first.agentSessionId);
      expect(session.events().find((e) => e.type === 'session.model')).toMatchObject({ model: other });
      await expect(session.set({ model: 'gpt' })).rejects.toThrow(/provider\/model/);
    } finally {
      await session.close();
    }
  }, 300_000);
});

describe('session cwd and mcp', () => {
  it('cwd: the agent starts there and the turn\'s files are tracked there; mcp servers go into the agent\'s options', async () => {
    const session = await createSession({ agent: 'claude_code', model: MODEL, cwd: '/srv/project', mcp: { docs: { url: 'http://127.0.0.1:9/mcp' } }, dir: join(await outDir(), 'session') });
    try {
      const turn = await session.send('Create notes.txt.');
      expect(turn.files.created).toEqual(['notes.txt']);
      expect(await session.tools.read('/srv/project/notes.txt')).toBe('one\n');
      expect(session.events('run-1').find((e) => e.type === 'agent.command')).toMatchObject({ cwd: '/srv/project' });
      expect(JSON.stringify(session.events('run-1').find((e) => e.type === 'agent.init') ?? {})).toContain('docs');
    } finally {
      await session.close();
    }
    await expect(createSession({ agent: 'claude_code', model: MODEL, cwd: 'relative' })).rejects.toThrow(/absolute path/);
  }, 300_000);
});
