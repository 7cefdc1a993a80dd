// `cagebench centaur` end to end: the real CLI, a plain debian:bookworm-slim sandbox, the
// Claude Code build from the cache and the scripted mock model. In tmux (a terminal: the CLI
// attaches the shell itself) a "person" runs the agent's alias and `task submit`; without a
// terminal the CLI prints the `docker exec` line and waits, and `task status|quit` and SIGTERM
// end it. Each leaves a run directory `cagebench report` reads and no container behind.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultRecord } from '../log/schema.ts';
import { readRunDir } from '../log/reader.ts';
import { cli, FIXTURES, leftovers, outDir, sampleEvents, summary, waitFor } from './support.ts';

const BIN = fileURLToPath(new URL('../../bin/cagebench.js', import.meta.url));
const TASK = join(FIXTURES, 'centaur.yaml');
const ARGS = [TASK, '--task-id', 'answer-42', '--agent', 'claude_code', '--model', 'mock/shell-then-answer'];
const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;

async function resultOf(runDir: string): Promise<ResultRecord> {
  return JSON.parse(await readFile(join(runDir, 'samples', 'answer-42__e1', 'result.json'), 'utf8')) as ResultRecord;
}

describe.runIf(HAS_TMUX)(`cagebench centaur in a terminal (tmux)${HAS_TMUX ? '' : ': skipped, tmux is not installed (apt-get install -y tmux)'}`, () => {
  it('the person runs the agent alias and task submit: scored, model calls in events.jsonl, the session recorded, time spent; nothing left', async () => {
    const out = await outDir();
    const runId = `centaur-${process.pid}`;
    const socket = `cagebench-centaur-${process.pid}`;
    const tmux = (...a: string[]): string => {
      const r = spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux ${a.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const command = [process.execPath, BIN, 'centaur', ...ARGS, '--out', out, '--run-id', runId].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    tmux('new-session', '-d', '-s', 'c', '-x', '200', '-y', '50', `${command}; echo "[centaur exited $?]"; sleep 600`);
    try {
      const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-300', '-t', 'c');
      const until = (pattern: RegExp, what: string, timeoutMs = 180_000): Promise<void> => waitFor(() => pattern.test(screen()), `${what}; the screen:\n${screen()}`, timeoutMs);
      await until(/when done: task submit[\s\S]*\/workspace#/, 'the shell prompt');
      expect(screen()).toMatch(/docker exec -it -w \/workspace \w+ script /);
      tmux('send-keys', '-t', 'c', "claude -p 'go'", 'Enter');
      await until(/^I wrote mock-was-here\.txt\.$/m, "the agent's answer");
      tmux('send-keys', '-t', 'c', 'cat mock-was-here.txt', 'Enter');
      await until(/^cagebench-mock$/m, 'the file the agent wrote');
      // The host looks twice a second: its count catches up with the agent's calls.
      const counted = /time spent \d+s\ntask answer-42 · claude_code: 2 model call\(s\)/;
      for (let i = 0; i < 20 && !counted.test(screen()); i++) {
        tmux('send-keys', '-t', 'c', 'task status', 'Enter');
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(screen()).toMatch(counted);
      tmux('send-keys', '-t', 'c', 'task submit 42', 'Enter');
      await until(/score 1 \(pass\): the answer equals "42"/, 'the verdict in the shell', 60_000);
      await until(/\[centaur exited 0\]/, 'the CLI to exit', 60_000);
      expect(screen()).toMatch(/cagebench centaur: score 1 \(pass\) · time spent \d+s · 2 model call\(s\)/);
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      // kill-server leaves its socket file behind.
      rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid!()}`, socket), { force: true });
    }
    const runDir = join(out, runId);
    const result = await resultOf(runDir);
    expect(result).toMatchObject({ outcome: 'pass', score: 1, passedAttempt: 1, centaur: { ended: 'submit', answer: '42', recording: { typescript: 'recording/typescript', timing: 'recording/timing', where: 'sandbox' } } });
    expect(result.centaur!.timeSpentMs).toBeGreaterThan(0);
    expect(result.timings.agentMs).toBe(result.centaur!.timeSpentMs);
    expect(result.usage?.requests).toBe(2);
    // Every model call the agent made went through the bridge into the sample's events.
    const events = await sampleEvents(runDir, 'answer-42__e1');
    expect(events.filter((e) => e.type === 'model.call')).toHaveLength(2);
    expect(events.find((e) => e.type === 'centaur.submit')).toMatchObject({ answer: '42' });
    // What was typed, and what the shell showed, is in the recording.
    const typescript = await readFile(join(runDir, 'samples', 'answer-42__e1', 'recording', 'typescript'), 'utf8');
    for (const typed of ["claude -p 'go'", 'task status', 'task submit 42', 'cagebench-mock', '2 model call(s)']) expect(typescript).toContain(typed);
    expect((await readFile(join(runDir, 'samples', 'answer-42__e1', 'recording', 'timing'), 'utf8')).trim().split('\n').length).toBeGreaterThan(3);
    // A normal run directory: the reader and the summary agree.
    const view = await readRunDir(runDir);
    expect(view.run.mode).toBe('centaur');
    expect(view.results).toHaveLength(1);
    expect(view.summary).toMatchObject({ status: 'completed', counts: { pass: 1, total: 1 }, score: { mean: 1 } });
    expect(await leftovers(`session-${runId}`)).toBe(0);
  }, 300_000);
});

describe('cagebench centaur without a terminal', () => {
  /** Start it piped; the printed `docker exec -it … <container> …` line gives the container. */
  async function started(runId: string, args: readonly string[] = ARGS): Promise<{ proc: ReturnType<typeof cli>; runDir: string; task: (...args: string[]) => ReturnType<typeof spawnSync> }> {
    const out = await outDir();
    const proc = cli(['centaur', ...args, '--out', out, '--run-id', runId]);
    await waitFor(() => /docker exec -it /.test(proc.output().stdout), `the docker exec line; so far:\n${proc.output().stdout}${proc.output().stderr}`, 180_000);
    const line = /docker exec -it (.*)$/m.exec(proc.output().stdout)![1]!;
    const container = /-w \S+ (\w+) /.exec(line)![1]!;
    const task = (...args: string[]) => spawnSync('docker', ['exec', container, 'sh', '/var/tmp/cagebench/centaur/task', ...args], { encoding: 'utf8' });
    return { proc, runDir: join(out, runId), task };
  }

  it('prints the line and waits; task with no verb is a usage error, status reports, quit ends it: no score, recorded as quit, exit 0', async () => {
    const runId = `centaur-quit-${process.pid}`;
    const { proc, runDir, task } = await started(runId);
    expect(proc.output().stdout).toContain("the shell (paste it in a terminal; 'task submit [ANSWER]' scores, 'task quit' ends without a score)");
    const usage = task();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: task submit [ANSWER]');
    await waitFor(() => String(task('status').stdout) === 'task answer-42 · claude_code: 0 model call(s), 0 tokens\n', 'task status', 30_000);
    const quit = task('quit');
    expect(quit.stdout).toContain('quit: no score');
    expect(task('submit', 'late').stderr).toContain('task: already quit');
    const { code, stdout } = await proc.exited;
    expect(code).toBe(0);
    expect(stdout).toContain('cagebench centaur: quit, no score');
    const result = await resultOf(runDir);
    expect(result).toMatchObject({ outcome: 'error', error: { kind: 'agent', code: 'CB_CENTAUR_QUIT' }, centaur: { ended: 'quit', recording: { error: 'no recording: the shell was never opened' } } });
    expect(result.score).toBeUndefined();
    expect(await summary(runDir)).toMatchObject({ status: 'completed', counts: { error: 1, total: 1 } });
    // A person's run is not for a headless agent to finish.
    const resumed = await cli(['resume', runDir]).exited;
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('is a centaur run (cagebench centaur): it cannot be resumed');
    expect(await leftovers(`session-${runId}`)).toBe(0);
  }, 300_000);

  it('a scorer that cannot score: the shell is told, the result is an error (kind timeout), exit 4; a file of two tasks needs --task-id', async () => {
    const runId = `centaur-error-${process.pid}`;
    const { proc, runDir, task } = await started(runId, [TASK, '--task-id', 'slow-scorer', '--agent', 'claude_code', '--model', 'mock/shell-then-answer']);
    const submit = task('submit', 'anything');
    expect(submit.stdout).toMatch(/submitted; scoring\.\.\.\nno score: The scoring command `sleep 30` did not finish within 1000 ms/);
    const { code } = await proc.exited;
    expect(code).toBe(4);
    const result = JSON.parse(await readFile(join(runDir, 'samples', 'slow-scorer__e1', 'result.json'), 'utf8')) as ResultRecord;
    expect(result).toMatchObject({ outcome: 'error', error: { kind: 'timeout', code: 'CB_SCORER_TIMEOUT' }, centaur: { ended: 'submit', answer: 'anything' } });
    expect(await leftovers(`session-${runId}`)).toBe(0);

    const both = await cli(['centaur', TASK, '--agent', 'claude_code', '--model', 'mock/shell-then-answer', '--out', await outDir()]).exited;
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('holds 3 tasks: a centaur works one; choose it with --task-id (answer-42, slow-scorer, graded)');
  }, 300_000);

  it('a model_graded task: the submitted answer is graded by --grader-model, grader use apart from the agent\'s, the grader\'s prompt in events.jsonl', async () => {
    const runId = `centaur-graded-${process.pid}`;
    const grader = `mock/${join(FIXTURES, 'graders', 'correct.yaml')}`;
    const { proc, runDir, task } = await started(runId, [TASK, '--task-id', 'graded', '--agent', 'claude_code', '--model', 'mock/shell-then-answer', '--grader-model', grader]);
    expect(task('submit', 'an off-by-one in the loop bound').stdout).toMatch(/score 1 \(pass\)/);
    expect((await proc.exited).code).toBe(0);
    const result = JSON.parse(await readFile(join(runDir, 'samples', 'graded__e1', 'result.json'), 'utf8')) as ResultRecord;
    expect(result).toMatchObject({ outcome: 'pass', score: 1, graderUsage: { requests: 1 } });
    expect(result.usage?.requests ?? 0).toBe(0);
    const calls = (await sampleEvents(runDir, 'graded__e1')).filter((e) => e.type === 'grader.call');
    expect(calls).toHaveLength(1);
    expect(JSON.stringify(calls[0])).toContain('an off-by-one in the loop bound');
    expect(await leftovers(`session-${runId}`)).toBe(0);
  }, 300_000);

  it('SIGTERM while waiting: the sandbox stops, no result.json, the summary says interrupted, exit 130', async () => {
    const runId = `centaur-term-${process.pid}`;
    const { proc, runDir } = await started(runId);
    proc.kill('SIGTERM');
    const { code } = await proc.exited;
    expect(code).toBe(130);
    await expect(readFile(join(runDir, 'samples', 'answer-42__e1', 'result.json'))).rejects.toThrow(/ENOENT/);
    expect(await summary(runDir)).toMatchObject({ status: 'interrupted', interruptedBy: 'signal', pending: 1 });
    const events = await sampleEvents(runDir, 'answer-42__e1');
    expect(events.at(-1)).toMatchObject({ type: 'sample.interrupted', reason: 'signal' });
    expect(await leftovers(`session-${runId}`)).toBe(0);
  }, 300_000);
});
