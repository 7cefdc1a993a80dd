// Live progress on a terminal: finished samples scroll by as lines, and a block at the
// bottom is redrawn in place with a bar, counts, running samples and an ETA. Redraws are
// throttled and the timer never keeps the process alive.
import type { ResultRecord, RunEndInfo, RunReporter, RunStartInfo, SampleRef, SummaryRecord, ErrorRecord } from '../../harness/index.ts';
import { fit } from './fit.ts';
import { duration, errorDetail, resultLine, summaryTable } from './format.ts';

const REDRAW_MS = 100;
const TICK_MS = 1000;
const BAR_WIDTH = 24;

export class WindowReporter implements RunReporter {
  private total = 0;
  private alreadyDone = 0;
  private done = 0;
  private counts = { pass: 0, fail: 0, error: 0 };
  private readonly running = new Map<string, number>();
  /** Tasks whose error detail was printed already. */
  private readonly detailed = new Set<string>();
  private startedAt = Date.now();
  private drawnLines = 0;
  private lastDraw = 0;
  private pending: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    /** Where the final table goes; none when undefined. */
    private readonly tableOut: NodeJS.WritableStream | undefined,
  ) {}

  onRunStart(info: RunStartInfo): void {
    this.total = info.total;
    this.alreadyDone = this.done = info.alreadyDone;
    this.startedAt = Date.now();
    this.print(`cagebench: run ${info.runId}, agent ${info.agent}, ${info.total} sample(s)${info.alreadyDone ? `, ${info.alreadyDone} already done` : ''}`);
    this.ticker = setInterval(() => this.draw(), TICK_MS).unref();
  }

  onSampleStart(sample: SampleRef): void {
    this.running.set(sample.id, Date.now());
    this.schedule();
  }

  onNote(line: string): void {
    this.print(`cagebench: ${line}`);
  }

  onSampleRetry(sample: SampleRef, error: ErrorRecord, retry: number): void {
    this.print(`retry ${retry} of ${sample.id}: ${error.message.split('\n')[0]}`);
  }

  onSampleEnd(result: ResultRecord): void {
    this.running.delete(result.sampleId);
    this.done++;
    this.counts[result.outcome]++;
    const detail = errorDetail(result, this.detailed);
    this.print(detail ? `${resultLine(result, this.done, this.total)}\n${detail}` : resultLine(result, this.done, this.total));
  }

  onRunEnd(summary: SummaryRecord, info: RunEndInfo): void {
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    this.clear();
    this.tableOut?.write(`\n${summaryTable(summary, info.runDir)}\n`);
    for (const reason of info.reasons) this.out.write(`cagebench: ${reason}\n`);
  }

  /** Print a line above the live block. */
  private print(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  private schedule(): void {
    if (this.pending) return;
    const wait = Math.max(0, REDRAW_MS - (Date.now() - this.lastDraw));
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, wait).unref();
  }

  private clear(): void {
    if (this.drawnLines) this.out.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    this.clear();
    this.lastDraw = Date.now();
    const lines = this.block();
    this.out.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  private block(): string[] {
    const fraction = this.total ? this.done / this.total : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const elapsed = Date.now() - this.startedAt;
    const finishedHere = this.done - this.alreadyDone;
    const eta = finishedHere > 0 ? duration((elapsed / finishedHere) * (this.total - this.done)) : '…';
    const { pass, fail, error } = this.counts;
    // One column spare: a line that fills the last column makes some terminals wrap early.
    const width = Math.max(1, (this.out.columns || 100) - 1);
    const running = [...this.running].map(([id, since]) => `${id} ${duration(Date.now() - since)}`);
    const shown = running.slice(0, 4).join(', ') + (running.length > 4 ? `, +${running.length - 4}` : '');
    const counts = `${this.done}/${this.total}  pass ${pass}  fail ${fail}  error ${error}  elapsed ${duration(elapsed)}  eta ${eta}`;
    // The bar goes first when the terminal is too narrow for both: the counts say more.
    const status = ` ${bar} ${counts}`.length <= width ? ` ${bar} ${counts}` : ` ${counts}`;
    return [fit(status, width), fit(` running ${this.running.size}${shown ? `: ${shown}` : ''}`, width)];
  }
}
