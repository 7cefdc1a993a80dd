// `cagebench report RUN... [--baseline RUN] -o DIR` and `cagebench view RUN...`: the static
// HTML report, written to a directory, or served on localhost until Ctrl-C.
import type { Command } from 'commander';
import { port, report } from './shared.ts';

interface ReportFlags {
  baseline?: string;
  out?: string;
  title?: string;
}

export function addReportCommands(program: Command): void {
  program
    .command('report')
    .description('Write a static HTML report of runs (opens from file://, no server needed)')
    .argument('<runs...>', 'run directories (<out>/<run-id>); several make a task × run matrix')
    .option('--baseline <run>', 'a run directory or baseline file to compare each run against (the matrix is sorted by change)')
    .requiredOption('-o, --out <dir>', 'the report directory (new, empty, or an earlier report)')
    .option('--title <text>', 'the report title')
    .action(async (runs: string[], opts: ReportFlags) => {
      await report(async () => {
        const { reportCommand } = await import('../../harness/commands/report.ts');
        const written = await reportCommand({ runs, out: opts.out!, ...(opts.baseline ? { baseline: opts.baseline } : {}), ...(opts.title ? { title: opts.title } : {}) });
        process.stdout.write(`report of ${written.samples} sample(s) from ${written.runs} run(s): ${written.index}\nopen ${written.url}\n`);
        return 0;
      });
    });
  program
    .command('view')
    .description('Serve the HTML report of runs on localhost and print its URL (Ctrl-C stops it)')
    .argument('<runs...>', 'run directories (<out>/<run-id>)')
    .option('--baseline <run>', 'a run directory or baseline file to compare each run against')
    .option('--port <n>', 'the port on 127.0.0.1 (default: any free one)', port)
    .option('-o, --out <dir>', 'where the report is written (default: a temp directory)')
    .option('--title <text>', 'the report title')
    .action(async (runs: string[], opts: ReportFlags & { port?: number }) => {
      await report(async () => {
        const { viewCommand } = await import('../../harness/commands/report.ts');
        const { report: written, server } = await viewCommand({
          runs,
          ...(opts.baseline ? { baseline: opts.baseline } : {}),
          ...(opts.out ? { out: opts.out } : {}),
          ...(opts.title ? { title: opts.title } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
        });
        process.stderr.write(`report of ${written.samples} sample(s) in ${written.out}\n`);
        process.stdout.write(`${server.url}\n`);
        // Ctrl-C stops the server and the command exits 0 (nothing to tear down: no sandbox ran).
        const release = (await import('../../harness/index.ts')).handleSignalsInApp();
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void server.close().then(resolve);
            server.server.closeAllConnections();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        }).finally(release);
        return 0;
      });
    });
}
