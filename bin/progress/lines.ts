// Quiet, line-oriented progress for logs and CI: one line per finished sample, the summary
// table at the end. Nothing is redrawn.
import type { ErrorRecord, ResultRecord, RunEndInfo, RunReporter, RunStartInfo, SampleRef, SummaryRecord } from '../../harness/index.ts';
import { errorDetail, resultLine, summaryTable } from './format.ts';

export class LineReporter implements RunReporter {
  private done = 0;
  private total = 0;
  /** Tasks whose error detail was printed already. */
  private readonly detailed = new Set<string>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** Where the final table goes; none when undefined. */
    private readonly tableOut: NodeJS.WritableStream | undefined,
  ) {}

  onRunStart(info: RunStartInfo): void {
    this.done = info.alreadyDone;
    this.total = info.total;
    const resumed = info.alreadyDone ? `, ${info.alreadyDone} already done` : '';
    this.out.write(`cagebench: run ${info.runId}: ${info.total} sample(s) of ${info.tasks} task(s), agent ${info.agent}${resumed}\n`);
  }

  onNote(line: string): void {
    this.out.write(`cagebench: ${line}\n`);
  }

  onSampleRetry(sample: SampleRef, error: ErrorRecord, retry: number): void {
    this.out.write(`retry ${retry} of ${sample.id} after an infra error: ${error.message.split('\n')[0]}\n`);
  }

  onSampleEnd(result: ResultRecord): void {
    this.out.write(`${resultLine(result, ++this.done, this.total)}\n`);
    const detail = errorDetail(result, this.detailed);
    if (detail) this.out.write(`${detail}\n`);
  }

  onRunEnd(summary: SummaryRecord, info: RunEndInfo): void {
    this.tableOut?.write(`\n${summaryTable(summary, info.runDir)}\n`);
    for (const reason of info.reasons) this.out.write(`cagebench: ${reason}\n`);
  }
}
