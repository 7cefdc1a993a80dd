// The body of a sticky pull request comment. The hidden marker lets a CI job find the comment
// it posted before and edit it in place rather than adding one per push (GitHub: list the
// issue's comments, PATCH the one whose body contains the marker; GitLab: the same with merge
// request notes). GitHub refuses a body over 65,536 characters; we stay under 60,000.
import { renderMarkdown, type MarkdownInput } from './markdown.ts';

/** Finds the comment again. One constant: the example workflows search for this exact text. */
export const PR_COMMENT_MARKER = '<!-- cagebench-compare -->';

export const PR_COMMENT_LIMIT = 60_000;

export function prComment(input: Omit<MarkdownInput, 'preamble'>, maxChars: number = PR_COMMENT_LIMIT): string {
  return renderMarkdown({ ...input, preamble: PR_COMMENT_MARKER }, { max: maxChars, measure: (text) => text.length, name: `the ${maxChars.toLocaleString('en-US')}-character comment limit` });
}
