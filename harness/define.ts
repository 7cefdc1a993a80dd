// The define* helpers of the public API: identities that give a config file or a program
// completion and type errors, and the one place tasks written in code become tasks.
import type { ModuleScorerContext, ModuleScorerResult } from '../scorers/index.ts';
import { digestTask, suiteTasks, TaskLoadError, type GradedInput, type Task } from '../tasks/index.ts';
import type { RequestFilter } from './bridge/session.ts';
import type { UserConfig } from './config.ts';

/**
 * A config file's content (`cagebench.config.ts`, `.js` or `.yaml`): any run option. Flags
 * given on the command line win over it.
 */
export type CagebenchConfig = Partial<UserConfig>;

/** Identity, for typed config files: `export default defineConfig({ agent: 'oracle', ... })`. */
export function defineConfig(config: CagebenchConfig): CagebenchConfig {
  return config;
}

/** A scorer in code: run in place of a task's own scorer (`scorer:` in run options or a task). */
export type ScorerFunction = (ctx: ModuleScorerContext) => ModuleScorerResult | Promise<ModuleScorerResult>;

export function defineScorer(scorer: ScorerFunction): ScorerFunction {
  return scorer;
}

/** A request filter in code (`filter:` in run options); see harness/bridge/filter.ts. */
export function defineFilter(filter: RequestFilter): RequestFilter {
  return filter;
}

/** A scorer as a suite file writes it (`{ type: 'command', command }`, ...), or a function. */
export type TaskScorer =
  | { readonly type: 'command'; readonly command: string }
  | { readonly type: 'file'; readonly path: string; readonly exists?: boolean; readonly equals?: string; readonly contains?: string; readonly matches?: string }
  | { readonly type: 'answer'; readonly includes?: string; readonly equals?: string; readonly matches?: string; readonly ignore_case?: boolean }
  | {
      readonly type: 'model_graded';
      readonly rubric: string;
      readonly model?: string;
      readonly graders?: readonly string[] | number;
      readonly template?: string;
      readonly partial_credit?: boolean;
      readonly input?: GradedInput | readonly GradedInput[];
    }
  | { readonly type: 'module'; readonly path: string; readonly export?: string; readonly options?: Readonly<Record<string, unknown>> }
  | ScorerFunction;

/**
 * A task written in code: the fields of a suite file's sample (see tasks/load-suite.ts),
 * with its environment, checked by the same rules as a suite file.
 */
export interface TaskDefinition {
  /** Unique in the run: [A-Za-z0-9._-]+. */
  readonly id: string;
  readonly instruction: string;
  readonly environment?: {
    /** @default cagebench/sandbox:bookworm */
    readonly image?: string;
    /** A directory holding a Dockerfile, relative to the working directory. */
    readonly dockerfile?: string;
    /** @default /workspace */
    readonly workdir?: string;
    readonly network?: 'none' | 'bridge';
    /** The container runtime (`runsc` for gVisor, `crun`). @default the run's `runtime`, else the engine's */
    readonly runtime?: string;
    readonly cpus?: number;
    readonly memory_mb?: number;
    readonly build_timeout_sec?: number;
  };
  /** Files placed before the agent starts: path → content. */
  readonly files?: Readonly<Record<string, string>>;
  /** Shell command run after the files are placed. */
  readonly setup?: string;
  readonly scorer: TaskScorer;
  /** The reference solution the oracle runs: a command or a list of them. */
  readonly solution?: string | readonly string[];
  readonly timeouts?: { readonly setup_sec?: number; readonly agent_sec?: number; readonly verifier_sec?: number };
  readonly attempts?: number;
  /** Host tools files (relative to the working directory) the agent gets over MCP, on top of the run's `tools`. */
  readonly tools?: string | readonly string[];
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** The suite name in results. @default 'code' */
  readonly suite?: string;
}

export function defineTask(task: TaskDefinition): TaskDefinition {
  return task;
}

/** Tasks written in code as tasks, each checked like a one-sample suite. */
export async function tasksFromDefinitions(definitions: readonly TaskDefinition[]): Promise<Task[]> {
  const tasks: Task[] = [];
  for (const [i, def] of definitions.entries()) {
    const { environment, suite, scorer, ...sample } = def;
    // The suite schema knows scorer specs, not functions: it checks a stand-in, then the function goes back.
    const fn = typeof scorer === 'function' ? scorer : undefined;
    const data = { ...(environment && { environment }), samples: [{ ...sample, scorer: fn ? { type: 'command', command: 'true' } : scorer }] };
    const where = `defineTask() tasks[${i}]${typeof def.id === 'string' ? ` "${def.id}"` : ''}`;
    const [task] = await suiteTasks(data, { path: where, name: suite ?? 'code', dir: process.cwd() }).catch((err: unknown) => {
      // Named as the definition has them: `instruction`, not the suite's `samples[0].instruction`.
      if (!(err instanceof TaskLoadError)) throw err;
      throw new TaskLoadError(err.problems.map((p) => (p.field ? { ...p, field: p.field.replace(/^samples\[0\]\.?/, '') } : p)));
    });
    if (!fn) tasks.push(task!);
    else {
      const { digest: _digest, ...rest } = task!;
      const withFn = { ...rest, scorer: { type: 'function' as const, name: `task ${task!.id}`, fn } };
      tasks.push({ ...withFn, digest: await digestTask(withFn) });
    }
  }
  return tasks;
}
