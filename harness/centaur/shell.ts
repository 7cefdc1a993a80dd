// What the person's shell in a centaur sandbox is made of: an rc file that keeps their own
// dotfiles and adds the agent's alias and the `task` command, the `task` script itself (POSIX
// sh: no Python or Node in the image needed), and the `docker exec` line that opens it under
// `script`. Everything lives under CENTAUR_DIR; the user's HOME and rc files are not touched.
import { posix } from 'node:path';
import type { InteractiveLaunch } from '../../agents/index.ts';
import { shellQuote } from '../models/providers/mock.ts';

export const CENTAUR_DIR = '/var/tmp/cagebench/centaur';
/** Where `task` and the host talk: files written whole (temp file + mv), read by the other side. */
export const IO_DIR = posix.join(CENTAUR_DIR, 'io');
export const RECORDING_DIR = posix.join(CENTAUR_DIR, 'recording');
export const RC_FILE = posix.join(CENTAUR_DIR, 'rc');
export const TASK_SCRIPT = posix.join(CENTAUR_DIR, 'task');

/** The files of the protocol between `task` (in the sandbox) and the host. */
export const IO = {
  /** Written by the rc when the first shell starts: the person's clock starts. */
  started: 'started',
  /** `task submit [answer]`: the answer (possibly empty). */
  answer: 'answer',
  /** `task quit`. */
  quit: 'quit',
  /** Host → `task status`: elapsed time and model use so far. */
  status: 'status',
  /** Host → `task submit`: the score, once the scorer ran. */
  verdict: 'verdict',
} as const;

export interface RcOptions {
  readonly launch: InteractiveLaunch;
  readonly taskId: string;
  readonly model: string;
}

/** The shell's rc: the person's own rc first, then the agent's alias and `task`. */
export function rcFile({ launch, taskId, model }: RcOptions): string {
  const env = Object.entries(launch.env).map(([k, v]) => `${k}=${v}`);
  // `env` scopes the agent's variables (its token, base URL, config dir) to the agent: the
  // person's own commands run in the shell as the image made it.
  const command = ['env', ...env, ...launch.argv].map(shellQuote).join(' ');
  return [
    '# cagebench centaur: this shell\'s rc (your own ~/.bashrc is read first).',
    'if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi',
    `alias ${launch.alias}=${shellQuote(command)}`,
    `task() { sh ${TASK_SCRIPT} "$@"; }`,
    // The person's clock starts with their first shell.
    `[ -e ${IO_DIR}/${IO.started} ] || { date +%s > ${IO_DIR}/${IO.started}.tmp && mv ${IO_DIR}/${IO.started}.tmp ${IO_DIR}/${IO.started}; }`,
    `printf '%s\\n' ${shellQuote(`cagebench centaur · task ${taskId} · the agent: ${launch.alias} (model ${model}, permissions bypassed)`)}`,
    `printf '%s\\n' 'when done: task submit [ANSWER]   ·   task status   ·   task quit (no score)'`,
    '',
  ].join('\n');
}

/** The `task` command. The host polls IO_DIR, scores on `answer`, and writes `verdict`. */
export function taskScript(): string {
  return `#!/bin/sh
# cagebench centaur: task submit [ANSWER] | task status | task quit
d=${IO_DIR}
put() { printf '%s' "$2" > "$d/$1.tmp.$$" && mv -f "$d/$1.tmp.$$" "$d/$1"; }
ended() {
  if [ -e "$d/${IO.answer}" ]; then echo "task: already submitted" >&2; exit 1; fi
  if [ -e "$d/${IO.quit}" ]; then echo "task: already quit" >&2; exit 1; fi
}
case "$1" in
  submit)
    ended
    shift
    put ${IO.answer} "$*"
    echo "submitted; scoring..."
    i=0
    while [ ! -e "$d/${IO.verdict}" ] && [ "$i" -lt 1800 ]; do sleep 1; i=$((i + 1)); done
    if [ -e "$d/${IO.verdict}" ]; then cat "$d/${IO.verdict}"; else echo "task: no verdict from the host yet; see its terminal" >&2; fi
    ;;
  status)
    if [ -e "$d/${IO.answer}" ]; then echo "submitted"; fi
    # The time here and now; the model use as the host last saw it (it looks twice a second).
    if [ -e "$d/${IO.started}" ]; then
      s=$(( $(date +%s) - $(cat "$d/${IO.started}") ))
      if [ "$s" -lt 60 ]; then echo "time spent \${s}s"; else echo "time spent $((s / 60))m $((s % 60))s"; fi
    fi
    if [ -e "$d/${IO.status}" ]; then cat "$d/${IO.status}"; else echo "task: the host has not reported yet" >&2; fi
    ;;
  quit)
    ended
    put ${IO.quit} quit
    echo "quit: no score; the sandbox stops now"
    ;;
  *)
    echo "usage: task submit [ANSWER]   submit (the task's scorer runs; ANSWER is what an answer scorer reads)" >&2
    echo "       task status            time spent and the agent's model calls so far" >&2
    echo "       task quit              end without a score" >&2
    exit 2
    ;;
esac
`;
}

export interface ShellLineOptions {
  readonly container: string;
  readonly user?: string;
  readonly cwd: string;
  /** bash in the image; otherwise sh reads the rc through ENV. */
  readonly bash: boolean;
  /** `script` in the image: the session is recorded there. */
  readonly script: boolean;
}

/** The argv after `docker`: `exec -it … <shell>`, under the sandbox's `script` when it has one. */
export function shellArgs(options: ShellLineOptions): string[] {
  const shell = options.bash ? ['bash', '--rcfile', RC_FILE, '-i'] : ['sh', '-i'];
  const inner = options.script
    ? ['script', '-q', '-f', `--timing=${RECORDING_DIR}/timing`, `${RECORDING_DIR}/typescript`, '-c', shell.join(' ')]
    : shell;
  return ['exec', '-it', ...(options.bash ? [] : ['-e', `ENV=${RC_FILE}`]), ...(options.user ? ['-u', options.user] : []), '-w', options.cwd, options.container, ...inner];
}

/** A command line to paste: each argument quoted only when it needs it. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a))).join(' ');
}
