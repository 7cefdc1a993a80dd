// `cagebench download` and `cagebench cache list|clean`.
import type { Command } from 'commander';
import { report } from './shared.ts';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addCacheCommands(program: Command): void {
  program
    .command('download')
    .description('Download agent builds into the cache, for offline runs (with --offline: check they are there)')
    .argument('<agents...>', 'claude_code, codex_cli, gemini_cli, opencode, node, claude_agent_acp, codex_acp')
    .option('--version <spec>', 'stable, latest, an exact version X.Y.Z or a release line N.x', 'stable')
    .option('--platform <platform>', 'linux-x64, linux-arm64, linux-x64-musl, linux-arm64-musl (repeatable; default: this host\'s)', collect)
    .option('--offline', 'never touch the network: only check the entries are present')
    .action(async (agents: string[], opts: { version: string; platform?: string[]; offline?: boolean }) => {
      await report(async () => {
        const { downloadAgents, versionSpecProblem, ConfigError } = await import('../../harness/index.ts');
        // An unknown tag would otherwise fetch the newest release after a mere warning.
        const problem = versionSpecProblem('--version', opts.version, { inSandbox: false });
        if (problem) throw new ConfigError(`${problem}.`);
        const { isInteractive } = await import('../progress/index.ts');
        const tty = isInteractive(process.stderr);
        let last = 0;
        const entries = await downloadAgents({
          agents,
          version: opts.version,
          platforms: opts.platform,
          offline: opts.offline || process.env.CAGEBENCH_OFFLINE === '1',
          log: (line) => process.stderr.write(`cagebench: ${line}\n`),
          onProgress: (p) => {
            const done = p.totalBytes !== undefined && p.receivedBytes >= p.totalBytes;
            const pct = p.totalBytes ? Math.floor((p.receivedBytes / p.totalBytes) * 100) : undefined;
            const text = `downloading ${p.agent} ${p.version} ${p.platform}: ${mb(p.receivedBytes)}${p.totalBytes ? ` of ${mb(p.totalBytes)} (${pct}%)` : ''}`;
            if (tty) process.stderr.write(`\r\x1b[2K${text}${done ? '\n' : ''}`);
            else if (done || Date.now() - last > 5000) {
              last = Date.now();
              process.stderr.write(`${text}\n`);
            }
          },
        });
        for (const e of entries) process.stdout.write(`${e.agent} ${e.version} ${e.platform}: ${mb(e.size)} at ${e.dir}\n`);
        return 0;
      });
    });

  const cache = program.command('cache').description('The agent cache');
  cache
    .command('list')
    .description('Entries in the cache: agent, version, platform, size, last used')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }) => {
      await report(async () => {
        const { listCache } = await import('../../harness/index.ts');
        const { dir, entries } = await listCache();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dir, entries }, null, 2)}\n`);
          return 0;
        }
        process.stdout.write(`${dir}\n`);
        if (!entries.length) process.stdout.write('  (empty)\n');
        for (const e of entries) process.stdout.write(`  ${e.agent.padEnd(16)} ${e.version.padEnd(12)} ${e.platform.padEnd(16)} ${mb(e.size).padStart(9)}  last used ${e.lastUsedAt}\n`);
        return 0;
      });
    });
  cache
    .command('clean')
    .description('Remove cache entries (those in use by a live run are kept)')
    .option('--agent <name>', 'only this agent\'s entries')
    .option('--all', 'every entry')
    .action(async (opts: { agent?: string; all?: boolean }) => {
      await report(async () => {
        const { cleanCache } = await import('../../harness/index.ts');
        const removed = await cleanCache({ ...opts, log: (line) => process.stderr.write(`cagebench: ${line}\n`) });
        for (const e of removed) process.stdout.write(`removed ${e.agent} ${e.version} ${e.platform} (${mb(e.size)})\n`);
        process.stdout.write(`${removed.length} entr${removed.length === 1 ? 'y' : 'ies'} removed\n`);
        return 0;
      });
    });
}
