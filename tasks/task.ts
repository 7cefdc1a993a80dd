// The task model: what one task is, whatever format it was written in (Harbor task
// directory or cagebench suite YAML). Data only: loaders build it, the harness runs it.

/**
 * Where the sandbox comes from. Mirrors sandboxes' ImageSource without depending on it. An
 * image with a Dockerfile (Harbor's `docker_image` beside `environment/Dockerfile`) uses the
 * image when the engine has it and builds the Dockerfile otherwise.
 */
export type EnvironmentSource = { readonly image: string; readonly dockerfile?: string } | { readonly dockerfile: string };

export interface TaskEnvironment {
  readonly source: EnvironmentSource;
  readonly cpus?: number;
  readonly memoryMb?: number;
  /** Working directory of the agent, the solution and the scorers. @default the image's */
  readonly workdir?: string;
  /**
   * `bridge`: the outside world (Harbor's `public`, its default); `none`: nothing but, for an
   * agent with a model, the bridge (model-only). @default 'none'
   */
  readonly network?: 'none' | 'bridge';
  /**
   * The container runtime the task's sandboxes must run under (`runsc` for gVisor, `crun`).
   * A run's `--runtime` applies to tasks that name none; a run naming another is refused.
   * @default the run's `--runtime`, else the engine's default
   */
  readonly runtime?: string;
  readonly buildTimeoutSec: number;
  /**
   * Variables set for every process in the sandbox, over the image's ENV (Harbor
   * `[environment].env`). Values may be host references (see HostRef), resolved when a run starts.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Waited for after the sandbox starts and before the agent does (Harbor `[environment].healthcheck`). */
  readonly healthcheck?: Healthcheck;
}

/** A command that must succeed before the agent starts, tried as Docker's HEALTHCHECK would. */
export interface Healthcheck {
  readonly command: string;
  readonly intervalSec: number;
  readonly timeoutSec: number;
  /** Failures in a row, after the start period, that make the environment unhealthy. */
  readonly retries: number;
  /** Failures during this first stretch do not count. */
  readonly startPeriodSec: number;
  /** How often to try during the start period. */
  readonly startIntervalSec: number;
}

export interface TaskTimeouts {
  /** Environment set-up: files, setup command. */
  readonly setupSec: number;
  readonly agentSec: number;
  readonly verifierSec: number;
}

/** A file placed in the sandbox before the agent starts. */
export interface TaskFile {
  /** Absolute, or relative to the environment's workdir. */
  readonly path: string;
  /** Inline content... */
  readonly content?: string;
  /** ...or a host file or directory to copy (absolute path, resolved by the loader). */
  readonly source?: string;
  readonly mode?: number;
}

export type ScorerSpec =
  /**
   * Harbor: copy `testsDir` to /tests, run test.sh as `user` (unset: the image's USER), read
   * /logs/verifier/reward.txt or reward.json.
   */
  | { readonly type: 'verifier'; readonly testsDir: string; readonly env?: Readonly<Record<string, string>>; readonly user?: string }
  /** Exit code 0 scores 1.0, anything else 0.0. */
  | { readonly type: 'command'; readonly command: string }
  /** A file in the sandbox: exists, or its content equals / contains / matches (a regex source). */
  | {
      readonly type: 'file';
      readonly path: string;
      readonly exists?: boolean;
      readonly equals?: string;
      readonly contains?: string;
      readonly matches?: string;
    }
  /** The agent's final message includes / equals / matches (a regex source). */
  | {
      readonly type: 'answer';
      readonly includes?: string;
      readonly equals?: string;
      readonly matches?: string;
      readonly ignoreCase?: boolean;
    }
  /** A grader model judges the agent's work against a rubric (scorers/model-graded.ts). */
  | ModelGradedSpec
  /** A user's JS/TS module (absolute path) whose export (default: `default`) is a Scorer. */
  | { readonly type: 'module'; readonly path: string; readonly export?: string; readonly options?: Readonly<Record<string, unknown>> }
  /** A scorer function given in code (defineScorer); `name` says where in messages. */
  | { readonly type: 'function'; readonly name: string; readonly fn: (ctx: never) => unknown };

export type ScorerType = ScorerSpec['type'];

/** What a model-graded scorer shows its grader of the agent's work. */
export type GradedInput =
  /** The agent's final message. */
  | 'answer'
  /** The workdir's changes in the step, as a unified diff. */
  | 'diff'
  /** A file in the sandbox, relative to the workdir unless absolute. */
  | { readonly file: string };

export interface ModelGradedSpec {
  readonly type: 'model_graded';
  /** What a good answer is: the grader judges against it. */
  readonly rubric: string;
  /** `provider/model` of the grader. @default the run's `--grader-model` */
  readonly model?: string;
  /** Several graders, by majority: their `provider/model`s, or how many calls to `model`. */
  readonly graders?: readonly string[] | number;
  /** The grader's prompt, with MODEL_GRADED_PLACEHOLDERS. @default a prompt holding all of them */
  readonly template?: string;
  /** A partial verdict (P) scores 0.5; without it, P counts as incorrect. @default false */
  readonly partialCredit?: boolean;
  /** @default ['answer'] */
  readonly input?: readonly GradedInput[];
}

