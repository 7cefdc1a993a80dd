// The grader models `model_graded` scorers call: the run's providers (with the config's
// OpenAI settings), the bridge's call path (upstream retries, pricing), but none of a sample's
// bridge session, so a grader's tokens and cost never count as the agent's or against its limits.
import { AdaptiveLimit } from '../bridge/adaptive-limit.ts';
import { modelCall, type CallDeps, type CallRecord } from '../bridge/call.ts';
import { priceTable, type PriceTable } from '../bridge/pricing.ts';
import { BridgeSession } from '../bridge/session.ts';
import { collect, ZERO_USAGE, type ModelRequest } from '../models/canonical.ts';
import { UpstreamError, type ModelProvider } from '../models/provider.ts';
import { isRetryable } from '../bridge/retry.ts';
import { createProviders } from '../models/providers/index.ts';
import type { ResolvedConfig } from '../config.ts';
import type { ModelUsageRecord } from '../log/schema.ts';
import { ScoreError, type GradeRequest, type GradeResponse, type Grader } from '../../scorers/index.ts';
import type { ScorerSpec, Task } from '../../tasks/index.ts';

/** A grader's reply is a verdict and a paragraph: more is never needed. */
const GRADER_MAX_TOKENS = 2048;

/** Grader calls for one run; `forSample` lends them to one sample's scorers. */
export interface GraderClient {
  /** `provider/model` for scorers that name none (`--grader-model`). */
  readonly defaultModel?: string;
  grade(request: GradeRequest, options: { readonly sampleId: string; readonly signal?: AbortSignal; readonly onEvent?: (type: string, fields: Record<string, unknown>) => void }): Promise<GradeResponse & { readonly usageRecord: ModelUsageRecord }>;
}

export interface GraderClientOptions {
  readonly defaultModel?: string;
  /** @default the providers a run's bridge has, with the config's OpenAI settings */
  readonly providers?: Readonly<Record<string, ModelProvider>>;
  readonly prices?: PriceTable;
  readonly sleep?: CallDeps['sleep'];
}

/** The run's grader client, from its config. */
export function graderClientOf(config: ResolvedConfig): GraderClient {
  return createGraderClient({ defaultModel: config.graderModel, providers: createProviders({ openai: config.bridge.openai }), prices: priceTable(config.bridge.prices) });
}

export function createGraderClient(options: GraderClientOptions = {}): GraderClient {
  const limits = new Map<string, AdaptiveLimit>();
  const deps: CallDeps = {
    providers: options.providers ?? createProviders(),
    prices: options.prices ?? priceTable(),
    // A refusal is an answer like any other here: the verdict parser calls it unreadable.
    retryRefusals: 0,
    sleep: options.sleep,
    limitFor: (provider) => {
      let limit = limits.get(provider);
      if (!limit) limits.set(provider, (limit = new AdaptiveLimit()));
      return limit;
    },
  };
  return {
    defaultModel: options.defaultModel,
    async grade(request, { sampleId, signal, onEvent }) {
      // A session of its own routes the call and counts it; it is never opened on the bridge.
      const session = new BridgeSession({
        sampleId,
        model: request.model,
        // Upstream retries are worth a record; the rest (a request with no tools) is the agent's business.
        onEvent: ({ type, ...fields }) => (type === 'model.retry' ? onEvent?.('grader.retry', { model: request.model, ...fields }) : undefined),
      });
      const canonical: ModelRequest = {
        model: request.model,
        ...(request.system === undefined ? {} : { system: request.system }),
        messages: request.messages.map((m) => ({ role: m.role, content: [{ type: 'text', text: m.text }] })),
        tools: [],
        config: { maxTokens: GRADER_MAX_TOKENS, temperature: 0 },
        stream: true,
      };
      const record: CallRecord = { requestedModel: request.model, retries: 0, refusalRetries: 0 };
      const started = performance.now();
      const response = await collect(modelCall(session, canonical, deps, record, signal ?? new AbortController().signal));
      const text = response.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
      const usage = record.usage ?? ZERO_USAGE;
      const costUsd = record.costUsd ?? 0;
      return {
        text,
        usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens },
        costUsd,
        latencyMs: Math.round(performance.now() - started),
        usageRecord: { requests: 1, ...usage, costUsd },
      };
    },
  };
}

/**
 * What one sample's scorers get: the client's calls, each added to `usage` (the sample's
 * grader use, kept apart from its model use) and its upstream retries logged through `emit`.
 */
export function sampleGrader(client: GraderClient, sample: { readonly sampleId: string; readonly signal?: AbortSignal; readonly emit: (type: string, fields: Record<string, unknown>) => void; readonly onUsage: (usage: ModelUsageRecord) => void }): Grader {
  return {
    defaultModel: client.defaultModel,
    async grade(request) {
      const { usageRecord, ...reply } = await client.grade(request, { sampleId: sample.sampleId, signal: sample.signal, onEvent: sample.emit }).catch((err: unknown) => {
        throw graderError(request.model, err);
      });
      sample.onUsage(usageRecord);
      return reply;
    },
  };
}

/**
 * A grader call that failed after the bridge's retries. One that may work later (a 5xx, a
 * 429, a dropped connection) is `infra`, so the sample runs again; one that never will (a
 * 401, an unknown model, a missing mock script) is not: every sample would fail alike, and
 * running the agent again would only spend its cost.
 */
function graderError(model: string, err: unknown): unknown {
  if (!(err instanceof UpstreamError)) return err;
  const message = `grader model ${model}: ${err.message}${err.options.body ? ` (${err.options.body.slice(0, 300)})` : ''}`;
  if (isRetryable(err)) return new ScoreError('CB_SCORER_FAILED', 'infra', message, { cause: err });
  return new ScoreError('CB_GRADER_FAILED', 'task', `${message}; check the grader model's name and its provider's key and base URL`, { cause: err });
}


/** Every scorer spec of a task: its own and its turns'. */
function scorersOf(task: Task): ScorerSpec[] {
  return [task.scorer, ...(task.extraScorers ?? []).map((x) => x.spec), ...(task.turns ?? []).flatMap((t) => (t.scorer ? [t.scorer] : []))];
}

/** Whether any of the tasks is scored by a grader model. */
export function needsGrader(tasks: readonly Task[]): boolean {
  return tasks.some((t) => scorersOf(t).some((s) => s.type === 'model_graded'));
}

/**
 * Problems with the grader models the tasks need, one line each: a model_graded scorer with no
 * model while the run has no --grader-model, or a model whose provider cagebench does not know.
 */
export function graderProblems(tasks: readonly Task[], defaultModel: string | undefined, providers: readonly string[] = ['openai', 'anthropic', 'mock']): string[] {
  const problems: string[] = [];
  for (const task of tasks) {
    for (const spec of scorersOf(task)) {
      if (spec.type !== 'model_graded') continue;
      const models = Array.isArray(spec.graders) ? spec.graders : [spec.model ?? defaultModel];
      if (models.includes(undefined)) {
        problems.push(`${task.id} (${task.origin}): its model_graded scorer names no grader model, and the run has no --grader-model`);
        continue;
      }
      for (const model of new Set(models as string[])) {
        const provider = model.slice(0, model.indexOf('/'));
        if (!providers.includes(provider)) problems.push(`${task.id} (${task.origin}): grader model ${model}: no provider "${provider}" (known: ${providers.join(', ')})`);
      }
    }
  }
  return problems;
}
