// Before any sample runs: start the agent once (`--version`) in a sandbox of each distinct
// image it will meet, as the user the task asks for, with the image's own environment. An
// agent that cannot start there (a missing shared library, a musl image without a build, a
// user that does not exist) stops the run with one error naming the agent, the image, the
// user and what it printed, instead of the same error in every sample.
import { pathWith, type AgentAdapter } from '../../agents/index.ts';
import { identityOf, type SandboxProvider } from '../../sandboxes/index.ts';
import type { Task } from '../../tasks/index.ts';
import { CagebenchError } from '../errors.ts';
import { placeBuilds, type RunBuilds } from './builds.ts';

export interface PreflightOptions {
  readonly provider: SandboxProvider;
  readonly agent: AgentAdapter;
  readonly builds: RunBuilds;
  readonly runId: string;
  readonly tasks: readonly Task[];
  /** Builds a task's image once (the run's build pool), before the check starts a sandbox of it. */
  readonly build: (task: Task) => Promise<void>;
  readonly log: (line: string) => void;
}

/** One check per (image, user); throws CB_AGENT_PREFLIGHT for the first that fails. */
export async function preflight(options: PreflightOptions): Promise<void> {
  const { agent, provider, builds } = options;
  // `--agent-version auto|sandbox` look for the agent in the sandbox after the task's set-up,
  // which a preflight does not run: each sample checks for itself.
  if (!agent.versionCommand || builds.lookup) return;
  const seen = new Map<string, Task>();
  for (const task of options.tasks) {
    const key = JSON.stringify([task.environment.source, agent.user ?? task.agentUser ?? null]);
    if (!seen.has(key)) seen.set(key, task);
  }
  let n = 0;
  for (const task of seen.values()) {
    const where = describeSource(task);
    const user = agent.user ?? task.agentUser;
    const who = user ?? "the image's USER";
    // What is the task's to get right (its image builds, its user exists) is left to its
    // samples, which report it as a task error: only the agent's own start is checked here.
    const ready = await prepare(options, task, ++n).catch((err: unknown) => {
      options.log(`preflight: skipped ${where} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); its samples will say why`);
      return undefined;
    });
    if (!ready) continue;
    await using sandbox = ready.sandbox;
    // The agent's builds for this image's platform (a musl image gets the -musl ones, if any).
    const installed = await placeBuilds(sandbox, builds, ready.identity, () => undefined).catch((err: unknown) => {
      throw new CagebenchError('CB_AGENT_PREFLIGHT', 'task', `${agent.name} cannot start on ${where} as ${who} (task ${task.id}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    const argv = await agent.versionCommand({ sandbox, installed, identity: ready.identity });
    const path = Object.values(installed).reduce((soFar, build) => pathWith(build, soFar), ready.identity.path);
    const result = await sandbox.exec(argv, { ...(user ? { user } : {}), env: { PATH: path }, timeoutMs: 60_000 });
    if (result.exitCode !== 0 || result.timedOut) {
      const said = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-5).join('\n') || '(nothing on stdout or stderr)';
      throw new CagebenchError(
        'CB_AGENT_PREFLIGHT',
        'task',
        `${agent.name} cannot start on ${where} as ${who} (task ${task.id}): \`${argv.join(' ')}\` ${result.timedOut ? 'did not finish within 60 s' : `exited ${result.exitCode}`}:\n${said}`,
      );
    }
    options.log(`preflight: ${agent.name} starts on ${where} as ${who} (${result.stdout.trim().split('\n')[0]})`);
  }
}

async function prepare(options: PreflightOptions, task: Task, n: number) {
  await options.build(task);
  const sandbox = await options.provider.start({
    source: task.environment.source,
    runId: options.runId,
    sampleId: `preflight-${n}`,
    network: 'none',
    mounts: options.builds.mounts,
    ...(options.builds.volumes.length ? { volumes: options.builds.volumes } : {}),
    ...(task.environment.workdir ? { workdir: task.environment.workdir } : {}),
    ...(task.environment.env ? { env: task.environment.env } : {}),
  });
  try {
    return { sandbox, identity: await identityOf(sandbox, options.agent.user ?? task.agentUser) };
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
}

function describeSource(task: Task): string {
  const source = task.environment.source;
  return 'image' in source ? `image ${source.image}` : `the image built from ${source.dockerfile}`;
}