/** The `{name}`s a model-graded template may hold. */
export const MODEL_GRADED_PLACEHOLDERS = ['question', 'rubric', 'submission', 'answer', 'files', 'diff'] as const;

/** The reference solution the `oracle` agent runs. */
export type Solution =
  /** Harbor: the host `solution/` directory, copied to /solution; `solve.sh` is run with `env` added. */
  | { readonly kind: 'script'; readonly dir: string; readonly env?: Readonly<Record<string, string>> }
  /** Suite YAML: shell commands run one after another in the workdir. */
  | { readonly kind: 'commands'; readonly commands: readonly string[] };

export interface Task {
  /** Unique within a run; used in sample ids (`<id>__e<epoch>`). */
  readonly id: string;
  /** The suite it came from (a directory's or a YAML file's name). */
  readonly suite: string;
  readonly format: 'harbor' | 'cagebench';
  /** The file or directory it was loaded from, for messages. */
  readonly origin: string;
  readonly instruction: string;
  readonly environment: TaskEnvironment;
  readonly timeouts: TaskTimeouts;
  /** Attempts per sample unless the run overrides it. */
  readonly attempts?: number;
  readonly files: readonly TaskFile[];
  /** Shell command run in the workdir after the files are placed, before the agent. */
  readonly setup?: string;
  readonly scorer: ScorerSpec;
  /**
   * More scorers run after `scorer` in the same sandbox (Harbor `[[metadata.cagebench.scorers]]`):
   * each one's value is added to the step's `values` under its name; pass/fail and the score stay `scorer`'s.
   */
  readonly extraScorers?: readonly { readonly name: string; readonly spec: ScorerSpec }[];
  readonly solution?: Solution;
  /**
   * Scripted follow-up turns (suite YAML `turns`): after the instruction (turn 1, scored by
   * `scorer`), the agent continues its own session with each turn's prompt. The sample's
   * outcome is its last scored turn's. Such a task is played with one attempt.
   */
  readonly turns?: readonly TaskTurn[];
  /** The sandbox user the agent and the oracle run as (Harbor `[agent].user`). @default the image's USER */
  readonly agentUser?: string;
  /** MCP servers the task gives the agent (Harbor `[[environment.mcp_servers]]`), merged under the run's own. */
  readonly mcpServers?: Readonly<Record<string, TaskMcpServer>>;
  /** A directory inside the sandbox whose skills the agent gets (Harbor `[environment].skills_dir`). */
  readonly skillsDir?: string;
  /**
   * Host tools files (absolute paths; suite `tools:`) whose tools the agent gets over MCP, on
   * top of the run's. Only recorded here: the harness loads them (harness/tools).
   */
  readonly tools?: readonly string[];
  /**
   * Paths collected out of the sandbox after the agent's last attempt, into the sample's
   * artifacts directory (Harbor's root `artifacts`).
   */
  readonly artifacts?: readonly TaskArtifact[];
  /** For Harbor tasks: what cagebench does with each task.toml key (`tasks check` prints it). */
  readonly keys?: readonly KeyUse[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** sha256 over everything that defines the task (files included): resume refuses a changed task. */
  readonly digest: string;
}

/** A follow-up turn of a multi-turn task: what the user says next, and how the state after it is judged. */
export interface TaskTurn {
  /** The message the agent's session continues with. */
  readonly prompt: string;
  /** Scores the state the turn left; absent: the turn is played but not scored. */
  readonly scorer?: ScorerSpec;
  /** What the oracle runs for this turn; absent: the oracle does nothing in it. */
  readonly solution?: Solution;
}

/** An MCP server as a task declares it: a command the agent starts (stdio), or a URL. */
export type TaskMcpServer =
  | { readonly command: string; readonly args?: readonly string[] }
  | { readonly url: string; readonly transport: 'sse' | 'http' };

/** A file or directory to collect from the sandbox when the agent is done (Harbor's `artifacts`). */
export interface TaskArtifact {
  /** An absolute path in the sandbox (Harbor reads a relative one from `/`, as `docker cp` does). */
  readonly source: string;
  /**
   * Where it goes, relative to the sample's artifacts directory (no `..`, not `manifest.json`).
   * @default the source without its leading `/` (`/app/out.txt` → `app/out.txt`)
   */
  readonly destination?: string;
  /** `tar --exclude` patterns, for a directory. */
  readonly exclude?: readonly string[];
}

/** One task.toml key and what cagebench does with it. */
export interface KeyUse {
  /** In the file's notation: `[agent].user`, `[environment.healthcheck].command`. */
  readonly key: string;
  /** `honoured` as Harbor does; `mapped` onto something close, said how; `ignored` (informational only); `refused` (the task does not load). */
  readonly use: 'honoured' | 'mapped' | 'ignored' | 'refused';
  readonly note?: string;
}

export const DEFAULT_IMAGE = 'cagebench/sandbox:bookworm';
export const DEFAULT_TIMEOUTS: TaskTimeouts = { setupSec: 600, agentSec: 600, verifierSec: 120 };
export const DEFAULT_BUILD_TIMEOUT_SEC = 600;
