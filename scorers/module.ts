// A task's own scorer in JS/TS, for checks no declarative spec can state (TypeScript through
// tsx, see user-module.ts), and a scorer function given in code.
import { isAbsolute } from 'node:path';
import { importUserModule } from './user-module.ts';
import { SandboxError } from '../sandboxes/index.ts';
import type { ScorerSpec } from '../tasks/index.ts';
import { PASS_THRESHOLD, ScoreError, type Score, type ScoreContext, type Scorer } from './scorer.ts';

export type ModuleScorerSpec = Extract<ScorerSpec, { type: 'module' }>;

/** What a module scorer receives: the score context, the spec's options, and a signal aborted at the timeout. */
export interface ModuleScorerContext extends ScoreContext {
  readonly options: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
}

/** A number is the value (passed = value >= PASS_THRESHOLD); a boolean is 1 or 0. */
export type ModuleScorerResult = Score | number | boolean;

export type ModuleScorerFunction = (ctx: ModuleScorerContext) => ModuleScorerResult | Promise<ModuleScorerResult>;

/**
 * Imports `spec.path` (absolute) once, takes its export `spec.export` (default `default`),
 * and calls it with the context and `spec.options` ({} when absent), within `ctx.timeoutMs`.
 *
 * @throws ScoreError `CB_SCORER_FAILED` kind `task` naming the file and export when the module
 *   cannot be imported, the export is not a function, it throws, or it returns something else
 *   than a Score, a finite number or a boolean. A ScoreError it throws passes through as is; a
 *   SandboxError it meets is `infra`. `CB_SCORER_TIMEOUT` kind `timeout` when it overruns.
 */
export function createModuleScorer(spec: ModuleScorerSpec): Scorer {
  const exportName = spec.export ?? 'default';
  const where = `export "${exportName}" of scorer module ${spec.path}`;
  return userScorer(() => load(spec.path, exportName, where), where, spec.options);
}

/** A scorer function given in code (defineScorer): held to the same timeout and result rules. */
export function createFunctionScorer(spec: Extract<ScorerSpec, { type: 'function' }>): Scorer {
  return userScorer(async () => spec.fn as ModuleScorerFunction, `scorer function of ${spec.name}`);
}

function userScorer(loadFn: () => Promise<ModuleScorerFunction>, where: string, options?: Readonly<Record<string, unknown>>): Scorer {
  let loaded: Promise<ModuleScorerFunction> | undefined;

  return async (ctx) => {
    loaded ??= loadFn();
    // A failed import is not cached: the next call tries again (and fails the same way, or not).
    const fn = await loaded.catch((err: unknown) => {
      loaded = undefined;
      throw err;
    });
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ScoreError('CB_SCORER_TIMEOUT', 'timeout', `${where} did not finish within ${ctx.timeoutMs} ms; raise the task's verifier timeout if it needs longer.`));
      }, ctx.timeoutMs);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => fn({ ...ctx, options: options ?? {}, signal: controller.signal })), timeout]);
      return normalise(result, where);
    } catch (err) {
      if (err instanceof ScoreError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof SandboxError) throw new ScoreError('CB_SCORER_FAILED', err.kind !== 'infra' ? 'task' : 'infra', `${where}: sandbox failure: ${message}`, { cause: err });
      throw new ScoreError('CB_SCORER_FAILED', 'task', `${where} threw: ${message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };
}

async function load(path: string, exportName: string, where: string): Promise<ModuleScorerFunction> {
  if (!isAbsolute(path)) throw new ScoreError('CB_SCORER_FAILED', 'task', `${where}: the module path must be absolute (got "${path}")`);
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(path);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ScoreError('CB_SCORER_FAILED', 'task', `Scorer module ${path} cannot be imported: ${message}`, { cause });
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new ScoreError(
      'CB_SCORER_FAILED',
      'task',
      `${where} is not a function (it is ${fn === undefined ? 'missing' : typeof fn}); ` +
        `export a function (ctx) => Score | number | boolean${names.length ? ` (functions exported: ${names.join(', ')})` : ''}.`,
    );
  }
  return fn as ModuleScorerFunction;
}

function normalise(result: unknown, where: string): Score {
  if (typeof result === 'boolean') return { value: result ? 1 : 0, passed: result };
  if (typeof result === 'number' && Number.isFinite(result)) return { value: result, passed: result >= PASS_THRESHOLD };
  if (typeof result === 'object' && result !== null) {
    const { value, passed, values, explanation } = result as Partial<Score>;
    if (typeof value === 'number' && Number.isFinite(value) && (passed === undefined || typeof passed === 'boolean')) {
      return {
        value,
        passed: passed ?? value >= PASS_THRESHOLD,
        ...(values !== undefined && { values }),
        ...(typeof explanation === 'string' && { explanation }),
      };
    }
  }
  const shown = typeof result === 'object' ? JSON.stringify(result) : String(result);
  throw new ScoreError('CB_SCORER_FAILED', 'task', `${where} returned ${shown}; expected a Score ({ value, passed }), a finite number or a boolean.`);
}
