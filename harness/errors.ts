// The harness's error type, and how any error becomes a message for a person.
// Errors from the folders below (SandboxError, ...) share the same shape: code + kind.

export type ErrorKind = 'infra' | 'agent' | 'timeout' | 'limit' | 'task' | 'config';

export class CagebenchError extends Error {
  override readonly name: string = 'CagebenchError';
  constructor(
    readonly code: `CB_${string}`,
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ConfigError extends CagebenchError {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CB_CONFIG', 'config', message, options);
  }
}

/** Any error carrying a `CB_` code: ours, or one from sandboxes/, tasks/, cache/... */
export function isCagebenchError(err: unknown): err is Error & { code: string; kind: ErrorKind } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('CB_');
}

/** One line of what went wrong for a known error; the stack for anything else. */
export function describeError(err: unknown): string {
  if (isCagebenchError(err)) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

const SAMPLE_KINDS = new Set(['infra', 'agent', 'timeout', 'limit', 'task']);

/**
 * How an error ends a sample. Errors from below carry their own kind; a configuration error
 * that surfaces in a sample (a bad spec built from the task) is the task's; anything
 * unrecognised is treated as infra, which may be retried.
 */
export function sampleError(err: unknown): { kind: Exclude<ErrorKind, 'config'>; code: string; message: string } {
  if (isCagebenchError(err) || (err instanceof Error && typeof (err as { kind?: unknown }).kind === 'string')) {
    const e = err as Error & { code?: string; kind: string };
    const kind = SAMPLE_KINDS.has(e.kind) ? (e.kind as Exclude<ErrorKind, 'config'>) : 'task';
    return { kind, code: e.code ?? 'CB_UNKNOWN', message: e.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'infra', code: 'CB_INTERNAL', message };
}
