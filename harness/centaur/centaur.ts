// `cagebench centaur`: a person and the agent in one sandbox. The task's sandbox starts as a
// run's sample would (the agent's builds placed, a bridge session for its model calls); the
// person gets a shell there, recorded with `script`, where the agent's interactive command is
// an alias and `task submit|status|quit` talks to this process through files it polls. A
// submit is scored by the task's scorer in the live sandbox and written as a normal sample of
// a one-sample run directory (run.json, summary.json, result.json, events.jsonl).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createAgent, isHeadlessAgent, placeLaunch, type AttemptContext, type HeadlessAgent } from '../../agents/index.ts';
import type { Sandbox } from '../../sandboxes/index.ts';
import { createScorer, type Score, type ScoreContext } from '../../scorers/index.ts';
import type { Task } from '../../tasks/index.ts';
import { resolveConfig, type ResolvedConfig } from '../config.ts';
import { ConfigError, sampleError } from '../errors.ts';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_SAMPLE_ERRORS } from '../exit-codes.ts';
import { LOG_VERSION, type CentaurRecord, type ErrorRecord, type ModelUsageRecord, type ResultRecord, type RunRecord } from '../log/schema.ts';
import { writeTrajectory } from '../log/trajectory.ts';
import { EventLog, samplePaths, writeJsonAtomic } from '../log/writer.ts';
import { shellQuote } from '../models/providers/mock.ts';
import { sampleId } from '../runner/plan.ts';
import { buildSummary } from '../runner/run.ts';
import { graderClientOf, sampleGrader } from '../runner/grader.ts';
import { addUsage } from '../log/usage.ts';
import { scoreStep } from '../runner/scoring.ts';
import { runRecordHead, taskRefs } from '../log/run-record.ts';
import { checkGraders, checkRunInputs, loadSelectedTasks } from '../runner/validate.ts';
import { openEnvironment, type SessionEnvironment } from '../session/environment.ts';
import { CENTAUR_DIR, commandLine, IO, IO_DIR, RC_FILE, RECORDING_DIR, rcFile, shellArgs, TASK_SCRIPT, taskScript } from './shell.ts';

export interface CentaurOptions {
  /** A Harbor task dir or a suite file. */
  readonly task: string;
  /** Which task of `task`, when it holds several (an id or a glob matching one). */
  readonly taskId?: string;
  readonly agent: string;
  readonly agentOptions?: Readonly<Record<string, unknown>>;
  readonly model?: string;
  /** `provider/model` of a model_graded scorer's grader, when the task's names none. */
  readonly graderModel?: string;
  readonly agentVersion?: string;
  readonly offline?: boolean;
  /** @default ./runs */
  readonly out?: string;
  readonly runId?: string;
  /** Open the shell in this terminal (`docker exec -it`, stdio inherited); otherwise only print the line. */
  readonly attach: boolean;
  /** Where the person reads what happens (the line to paste, the score). */
  readonly output: NodeJS.WritableStream;
  /** Aborted on Ctrl-C/SIGTERM: the sandbox stops, nothing is scored. */
  readonly signal?: AbortSignal;
  /** How often the sandbox is looked at for a submit. @default 500 */
  readonly pollMs?: number;
}

export interface CentaurOutcome {
  readonly runDir: string;
  /** Absent when interrupted. */
  readonly result?: ResultRecord;
  readonly exitCode: number;
}

/** How long `task submit` gets to print the verdict before the sandbox (and the shell) stops. */
const VERDICT_GRACE_MS = 1_500;

