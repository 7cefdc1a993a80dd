// How a session talks to its agent. `headless` runs the agent's CLI once per turn and
// continues its own session with the resume flags (the adapter's run/continue); `acp` keeps
// one Agent Client Protocol connection open over `docker exec -i` (harness/session/acp-driver.ts).
import type { AgentAdapter, AttemptContext, AttemptResult } from '../../agents/index.ts';
import { ConfigError } from '../errors.ts';
import type { SessionEnvironment } from './environment.ts';
import type { PermissionGate } from './permissions.ts';

/** What a turn is given: the adapter's attempt context (prompt in task.instruction), and the prompt. */
export interface TurnContext extends AttemptContext {
  readonly prompt: string;
}

export interface SessionDriver {
  /** One turn: resolves when the agent stops (or is cancelled through ctx.signal). */
  turn(ctx: TurnContext): Promise<AttemptResult>;
  /** What the next turn continues from, for save() and resumeSession. */
  readonly state?: AttemptResult;
  close(): Promise<void>;
}

export interface DriverOptions {
  readonly agent: AgentAdapter;
  /** What a driver needs of the environment: the sandbox, the working directory, the builds placed. */
  readonly env: Pick<SessionEnvironment, 'sandbox' | 'cwd' | 'installed'>;
  /** What a resumed session continues. */
  readonly previous?: AttemptResult;
  /** Decides the tool calls the agent asks about (rules, hooks, a person's confirm). */
  readonly gate: PermissionGate;
  readonly emit: (type: string, fields: Record<string, unknown>) => void;
}

export function headlessDriver(options: DriverOptions): SessionDriver {
  const { agent } = options;
  let previous = options.previous;
  return {
    get state() {
      return previous;
    },
    async turn(ctx) {
      let result: AttemptResult;
      if (!previous) result = await agent.run(ctx);
      else if (agent.continue) result = await agent.continue({ ...ctx, message: ctx.prompt, previous });
      else throw new ConfigError(`Agent ${agent.name} cannot continue a session: it answers one prompt only.`);
      // A cancelled turn is part of the agent's session too (it saw the prompt and began): the
      // next turn continues it, as an interactive agent does after an interrupt.
      if (result.sessionId) previous = result;
      return result;
    },
    async close() {},
  };
}
