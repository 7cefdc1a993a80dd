// A run as a CTRF report (Common Test Report Format, ctrf.io): one test per sample, named
// `<task>__e<k>`. The schema allows no field it does not name (additionalProperties: false at
// every level), so what CTRF has no word for (score, tokens, cost, the paired comparison) goes
// in `labels` and `extra`. CTRF has no "error" status: an error is `other` with rawStatus
// "error", so dashboards never count it as a failed test. With a comparison, the baseline run
// goes in the root `baseline` and the pass-rate change in `insights`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Comparison } from '../../compare/compare.ts';
import type { RunView } from '../../log/reader.ts';
import type { ResultRecord } from '../../log/schema.ts';
import { samplePaths } from '../../log/writer.ts';
import { HARNESS_VERSION } from '../../version.ts';
import { pendingSamples, reportIdOf, uuidV5 } from './ids.ts';
import { checkoutRoot, taskFilePath } from './paths.ts';
import { shortTrace } from './trace.ts';

/** The spec version of the schema the ctrf reference implementation validates against. */
export const CTRF_SPEC_VERSION = '0.0.0';

export type CtrfStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'other';
type Label = string | number | boolean;

export interface CtrfMetric {
  readonly current: number;
  readonly baseline: number;
  readonly change: number;
}