export async function runCentaur(options: CentaurOptions): Promise<CentaurOutcome> {
  const config = resolveConfig({
    paths: [options.task],
    agent: options.agent,
    ...(options.agentOptions ? { agentOptions: options.agentOptions } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.graderModel ? { graderModel: options.graderModel } : {}),
    ...(options.agentVersion ? { agentVersion: options.agentVersion } : {}),
    ...(options.offline ? { offline: true } : {}),
    ...(options.out ? { out: options.out } : {}),
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.taskId ? { task: options.taskId } : {}),
  });
  const agent = createAgent(config.agentName, config.agentOptions);
  if (!isHeadlessAgent(agent) || !agent.interactive) {
    throw new ConfigError(`--agent ${agent.name} has no interactive command: centaur mode works with claude_code, codex_cli, gemini_cli and opencode.`);
  }
  await checkRunInputs(config, agent);
  const task = onlyTask(await loadSelectedTasks(config.paths, config.task), options);
  checkGraders([task], config);
  const runDir = join(config.out, config.runId);
  if (existsSync(join(runDir, 'run.json'))) throw new ConfigError(`Run directory ${runDir} already holds a run: choose another --run-id.`);
  await mkdir(runDir, { recursive: true });
  const record: RunRecord = {
    ...runRecordHead(config.runId),
    config: config.record,
    tasks: taskRefs([task]),
    mode: 'centaur',
  };
  await writeJsonAtomic(join(runDir, 'run.json'), record);
  return new Centaur(options, config, agent, task, runDir).run();
}

function onlyTask(tasks: readonly Task[], options: CentaurOptions): Task {
  if (tasks.length === 1) return tasks[0]!;
  const ids = tasks.map((t) => t.id);
  throw new ConfigError(`${options.task} holds ${tasks.length} tasks${options.taskId ? ` matching --task-id ${options.taskId}` : ''}: a centaur works one; choose it with --task-id (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}).`);
}

/** What the host saw in the sandbox at one look. */
interface Look {
  readonly started: boolean;
  readonly ended?: { readonly how: 'submit'; readonly answer: string } | { readonly how: 'quit' };
}

class Centaur {
  private readonly sampleId: string;
  private readonly paths: ReturnType<typeof samplePaths>;
  private events!: EventLog;
  private readonly startedAt = new Date();
  private shellStartedAt: number | undefined;
  private attached: ChildProcess | undefined;
  private graderUsage: ModelUsageRecord | undefined;
  private closeEnv: (() => Promise<void>) | undefined;
  /** Printed once the person's terminal is given back. */
  private farewell = '';

  constructor(
    private readonly options: CentaurOptions,
    private readonly config: ResolvedConfig,
    private readonly agent: HeadlessAgent,
    private readonly task: Task,
    private readonly runDir: string,
  ) {
    this.sampleId = sampleId(task.id, 1);
    this.paths = samplePaths(runDir, this.sampleId);
  }

  async run(): Promise<CentaurOutcome> {
    const { paths } = this;
    await Promise.all([paths.agent, paths.verifier].map((d) => mkdir(d, { recursive: true })));
    const events = (this.events = new EventLog(paths.events));
    events.append('sample.start', { sampleId: this.sampleId, taskId: this.task.id, epoch: 1, agent: this.agent.name, mode: 'centaur' });
    let env: SessionEnvironment | undefined;
    try {
      env = await openEnvironment({
        sessionId: this.config.runId,
        agent: this.agent,
        task: this.task,
        model: this.config.model,
        agentVersion: this.config.agentVersion,
        offline: this.config.offline,
        limits: this.config.bridge.limits,
        emit: (type, fields) => events.append(type, fields),
      });
      const opened = env;
      let closing: Promise<void> | undefined;
      this.closeEnv = () => (closing ??= opened.close().catch(() => undefined));
      if (this.options.signal?.aborted) return await this.interrupted(env);
      const line = await this.prepareShell(env);
      const environmentMs = Date.now() - this.startedAt.getTime();
      const look = await this.waitForPerson(env, line);
      if (!look) return await this.interrupted(env);
      return await this.finish(env, look, environmentMs);
    } catch (err) {
      if (this.options.signal?.aborted) return await this.interrupted(env);
      return await this.failed(env, err);
    } finally {
      await this.closeEnv?.();
      await this.detach();
      events.close();
      this.options.output.write(this.farewell);
    }
  }

