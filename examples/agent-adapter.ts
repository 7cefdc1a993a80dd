// A custom agent: an AgentAdapter object handed to run() as `agent`. This one needs no model:
// it runs a shell command in the sample's sandbox (a real adapter would start an agent CLI
// there and give it ctx.model's base URL and token). The harness starts the sandbox, places
// the task's files, scores after every stop and removes the sandbox.
//
//   npx tsx --tsconfig examples/tsconfig.json examples/agent-adapter.ts [out-dir]
//
// Needs a Docker engine and the image cagebench/sandbox:bookworm (scripts/setup.sh builds it).
import { defineTask, installExitHandlers, run, type AgentAdapter, type AttemptContext, type AttemptResult } from 'cagebench';

installExitHandlers();

/** An agent that runs `command` in the task's workdir, as the task's user, within its time. */
function shellAgent(command: string): AgentAdapter {
  return {
    name: 'shell',
    // No model: the run opens no bridge and needs no `model`.
    needsModel: false,
    async run(ctx: AttemptContext): Promise<AttemptResult> {
      ctx.emit({ type: 'agent.command', command }); // recorded in the sample's events.jsonl
      const result = await ctx.sandbox.exec(command, {
        cwd: ctx.task.environment.workdir,
        ...(ctx.identity.user ? { user: ctx.identity.user } : {}),
        timeoutMs: ctx.timeoutMs,
        onOutput: (text, stream) => ctx.emit({ type: 'agent.output', stream, text }),
      });
      // A non-zero exit is a result, not an error: the scorer decides pass or fail.
      return { finalMessage: result.stdout.trim(), exitCode: result.exitCode, timedOut: result.timedOut };
    },
    // No `continue`: this agent cannot go on after an incorrect attempt.
  };
}

const outcome = await run({
  tasks: [
    defineTask({
      id: 'count-words',
      instruction: 'How many words does words.txt hold? Answer with the number only.',
      files: { 'words.txt': 'one two three four five\n' },
      // The `answer` scorer reads the agent's final message.
      scorer: { type: 'answer', matches: '^5$' },
    }),
  ],
  agent: shellAgent('wc -w < words.txt'),
  out: process.argv[2] ?? 'runs',
});

const { counts, score } = outcome.summary;
console.log(`agent shell: pass ${counts.pass}, fail ${counts.fail}, error ${counts.error} of ${counts.total}; mean score ${score.mean}`);
console.log(`run directory: ${outcome.runDir}`);
process.exitCode = outcome.exitCode;
