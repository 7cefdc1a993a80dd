// `oracle` runs the task's reference solution: Harbor's solution/ directory (solve.sh, run
// from /solution) or a suite sample's commands. A task its oracle cannot pass is broken.
// It runs where an agent would: as the agent's user (the task's `[agent].user`, else the
// image's USER), in the workdir, with the image's environment plus the solution's `env`.
// Its final message is the stdout of the last command, so `answer` samples can be checked.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecResult, Sandbox } from '../sandboxes/index.ts';
import { AgentError, type AgentAdapter, type AttemptContext, type AttemptResult } from './agent.ts';

export function createOracleAgent(): AgentAdapter {
  return { name: 'oracle', needsModel: false, run: runSolution };
}

async function runSolution(ctx: AttemptContext): Promise<AttemptResult> {
  const { task, sandbox } = ctx;
  const solution = task.solution;
  if (!solution) {
    throw new AgentError('CB_AGENT_NO_SOLUTION', `Task ${task.id} (${task.origin}) has no reference solution for the oracle agent.`, { kind: 'task' });
  }
  const deadline = Date.now() + ctx.timeoutMs;
  const commands = solution.kind === 'script' ? [SOLVE_COMMAND] : solution.commands;
  if (solution.kind === 'script') await placeSolution(sandbox, solution.dir);

  let last: ExecResult | undefined;
  const transcript: string[] = [];
  for (const command of commands) {
    ctx.emit({ type: 'agent.command', command });
    last = await sandbox.exec(command, {
      cwd: task.environment.workdir,
      ...(ctx.identity.user ? { user: ctx.identity.user } : {}),
      ...(solution.kind === 'script' ? { env: solutionEnv(solution.env) } : {}),
      timeoutMs: Math.max(1, deadline - Date.now()),
      onOutput: (chunk, stream) => ctx.emit({ type: 'agent.output', stream, text: chunk }),
    });
    transcript.push(`$ ${command}\n${last.stdout}${last.stderr}[exit ${last.exitCode}${last.timedOut ? ', timed out' : ''}]\n`);
    ctx.emit({ type: 'agent.command.end', exitCode: last.exitCode, timedOut: last.timedOut, ...(last.signal ? { signal: last.signal } : {}), durationMs: last.durationMs });
    if (last.exitCode !== 0 || last.timedOut) break;
  }
  await writeFile(join(ctx.logDir, `oracle-attempt-${ctx.attempt}.txt`), transcript.join('\n'));
  return { finalMessage: last?.stdout.trim(), exitCode: last?.exitCode, timedOut: last?.timedOut ?? false, ...(last?.signal ? { signal: last.signal } : {}) };
}

/** Where a Harbor solution's directory goes in the sandbox. */
export const SOLUTION_DIR = '/solution';
/** How Harbor runs it: the script itself (its own shebang), under bash. */
export const SOLVE_COMMAND = `bash -c ${SOLUTION_DIR}/solve.sh`;

/** The solution's environment as Harbor gives it: non-interactive apt, then the task's `[solution].env`. */
export function solutionEnv(env: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { DEBIAN_FRONTEND: 'noninteractive', ...env };
}

/**
 * The solution's whole directory at /solution (solve.sh and its helper files), owned by root
 * as a `docker cp` would leave it, with solve.sh made executable as Harbor does.
 */
export async function placeSolution(sandbox: Sandbox, dir: string): Promise<void> {
  await sandbox.upload(dir, SOLUTION_DIR);
  const chmod = await sandbox.exec(['chmod', '+x', `${SOLUTION_DIR}/solve.sh`], { user: 'root' });
  if (chmod.exitCode !== 0) throw new AgentError('CB_AGENT_FAILED', `Could not make ${SOLUTION_DIR}/solve.sh executable: ${chmod.stderr.trim()}`, { kind: 'infra' });
}
