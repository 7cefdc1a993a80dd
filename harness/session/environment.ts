// Where a session's agent lives: one sandbox from a task (or an image), the agent's builds in
// it, and a bridge session for its model calls. The same pieces a run's sample uses, held
// open across turns instead of for one attempt loop.
import type { AgentAdapter, AgentInSandbox, ModelAccess } from '../../agents/index.ts';
import { capabilityProblems, connectEngine, createDockerProvider, identityOf, type Identity, type Sandbox, type SandboxProvider } from '../../sandboxes/index.ts';
import type { Task } from '../../tasks/index.ts';
import { baseUrls, createBridge, type Bridge, type BridgeSession } from '../bridge/index.ts';
import { prepareBuilds, placeBuilds, type RunBuilds } from '../runner/builds.ts';
import { prepareTask } from '../runner/trial.ts';
import { taskNeeds } from '../runner/validate.ts';
import { ConfigError } from '../errors.ts';

export interface EnvironmentOptions {
  readonly sessionId: string;
  readonly agent: AgentAdapter;
  readonly task: Task;
  readonly model?: string;
  readonly agentVersion: string;
  readonly offline: boolean;
  readonly limits?: { readonly tokens?: number; readonly costUsd?: number; readonly requests?: number };
  /** The builds to place in the sandbox. @default agent.builds (the acp driver needs its adapters' too: acpBuilds) */
  readonly builds?: readonly string[];
  /** Skip the task's files and setup: the image already holds them (a resumed session). */
  readonly prepared?: boolean;
  readonly emit: (type: string, fields: Record<string, unknown>) => void;
}

export interface SessionEnvironment {
  readonly sandbox: Sandbox;
  readonly provider: SandboxProvider;
  readonly identity: Identity;
  /** The agent's working directory: the task's, else the container's. */
  readonly cwd: string;
  readonly installed?: Readonly<Record<string, AgentInSandbox>>;
  readonly model?: ModelAccess;
  readonly bridgeSession?: BridgeSession;
  /** Send the agent's calls to another `provider/model` from now on (a new bridge session). */
  reroute(model: string): void;
  close(): Promise<void>;
}

export async function openEnvironment(options: EnvironmentOptions): Promise<SessionEnvironment> {
  const { agent, task } = options;
  const engine = await connectEngine();
  const provider = await createDockerProvider({ engine });
  let bridge: Bridge | undefined;
  let sandbox: Sandbox | undefined;
  try {
    // A task asking for what the provider cannot do is refused before anything starts.
    const problems = capabilityProblems(taskNeeds(task, agent), provider.capabilities);
    if (problems.length) throw new ConfigError(`Task ${task.id} cannot run on ${provider.location}: ${problems.join('; ')}.`);
    bridge = agent.needsModel ? await createBridge({ host: '0.0.0.0' }) : undefined;
    const wanted = options.builds ?? agent.builds;
    const builds: RunBuilds | undefined = wanted?.length
      ? await prepareBuilds(wanted, { version: options.agentVersion, offline: options.offline, provider, log: (line) => options.emit('session.note', { line }) })
      : undefined;
    sandbox = await provider.start({
      source: task.environment.source,
      runId: `session-${options.sessionId}`,
      sampleId: options.sessionId,
      network: task.environment.network === 'bridge' ? 'bridge' : bridge ? 'model-only' : 'none',
      endpointPort: bridge?.port,
      limits: { cpus: task.environment.cpus, memoryMb: task.environment.memoryMb },
      mounts: builds?.mounts,
      ...(builds?.volumes.length ? { volumes: builds.volumes } : {}),
      workdir: task.environment.workdir,
      ...(task.environment.env ? { env: task.environment.env } : {}),
      ...(task.environment.runtime ? { runtime: task.environment.runtime } : {}),
    });
    const started = sandbox;
    options.emit('sandbox.start', { id: started.id.slice(0, 12), image: started.image });
    const log = { append: options.emit };
    const asked = options.prepared ? undefined : await prepareTask(started, task, task.environment.workdir, task.timeouts.setupSec * 1000, log);
    const cwd = task.environment.workdir ?? asked ?? (await started.exec('pwd')).stdout.trim();
    const identity = await identityOf(started, agent.user ?? task.agentUser);
    const installed = builds ? await placeBuilds(started, builds, identity, options.emit) : undefined;
    if (agent.needsModel && !options.model) throw new Error(`Agent ${agent.name} needs a model: give model: 'provider/model'.`);
    const openBridge = bridge;
    const endpoint = started.endpoint && `http://${started.endpoint.host}:${started.endpoint.port}`;
    const route = (target: string): { session: BridgeSession; access: ModelAccess | undefined } => {
      const session = openBridge!.open({
        sampleId: options.sessionId,
        model: target,
        aliases: { ...agent.modelAliases },
        limits: options.limits ?? {},
        onEvent: ({ type, ...fields }: { type: string; [k: string]: unknown }) => options.emit(type, fields),
      });
      return { session, access: endpoint ? { model: target, token: session.token, baseUrls: baseUrls(endpoint) } : undefined };
    };
    let routed = openBridge ? route(options.model!) : undefined;
    return {
      sandbox: started,
      provider,
      identity,
      cwd,
      ...(installed ? { installed } : {}),
      get model() {
        return routed?.access;
      },
      get bridgeSession() {
        return routed?.session;
      },
      reroute(target: string) {
        if (!openBridge || !routed) throw new Error(`Agent ${agent.name} uses no model.`);
        openBridge.closeSession(routed.session);
        routed = route(target);
        options.emit('session.model', { model: target });
      },
      async close() {
        if (routed) openBridge!.closeSession(routed.session);
        await started.stop().catch(() => undefined);
        await openBridge?.close();
        await provider[Symbol.asyncDispose]();
      },
    };
  } catch (err) {
    await sandbox?.stop().catch(() => undefined);
    await bridge?.close();
    await provider[Symbol.asyncDispose]();
    throw err;
  }
}
