#!/usr/bin/env node
import { createCli } from './cli.ts';
import { printError } from './commands/shared.ts';

// Actions report their own errors; this catches what escapes them (a flag parser's, say).
await createCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = printError(err);
  });
