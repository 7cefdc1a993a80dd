// How an error reaches a person: one line, an exit code, the stack only when asked for.
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { ConfigError } from '../../harness/errors.ts';
import { EXIT_INFRA, EXIT_USAGE, printError } from './shared.ts';

function capture(): PassThrough & { text: () => string } {
  const s = new PassThrough() as PassThrough & { text: () => string };
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  s.text = () => text;
  return s;
}

describe('printError', () => {
  it('our error: one line with its code, exit 2 for a config error, no stack', async () => {
    const out = capture();
    expect(printError(new ConfigError('--prices /x does not exist. Give a YAML map.'), {}, out)).toBe(EXIT_USAGE);
    await new Promise((r) => setImmediate(r));
    expect(out.text()).toBe('cagebench: error: --prices /x does not exist. Give a YAML map. [CB_CONFIG]\n');
  });

  it('an unexpected error: its message and a hint, no stack; exit 125', async () => {
    const out = capture();
    expect(printError(new TypeError('Cannot read properties of undefined'), {}, out)).toBe(EXIT_INFRA);
    await new Promise((r) => setImmediate(r));
    expect(out.text()).toBe('cagebench: error: Cannot read properties of undefined\ncagebench: this was not expected; CAGEBENCH_DEBUG=1 shows where it came from\n');
  });

  it('with CAGEBENCH_DEBUG=1: the stack, and the stacks of its causes', async () => {
    const out = capture();
    printError(new ConfigError('outer', { cause: new Error('inner') }), { CAGEBENCH_DEBUG: '1' }, out);
    await new Promise((r) => setImmediate(r));
    expect(out.text()).toMatch(/^cagebench: error: outer \[CB_CONFIG\]\nConfigError: outer\n\s+at .*\n[\s\S]*caused by: Error: inner\n\s+at /);
  });
});
