// A grader model judges the agent's work against a rubric: for answers no string check can
// score (reviews, explanations, designs). The model is reached through `ctx.grader`, which the
// harness lends (and accounts for apart from the agent); a scorer never calls a provider itself.
import type { GradedInput, ModelGradedSpec } from '../tasks/index.ts';
import { MODEL_GRADED_PLACEHOLDERS } from '../tasks/index.ts';
import { badSpec, guard } from './guard.ts';
import { sandboxPath } from './sandbox-path.ts';
import { ScoreError, type GradeRequest, type Grader, type ScoreContext, type Scorer } from './scorer.ts';
import { correction, gradeValue, majority, parseVerdict, verdictFormat, type Verdict } from './verdict.ts';

export type ModelGradedScorerSpec = ModelGradedSpec;

/** Tries of one grader whose replies cannot be read: the first and this many more. */
export const GRADER_FORMAT_RETRIES = 2;
/** A file shown to the grader is cut here, so one large file cannot fill its context. */
const MAX_FILE_CHARS = 50_000;

export const DEFAULT_TEMPLATE = `Grade an AI agent's work on a task.

[Task given to the agent]
{question}

[The agent's submission]
{submission}

[Rubric]
{rubric}`;

/**
 * Scores with one or more grader models. Each grader gets the template filled in (the task's
 * question, the submission the spec's `input` selects, the rubric) and must reply with a
 * verdict (verdict.ts); an unreadable reply is retried up to GRADER_FORMAT_RETRIES times with
 * a correction. The score is the majority verdict of the graders that gave one (a tie takes
 * the lower grade): C = 1, P = 0.5 with `partialCredit` (else as I), I = 0; it passes at C.
 * Every call is a `grader.call` event (prompt, reply, verdict, usage, cost, latency).
 *
 * @throws ScoreError `CB_SCORER_FAILED` kind `task` at creation for an unknown template
 *   placeholder; when scoring, without `ctx.grader` or a grader model.
 * @throws ScoreError `CB_GRADER_INVALID` kind `task` when no grader gave a readable verdict
 *   (the sample is an error, not a 0, and is not run again).
 */
