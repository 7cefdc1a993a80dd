// DOCKER_HOST as the engine address: the forms that work, and one clear error for the rest.
import { describe, expect, it } from 'vitest';
import { connectEngine, parseEngineAddress } from './client.ts';

describe('parseEngineAddress', () => {
  it('takes unix:// sockets and tcp:// (or http://) host:port, 2375 by default', () => {
    expect(parseEngineAddress('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(parseEngineAddress('tcp://10.0.0.5:2376')).toEqual({ host: '10.0.0.5', port: 2376, protocol: 'http' });
    expect(parseEngineAddress('tcp://engine')).toEqual({ host: 'engine', port: 2375, protocol: 'http' });
    expect(parseEngineAddress('http://127.0.0.1:2375/')).toEqual({ host: '127.0.0.1', port: 2375, protocol: 'http' });
    expect(parseEngineAddress('tcp://[::1]:2375')).toEqual({ host: '::1', port: 2375, protocol: 'http' });
  });

  it.each([
    ['bogus://x', 'has an unsupported scheme "bogus://"'],
    ['ssh://user@host', 'has an unsupported scheme "ssh://"'],
    ['tcp://', 'is not a valid host:port'],
    ['tcp://host:notaport', 'is not a valid host:port'],
    ['tcp://host:2375/path', 'has more than a host and port'],
    ['unix://', 'does not name a socket by its absolute path'],
    ['docker.sock', 'is not an address'],
  ])('refuses %s: it %s, and says which forms work', (address, why) => {
    let error: unknown;
    try {
      parseEngineAddress(address);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'CB_BAD_SPEC', kind: 'config' });
    const message = (error as Error).message;
    expect(message).toBe(`DOCKER_HOST=${address} ${why}. Use unix:///path/to/docker.sock or tcp://HOST:PORT (e.g. tcp://127.0.0.1:2375), or unset DOCKER_HOST for the default socket.`);
  });

  it('connectEngine refuses a malformed DOCKER_HOST before it tries to connect', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://host:notaport';
    try {
      await expect(connectEngine()).rejects.toMatchObject({ code: 'CB_BAD_SPEC', message: expect.stringContaining('DOCKER_HOST=tcp://host:notaport') });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
