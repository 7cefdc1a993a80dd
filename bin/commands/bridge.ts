// `cagebench bridge serve`: run the model bridge on its own.
import type { Command } from 'commander';
import { addRunFlags, runFlagValues } from './run-flags.ts';
import { port, report } from './shared.ts';

export function addBridgeCommands(program: Command): void {
  const bridge = program.command('bridge').description('The model bridge: one proxy that speaks every agent API');
  const serve = bridge
    .command('serve')
    .description('Serve the bridge until interrupted; print the base URLs and a token to use')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (default: any free one)', port)
    .option('--json', 'print one JSON line {token, urls} and nothing else');
  // The bridge's settings are run options: the same flags, names and checks as `run`'s.
  addRunFlags(serve, ['model', 'modelAliases', 'filter', 'retryRefusals', 'prices', 'logModelBodies', 'openaiBaseUrl', 'openaiApi'])
    .action(async (opts: Record<string, unknown>) => {
      await report(async () => {
        const { bridgeServe, checkRunOptions, ConfigError, handleSignalsInApp } = await import('../../harness/index.ts');
        checkRunOptions(runFlagValues(opts), { file: 'the command line', flags: true });
        if (!opts.model) throw new ConfigError('bridge serve needs --model provider/model: where every call goes (e.g. mock/echo, openai/gpt-5).');
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // It stops and exits 0 on a signal itself: the exit handlers must not re-raise it.
        handleSignalsInApp();
        return bridgeServe({
          model: opts.model as string,
          host: opts.host as string,
          port: opts.port as number | undefined,
          aliases: opts.modelAliases as Record<string, string> | undefined,
          filter: opts.filter as string | undefined,
          retryRefusals: opts.retryRefusals as number | undefined,
          pricesFile: opts.prices as string | undefined,
          logBodies: Boolean(opts.logModelBodies),
          json: Boolean(opts.json),
          openai: { baseURL: opts.openaiBaseUrl as string | undefined, api: opts.openaiApi as 'chat' | 'responses' | undefined },
          out: process.stdout,
          signal: abort.signal,
        });
      });
    });
}
