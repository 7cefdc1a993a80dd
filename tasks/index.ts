// Public surface of tasks/.
export type { EnvironmentSource, Healthcheck, KeyUse, TaskArtifact, TaskMcpServer, GradedInput, ModelGradedSpec, ScorerSpec, ScorerType, Solution, Task, TaskEnvironment, TaskFile, TaskTimeouts } from './task.ts';
export { DEFAULT_BUILD_TIMEOUT_SEC, DEFAULT_IMAGE, DEFAULT_TIMEOUTS, MODEL_GRADED_PLACEHOLDERS } from './task.ts';
export { loadTasks, type LoadTasksOptions } from './load.ts';
export { loadHarborTask, loadHarborSuite, isHarborTaskDir, HARBOR_HEALTHCHECK_DEFAULTS, HARBOR_VERIFIER_TIMEOUT_SEC, type LoadHarborOptions } from './load-harbor.ts';
export {
  checkHostEnv,
  hostEnvMaps,
  hostReferences,
  parseHostReference,
  resolveHostEnv,
  HostEnvError,
  type HostReference,
  type MissingHostVariable,
  type ResolveHostEnvOptions,
} from './host-env.ts';
export { formatKeyUses } from './keys.ts';
export { loadSuite, suiteTasks, DEFAULT_SUITE_WORKDIR, type SuiteSource } from './load-suite.ts';
export { TaskLoadError, renderProblem, type TaskProblem } from './errors.ts';
export { check, validate, formatIssues, formatField, type FormatContext } from './issues.ts';
export { digestTask, digestTree } from './digest.ts';
export { parseSizeMb } from './validate.ts';
