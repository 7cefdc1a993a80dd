// Public API of cagebench: what the CLI and programmatic users import.
export { run, resume, type RunOptions, type RunOutcome, type ResumeOverrides } from './runner/run.ts';
export type { RunReporter, RunStartInfo, RunEndInfo, SampleRef } from './runner/reporter.ts';
export { rescore, type RescoreOptions, type RescoreOutcome } from './commands/rescore.ts';
export { compareArms, COMPARE_DEFAULTS, type Comparison, type CompareOptions, type Verdict, type TaskDelta } from './compare/compare.ts';
export { loadArm, type Arm } from './compare/arm.ts';
export { compareCommand, saveBaseline } from './commands/compare.ts';
export { readRunDir, type RunView } from './log/reader.ts';
export { checkTasks, type CheckOptions, type CheckResult, type TaskProblem } from './commands/check.ts';
export { resolveConfig, type UserConfig, type ResolvedConfig } from './config.ts';
export { defineConfig, defineTask, defineScorer, defineFilter, type CagebenchConfig, type TaskDefinition, type TaskScorer, type ScorerFunction } from './define.ts';
export { checkRunOptions, runOptionProblems } from './config-schema.ts';
export { RUN_OPTIONS, type OptionDef, type RunOptionKey } from './options.ts';
export { versionSpecProblem } from './runner/validate.ts';
export { loadRunConfigFile, findConfigFile, mergeRunConfig, CONFIG_FILE_NAMES, type RunConfigFile } from './config-file.ts';
export type { ResultRecord, RunRecord, SummaryRecord, AttemptRecord, ErrorRecord, Outcome } from './log/schema.ts';
export { bridgeServe, type BridgeServeOptions } from './commands/bridge-serve.ts';
export { createBridge, baseUrls, type Bridge, type BridgeSession, type SessionOptions } from './bridge/index.ts';
export { downloadAgents, listCache, cleanCache, hostPlatform, type DownloadOptions } from './commands/agent-cache.ts';
export { sandboxRun, sandboxCleanup, type SandboxRunOptions, type SandboxRunResult } from './commands/sandbox-run.ts';
export { CagebenchError, ConfigError, describeError, isCagebenchError, type ErrorKind } from './errors.ts';
export { handleSignalsInApp, installExitHandlers, teardownAll as teardownSandboxes } from '../sandboxes/index.ts';

// Extension points: the types an agent adapter, a sandbox provider or a model provider is written against.
export type { AgentAdapter, AgentEvent, AgentUsage, AttemptContext, AttemptResult, ContinueContext, ModelAccess, AgentInSandbox } from '../agents/index.ts';
export { AgentError } from '../agents/index.ts';
export type { Task } from '../tasks/index.ts';
export type { BindMount, ExecOptions, ExecResult, Identity, ImageSource, NetworkMode, Platform, Sandbox, SandboxEndpoint, SandboxLimits, SandboxProvider, SandboxSpec, StartOptions } from '../sandboxes/index.ts';
export { createDockerProvider, SandboxError, type DockerProvider, type DockerProviderOptions } from '../sandboxes/index.ts';
export { UpstreamError, type ModelProvider, type Passthrough, type ProviderCall, type SampleContext } from './models/provider.ts';
export type { ContentPart, GenerationConfig, JsonSchema, Message, ModelRequest, ModelResponse, StopReason, StreamEvent, ToolChoice, ToolSpec, Usage } from './models/canonical.ts';
export type { OutboundWire, WireApi } from './models/wire.ts';
export type { CreateBridgeOptions } from './bridge/index.ts';
export type { FilterContext, FilterResult, RequestFilter } from './bridge/session.ts';
export { createSession, resumeSession, type Session, type SessionOptions as AgentSessionOptions, type SendRequest, type TurnResult, type TurnStream, type RunInfo, type SessionRecord } from './session/session.ts';
export type { SessionEvent } from './session/events.ts';
export type { PermissionRule } from './session/rules.ts';
export type { Confirmation, ConfirmOptions, Decision, PermissionRequest, PreToolUseHook } from './session/permissions.ts';
export type { SessionTools, BashResult } from './session/tools.ts';