  /** Place the agent's config, the rc file and `task`; the line that opens the person's shell. */
  private async prepareShell(env: SessionEnvironment): Promise<{ argv: string[]; recorded: 'sandbox' | 'host' | undefined }> {
    const { sandbox, identity } = env;
    const ctx: AttemptContext = {
      sandbox,
      task: this.task,
      attempt: 1,
      timeoutMs: this.task.timeouts.agentSec * 1000,
      logDir: this.paths.agent,
      emit: ({ type, ...fields }) => this.events.append(type, fields),
      ...(env.model ? { model: env.model } : {}),
      ...(env.installed ? { installed: env.installed } : {}),
      identity,
    };
    const launch = await this.agent.interactive!(ctx);
    await placeLaunch(ctx, launch, this.agent.options);
    await root(sandbox, ['mkdir', '-p', IO_DIR, RECORDING_DIR]);
    await sandbox.writeFile(RC_FILE, rcFile({ launch, taskId: this.task.id, model: this.config.model ?? '-' }), { mode: 0o644 });
    await sandbox.writeFile(TASK_SCRIPT, taskScript(), { mode: 0o755 });
    if (!identity.root) await root(sandbox, ['chown', '-R', identity.owner, CENTAUR_DIR]);
    const has = await sandbox.exec(['sh', '-c', 'for p in bash script; do command -v "$p" >/dev/null 2>&1 && echo "$p"; done'], identity.user ? { user: identity.user } : {});
    const found = new Set(has.stdout.split('\n').map((s) => s.trim()));
    const inSandbox = found.has('script');
    const argv = ['docker', ...shellArgs({ container: sandbox.id.slice(0, 12), ...(identity.user ? { user: identity.user } : {}), cwd: env.cwd, bash: found.has('bash'), script: inSandbox })];
    // Without `script` in the image, this terminal's session is recorded on the host instead.
    const onHost = !inSandbox && this.options.attach && hostHasScript();
    const recorded = inSandbox ? 'sandbox' : onHost ? 'host' : undefined;
    this.events.append('centaur.shell', { argv, alias: launch.alias, user: identity.user ?? null, cwd: env.cwd, recorded: recorded ?? null });
    return { argv, recorded };
  }

  /** Print the line (and attach), then look at the sandbox until `task submit` or `task quit`; undefined when interrupted. */
  private async waitForPerson(env: SessionEnvironment, shell: { argv: string[]; recorded: 'sandbox' | 'host' | undefined }): Promise<Look | undefined> {
    const out = this.options.output;
    const line = commandLine(shell.argv);
    out.write(`cagebench centaur: task ${this.task.id}, agent ${this.agent.name}, run ${this.runDir}\n`);
    out.write(`the shell (paste it in a terminal; 'task submit [ANSWER]' scores, 'task quit' ends without a score):\n  ${line}\n`);
    if (!shell.recorded) out.write(`note: the image has no 'script' (util-linux): the session is not recorded${this.options.attach ? " (nor on this host, which lacks it too)" : '; run centaur in a terminal to record it on the host'}\n`);
    if (this.options.attach) this.attach(shell.argv, shell.recorded === 'host');
    const pollMs = this.options.pollMs ?? 500;
    for (;;) {
      if (this.options.signal?.aborted) return undefined;
      const look = await this.look(env);
      if (look.started && this.shellStartedAt === undefined) {
        this.shellStartedAt = Date.now();
        this.events.append('centaur.shell_started', {});
      }
      if (look.ended) return look;
      if (this.attached && this.attached.exitCode !== null) {
        this.attached = undefined;
        out.write(`\ncagebench centaur: the shell closed without 'task submit' or 'task quit'; open it again with:\n  ${line}\n(Ctrl-C here stops the sandbox without a score)\n`);
      }
      await sleep(pollMs, this.options.signal);
    }
  }

