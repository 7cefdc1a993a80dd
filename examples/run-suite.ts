// Run a small suite defined in code, from a program: two tasks made with defineTask, solved by
// the `oracle` agent (it runs each task's reference solution), one of them scored by a
// function. The program prints typed results and decides its own exit code.
//
//   npx tsx --tsconfig examples/tsconfig.json examples/run-suite.ts [out-dir]
//
// Needs a Docker engine and the image cagebench/sandbox:bookworm (scripts/setup.sh builds it).
import { defineScorer, defineTask, installExitHandlers, run, type RunOutcome } from 'cagebench';

// Ctrl-C removes the live sandboxes before the process ends. run() never installs signal
// handlers itself: the program decides.
installExitHandlers();

// A scorer in code: it runs after the agent stops, in the sample's live sandbox.
const sumIsRight = defineScorer(async ({ sandbox, workdir }) => {
  const out = await sandbox.exec('bash sum.sh 1 2 3', { cwd: workdir });
  const got = out.stdout.trim();
  return { value: got === '6' ? 1 : 0, passed: got === '6', explanation: `bash sum.sh 1 2 3 printed ${JSON.stringify(got)}` };
});

const tasks = [
  defineTask({
    id: 'write-greeting',
    instruction: 'Create greeting.txt in the working directory containing the line `hello world`.',
    environment: { image: 'cagebench/sandbox:bookworm', network: 'none' },
    // A scorer as a suite file writes it.
    scorer: { type: 'file', path: 'greeting.txt', equals: 'hello world\n' },
    solution: "printf 'hello world\\n' > greeting.txt",
  }),
  defineTask({
    id: 'fix-sum',
    instruction: '`bash sum.sh 1 2 3` should print 6. Fix sum.sh.',
    environment: { image: 'cagebench/sandbox:bookworm', network: 'none' },
    files: { 'sum.sh': 'total=0\nfor n in "$@"; do total=$n; done\necho "$total"\n' },
    scorer: sumIsRight,
    solution: "sed -i 's/total=\\$n/total=$((total + n))/' sum.sh",
  }),
];

const outcome: RunOutcome = await run({
  tasks,
  agent: 'oracle',
  out: process.argv[2] ?? 'runs',
  concurrency: 2,
});

// summary.json's content, typed (SummaryRecord).
const { counts, score, passAtK, timings } = outcome.summary;
console.log(`run directory: ${outcome.runDir}`);
console.log(`pass ${counts.pass}, fail ${counts.fail}, error ${counts.error} of ${counts.total}`);
console.log(`mean score ${score.mean.toFixed(2)} ± ${score.stderr.toFixed(2)} (n=${score.n}), pass@1 ${passAtK['1']?.toFixed(2)}`);
console.log(`took ${(timings.durationMs / 1000).toFixed(1)} s`);
for (const reason of outcome.reasons) console.log(`note: ${reason}`);

// cagebench never exits for you: 0 ok, 1 under failUnder, 4 sample errors, 130 interrupted.
process.exitCode = outcome.exitCode;
