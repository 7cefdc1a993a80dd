// The one place where a schema's complaints become messages: every problem (not the first),
// naming the file, the field in the file's own notation (`samples[2].scorer.type`,
// `[agent].timeout_sec`, `--epochs`), what was expected, what was found and the line. Task
// files, run configuration files and flags, and agent options all go through it.
//
// Convention: every error message a schema sets is a predicate that follows the field name
// ("must be seconds > 0"); the formatter adds the file, the field, what was found and the line.
import { z } from 'zod';
import { TaskLoadError, type TaskProblem } from './errors.ts';

export type Notation = 'toml' | 'yaml';
type Path = readonly PropertyKey[];

export interface FormatContext {
  readonly file: string;
  readonly notation: Notation;
  /** The 1-based line of a field, when the format can tell. */
  readonly locate?: (path: Path) => number | undefined;
  /** How a field is named when not in the file's notation (a command-line flag, say). */
  readonly name?: (path: Path) => string | undefined;
}

/** Parse `data` with `schema`, or throw one TaskLoadError listing every problem. */
export function check<S extends z.ZodType>(schema: S, data: unknown, ctx: FormatContext): z.output<S> {
  const result = validate(schema, data, ctx);
  if (result.ok) return result.data;
  throw new TaskLoadError(result.problems);
}

/** Parse `data` with `schema`: its output, or every problem, for callers with their own error type. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, ctx: FormatContext): { ok: true; data: z.output<S> } | { ok: false; problems: TaskProblem[] } {
  const result = schema.safeParse(data, { reportInput: true, error: (iss) => predicate(iss, ctx.notation) });
  return result.success ? { ok: true, data: result.data } : { ok: false, problems: formatIssues(result.error.issues, ctx) };
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], ctx: FormatContext, prefix: Path = []): TaskProblem[] {
  const problems: TaskProblem[] = [];
  for (const issue of issues) problems.push(...formatIssue(issue, ctx, prefix));
  return problems;
}

function formatIssue(issue: z.core.$ZodIssue, ctx: FormatContext, prefix: Path): TaskProblem[] {
  const path = [...prefix, ...issue.path];
  const problem = (at: Path, text: string): TaskProblem => {
    const line = ctx.locate?.(at);
    const field = ctx.name?.(at) ?? formatField(at, ctx.notation);
    return { file: ctx.file, ...(field === '' ? {} : { field }), ...(line === undefined ? {} : { line }), text };
  };
  const hasInput = 'input' in issue && issue.input !== undefined;

  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => problem([...path, key], issue.message));
  }
  if (issue.code === 'invalid_union') {
    if ('discriminator' in issue && issue.discriminator !== undefined) {
      const value = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
      const text = value === undefined ? `is missing (it ${issue.message})` : `${issue.message} (got ${show(value, ctx.notation)})`;
      return [problem(path, text)];
    }
    // The branch whose shape fitted (its complaints are all inside the value) says what is wrong.
    const fitting = issue.errors.filter((branch) => branch.every((e) => e.path.length > 0));
    if (fitting.length === 1) return formatIssues(fitting[0]!, ctx, path);
  }
  let text = issue.message;
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && !hasInput) text = `is missing (it ${text})`;
  else if (hasInput && !text.includes('(got ') && !(issue.code === 'custom' && typeof issue.input === 'object')) {
    // A refinement over a whole mapping says what it found itself; "(got a mapping)" says nothing.
    text += ` (got ${show(issue.input, ctx.notation)})`;
  }
  return [problem(path, text)];
}

/** The predicate zod's own issues read as, in the file's vocabulary. Schemas' messages win. */
function predicate(iss: z.core.$ZodRawIssue, notation: Notation): string {
  switch (iss.code) {
    case 'invalid_type':
      return `must be ${typeName(iss.expected, notation)}`;
    case 'too_small':
    case 'too_big': {
      const bound = iss.code === 'too_small' ? iss.minimum : iss.maximum;
      const op = iss.code === 'too_small' ? (iss.inclusive ? '>=' : '>') : iss.inclusive ? '<=' : '<';
      if (iss.origin === 'string' && iss.code === 'too_small' && Number(bound) === 1) return 'must be a non-empty string';
      if (iss.origin === 'array') return `must be a list of ${op} ${String(bound)} items`;
      if (iss.origin === 'string') return `must be a string of ${op} ${String(bound)} characters`;
      return `must be ${op} ${String(bound)}`;
    }
    case 'invalid_format':
      return iss.format === 'regex' && 'pattern' in iss ? `must match ${String(iss.pattern)}` : `must be a valid ${iss.format}`;
    case 'invalid_value':
      return iss.values.length === 1 ? `must be ${show(iss.values[0], notation)}` : `must be one of ${iss.values.map((v) => show(v, notation)).join(', ')}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      const known = shape ? Object.keys(shape) : [];
      return known.length > 0 ? `is not a known field (known fields: ${known.join(', ')})` : 'is not a known field';
    }
    case 'invalid_key':
      return 'has a key that is not valid';
    case 'invalid_element':
      return 'has an element that is not valid';
    case 'invalid_union':
      return 'is not valid';
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)}`;
    case 'custom':
    default:
      return iss.message ?? 'is not valid';
  }
}

function typeName(expected: string, notation: Notation): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return notation === 'toml' ? 'a table' : 'a mapping';
    case 'array':
      return notation === 'toml' ? 'an array' : 'a list';
    default:
      return `a ${expected}`;
  }
}

/** What was found, briefly: strings quoted, containers named rather than dumped. */
export function show(value: unknown, notation: Notation): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return notation === 'toml' ? 'an array' : 'a list';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return notation === 'toml' ? 'a table' : 'a mapping';
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 56)}..."` : s;
  }
  return String(value);
}

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const TOML_TABLES = ['metadata', 'agent', 'verifier', 'environment', 'solution', 'task'];

/**
 * A path in the file's own notation. YAML: `samples[2].scorer.type`, `files["src/a.py"]`.
 * TOML: `[agent].timeout_sec`, `[verifier].env.TOKEN`, `[verifier].env."MY KEY"`, `version`.
 */
export function formatField(path: Path, notation: Notation): string {
  let out = '';
  path.forEach((k, i) => {
    const key = String(k);
    // A table is `[agent]`; an array at the top (`artifacts`, `[[steps]]`) is indexed: `steps[0].name`.
    if (notation === 'toml' && i === 0 && typeof path[1] !== 'number' && (path.length > 1 || TOML_TABLES.includes(key))) out = `[${key}]`;
    else if (typeof k === 'number') out += `[${k}]`;
    else if (BARE_KEY.test(key)) out += out === '' ? key : `.${key}`;
    else out += notation === 'toml' ? `${out === '' ? '' : '.'}${JSON.stringify(key)}` : `[${JSON.stringify(key)}]`;
  });
  return out;
}
