// Errors raised by sandboxes. They share the shape of harness's CagebenchError
// (`code`, `kind`, `cause`) without importing it: arrows point down, never up.

export type SandboxErrorCode =
  | 'CB_ENGINE_UNREACHABLE'
  /** A pool's engine stopped answering mid-sample and was taken out: the sample runs again on another. */
  | 'CB_ENGINE_LOST'
  | 'CB_IMAGE_NOT_FOUND'
  | 'CB_IMAGE_BUILD_FAILED'
  | 'CB_IMAGE_BUILD_TIMEOUT'
  | 'CB_BASE_IMAGE_MISSING'
  | 'CB_BUILD_INTERRUPTED'
  | 'CB_ARCHIVE_ESCAPE'
  | 'CB_PATH_NOT_FOUND'
  | 'CB_BAD_SPEC'
  | 'CB_NETWORK_POOL_EXHAUSTED'
  | 'CB_SANDBOX_STOPPED'
  | 'CB_SANDBOX_FAILED'
  | 'CB_USER_UNKNOWN';

/**
 * Who has to fix it, which decides whether the harness retries (only `infra` is retried):
 * - `config`: the caller (a bad spec, a user the image lacks);
 * - `task`: the task's own files (a Dockerfile that does not build, a base image the engine
 *   lacks, a link pointing out of the task);
 * - `infra`: the engine or the machine; trying again may work.
 */
export type SandboxErrorKind = 'infra' | 'config' | 'task';

const KIND: Partial<Record<SandboxErrorCode, SandboxErrorKind>> = {
  CB_BAD_SPEC: 'config',
  CB_USER_UNKNOWN: 'config',
  CB_IMAGE_BUILD_FAILED: 'task',
  CB_IMAGE_BUILD_TIMEOUT: 'task',
  CB_BASE_IMAGE_MISSING: 'task',
  CB_ARCHIVE_ESCAPE: 'task',
};

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  readonly kind: SandboxErrorKind;
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    options?: { cause?: unknown; kind?: SandboxErrorKind },
  ) {
    super(message, options);
    // A code whose blame depends on where it arose (an image a task names vs one cagebench needs) says so here.
    this.kind = options?.kind ?? KIND[code] ?? 'infra';
  }
}

/** The HTTP status dockerode attaches to engine errors, if any. */
export function engineStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message (`{"message": ...}`) rather than dockerode's prefix. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}
