// A session's direct tools: what a program does in the agent's sandbox without a model
// (read a file, write, edit, run a command, search, list, ask git), as the agent's user in
// its working directory. Each call is an event in the session's log.
import { posix } from 'node:path';
import { CagebenchError } from '../errors.ts';
import type { SessionEnvironment } from './environment.ts';

export interface BashResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface SessionTools {
  read(path: string): Promise<string>;
  write(path: string, content: string): Promise<void>;
  /** Replace the one occurrence of `old` with `new`; none or several is an error. */
  edit(path: string, change: { readonly old: string; readonly new: string }): Promise<void>;
  bash(command: string, options?: { readonly timeoutMs?: number }): Promise<BashResult>;
  /** `grep -rn` under `path` (default: the working directory): `file:line:text` lines. */
  grep(pattern: string, options?: { readonly path?: string; readonly ignoreCase?: boolean }): Promise<string[]>;
  /** Paths matching a bash glob (`**` included), relative to the working directory. */
  glob(pattern: string): Promise<string[]>;
  git(args: readonly string[]): Promise<BashResult>;
}

export function sessionTools(env: Pick<SessionEnvironment, 'sandbox' | 'identity' | 'cwd'>, emit: (type: string, fields: Record<string, unknown>) => void): SessionTools {
  const as = env.identity.user ? { user: env.identity.user } : {};
  const abs = (path: string): string => (path.startsWith('/') ? path : posix.join(env.cwd, path));
  const logged = async <T>(tool: string, args: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const out = await fn();
      emit('tool.direct', { tool, ...args, ok: true, durationMs: Math.round(performance.now() - started) });
      return out;
    } catch (err) {
      emit('tool.direct', { tool, ...args, ok: false, error: (err as Error).message, durationMs: Math.round(performance.now() - started) });
      throw err;
    }
  };
  const run = async (argv: string[], timeoutMs = 60_000): Promise<BashResult> => {
    const r = await env.sandbox.exec(argv, { ...as, cwd: env.cwd, timeoutMs });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  };
  const read = async (path: string): Promise<string> => {
    const r = await run(['cat', '--', abs(path)]);
    if (r.exitCode !== 0) throw new CagebenchError('CB_TOOL_FAILED', 'agent', `read ${path}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const write = async (path: string, content: string): Promise<void> => {
    const r = await env.sandbox.exec(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', abs(path)], { ...as, cwd: env.cwd, stdin: content });
    if (r.exitCode !== 0) throw new CagebenchError('CB_TOOL_FAILED', 'agent', `write ${path}: ${r.stderr.trim()}`);
  };
  return {
    read: (path) => logged('read', { path }, () => read(path)),
    write: (path, content) => logged('write', { path, bytes: Buffer.byteLength(content) }, () => write(path, content)),
    edit: (path, change) =>
      logged('edit', { path }, async () => {
        const text = await read(path);
        const count = text.split(change.old).length - 1;
        if (count !== 1) throw new CagebenchError('CB_TOOL_FAILED', 'agent', `edit ${path}: the text to replace occurs ${count} times; it must occur exactly once.`);
        await write(path, text.replace(change.old, () => change.new));
      }),
    bash: (command, options) => logged('bash', { command }, () => run(['bash', '-c', command], options?.timeoutMs)),
    grep: (pattern, options) =>
      logged('grep', { pattern, path: options?.path ?? '.' }, async () => {
        const r = await run(['grep', '-rn', ...(options?.ignoreCase ? ['-i'] : []), '--exclude-dir=.git', '-e', pattern, '--', options?.path ?? '.']);
        if (r.exitCode > 1) throw new CagebenchError('CB_TOOL_FAILED', 'agent', `grep ${pattern}: ${r.stderr.trim()}`);
        return r.stdout.split('\n').filter(Boolean);
      }),
    glob: (pattern) =>
      logged('glob', { pattern }, async () => {
        const r = await run(['bash', '-c', 'shopt -s globstar nullglob dotglob; for f in $1; do printf "%s\\n" "$f"; done', 'bash', pattern]);
        return r.stdout.split('\n').filter(Boolean);
      }),
    git: (args) => logged('git', { args }, () => run(['git', ...args])),
  };
}