export interface CtrfTest {
  readonly testId: string;
  readonly name: string;
  readonly status: CtrfStatus;
  readonly duration: number;
  readonly start?: number;
  readonly stop?: number;
  readonly suite: readonly string[];
  readonly message?: string;
  readonly trace?: string;
  readonly rawStatus?: string;
  readonly labels: Readonly<Record<string, Label>>;
  readonly filePath: string;
  readonly insights?: { readonly passRate: CtrfMetric };
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface CtrfReport {
  readonly reportFormat: 'CTRF';
  readonly specVersion: string;
  readonly reportId: string;
  readonly runId: string;
  readonly timestamp: string;
  readonly generatedBy: string;
  readonly results: {
    readonly tool: { readonly name: 'cagebench'; readonly version: string };
    readonly summary: {
      readonly tests: number;
      readonly passed: number;
      readonly failed: number;
      readonly skipped: number;
      readonly pending: number;
      readonly other: number;
      readonly suites: number;
      readonly start: number;
      readonly stop: number;
      readonly duration: number;
      readonly extra: Readonly<Record<string, unknown>>;
    };
    readonly tests: readonly CtrfTest[];
    readonly environment?: Readonly<Record<string, string | number>>;
  };
  readonly baseline?: { readonly reportId: string; readonly source: string; readonly extra: Readonly<Record<string, unknown>> };
  readonly insights?: {
    readonly passRate: CtrfMetric;
    readonly averageTestDuration: CtrfMetric;
    readonly runsAnalyzed: number;
    readonly extra: Readonly<Record<string, unknown>>;
  };
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface CtrfOptions {
  /** CI variables (GitHub's GITHUB_*, GitLab's CI_*) fill `results.environment`; none by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** The report's time. @default now */
  readonly now?: Date;
}

export function toCtrf(view: RunView, comparison?: Comparison, options: CtrfOptions = {}): CtrfReport {
  const env = options.env ?? {};
  const root = checkoutRoot(env);
  const refs = new Map(view.run.tasks.map((t) => [t.id, t]));
  const model = view.run.config.model;
  const byTask = new Map(comparison?.tasks.map((t) => [t.taskId, t]));
  const labelsOf = (taskId: string, suite: string, epoch: number, agent: string): Record<string, Label> => ({ task: taskId, suite, epoch, agent, ...(model ? { model } : {}) });

  const tests: CtrfTest[] = view.results.map((r) => {
    const filePath = taskFilePath(r.taskId, refs.get(r.taskId), root);
    const delta = byTask.get(r.taskId);
    return {
      testId: testIdOf(r.sampleId, [r.taskId], filePath),
      name: r.sampleId,
      ...statusOf(r),
      duration: Math.max(0, Math.round(r.timings.durationMs)),
      ...times(r),
      suite: [r.taskId],
      labels: labelsOf(r.taskId, r.suite, r.epoch, r.agent),
      filePath,
      ...(delta ? { insights: { passRate: { current: delta.cand.mean, baseline: delta.base.mean, change: delta.diff } } } : {}),
      extra: extraOf(view.dir, r),
    };
  });
  const agent = view.run.config.agent;
  for (const p of pendingSamples(view)) {
    const filePath = taskFilePath(p.taskId, refs.get(p.taskId), root);
    tests.push({ testId: testIdOf(p.sampleId, [p.taskId], filePath), name: p.sampleId, status: 'pending', duration: 0, suite: [p.taskId], message: 'not run yet: the run was interrupted or is still going (cagebench resume finishes it)', labels: labelsOf(p.taskId, p.suite, p.epoch, agent), filePath, extra: { outcome: 'pending' } });
  }

  const count = (s: CtrfStatus): number => tests.filter((t) => t.status === s).length;
  const starts = view.results.map((r) => Date.parse(r.timings.startedAt)).filter(Number.isFinite);
  const stops = view.results.map((r) => Date.parse(r.timings.endedAt)).filter(Number.isFinite);
  const start = Math.round(starts.length ? Math.min(...starts) : Date.parse(view.summary?.timings.startedAt ?? view.run.createdAt) || 0);
  const stop = Math.round(Math.max(start, stops.length ? Math.max(...stops) : Date.parse(view.summary?.timings.endedAt ?? '') || start));
  const environment = environmentOf(env, view.run.runId);

  return {
    reportFormat: 'CTRF',
    specVersion: CTRF_SPEC_VERSION,
    reportId: reportIdOf(view.run.runId),
    runId: view.run.runId,
    timestamp: (options.now ?? new Date()).toISOString(),
    generatedBy: `cagebench ${HARNESS_VERSION}`,
    results: {
      tool: { name: 'cagebench', version: HARNESS_VERSION },
      summary: {
        tests: tests.length,
        passed: count('passed'),
        failed: count('failed'),
        skipped: count('skipped'),
        pending: count('pending'),
        other: count('other'),
        suites: new Set(tests.map((t) => t.labels.suite)).size,
        start,
        stop,
        duration: stop - start,
        extra: {
          ...(view.summary ? { status: view.summary.status, score: view.summary.score, passAtK: view.summary.passAtK, errorsByKind: view.summary.errorsByKind } : {}),
          ...(view.summary?.usage ? { tokens: view.summary.usage.inputTokens + view.summary.usage.outputTokens, cost_usd: view.summary.usage.costUsd } : {}),
        },
      },
      tests,
      ...(environment ? { environment } : {}),
    },
    ...(comparison ? comparisonParts(comparison) : {}),
    extra: {
      cagebench: { runId: view.run.runId, agent, ...(model ? { model } : {}), epochs: view.run.config.epochs ?? 1, harness: view.run.harness.version, runDir: view.dir },
      ...(comparison ? { comparison: comparisonExtra(comparison) } : {}),
    },
  };
}

function statusOf(r: ResultRecord): Pick<CtrfTest, 'status' | 'message' | 'trace' | 'rawStatus'> {
  const trace = shortTrace(r);
  if (r.outcome === 'pass') return { status: 'passed' };
  if (r.outcome === 'fail') return { status: 'failed', message: `score ${fmtScore(r.score)}${firstLine(r.attempts.at(-1)?.explanation)}`, ...(trace ? { trace } : {}) };
  const kind = r.error?.kind ?? 'error';
  return { status: 'other', rawStatus: 'error', message: `${kind}: ${r.error?.message.split('\n')[0] ?? 'no error message recorded'}`, ...(trace ? { trace } : {}) };
}

function times(r: ResultRecord): { start?: number; stop?: number } {
  const start = Date.parse(r.timings.startedAt);
  const stop = Date.parse(r.timings.endedAt);
  return Number.isFinite(start) && Number.isFinite(stop) ? { start, stop } : {};
}

function extraOf(runDir: string, r: ResultRecord): Record<string, unknown> {
  const trajectory = join('samples', r.sampleId, 'agent', 'trajectory.json');
  const hasTrajectory = existsSync(join(samplePaths(runDir, r.sampleId).agent, 'trajectory.json'));
  return {
    sample_id: r.sampleId,
    outcome: r.outcome,
    ...(r.score !== undefined ? { score: r.score } : {}),
    ...(r.values ? { values: r.values } : {}),
    attempts: r.attempts.length,
    ...(r.passedAttempt ? { passed_attempt: r.passedAttempt } : {}),
    ...(r.usage ? { tokens: r.usage.inputTokens + r.usage.outputTokens, cost_usd: r.usage.costUsd, model_requests: r.usage.requests } : {}),
    ...(hasTrajectory ? { trajectory: trajectory.split('\\').join('/') } : {}),
    ...(r.error ? { error_kind: r.error.kind, error_code: r.error.code } : {}),
    ...(r.retries ? { infra_retries: r.retries } : {}),
  };
}

function comparisonParts(c: Comparison): Pick<CtrfReport, 'baseline' | 'insights'> {
  const metric = (current: number, baseline: number): CtrfMetric => ({ current, baseline, change: current - baseline });
  const finite = (x: number): number => (Number.isFinite(x) ? x : 0);
  return {
    baseline: {
      // The schema wants a UUID: the base run's would-be report id, derived as ours is.
      reportId: reportIdOf(c.base.runId),
      source: c.base.path,
      extra: { runId: c.base.runId, kind: c.base.kind, agent: c.base.agent, ...(c.base.model ? { model: c.base.model } : {}), epochs: c.base.epochs },
    },
    insights: {
      // Mean per-task score over the paired tasks; `change` is the paired Δ.
      passRate: { current: finite(c.cand.mean), baseline: finite(c.base.mean), change: c.delta?.mean ?? finite(c.cand.mean) - finite(c.base.mean) },
      averageTestDuration: metric(c.cand.durationMs, c.base.durationMs),
      runsAnalyzed: 2,
      extra: {
        pairs: c.pairs,
        ...(c.cand.tokens !== undefined && c.base.tokens !== undefined ? { tokensPerSample: metric(c.cand.tokens, c.base.tokens) } : {}),
        ...(c.cand.costUsd !== undefined && c.base.costUsd !== undefined ? { costUsdPerSample: metric(c.cand.costUsd, c.base.costUsd) } : {}),
        passAtK: c.passAtK,
        passHatK: c.passHatK,
      },
    },
  };
}

function comparisonExtra(c: Comparison): Record<string, unknown> {
  return {
    verdict: c.verdict,
    reasons: c.reasons,
    pairs: c.pairs,
    epochs: { base: c.base.epochs, cand: c.cand.epochs },
    ...(c.delta ? { delta: c.delta } : {}),
    ...(c.gate ? { gate: c.gate } : {}),
    ...(c.bootstrap ? { bootstrap: c.bootstrap } : {}),
    ...(c.sizing ? { sizing: c.sizing } : {}),
    ...(c.mcnemar ? { mcnemar: c.mcnemar } : {}),
    newlyBroken: c.newlyBroken.map((t) => t.taskId),
    newlyFixed: c.newlyFixed.map((t) => t.taskId),
    unpaired: c.unpaired,
    options: c.options,
  };
}

function environmentOf(env: NodeJS.ProcessEnv, runId: string): Record<string, string | number> | undefined {
  const out: Record<string, string | number> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value) out[key] = value;
  };
  if (env.GITHUB_ACTIONS === 'true') {
    const repo = env.GITHUB_REPOSITORY && env.GITHUB_SERVER_URL ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}` : undefined;
    set('repositoryName', env.GITHUB_REPOSITORY);
    set('repositoryUrl', repo);
    set('commit', env.GITHUB_SHA);
    set('branchName', env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME);
    set('buildId', env.GITHUB_RUN_ID);
    set('buildName', env.GITHUB_WORKFLOW);
    set('buildUrl', repo && env.GITHUB_RUN_ID ? `${repo}/actions/runs/${env.GITHUB_RUN_ID}` : undefined);
    if (env.GITHUB_RUN_NUMBER && /^\d+$/.test(env.GITHUB_RUN_NUMBER)) out.buildNumber = Number(env.GITHUB_RUN_NUMBER);
  } else if (env.GITLAB_CI === 'true') {
    set('repositoryName', env.CI_PROJECT_PATH);
    set('repositoryUrl', env.CI_PROJECT_URL);
    set('commit', env.CI_COMMIT_SHA);
    set('branchName', env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.CI_COMMIT_REF_NAME);
    set('buildId', env.CI_JOB_ID);
    set('buildName', env.CI_JOB_NAME);
    set('buildUrl', env.CI_JOB_URL);
    if (env.CI_PIPELINE_IID && /^\d+$/.test(env.CI_PIPELINE_IID)) out.buildNumber = Number(env.CI_PIPELINE_IID);
  } else {
    return undefined;
  }
  return { reportName: `cagebench ${runId}`, osPlatform: process.platform, ...out };
}

/** As the CTRF reference implementation derives testId: name | suite path | file path. */
function testIdOf(name: string, suite: readonly string[], filePath: string): string {
  return uuidV5(`${name}|${suite.join('/')}|${filePath}`);
}

function fmtScore(score: number | undefined): string {
  return score === undefined ? 'none' : String(Math.round(score * 1000) / 1000);
}

function firstLine(text: string | undefined): string {
  const line = text?.split('\n').find((l) => l.trim())?.trim();
  return line ? `: ${line.length > 200 ? `${line.slice(0, 199)}…` : line}` : '';
}