  /** One look: write the status `task status` prints, read whether the person started, submitted or quit. */
  private async look(env: SessionEnvironment): Promise<Look> {
    const status = this.status(env);
    const script = [
      `d=${IO_DIR}`,
      `printf '%s\\n' "$1" > "$d/${IO.status}.tmp" && mv -f "$d/${IO.status}.tmp" "$d/${IO.status}"`,
      `[ -e "$d/${IO.started}" ] && echo started`,
      `if [ -e "$d/${IO.quit}" ]; then echo quit; elif [ -e "$d/${IO.answer}" ]; then echo answer; cat "$d/${IO.answer}"; fi`,
    ].join('\n');
    // Bounded: one look that hangs (an engine under load) must not stall the loop for good.
    const r = await env.sandbox.exec(['sh', '-c', script, 'sh', status], { user: 'root', timeoutMs: 15_000 });
    const text = r.stdout;
    const started = /^started$/m.test(text);
    if (/^quit$/m.test(text)) return { started, ended: { how: 'quit' } };
    const at = text.search(/^answer\n/m);
    if (at >= 0) return { started, ended: { how: 'submit', answer: text.slice(at + 'answer\n'.length) } };
    return { started };
  }

  /** What `task status` adds to the time it reckons itself: the task, and the agent's model use so far. */
  private status(env: SessionEnvironment): string {
    const totals = env.bridgeSession?.totals;
    const calls = totals ? `${totals.requests} model call(s), ${(totals.usage.inputTokens + totals.usage.outputTokens).toLocaleString('en-US')} tokens` : 'no model';
    return `task ${this.task.id} · ${this.agent.name}: ${calls}`;
  }

  private attach(argv: readonly string[], recordOnHost: boolean): void {
    const [cmd, ...args] = recordOnHost ? ['script', '-q', '-f', `--timing=${join(this.paths.dir, 'recording', 'timing')}`, join(this.paths.dir, 'recording', 'typescript'), '-c', argv.map(shellQuote).join(' ')] : argv;
    if (recordOnHost) mkdirSync(join(this.paths.dir, 'recording'), { recursive: true });
    this.attached = spawn(cmd!, args, { stdio: 'inherit' });
    this.attached.on('error', (err) => this.options.output.write(`cagebench centaur: could not start ${cmd}: ${err.message}; paste the line above in a terminal instead\n`));
  }

