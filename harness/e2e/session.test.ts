// Multi-turn sessions, headless: the real agent binary from the cache, a real container and
// the bridge with a scripted model. Three turns (create a file; modify it; delete it and
// create another) must report exactly those files, each turn resuming the agent's session.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession, resumeSession } from '../index.ts';
import { FIXTURES, leftovers, outDir } from './support.ts';

const MODEL = `mock/${join(FIXTURES, 'three-turns.yaml')}`;

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
    const script = join(await outDir(), 'long.yaml');
    // How an interrupted turn lands in the agent's history (one assistant message or two)
    // varies, so the step after it is played twice: either way the next turn writes b.txt.
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(script, 'steps:\n  - shell: echo start > a.txt && sleep 600\n  - shell: echo after > b.txt\n  - shell: echo after > b.txt\n  - say: wrote b.txt\n  - shell: cat a.txt b.txt > c.txt\n  - say: joined\n'),
    );
    const session = await createSession({ agent: 'claude_code', model: `mock/${script}`, dir, timeoutMs: 240_000 });
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
