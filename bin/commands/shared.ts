// Flag parsers and the one place a command's error becomes a message and an exit code.
import { InvalidArgumentError } from 'commander';
import { createRequire } from 'node:module';

/** cagebench itself (not the sandboxed command) failed, as `docker run` reports it. */
export const EXIT_INFRA = 125;
export const EXIT_USAGE = 2;
/** An agent cannot start on a task's image (its preflight failed). */
export const EXIT_PREFLIGHT = 3;

export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a number > 0 (got "${value}")`);
    return n;
  };
}

export function integer(flag: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min} (got "${value}")`);
    return n;
  };
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`must be a TCP port 1-65535 (got "${value}")`);
  return n;
}

export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`must be KEY=VALUE (got "${value}")`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * `--agent-opt key=value`, repeatable. A dotted key reaches into a map (`env.FOO=bar`,
 * `mcp_servers.docs.command=/opt/docs`); a value that looks like YAML flow, a number or a
 * boolean is parsed (`disallowed_tools=[WebFetch,WebSearch]`, `debug=true`), anything else
 * stays text, so a prompt with a colon in it is not read as a map.
 */
export function agentOption(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`must be KEY=VALUE, e.g. system_prompt="Be brief" or disallowed_tools=[WebFetch] (got "${value}")`);
  const keys = value.slice(0, eq).split('.');
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  if (/^[[{]/.test(raw) || /^(true|false|null|-?\d+(\.\d+)?)$/.test(raw)) {
    try {
      // Loaded only here: `cagebench --help` must not pay for a YAML parser.
      parsed = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(raw);
    } catch (err) {
      throw new InvalidArgumentError(`${keys.join('.')}: the value "${raw}" is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const out = structuredClone(previous);
  let at = out;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    at = at[key] = next !== null && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : {};
  }
  at[keys.at(-1)!] = parsed;
  return out;
}

/**
 * Run a command's action: its number is the exit code; a thrown error is one line. The CLI
 * owns its process, so it installs the handlers that remove live sandboxes on a signal or a
 * crash (a library import never does; an embedding program decides its own).
 */
export async function report(action: () => Promise<number>): Promise<void> {
  try {
    (await import('../../harness/index.ts')).installExitHandlers();
    process.exitCode = await action();
  } catch (err) {
    process.exitCode = printError(err);
  }
}

/**
 * Print an error as `cagebench: error: <message>` and return its exit code. Our errors are
 * one line that says what to do; anything else gets a hint, and its stack (with causes) only
 * under CAGEBENCH_DEBUG=1, where every error shows one.
 */
export function printError(err: unknown, env: NodeJS.ProcessEnv = process.env, out: NodeJS.WritableStream = process.stderr): number {
  const ours = isOurs(err);
  const message = err instanceof Error ? err.message || err.name : String(err);
  out.write(`cagebench: error: ${message}${ours ? ` [${err.code}]` : ''}\n`);
  if (env.CAGEBENCH_DEBUG === '1') out.write(`${stackOf(err)}\n`);
  else if (!ours) out.write('cagebench: this was not expected; CAGEBENCH_DEBUG=1 shows where it came from\n');
  // Bad flags, config or task files are the user's to fix: exit 2, like a usage error.
  const isInput = ours && (err.kind === 'config' || err.code === 'CB_TASK_INVALID');
  // The agent cannot start on a task's image: not a usage error, not cagebench failing.
  const preflight = ours && err.code === 'CB_AGENT_PREFLIGHT';
  return preflight ? EXIT_PREFLIGHT : isInput ? EXIT_USAGE : EXIT_INFRA;
}

/**
 * harness's isCagebenchError, restated: printing an error must not import harness, which may
 * be the very thing that failed to load.
 */
function isOurs(err: unknown): err is Error & { code: string; kind?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('CB_');
}

function stackOf(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return String(err);
  const own = err.stack ?? `${err.name}: ${err.message}`;
  return err.cause === undefined || depth > 5 ? own : `${own}\ncaused by: ${stackOf(err.cause, depth + 1)}`;
}

/**
 * The first Ctrl-C asks the run to stop (results kept, sandboxes removed); a second one
 * removes live sandboxes at once and exits.
 */
export function interruptOnSignals(onFirst: () => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      process.stderr.write(`\ncagebench: ${signal}: stopping; finished results are kept, live sandboxes are being removed (again to force)\n`);
      onFirst();
      return;
    }
    void import('../../harness/index.ts').then(({ teardownSandboxes }) => teardownSandboxes()).finally(() => process.exit(130));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // Sandbox teardown must not end the process: the run stops, reports and exits itself.
  const claim = import('../../harness/index.ts').then(({ handleSignalsInApp }) => handleSignalsInApp());
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    void claim.then((release) => release());
  };
}
