// Lines of the live block, cut to the terminal's width.

/**
 * `line` cut to `width` columns, ending in `…` when cut. A redrawn line must never wrap: the
 * redraw moves the cursor up one row per line, so a wrapped line would leave rows behind.
 */
export function fit(line: string, width: number): string {
  const chars = Array.from(line);
  if (chars.length <= width) return line;
  return width <= 0 ? '' : `${chars.slice(0, width - 1).join('')}…`;
}
