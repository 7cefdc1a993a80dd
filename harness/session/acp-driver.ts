// The `acp` driver: the agent held open as an Agent Client Protocol agent over `docker exec
// -i` (the sandbox's spawn: stdin open, stdout the protocol, stderr to the session's events),
// spoken to with the official @agentclientprotocol/sdk client (acp-client.ts). The agent is
// started on the first turn, configured as its headless adapter configures it (acp-launch.ts),
// and one ACP session carries every turn. An agent that dies, or does not end a cancelled
// turn, is ended; the next turn starts it again and continues its session (its own
// session/resume or session/load) when it can.
import * as acp from '@agentclientprotocol/sdk';
import { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { AgentError, agentCwd, isHeadlessAgent, placeLaunch, type AttemptResult } from '../../agents/index.ts';
import type { SandboxProcess } from '../../sandboxes/index.ts';
import { ConfigError } from '../errors.ts';
import { connectAcp, errorText, type AcpClient, type PermissionAnswer } from './acp-client.ts';
import { acpBuilds, acpLaunch } from './acp-launch.ts';
import { gateRequest } from './acp-permission.ts';
import type { DriverOptions, SessionDriver, TurnContext } from './driver.ts';

export { acpBuilds } from './acp-launch.ts';

/** After stdin is closed, how long the agent has to exit before it is killed. */
const EXIT_GRACE_MS = 3_000;
/** Lines of the agent's stderr kept for an error message. */
const STDERR_TAIL = 20;

interface Live {
  readonly proc: SandboxProcess;
  readonly client: AcpClient;
  readonly stderr: string[];
}

export async function acpDriver(options: DriverOptions): Promise<SessionDriver> {
  const { agent, env, emit, gate } = options;
  const builds = acpBuilds(agent.name);
  if (!isHeadlessAgent(agent)) throw new ConfigError(`The acp driver configures ${agent.name} as its own adapter does; give the agent by name.`);
  const missing = builds.filter((b) => !env.installed?.[b]);
  if (missing.length) {
    throw new ConfigError(`The acp driver for ${agent.name} needs the builds ${missing.join(', ')} in the sandbox: open the session's environment with builds: acpBuilds('${agent.name}') (${builds.join(', ')}).`);
  }
  const sandbox = env.sandbox;
  if (!sandbox.spawn) throw new ConfigError(`The acp driver needs a sandbox that can hold a process open (spawn); this provider's sandboxes cannot. Use driver: 'headless'.`);
  const spawn = sandbox.spawn.bind(sandbox);
  let live: Live | undefined;
  let state = options.previous;
  /** The agent's session: a restarted agent continues it, even when no turn of it ended well. */
  let sessionId = options.previous?.sessionId;

  const stderrText = (l: Live): string => {
    const text = l.stderr.join('').trim().split('\n').slice(-STDERR_TAIL).join('\n');
    return text ? `; its stderr ends:\n${text}` : '; it printed nothing on stderr';
  };

  const start = async (ctx: TurnContext): Promise<Live> => {
    const launch = await acpLaunch(agent, ctx);
    await placeLaunch(ctx, launch.place, agent.options);
    const cwd = agentCwd(ctx, agent.options) ?? env.cwd;
    const user = ctx.identity.user;
    ctx.emit({ type: 'agent.command', argv: launch.argv, cwd, ...(user ? { user } : {}), uid: ctx.identity.uid, home: ctx.identity.home, driver: 'acp' });
    const proc = await spawn(launch.argv, { cwd, env: { ...launch.env, ...agent.options.env }, ...(user ? { user } : {}) });
    const stderr: string[] = [];
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (text: string) => {
      emit('agent.output', { stream: 'stderr', text });
      stderr.push(text);
      if (stderr.length > STDERR_TAIL * 4) stderr.splice(0, stderr.length - STDERR_TAIL * 4);
    });
    const stream = acp.ndJsonStream(Writable.toWeb(proc.stdin) as WritableStream<Uint8Array>, Readable.toWeb(proc.stdout) as ReadableStream<Uint8Array>);
    const client = connectAcp(stream, {
      emit: ({ type, ...fields }) => emit(type, fields),
      // The session's gate decides (hooks, rules, a person's confirm); a cancelled turn's parked requests are answered `cancelled`.
      decide: async (request): Promise<PermissionAnswer> => {
        const decision = await gate.decide(gateRequest(request));
        return decision.by === 'cancel' ? 'cancel' : decision.approve ? 'approve' : 'reject';
      },
    });
    const started: Live = { proc, client, stderr };
    void proc.exited.then((exit) => {
      emit('agent.exit', { ...exit });
      client.close();
    });
    try {
      await client.open({ cwd, mcpServers: launch.mcpServers, ...(launch.meta ? { meta: launch.meta } : {}), ...(launch.mode ? { mode: launch.mode } : {}), ...(sessionId ? { resume: sessionId } : {}) });
      sessionId = client.sessionId;
    } catch (err) {
      await end(started);
      throw new AgentError('CB_AGENT_FAILED', `${agent.name} over ACP did not open a session: ${errorText(err)}${stderrText(started)}`, { cause: err });
    }
    return started;
  };

  /**
   * Close stdin (agents exit on it), then end what is left of its process tree: the agent if
   * it is still there, and what it started that outlived it (a killed adapter's CLI, a tool's command).
   */
  const end = async (l: Live): Promise<void> => {
    l.client.close();
    l.proc.stdin.end();
    await Promise.race([l.proc.exited, delay(EXIT_GRACE_MS, undefined, { ref: false })]);
    await l.proc.kill();
  };

  return {
    get state() {
      return state;
    },
    async turn(ctx) {
      if (live?.client.signal.aborted) {
        const dead = live;
        live = undefined;
        await end(dead);
      }
      live ??= await start(ctx);
      const current = live;
      let turn;
      try {
        turn = await current.client.prompt(ctx.prompt, { ...(ctx.signal ? { signal: ctx.signal } : {}), timeoutMs: ctx.timeoutMs, emit: ctx.emit, onCancel: () => gate.cancelAll() });
      } catch (err) {
        // The agent died or broke the protocol: the next turn starts it again.
        live = undefined;
        await end(current);
        const exit = await current.proc.exited;
        throw new AgentError('CB_AGENT_FAILED', `${agent.name} over ACP failed the turn (exit ${exit.exitCode}): ${errorText(err)}${stderrText(current)}`, { cause: err });
      }
      if (turn.abandoned) {
        // It did not end the turn after session/cancel: end it; the next turn resumes its session.
        live = undefined;
        await end(current);
      }
      const result: AttemptResult = {
        finalMessage: turn.finalMessage,
        stopReason: turn.stopReason,
        timedOut: turn.timedOut,
        ...(sessionId ? { sessionId } : {}),
      };
      state = result;
      return result;
    },
    async close() {
      const l = live;
      live = undefined;
      if (l) await end(l);
    },
  };
}
