// The GitHub Actions job summary: Markdown appended to the file $GITHUB_STEP_SUMMARY names.
// GitHub refuses a step's summary over 1 MiB (an error annotation, and nothing shown), so the
// text is fitted to what is left of that budget in the file, giving up the full tables first.
import { appendFile, stat } from 'node:fs/promises';
import { renderMarkdown, type MarkdownInput } from './markdown.ts';

/** GitHub's limit on one step's summary, in bytes. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The summary, at most `maxBytes` of UTF-8. */
export function stepSummary(input: MarkdownInput, maxBytes: number = STEP_SUMMARY_LIMIT): string {
  return renderMarkdown(input, { max: maxBytes, measure: bytes, name: "GitHub's 1 MiB job summary limit" });
}

/** Append to the summary file (never overwrite: other steps' summaries may be in it), within what the step has left. */
export async function appendStepSummary(file: string, input: MarkdownInput): Promise<string> {
  const used = (await stat(file).catch(() => undefined))?.size ?? 0;
  // The separator counts too; keep a little room so a trimmed summary is still readable.
  const room = Math.max(4096, STEP_SUMMARY_LIMIT - used - 2);
  const text = stepSummary(input, room);
  await appendFile(file, `${used ? '\n' : ''}${text}`);
  return text;
}
