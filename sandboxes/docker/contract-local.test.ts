// The conformance suite against the local Docker engine, which declares no gaps.
import { LABEL_RUN } from '../labels.ts';
import { sandboxContract } from '../contract.ts';
import { connectEngine } from './client.ts';
import { createDockerProvider } from './provider.ts';

sandboxContract('docker (local)', async () => {
  const engine = await connectEngine();
  const provider = await createDockerProvider({ engine, teardownOnExit: false });
  return {
    provider,
    image: 'debian:bookworm-slim',
    gaps: [],
    close: async () => undefined,
    removeVolume: (name) => provider.volumes.remove(name),
    async leftovers(runId) {
      const filters = JSON.stringify({ label: [`${LABEL_RUN}=${runId}`] });
      const containers = await engine.docker.listContainers({ all: true, filters });
      const networks = await engine.docker.listNetworks({ filters });
      return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`)];
    },
  };
});
