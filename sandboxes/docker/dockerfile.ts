// What a Dockerfile needs from the engine before it can build: the images it starts FROM
// (and copies `--from`), so a missing one is named up front instead of left to the engine,
// which would try to pull it from a registry cagebench may not reach.

/** One instruction per logical line: comments dropped, `\` continuations joined. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (current !== '' && line.startsWith('#')) continue; // comments may sit inside a continuation
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    out.push(current + line);
    current = '';
  }
  if (current.trim() !== '') out.push(current);
  return out;
}

/** `$X`, `${X}` and `${X:-default}` from the ARG defaults; undefined when a name has no value. */
function substitute(word: string, args: ReadonlyMap<string, string>): string | undefined {
  let unresolved = false;
  const value = word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced?: string, fallback?: string, bare?: string) => {
    const v = args.get((braced ?? bare)!);
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    unresolved = true;
    return '';
  });
  return unresolved ? undefined : value;
}

/**
 * The external images a Dockerfile builds from, in order: FROM images that are not an
 * earlier stage or `scratch`, and `COPY --from=` images. A reference that needs a build
 * argument without a default is left out (the engine judges it).
 */
export function baseImages(text: string): string[] {
  const args = new Map<string, string>();
  const stages = new Set<string>();
  const images: string[] = [];
  const add = (ref: string | undefined): void => {
    if (!ref || ref === 'scratch' || stages.has(ref.toLowerCase()) || images.includes(ref)) return;
    images.push(ref);
  };
  let seenFrom = false;
  for (const line of instructions(text)) {
    const [keyword = '', ...rest] = line.split(/\s+/).filter(Boolean);
    const op = keyword.toUpperCase();
    if (op === 'ARG' && !seenFrom) {
      // Only the ARGs before the first FROM are in scope for FROM lines.
      for (const decl of rest) {
        const eq = decl.indexOf('=');
        if (eq > 0) args.set(decl.slice(0, eq), decl.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
      }
    } else if (op === 'FROM') {
      seenFrom = true;
      const words = rest.filter((w) => !w.startsWith('--'));
      add(substitute(words[0] ?? '', args));
      if (words[1]?.toUpperCase() === 'AS' && words[2]) stages.add(words[2].toLowerCase());
    } else if (op === 'COPY') {
      const from = rest.find((w) => w.toLowerCase().startsWith('--from='))?.slice('--from='.length);
      // A stage is named or numbered; anything else is an image.
      if (from && !/^\d+$/.test(from)) add(from);
    }
  }
  return images;
}
