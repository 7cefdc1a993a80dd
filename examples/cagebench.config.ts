// A typed config file: any run option, checked by the compiler here and by cagebench when it
// loads. Paths in it are relative to this file; flags given on the command line win over it.
//
//   cagebench run --config examples/cagebench.config.ts
//   cagebench run --config examples/cagebench.config.ts --epochs 1 --agent oracle
//
// Named cagebench.config.ts in the working directory, it is found without --config.
// From this clone (no build): TSX_TSCONFIG_PATH=examples/tsconfig.json node bin/cagebench.js run --config examples/cagebench.config.ts
import { defineConfig, defineFilter, defineScorer } from 'cagebench';

export default defineConfig({
  paths: ['../tasks/suites/smoke.yaml'],
  // Only the tasks whose id matches this glob.
  task: 'write-greeting',
  // Claude Code, downloaded once into the agent cache, driven by the scripted model `mock/solve`
  // (it runs the task's reference solution through the agent's shell tool): no API key needed.
  // For a real model: `model: 'anthropic/claude-sonnet-4-5'` with ANTHROPIC_API_KEY set.
  agent: 'claude_code',
  model: 'mock/solve',
  epochs: 2,
  // Scores every sample in place of its task's own scorer, in the sample's sandbox.
  scorer: defineScorer(async ({ sandbox, workdir }) => {
    const out = await sandbox.exec(['cat', 'greeting.txt'], { cwd: workdir });
    return { value: out.stdout === 'hello world\n' ? 1 : 0, passed: out.stdout === 'hello world\n', explanation: `greeting.txt: ${JSON.stringify(out.stdout)}` };
  }),
  // Runs on every model call the agent makes, before it goes upstream: it may change the
  // request, answer it itself ({ response }), or return nothing to leave it as it is.
  filter: defineFilter((request) => ({ ...request, config: { ...request.config, temperature: 0 } })),
  tokenLimit: 200_000,
});
