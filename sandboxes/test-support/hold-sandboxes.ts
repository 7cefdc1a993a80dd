// Test fixture run as a child process: start sandboxes for the run id in argv[2] (one of
// them model-only, so a network and a relay exist too), print READY, and wait forever.
// The parent then signals this process (or, with argv[3] = "crash", lets it crash on an
// uncaught exception) and checks that nothing is left.
import { createServer } from 'node:net';
import { createDockerProvider, installExitHandlers } from '../index.ts';

installExitHandlers(); // as the CLI does

const runId = process.argv[2]!;
const server = createServer((s) => s.end()).listen(0, '0.0.0.0');
await new Promise((r) => server.once('listening', r));
const port = (server.address() as { port: number }).port;
const provider = await createDockerProvider();
const spec = { source: { image: 'cagebench/sandbox:bookworm' }, runId };
await provider.start({ ...spec, sampleId: 'held-1' });
await provider.start({ ...spec, sampleId: 'held-2' });
await provider.start({ ...spec, sampleId: 'held-3', network: 'model-only', endpointPort: port });
process.stdout.write('READY\n');
if (process.argv[3] === 'crash') {
  setTimeout(() => {
    throw new Error('fixture crashed on purpose');
  }, 200);
}
setInterval(() => undefined, 60_000);
