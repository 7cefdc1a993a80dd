// The `run` command's flags, made from the one table of run options (harness/options.ts):
// a flag here is an option there, with the same name and the same rule. Parsing only turns
// text into numbers, lists and maps; the rule is checked once, with every other source's.
import { Option, type Command } from 'commander';
import { flagOf, RUN_OPTIONS, type OptionDef, type RunOptionKey } from '../../harness/options.ts';
import { agentOption, keyValue } from './shared.ts';

/** Add a flag for every run option that has one (or for `only` those). */
export function addRunFlags(command: Command, only?: readonly RunOptionKey[]): Command {
  for (const [key, def] of Object.entries(RUN_OPTIONS) as [RunOptionKey, OptionDef][]) {
    if (only && !only.includes(key)) continue;
    const flag = flagOf(key);
    if (!flag) continue;
    const option = new Option(def.arg ? `${flag} ${def.arg}` : flag, def.description + (def.defaultText ? ` (default ${def.defaultText})` : ''));
    option.attributeName = () => key;
    const rule = def.value;
    if (rule.type === 'choice') option.choices(rule.choices);
    else if (rule.type === 'int' || rule.type === 'number') option.argParser(toNumber);
    else if (rule.type === 'list' || rule.type === 'paths') option.argParser((v: string, prev: string[] = []) => [...prev, v]);
    else if (rule.type === 'map') option.argParser(keyValue);
    else if (rule.type === 'options') option.argParser(agentOption);
    command.addOption(option);
  }
  return command;
}

/** The run options the flags gave (commander's values, keyed by option name). */
export function runFlagValues(opts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(RUN_OPTIONS).filter((key) => opts[key] !== undefined).map((key) => [key, opts[key]]));
}

/** A number when the text is one; otherwise the text, which the option's rule then refuses by name. */
function toNumber(value: string): number | string {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}
