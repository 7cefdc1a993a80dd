// Pool throughput: the same run on one engine and on a pool of two local engines at the same
// total concurrency, in samples per minute. The second engine is a throw-away dockerd with
// its own data-root and network namespace (harness/e2e/second-engine.ts), given the sandbox
// image; the suite is tasks/suites/smoke.yaml (network none) repeated over epochs. Rounds
// alternate which side goes first, so drift in the machine's load hits both.
//
//   npm run bench:pool -- --rounds 3 --epochs 4 --concurrency 4
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveInteger, readFlags, runMain } from './cli.ts';
import { run } from '../harness/index.ts';
import { startSecondEngine } from '../harness/e2e/second-engine.ts';
import { median, round } from './stats.ts';

const USAGE = 'Usage: npm run bench:pool -- [--rounds 3] [--epochs 4] [--concurrency 4] [--json]';
const SUITE = fileURLToPath(new URL('../tasks/suites/smoke.yaml', import.meta.url));
const MAIN = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';

interface Side {
  readonly name: 'one engine' | 'two engines';
  readonly walls: number[];
  readonly perMinute: number[];
}

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2), { rounds: { type: 'string' }, epochs: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, USAGE);
  const rounds = flags.rounds ? positiveInteger('rounds', flags.rounds) : 3;
  const epochs = flags.epochs ? positiveInteger('epochs', flags.epochs) : 4;
  const concurrency = flags.concurrency ? positiveInteger('concurrency', flags.concurrency) : 4;
  if (concurrency < 2) throw new Error('--concurrency must be 2 or more: the pool splits it over two engines');
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const second = await startSecondEngine({ images: ['cagebench/sandbox:bookworm'] });
  const out = await mkdtemp(join(tmpdir(), 'cagebench-pool-'));
  const half = Math.floor(concurrency / 2);
  const sides: Record<Side['name'], Side> = {
    'one engine': { name: 'one engine', walls: [], perMinute: [] },
    'two engines': { name: 'two engines', walls: [], perMinute: [] },
  };
  const once = async (side: Side): Promise<void> => {
    const runId = `bench-${randomBytes(3).toString('hex')}-pool`;
    const engines = side.name === 'two engines' ? [`${MAIN},capacity=${concurrency - half}`, `${second.host},capacity=${half}`] : undefined;
    const t0 = performance.now();
    const outcome = await run({ paths: [SUITE], agent: 'oracle', epochs, concurrency, out, runId, ...(engines ? { engines } : {}) });
    const ms = performance.now() - t0;
    const n = outcome.summary.counts.total;
    if (outcome.exitCode !== 0 || outcome.summary.counts.pass !== n) throw new Error(`${side.name}: run ${runId} ended exit ${outcome.exitCode}, ${JSON.stringify(outcome.summary.counts)}`);
    side.walls.push(ms);
    side.perMinute.push((n / ms) * 60_000);
    log(`  ${side.name}: ${n} samples in ${(ms / 1000).toFixed(1)} s, ${((n / ms) * 60_000).toFixed(1)}/min${outcome.summary.engines ? ` ${JSON.stringify(outcome.summary.engines)}` : ''}`);
  };
  try {
    log(`pool throughput: smoke.yaml × ${epochs} epochs, concurrency ${concurrency} (pool ${concurrency - half} + ${half}), ${rounds} rounds, load ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores`);
    // Untimed: the first run on each side warms the engines' caches.
    await run({ paths: [SUITE], agent: 'oracle', epochs: 1, concurrency, out, runId: `bench-${randomBytes(3).toString('hex')}-warm`, engines: [`${MAIN},capacity=${concurrency - half}`, `${second.host},capacity=${half}`] });
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [sides['one engine'], sides['two engines']] : [sides['two engines'], sides['one engine']];
      for (const side of order) await once(side);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
    await second.dispose();
  }
  const one = median(sides['one engine'].perMinute);
  const two = median(sides['two engines'].perMinute);
  const report = {
    command: ['npm run bench:pool', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    samplesPerRun: 7 * epochs,
    concurrency,
    rounds,
    oneEngine: { medianPerMinute: round(one), runs: sides['one engine'].perMinute.map((x) => round(x)) },
    twoEngines: { medianPerMinute: round(two), runs: sides['two engines'].perMinute.map((x) => round(x)) },
    ratio: round(two / one, 3),
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(
      [
        `one engine,  concurrency ${concurrency}: ${report.oneEngine.medianPerMinute} samples/min (median; runs ${report.oneEngine.runs.join(', ')})`,
        `two engines, ${concurrency - half} + ${half}: ${report.twoEngines.medianPerMinute} samples/min (median; runs ${report.twoEngines.runs.join(', ')})`,
        `two / one: ×${report.ratio}`,
        '',
      ].join('\n'),
    );
  }
}

runMain(main, USAGE);
