// `cagebench chat`: a session driven from a terminal. Lines come in through readline while a
// turn runs (so /cancel and Ctrl-C reach it); prompts run one at a time, in order; the turn's
// events are printed as they happen. On a terminal the input line stays at the bottom and
// output is written above it; from a pipe, every line (commands too, except /cancel) runs in
// order and the end of input closes the session.
import { createInterface, clearLine, cursorTo } from 'node:readline';
import { join } from 'node:path';
import type { AgentSessionOptions, Session, SessionEvent, TurnResult } from '../../harness/index.ts';
import { EXIT_INFRA } from '../commands/shared.ts';
import { askLine, filesReport, HELP, messageText, NOT_YET, toolCallLine, toolErrorLine, turnSummary } from './render.ts';

export interface ChatOptions {
  readonly session: AgentSessionOptions;
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly errors: NodeJS.WritableStream;
  /** A terminal UI (raw input, a prompt kept below the output, Ctrl-C read as a key). @default input and output are both TTYs */
  readonly interactive?: boolean;
}

/** Without a terminal, tool lines are still cut, to this many columns. */
const PIPE_WIDTH = 160;

/** Run the chat until /quit, Ctrl-D, Ctrl-C at the prompt or the end of piped input; the exit code. */
export async function runChat(options: ChatOptions): Promise<number> {
  const { createSession, handleSignalsInApp, teardownSandboxes } = await import('../../harness/index.ts');
  const { input, output: out, errors } = options;
  const interactive = options.interactive ?? Boolean(input.isTTY && out.isTTY);
  const dim = (text: string): string => (interactive && !process.env.NO_COLOR ? `\x1b[2m${text}\x1b[22m` : text);
  const width = (): number => (out.isTTY && out.columns ? out.columns : PIPE_WIDTH);
  const rl = createInterface({ input, output: out, terminal: interactive, prompt: '> ' });

  let session: Session | undefined;
  let last: TurnResult | undefined;
  let exitCode = 0;
  let inputClosed = false;
  let cancelling = false;
  let finishing: Promise<void> | undefined;
  let turnDone: Promise<unknown> | undefined;
  const queue: string[] = [];
  let pumping = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  /** Write above the input line (a terminal), or just write (a pipe). */
  const print = (text: string, stream: NodeJS.WritableStream = out): void => {
    if (!interactive || inputClosed) {
      stream.write(`${text}\n`);
      return;
    }
    clearPromptLine();
    stream.write(`${text}\n`);
    rl.prompt(true);
  };
  const warn = (text: string): void => print(text, errors);

  /** Close the session (cancelling a running turn) and end the chat; `note` is printed first. */
  const quit = (note?: string): Promise<void> =>
    (finishing ??= (async () => {
      closeInput();
      if (note) print(note);
      try {
        const opened = session ?? (await opening.catch(() => undefined));
        if (!opened) return;
        if (opened.active()) {
          print(dim('cancelling the turn...'));
          await opened.cancel();
          await turnDone?.catch(() => undefined);
        }
        print(dim('closing the session: removing its sandbox...'));
        await opened.close();
        print(dim(`session closed; its transcript: ${join(opened.dir, 'events.jsonl')}`));
      } catch (err) {
        warn(`cagebench: error: closing the session: ${err instanceof Error ? err.message : String(err)}`);
        exitCode ||= EXIT_INFRA;
      } finally {
        finished();
      }
    })());

  /** The prompt line goes: what follows is plain output. */
  const clearPromptLine = (): void => {
    if (!interactive) return;
    cursorTo(out, 0);
    clearLine(out, 0);
  };

  const closeInput = (): void => {
    if (inputClosed) return;
    inputClosed = true;
    clearPromptLine();
    rl.close();
  };

  const cancel = async (): Promise<void> => {
    if (!session?.active()) {
      print('no turn is running');
      return;
    }
    if (queue.length) print(dim(`dropped ${queue.length} queued prompt${queue.length === 1 ? '' : 's'}`));
    queue.length = 0;
    cancelling = true;
    print(dim('cancelling the turn...'));
    await session.cancel();
  };

  const command = async (line: string): Promise<void> => {
    const name = line.split(/\s+/)[0]!;
    try {
      if (name === '/help') print(HELP);
      else if (name === '/quit' || name === '/exit') await quit();
      else if (name === '/cancel') await cancel();
      else if (NOT_YET.has(name)) print(`${name} is not available yet in this version`);
      else if (name === '/approve' || name === '/deny') answer(name === '/approve', line.split(/\s+/).slice(1));
      else if (name === '/model') {
        const target = line.split(/\s+/)[1];
        if (!target) print('/model takes provider/model, e.g. /model anthropic/claude-sonnet-4-5');
        else if (!session) print('the session is still starting');
        else {
          await session.set({ model: target });
          print(dim(`the next turns go to ${target}`));
        }
      }
      else if (name === '/files') print(last ? filesReport(last) : 'no turn has ended yet');
      else if (name === '/save') {
        if (!session) print('the session is still starting');
        else if (session.active()) print('a turn is running: /save when it ends (or /cancel it)');
        else {
          const record = await session.save();
          print(`saved: ${join(record.dir, 'session.json')} (the container is kept as image ${record.image})`);
        }
      } else print(`unknown command ${name}: /help lists the commands`);
    } catch (err) {
      warn(`cagebench: error: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  /** `/approve [ID]`, `/deny [ID] [REASON]`: answer a waiting tool call (the oldest, unless named). */
  const answer = (approve: boolean, args: string[]): void => {
    const waiting = session?.pending() ?? [];
    if (!waiting.length) {
      print('no tool call is waiting for an answer');
      return;
    }
    const named = args[0] ? waiting.find((p) => p.id === args[0]) : undefined;
    const target = named ?? waiting[0]!;
    const reason = (named ? args.slice(1) : args).join(' ');
    session!.confirm({ id: target.id, approve, ...(reason ? { reason } : {}) });
    print(dim(`${approve ? 'approved' : 'denied'}: ${target.command ?? target.tool}`));
  };

  const render = (event: SessionEvent): void => {
    if (event.type === 'agent.message' && typeof event.text === 'string' && event.text.trim()) print(messageText(event.text));
    else if (event.type === 'agent.tool_call') print(toolCallLine(event.name, event.input, width()));
    else if (event.type === 'agent.tool_result' && event.isError === true) print(dim(toolErrorLine(event.output, width())));
    else if (event.type === 'permission.asked') print(askLine(event.tool, event.command, event.timeoutMs, width()));
  };

  const turn = async (prompt: string): Promise<void> => {
    const stream = session!.stream(prompt);
    turnDone = stream.result;
    cancelling = false;
    try {
      for await (const event of stream) render(event);
      last = await stream.result;
      print(dim(turnSummary(last)));
    } catch (err) {
      if (!finishing) warn(`cagebench: error: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      turnDone = undefined;
    }
  };

  /** Run queued lines one at a time; at the end of piped input, close the session. */
  const pump = async (): Promise<void> => {
    if (pumping || !session) return;
    pumping = true;
    try {
      while (queue.length && !finishing) {
        const line = queue.shift()!;
        if (!interactive) print(`> ${line}`);
        if (line.startsWith('/')) await command(line);
        else await turn(line);
      }
    } finally {
      pumping = false;
    }
    if (!interactive && inputClosed && !finishing) void quit();
  };

  rl.on('line', (raw) => {
    const line = raw.trim();
    if (!line || finishing) {
      if (interactive && !finishing && !inputClosed) rl.prompt();
      return;
    }
    // On a terminal every command acts at once; from a pipe only those that answer the running
    // turn do (/cancel, /approve, /deny), the rest wait their turn.
    if (line.startsWith('/') && (interactive || ['/cancel', '/approve', '/deny'].includes(line.split(/\s+/)[0]!))) {
      if (!interactive) print(`> ${line}`);
      void command(line);
    } else {
      queue.push(line);
      if (interactive && (session?.active() || !session)) print(dim(session ? '(queued: it runs when this turn ends)' : '(queued: it runs once the session has started)'));
      void pump();
    }
    if (interactive && !finishing && !inputClosed) rl.prompt();
  });
  // Ctrl-D on a terminal; the end of piped input (after its queued lines run).
  rl.on('close', () => {
    const wasOpen = !inputClosed;
    inputClosed = true;
    if (!wasOpen) return;
    clearPromptLine();
    if (interactive) void quit();
    else void pump();
  });
  // Ctrl-C read as a key (terminal): cancel the turn; at the prompt, or again while cancelling, quit.
  rl.on('SIGINT', () => {
    if (session?.active() && !cancelling) void cancel();
    else void quit('^C');
  });

  // A signal (Ctrl-C when input is not a terminal, SIGTERM, a closed terminal): the CLI's exit
  // handlers remove the sandbox; the session is closed and the exit code says which signal.
  const release = handleSignalsInApp();
  const SIGNAL_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  let signalled = 0;
  const onSignal = (signal: keyof typeof SIGNAL_EXIT): void => {
    if (++signalled > 1) {
      void teardownSandboxes().finally(() => process.exit(SIGNAL_EXIT[signal]));
      return;
    }
    exitCode = SIGNAL_EXIT[signal];
    warn(`cagebench: ${signal}: closing the session (again to force)`);
    void quit();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const agentName = typeof options.session.agent === 'string' ? options.session.agent : options.session.agent.name;
  print(dim(`cagebench chat: ${agentName}${options.session.model ? ` with ${options.session.model}` : ''}: starting its sandbox...`));
  if (interactive) rl.prompt();
  const opening = createSession(options.session);
  try {
    session = await opening;
    print(`session ${session.id} in ${session.dir} (transcript: events.jsonl); /help lists the commands`);
    if (finishing) await finishing;
    else {
      void pump();
      await done;
    }
    return exitCode;
  } finally {
    closeInput();
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
    release();
  }
}
