// A grader's reply read as a verdict, strictly: one `GRADE: C|P|I` line (or a JSON object
// with a `grade`), nothing else counts. A reply that is not one is "invalid", never a grade.

export type Grade = 'C' | 'P' | 'I';

export interface Verdict {
  readonly grade: Grade;
  readonly explanation: string;
}

/** The instructions every grader gets (as its system prompt), so the reply can be parsed. */
export function verdictFormat(partialCredit: boolean): string {
  const grades = partialCredit
    ? 'C (correct: the submission meets the rubric), P (partially correct) or I (incorrect)'
    : 'C (correct: the submission meets the rubric) or I (incorrect)';
  return [
    'You are a careful grader. Judge the submission only against the rubric.',
    'Reply in exactly this format and nothing else:',
    'GRADE: <one letter>',
    'EXPLANATION: <one short paragraph saying why>',
    `where the letter is ${grades}.`,
  ].join('\n');
}

/** What a grader whose reply was invalid is told before it tries again. */
export function correction(why: string, partialCredit: boolean): string {
  return `Your reply could not be read (${why}). Answer again in exactly this format: a line "GRADE: ${partialCredit ? 'C, P or I' : 'C or I'}", then a line "EXPLANATION: ...".`;
}

const GRADE_LINE = /^\s*[*_#>\s]*grade[*_\s]*:[*_\s]*([a-z]+)[*_.\s]*$/gim;
const EXPLANATION = /^\s*[*_#>\s]*explanation[*_\s]*:[*_\s]*/im;

/**
 * The verdict in `text`, or why there is none. Accepted: a line `GRADE: X` (any case, Markdown
 * emphasis tolerated) with X one of C, P, I, and the rest as the explanation (after
 * `EXPLANATION:` when given); or a JSON object `{"grade": "C", "explanation": "..."}`, bare or
 * in a code fence. Several grade lines that disagree, or any other letter or word, are invalid.
 */
export function parseVerdict(text: string): Verdict | { readonly invalid: string } {
  const json = jsonVerdict(text);
  if (json) return json;
  const lines = [...text.matchAll(GRADE_LINE)];
  if (lines.length === 0) return { invalid: 'no "GRADE: C|P|I" line' };
  const grades = new Set(lines.map((m) => m[1]!.toUpperCase()));
  if (grades.size > 1) return { invalid: `several grades given (${[...grades].join(', ')})` };
  const grade = [...grades][0]!;
  if (!isGrade(grade)) return { invalid: `"${lines[0]![1]}" is not a grade (C, P or I)` };
  const rest = text.replace(GRADE_LINE, '');
  const at = EXPLANATION.exec(rest);
  const explanation = (at ? rest.slice(at.index + at[0].length) : rest).trim();
  return { grade, explanation };
}

function jsonVerdict(text: string): Verdict | { readonly invalid: string } | undefined {
  const body = text.trim().replace(/^```(?:json)?\s*\n([\s\S]*?)\n```$/i, '$1').trim();
  if (!body.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined; // not JSON after all: the line form may still find a grade
  }
  const { grade, explanation } = (value ?? {}) as { grade?: unknown; explanation?: unknown };
  const letter = typeof grade === 'string' ? grade.trim().toUpperCase() : undefined;
  if (letter === undefined || !isGrade(letter)) return { invalid: `the JSON reply's "grade" is ${JSON.stringify(grade) ?? 'missing'}, not C, P or I` };
  return { grade: letter, explanation: typeof explanation === 'string' ? explanation.trim() : '' };
}

function isGrade(s: string): s is Grade {
  return s === 'C' || s === 'P' || s === 'I';
}

/** C = 1; P = 0.5 with partial credit, else it counts as I; I = 0. */
export function gradeValue(grade: Grade, partialCredit: boolean): number {
  return grade === 'C' ? 1 : grade === 'P' && partialCredit ? 0.5 : 0;
}

/**
 * The grade most graders gave (P read as I without partial credit). A tie goes to the lower
 * grade: a sample is not credited with more than a majority of its graders agree on.
 */
export function majority(grades: readonly Grade[], partialCredit: boolean): Grade {
  const counted = grades.map((g) => (g === 'P' && !partialCredit ? 'I' : g));
  const votes = (g: Grade): number => counted.filter((c) => c === g).length;
  // Lowest first, so a tie keeps the lower grade.
  return (['I', 'P', 'C'] as const).reduce((best, g) => (votes(g) > votes(best) ? g : best));
}
