// The zod schema of the run options, built from the one table in options.ts, and the one
// check every source goes through: flags, a config file (YAML, TS or JS) and code calling
// run(). Problems come back all at once, each naming where it is and what is allowed.
import { z } from 'zod';
import { formatField, renderProblem, validate, type FormatContext, type TaskProblem } from '../tasks/index.ts';
import { ConfigError } from './errors.ts';
import { flagOf, RUN_OPTIONS, type RunOptionKey, type ValueRule } from './options.ts';
import { isHostTool } from './tools/define.ts';

function schemaOf(rule: ValueRule): z.ZodType {
  switch (rule.type) {
    case 'string':
      return rule.pattern ? z.string().regex(rule.pattern, { error: rule.rule ?? `must match ${String(rule.pattern)}` }) : z.string().min(1);
    case 'choice':
      return z.enum(rule.choices as [string, ...string[]]);
    case 'int': {
      const error = `must be an integer >= ${rule.min}`;
      return z.number({ error }).int({ error }).min(rule.min, { error });
    }
    case 'number': {
      const error = rule.rule ?? (rule.positive ? 'must be a number > 0' : `must be a number between ${rule.min} and ${rule.max}`);
      let n = z.number({ error }).finite({ error });
      if (rule.positive) n = n.positive({ error });
      if (rule.min !== undefined) n = n.min(rule.min, { error });
      if (rule.max !== undefined) n = n.max(rule.max, { error });
      return n;
    }
    case 'boolean':
      return z.boolean();
    case 'list': {
      const item = rule.pattern ? z.string().regex(rule.pattern, { error: rule.rule ?? `must match ${String(rule.pattern)}` }) : z.string().min(1);
      return z.array(item);
    }
    case 'map': {
      const value = rule.valuePattern ? z.string().regex(rule.valuePattern, { error: rule.rule ?? `must match ${String(rule.valuePattern)}` }) : z.string();
      return z.record(z.string().min(1), value);
    }
    case 'options':
      // Each agent checks its own options when it is created (agents/options.ts).
      return z.record(z.string(), z.unknown());
    case 'paths': {
      const error = `must be a file path or a list of them${rule.orCode ? ` (in code, also ${rule.orCode})` : ''}`;
      const item = z.union([z.string().min(1), z.custom((v) => isHostTool(v))], { error });
      return z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item, { error }));
    }
    case 'path':
      return rule.orFunction ? z.union([z.string().min(1), z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function')], { error: `must be a file path or ${rule.orFunction}` }) : z.string().min(1);
    case 'code':
      return z.unknown();
  }
}

/** Every run option; unknown keys are problems (a typo must not be ignored). */
export const runOptionsSchema = z.strictObject(
  Object.fromEntries(Object.entries(RUN_OPTIONS).map(([key, def]) => [key, schemaOf(def.value).optional()])) as Record<RunOptionKey, z.ZodOptional<z.ZodType>>,
);

// The agent is a name or an adapter object; the table describes the name.
const agentSchema = z.union([z.string().min(1), z.looseObject({ name: z.string().min(1) })], { error: 'must be an agent name, or an adapter object in code' });
const userSchema = runOptionsSchema.extend({ agent: agentSchema.optional() });

export interface CheckSource {
  /** Where the values came from: a config file's path, `the command line`, `run() options`. */
  readonly file: string;
  /** 1-based line of a field in that file, when known. */
  readonly locate?: FormatContext['locate'];
  /** Name fields as flags (`--max-errors`) rather than keys. */
  readonly flags?: boolean;
  /** How the source spelled a key (`max_errors` in a YAML file). */
  readonly spelled?: (key: string) => string;
}

/** The problems with `values` as run options, every one of them; [] when they are fine. */
export function runOptionProblems(values: unknown, source: CheckSource): TaskProblem[] {
  const spelled = source.spelled;
  const name = source.flags
    ? (path: readonly PropertyKey[]) => (path.length ? flagOf(path[0] as RunOptionKey) ?? String(path[0]) : undefined)
    : spelled
      ? (path: readonly PropertyKey[]) => (path.length ? formatField([spelled(String(path[0])), ...path.slice(1)], 'yaml') : undefined)
      : undefined;
  const result = validate(userSchema, values, { file: source.file, notation: 'yaml', ...(source.locate && { locate: source.locate }), ...(name && { name }) });
  return result.ok ? [] : result.problems;
}

/** Throws one ConfigError listing every problem with `values`. */
export function checkRunOptions(values: unknown, source: CheckSource): void {
  const problems = runOptionProblems(values, source);
  // A flag names itself: `--epochs must be an integer >= 1 (got 0)`.
  const render = source.flags ? (p: TaskProblem) => (p.field ? `${p.field} ${p.text}` : p.text) : renderProblem;
  if (problems.length) throw new ConfigError(problems.map(render).join('\n'));
}
