// `run --driver acp`: any suite through the agents' ACP adapters. The agent is wrapped in an
// adapter whose attempts are turns of one ACP session per sample: the first attempt opens it
// with the task's instruction, a later one continues it with the incorrect-attempt message.
// Every tool call the agent asks about is allowed (a run has no one to ask); the adapter
// process ends with the sample's sandbox.
import type { AgentAdapter, AttemptContext, AttemptResult } from '../../agents/index.ts';
import type { Sandbox } from '../../sandboxes/index.ts';
import { acpBuilds, acpDriver } from './acp-driver.ts';
import type { SessionDriver } from './driver.ts';
import { PermissionGate } from './permissions.ts';

export function acpAgent(agent: AgentAdapter): AgentAdapter {
  const builds = acpBuilds(agent.name);
  const drivers = new WeakMap<Sandbox, SessionDriver>();
  const driverFor = async (ctx: AttemptContext): Promise<SessionDriver> => {
    const open = drivers.get(ctx.sandbox);
    if (open) return open;
    const cwd = ctx.task.environment.workdir ?? (await ctx.sandbox.exec('pwd')).stdout.trim();
    const emit = (type: string, fields: Record<string, unknown>): void => ctx.emit({ ...fields, type });
    const driver = await acpDriver({ agent, env: { sandbox: ctx.sandbox, cwd, ...(ctx.installed ? { installed: ctx.installed } : {}) }, gate: new PermissionGate([], {}, emit), emit });
    drivers.set(ctx.sandbox, driver);
    return driver;
  };
  return {
    ...agent,
    builds,
    async run(ctx): Promise<AttemptResult> {
      return (await driverFor(ctx)).turn({ ...ctx, prompt: ctx.task.instruction });
    },
    async continue(ctx): Promise<AttemptResult> {
      return (await driverFor(ctx)).turn({ ...ctx, prompt: ctx.message });
    },
  };
}
