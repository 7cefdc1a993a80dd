// The `acp` driver: an Agent Client Protocol adapter held open over `docker exec -i`, spoken
// to with the official @agentclientprotocol/sdk client. Not built yet: a session asking for
// it is refused before any sandbox starts.
import { ConfigError } from '../errors.ts';
import type { DriverOptions, SessionDriver } from './driver.ts';

export async function acpDriver(options: DriverOptions): Promise<SessionDriver> {
  throw new ConfigError(`The acp driver is not available yet for ${options.agent.name}; use driver: 'headless'.`);
}
