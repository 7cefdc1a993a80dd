import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { checkRunOptions } from '../../harness/config-schema.ts';
import { flagOf, RUN_OPTIONS, type RunOptionKey } from '../../harness/options.ts';
import { addRunFlags, runFlagValues } from './run-flags.ts';

const keys = Object.keys(RUN_OPTIONS) as RunOptionKey[];
const flagged = keys.filter((k) => flagOf(k));

function parse(argv: string[]): Record<string, unknown> {
  const command = addRunFlags(new Command('run').exitOverride().argument('[paths...]'));
  command.parse(argv, { from: 'user' });
  return runFlagValues(command.opts());
}

describe('run flags come from the option table', () => {
  it('every option with a flag is a flag of `run`, named after its key', () => {
    const command = addRunFlags(new Command('run'));
    const longs = command.options.map((o) => o.long);
    expect(longs.sort()).toEqual(flagged.map((k) => flagOf(k)!).sort());
    expect(flagOf('maxErrors')).toBe('--max-errors');
    expect(flagOf('buildConcurrency')).toBe('--build-concurrency');
    expect(flagOf('agentOptions')).toBe('--agent-opt');
  });

  it('values arrive under the option keys, typed: numbers, lists, maps and agent options', () => {
    const values = parse(['--epochs', '3', '--fail-under', '0.5', '--pass-env', 'A', '--pass-env', 'B', '--model-alias', 'x=mock/echo', '--agent-opt', 'debug=true', '--offline', '--build-concurrency', '1']);
    expect(values).toEqual({ epochs: 3, failUnder: 0.5, passEnv: ['A', 'B'], modelAliases: { x: 'mock/echo' }, agentOptions: { debug: true }, offline: true, buildConcurrency: 1 });
    expect(parse(['--tools', 'a.ts', '--tools', 'b.js', '--tool-limit', '5'])).toEqual({ tools: ['a.ts', 'b.js'], toolLimit: 5 });
  });

  it('every bad flag is reported at once, by its flag, with what is allowed and what was given', () => {
    const values = parse(['--epochs', '0', '--fail-under', 'abc', '--pass-env', 'NOT-A-NAME', '--model', 'gpt', '--run-id', '../x']);
    let message = '';
    try {
      checkRunOptions(values, { file: 'the command line', flags: true });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      '--model must look like provider/model, e.g. mock/echo (got "gpt")',
      '--epochs must be an integer >= 1 (got 0)',
      '--run-id may hold letters, digits, \'.\', \'_\' and \'-\' only (got "../x")',
      '--pass-env takes variable names (letters, digits and _) (got "NOT-A-NAME")',
      '--fail-under must be a score between 0 and 1 (got "abc")',
    ]);
  });

  it('the README names every flag', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(flagged.map((k) => flagOf(k)!).filter((flag) => !readme.includes(flag))).toEqual([]);
  });
});
