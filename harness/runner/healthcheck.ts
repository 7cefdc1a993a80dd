// The task's healthcheck (Harbor `[environment].healthcheck`), waited for after the sandbox
// starts and before the agent does, with Harbor's rules: the first success passes; failures
// in the start period do not count; `retries` failures in a row after it make the
// environment unhealthy; a try that outlives its timeout ends the wait at once.
import { setTimeout as delay } from 'node:timers/promises';
import type { Sandbox } from '../../sandboxes/index.ts';
import type { Healthcheck } from '../../tasks/index.ts';
import { CagebenchError } from '../errors.ts';

export interface HealthcheckRun {
  readonly sandbox: Sandbox;
  readonly check: Healthcheck;
  readonly workdir: string | undefined;
  readonly taskId: string;
  /** Past it the wait stops whatever the rules say (the set-up's own timeout). */
  readonly deadline: number;
  readonly emit: (type: string, fields: Record<string, unknown>) => void;
  /** Scales the check's own durations (the run's timeout multiplier). @default 1 */
  readonly scale?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function waitHealthy(run: HealthcheckRun): Promise<void> {
  const { sandbox, check, taskId } = run;
  const ms = (sec: number): number => Math.round(sec * (run.scale ?? 1) * 1000);
  const sleep = run.sleep ?? ((t: number) => delay(t));
  const started = Date.now();
  let failures = 0;
  for (let attempt = 1; ; attempt++) {
    // As the image's USER, in the workdir: Harbor's default for this exec.
    const result = await sandbox.exec(check.command, { ...(run.workdir ? { cwd: run.workdir } : {}), timeoutMs: ms(check.timeoutSec) });
    const inStart = Date.now() - started < ms(check.startPeriodSec);
    run.emit('healthcheck', { attempt, exitCode: result.exitCode, timedOut: result.timedOut, durationMs: result.durationMs, ...(inStart ? { startPeriod: true } : {}) });
    if (result.timedOut) {
      throw new CagebenchError('CB_HEALTHCHECK_FAILED', 'task', `Task ${taskId}: the healthcheck \`${check.command}\` did not finish within its timeout_sec (${check.timeoutSec} s).`);
    }
    if (result.exitCode === 0) return;
    if (!inStart && ++failures >= check.retries) {
      const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-10).join('\n');
      throw new CagebenchError(
        'CB_HEALTHCHECK_FAILED',
        'task',
        `Task ${taskId}: the environment never became healthy: \`${check.command}\` failed ${failures} times in a row (last exit code ${result.exitCode})${tail ? `:\n${tail}` : ''}`,
      );
    }
    const pause = ms(inStart ? check.startIntervalSec : check.intervalSec);
    if (Date.now() + pause > run.deadline) {
      throw new CagebenchError('CB_SETUP_TIMEOUT', 'timeout', `Task ${taskId}: the healthcheck \`${check.command}\` had not passed when the set-up time ran out (${attempt} tries).`);
    }
    await sleep(pause);
  }
}