export function createModelGradedScorer(spec: ModelGradedSpec): Scorer {
  const template = spec.template ?? DEFAULT_TEMPLATE;
  const unknown = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).filter((p) => !(MODEL_GRADED_PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length) throw badSpec(`model_graded scorer: the template holds {${unknown[0]}}; it may only hold ${MODEL_GRADED_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
  const partialCredit = spec.partialCredit ?? false;
  const inputs = spec.input ?? ['answer'];

  return async (ctx) => {
    const grader = ctx.grader;
    if (!grader) {
      throw new ScoreError('CB_SCORER_FAILED', 'task', 'model_graded scorer: no grader model is available here; it runs inside a cagebench run or rescore (which lend one), or give ctx.grader when calling the scorer yourself');
    }
    const models = gradersOf(spec, grader);
    const prompt = await guard('model_graded scorer', async () => fill(template, { rubric: spec.rubric, ...(await submissionOf(ctx, inputs)) }));
    const system = verdictFormat(partialCredit);
    const outcomes = await Promise.all(models.map((model, i) => guard(`grader ${model}`, () => askGrader(ctx, grader, { model, system, prompt, partialCredit, index: i + 1 }))));
    const verdicts = outcomes.filter((o): o is GraderVerdict => 'grade' in o);
    const lines = outcomes.map((o) => `${o.label}: ${'grade' in o ? `${o.grade}${o.explanation ? ` (${oneLine(o.explanation)})` : ''}` : `no valid verdict (${o.invalid})`}`);
    if (verdicts.length === 0) {
      throw new ScoreError('CB_GRADER_INVALID', 'task', `model_graded scorer: no grader gave a readable verdict after ${GRADER_FORMAT_RETRIES + 1} tries each (the replies are in events.jsonl, grader.call):\n${lines.join('\n')}`);
    }
    const grade = majority(verdicts.map((v) => v.grade), partialCredit);
    const value = gradeValue(grade, partialCredit);
    const note = !partialCredit && verdicts.some((v) => v.grade === 'P') ? ' (P counts as I without partial_credit)' : '';
    const head = models.length === 1 ? `grade ${grade}${note}` : `grade ${grade} by majority of ${verdicts.length} verdict(s) from ${models.length} grader(s)${note}`;
    return { value, passed: value >= 1, explanation: models.length === 1 ? `${head}: ${verdicts[0]!.explanation || '(no explanation)'}` : `${head}\n${lines.join('\n')}` };
  };
}

interface GraderVerdict extends Verdict {
  readonly label: string;
}

/** The grader models to call: the spec's list, or its (or the run's) model as many times as asked. */
function gradersOf(spec: ModelGradedSpec, grader: Grader): string[] {
  if (Array.isArray(spec.graders)) return [...spec.graders];
  const model = spec.model ?? grader.defaultModel;
  if (!model) throw new ScoreError('CB_SCORER_FAILED', 'task', 'model_graded scorer: no grader model: set `model` on the scorer or give the run --grader-model provider/model');
  return Array.from({ length: typeof spec.graders === 'number' ? spec.graders : 1 }, () => model);
}

/** One grader, asked until its reply is a verdict or its tries run out. */
async function askGrader(
  ctx: ScoreContext,
  grader: Grader,
  ask: { readonly model: string; readonly system: string; readonly prompt: string; readonly partialCredit: boolean; readonly index: number },
): Promise<GraderVerdict | { readonly label: string; readonly invalid: string }> {
  const label = `grader ${ask.index} (${ask.model})`;
  const messages: GradeRequest['messages'][number][] = [{ role: 'user', text: ask.prompt }];
  let invalid = '';
  for (let tryNo = 1; tryNo <= GRADER_FORMAT_RETRIES + 1; tryNo++) {
    const reply = await grader.grade({ model: ask.model, system: ask.system, messages });
    const verdict = parseVerdict(reply.text);
    const retrying = 'invalid' in verdict && tryNo <= GRADER_FORMAT_RETRIES;
    ctx.emit?.('grader.call', {
      grader: ask.index,
      model: ask.model,
      try: tryNo,
      system: ask.system,
      // A retry's prompt is the correction; the conversation before it is in the earlier calls.
      prompt: messages.at(-1)!.text,
      answer: reply.text,
      ...('invalid' in verdict ? { invalid: verdict.invalid, retrying } : { verdict: verdict.grade, explanation: verdict.explanation }),
      usage: reply.usage,
      costUsd: reply.costUsd,
      latencyMs: reply.latencyMs,
    });
    if (!('invalid' in verdict)) return { label, ...verdict };
    invalid = verdict.invalid;
    messages.push({ role: 'assistant', text: reply.text }, { role: 'user', text: correction(invalid, ask.partialCredit) });
  }
  return { label, invalid };
}

type Parts = Record<(typeof MODEL_GRADED_PLACEHOLDERS)[number], string>;

/** What the spec's `input` selects, each part under its placeholder and all of them as `submission`. */
async function submissionOf(ctx: ScoreContext, inputs: readonly GradedInput[]): Promise<Omit<Parts, 'rubric'>> {
  const answer = ctx.answer?.trim() ? ctx.answer : '(the agent gave no final message)';
  const diff = ctx.diff === undefined ? '(no record of the workdir changes)' : ctx.diff.trim() ? ctx.diff : '(the agent changed no file)';
  const files: string[] = [];
  const sections: string[] = [];
  for (const input of inputs) {
    if (input === 'answer') sections.push(`Final message:\n${answer}`);
    else if (input === 'diff') sections.push(`Changes to the workdir (unified diff):\n${diff}`);
    else {
      const text = `File ${input.file}:\n${await fileText(ctx, input.file)}`;
      files.push(text);
      sections.push(text);
    }
  }
  return { question: ctx.question ?? '(not given)', answer, diff, files: files.join('\n\n') || '(no files selected)', submission: sections.join('\n\n') };
}

async function fileText(ctx: ScoreContext, file: string): Promise<string> {
  const path = await sandboxPath(ctx, file);
  const probe = await ctx.sandbox.exec(['test', '-f', path], { user: 'root' });
  if (probe.exitCode !== 0) return `(missing: ${path} is not a file)`;
  const text = (await ctx.sandbox.readFile(path)).toString('utf8');
  return text.length > MAX_FILE_CHARS ? `${text.slice(0, MAX_FILE_CHARS)}\n[cagebench: cut at ${MAX_FILE_CHARS} characters of ${text.length}]` : text;
}

/** The template with each `{name}` replaced, in one pass (a value holding `{rubric}` stays as it is). */
function fill(template: string, parts: Parts): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in parts ? parts[name as keyof Parts] : whole));
}

function oneLine(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
