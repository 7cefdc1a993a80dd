// Whatever happens to the process, live sandboxes are removed: on SIGINT/SIGTERM/SIGHUP
// and on an uncaught failure, every registered owner is stopped before the process goes.
// Signals are process-wide, so this one registry is too; owners add and remove themselves.
// The handlers are the program's to install (the CLI does; a program embedding cagebench
// decides), never a side effect of importing this or creating a provider.

export interface Stoppable {
  stop(): Promise<void>;
}

const owners = new Set<Stoppable>();
/** Application code that handles SIGINT/SIGTERM itself (a run that stops and reports). */
let appHandlers = 0;
let installed = false;
let tearingDown: Promise<void> | undefined;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Stop every registered owner once; later calls share the same teardown. */
export function teardownAll(): Promise<void> {
  tearingDown ??= Promise.allSettled([...owners].map((o) => o.stop())).then(() => {
    tearingDown = undefined;
  });
  return tearingDown;
}

/**
 * Declare that the application handles SIGINT/SIGTERM itself, so teardown must not end the
 * process after removing the sandboxes. Returns the function that withdraws the claim.
 */
export function handleSignalsInApp(): () => void {
  appHandlers++;
  let released = false;
  return () => {
    if (!released) appHandlers--;
    released = true;
  };
}

/** Register an owner of live sandboxes; returns the function that unregisters it. */
export function registerForTeardown(owner: Stoppable): () => void {
  owners.add(owner);
  return () => owners.delete(owner);
}

/**
 * Remove live sandboxes when the process is signalled (then die of the signal, unless the
 * application handles it: handleSignalsInApp) or crashes on an uncaught error. Idempotent.
 */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      // The work the signal interrupts may finish first (its sandbox is gone): keep the
      // process alive until teardown is done, so it still dies of the signal.
      const hold = setInterval(() => undefined, 1000);
      void teardownAll().finally(() => {
        clearInterval(hold);
        // Unless the application handles the signal itself, die of it as the default
        // handler would: with our handler gone, the re-raised signal takes its default action.
        if (appHandlers === 0) {
          process.removeListener(signal, onSignal);
          process.kill(process.pid, signal);
        }
      });
    };
    process.on(signal, onSignal);
  }
  // Only take over crashes when nobody else (a test runner) already does. One crash is
  // reported; a second one while tearing down (say, stderr is a closed pipe) is not, or a
  // failing write would crash again and again.
  let crashed = false;
  const crash = (text: () => string): void => {
    if (crashed) return;
    crashed = true;
    try {
      process.stderr.write(text());
    } catch {
      // nowhere to report it
    }
    void teardownAll().finally(() => process.exit(1));
  };
  if (process.listenerCount('uncaughtException') === 0) {
    process.on('uncaughtException', (err) => crash(() => `${err.stack ?? String(err)}\n`));
  }
  if (process.listenerCount('unhandledRejection') === 0) {
    process.on('unhandledRejection', (reason) => crash(() => `Unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`));
  }
}
