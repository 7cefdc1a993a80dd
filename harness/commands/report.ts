// `cagebench report` and `cagebench view`: the static HTML report of one or more runs (and
// a baseline), written to a directory, or written to a temp directory and served on localhost.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReportServer, serveReport } from '../report/html/serve.ts';
import { type ReportWritten, writeReport } from '../report/html/writer.ts';

export interface ReportCommandOptions {
  readonly runs: readonly string[];
  readonly baseline?: string;
  readonly out: string;
  readonly title?: string;
}

export function reportCommand(options: ReportCommandOptions): Promise<ReportWritten> {
  return writeReport({ runs: options.runs, out: options.out, ...(options.baseline ? { baseline: options.baseline } : {}), ...(options.title ? { title: options.title } : {}) });
}

export interface ViewCommandOptions extends Omit<ReportCommandOptions, 'out'> {
  /** Where the report is written. @default a new temp directory */
  readonly out?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

export async function viewCommand(options: ViewCommandOptions): Promise<{ report: ReportWritten; server: ReportServer }> {
  const out = options.out ?? join(await mkdtemp(join(tmpdir(), 'cagebench-report-')), 'report');
  const report = await reportCommand({ ...options, out });
  const server = await serveReport(report.out, options.port !== undefined ? { port: options.port } : {});
  return { report, server };
}
