#!/usr/bin/env node
import { createCli } from './cli.ts';
import { printError } from './commands/shared.ts';

// Output piped into a reader that stops early (`| head`) is a closed pipe: stop writing, go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

// Actions report their own errors; this catches what escapes them (a flag parser's, say).
await createCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = printError(err);
  });