  /** Wait (a little) for the attached terminal to end, so it is restored before we print. */
  private async detach(): Promise<void> {
    const child = this.attached;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private async finish(env: SessionEnvironment, look: Look, environmentMs: number): Promise<CentaurOutcome> {
    const ended = look.ended!;
    const now = Date.now();
    const timeSpentMs = now - (this.shellStartedAt ?? now);
    this.events.append(ended.how === 'submit' ? 'centaur.submit' : 'centaur.quit', { ...(ended.how === 'submit' ? { answer: ended.answer } : {}), timeSpentMs });
    let score: Score | undefined;
    let error: ErrorRecord | undefined;
    let verifierMs = 0;
    if (ended.how === 'submit') {
      const scoreStarted = performance.now();
      try {
        const spec = this.task.scorer;
        score = await scoreStep({
          spec,
          scorer: createScorer(spec),
          extras: this.task.extraScorers ?? [],
          context: { sandbox: env.sandbox, answer: ended.answer, ...(this.task.environment.workdir ? { workdir: this.task.environment.workdir } : {}), timeoutMs: this.task.timeouts.verifierSec * 1000 },
          outputDir: this.paths.verifier,
          grading: async () => this.grading(),
          pool: (fn) => fn(),
        });
        this.events.append('score', { attempt: 1, value: score.value, values: score.values, passed: score.passed, explanation: score.explanation });
      } catch (err) {
        error = sampleError(err);
        this.events.append('score.error', { ...error });
      }
      verifierMs = Math.round(performance.now() - scoreStarted);
      const verdict = score ? `score ${score.value} (${score.passed ? 'pass' : 'fail'})${score.explanation ? `: ${firstLine(score.explanation)}` : ''}` : `no score: ${error!.message}`;
      await env.sandbox.writeFile(`${IO_DIR}/${IO.verdict}`, `${verdict}\nthe sandbox stops now; the run: ${this.runDir}\n`, { mode: 0o644 }).catch(() => undefined);
      await sleep(VERDICT_GRACE_MS);
    } else {
      error = { kind: 'agent', code: 'CB_CENTAUR_QUIT', message: `The person quit (task quit) after ${duration(timeSpentMs)} without submitting: no score.` };
    }
    const recording = await this.keepRecording(env.sandbox, look);
    const usage = usageOf(env);
    const centaur: CentaurRecord = { ended: ended.how, ...(ended.how === 'submit' ? { answer: ended.answer } : {}), timeSpentMs, recording };
    const result = { ...this.result({ score, error, usage, centaur, environmentMs, verifierMs, timeSpentMs }), ...(this.graderUsage ? { graderUsage: this.graderUsage } : {}) };
    await writeTrajectory(this.paths.dir, { instruction: this.task.instruction, sampleId: this.sampleId, agent: { name: this.agent.name, version: this.config.agentVersion }, model: this.config.model }).catch((err: unknown) =>
      this.events.append('trajectory.error', { error: sampleError(err).message }),
    );
    await writeJsonAtomic(this.paths.result, result);
    this.events.append('sample.end', { outcome: result.outcome, score: result.score, error });
    await writeJsonAtomic(join(this.runDir, 'summary.json'), buildSummary(this.config, this.agent.name, [result], 1, 'completed', this.startedAt));
    this.farewell = `\ncagebench centaur: ${ended.how === 'quit' ? 'quit, no score' : score ? `score ${score.value} (${score.passed ? 'pass' : 'fail'})` : `error: ${error!.message}`} · time spent ${duration(timeSpentMs)} · ${usage?.requests ?? 0} model call(s)\n  ${this.paths.result}\n`;
    // A quit is what the person asked for; a scorer that could not score is an error, as in a run.
    return { runDir: this.runDir, result, exitCode: ended.how === 'submit' && error ? EXIT_SAMPLE_ERRORS : EXIT_OK };
  }

  /** The recording from the sandbox (or the host's, already in place), before the sandbox goes. */
  private async keepRecording(sandbox: Sandbox, look: Look): Promise<CentaurRecord['recording']> {
    const where = (await sandbox.exec(['test', '-s', `${RECORDING_DIR}/typescript`], { user: 'root' })).exitCode === 0 ? 'sandbox' : existsSync(join(this.paths.dir, 'recording', 'typescript')) ? 'host' : undefined;
    if (!where) return { error: look.started ? "no recording: neither the image nor this host has 'script' (util-linux)" : 'no recording: the shell was never opened' };
    if (where === 'sandbox') {
      try {
        // The directory's contents land in recording/.
        const into = join(this.paths.dir, 'recording');
        await mkdir(into, { recursive: true });
        await sandbox.download(RECORDING_DIR, into);
        if (!existsSync(join(into, 'typescript'))) await sandbox.download(`${RECORDING_DIR}/typescript`, into);
      } catch (err) {
        return { error: `the recording could not be copied out of the sandbox: ${sampleError(err).message}` };
      }
    }
    return { typescript: 'recording/typescript', timing: 'recording/timing', where };
  }

  /** A model_graded scorer's question, log and the run's graders (their use kept apart from the agent's). */
  private grading(): Partial<ScoreContext> {
    const emit = (type: string, fields: Readonly<Record<string, unknown>>): void => this.events.append(type, { ...fields, attempt: 1 });
    const onUsage = (u: ModelUsageRecord): void => void (this.graderUsage = addUsage(this.graderUsage, u));
    return { question: this.task.instruction, emit, grader: sampleGrader(graderClientOf(this.config), { sampleId: this.sampleId, emit, onUsage }) };
  }

  private result(r: { score?: Score; error?: ErrorRecord; usage?: ModelUsageRecord; centaur: CentaurRecord; environmentMs: number; verifierMs: number; timeSpentMs: number }): ResultRecord {
    const endedAt = new Date();
    const { score, error } = r;
    const outcome = error ? 'error' : score!.passed ? 'pass' : 'fail';
    return {
      version: LOG_VERSION,
      sampleId: this.sampleId,
      taskId: this.task.id,
      suite: this.task.suite,
      epoch: 1,
      agent: this.agent.name,
      outcome,
      ...(outcome === 'pass' ? { passedAttempt: 1 } : {}),
      ...(score && !error ? { score: score.value, ...(score.values ? { values: score.values } : {}) } : {}),
      attempts: [
        {
          attempt: 1,
          ...(score ? { score: score.value, ...(score.values ? { values: score.values } : {}), explanation: score.explanation } : {}),
          passed: score?.passed ?? false,
          agent: { timedOut: false, durationMs: r.timeSpentMs, ...(r.centaur.answer !== undefined ? { finalMessage: r.centaur.answer } : {}) },
          ...(r.usage ? { modelUsage: r.usage } : {}),
          ...(r.verifierMs ? { verifierMs: r.verifierMs } : {}),
          ...(error ? { error } : {}),
        },
      ],
      ...(r.usage ? { usage: r.usage } : {}),
      ...(error ? { error } : {}),
      retries: 0,
      retriedErrors: [],
      centaur: r.centaur,
      timings: {
        startedAt: this.startedAt.toISOString(),
        endedAt: endedAt.toISOString(),
        durationMs: endedAt.getTime() - this.startedAt.getTime(),
        environmentMs: r.environmentMs,
        agentMs: r.timeSpentMs,
        verifierMs: r.verifierMs,
      },
    };
  }

  /** Ctrl-C or SIGTERM: the sandbox stops, no result is written; the summary says the run was interrupted. */
  private async interrupted(env: SessionEnvironment | undefined): Promise<CentaurOutcome> {
    this.events.append('sample.interrupted', { reason: 'signal' });
    await this.closeEnv?.();
    await writeJsonAtomic(join(this.runDir, 'summary.json'), { ...buildSummary(this.config, this.agent.name, [], 1, 'interrupted', this.startedAt), interruptedBy: 'signal' });
    this.farewell = `\ncagebench centaur: interrupted; the sandbox is stopped and nothing was scored (${this.runDir})\n`;
    return { runDir: this.runDir, exitCode: EXIT_INTERRUPTED };
  }

  /** The sandbox or the agent's set-up failed: an error result, as a run's sample would have. */
  private async failed(env: SessionEnvironment | undefined, err: unknown): Promise<CentaurOutcome> {
    const error = sampleError(err);
    this.events.append('sample.error', { ...error });
    const usage = env ? usageOf(env) : undefined;
    const now = Date.now();
    const result = this.result({ error, usage, centaur: { ended: 'quit', timeSpentMs: this.shellStartedAt ? now - this.shellStartedAt : 0, recording: { error: 'no recording: the session did not start' } }, environmentMs: now - this.startedAt.getTime(), verifierMs: 0, timeSpentMs: 0 });
    await writeJsonAtomic(this.paths.result, result);
    await writeJsonAtomic(join(this.runDir, 'summary.json'), buildSummary(this.config, this.agent.name, [result], 1, 'completed', this.startedAt));
    this.farewell = `\ncagebench centaur: error (${error.kind}): ${error.message}\n  ${this.paths.result}\n`;
    return { runDir: this.runDir, result, exitCode: EXIT_SAMPLE_ERRORS };
  }
}

function usageOf(env: SessionEnvironment): ModelUsageRecord | undefined {
  const t = env.bridgeSession?.totals;
  return t ? { requests: t.requests, ...t.usage, costUsd: t.costUsd } : undefined;
}

async function root(sandbox: Sandbox, argv: readonly string[]): Promise<void> {
  const r = await sandbox.exec(argv, { user: 'root' });
  if (r.exitCode !== 0) throw new Error(`centaur set-up: ${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
}

function hostHasScript(): boolean {
  return spawnSync('script', ['--version']).status === 0;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}

/** 192_000 → "3m 12s". */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
