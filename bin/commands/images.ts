// `cagebench images list|prune`: the task images cagebench built, and removing them.
import type { Command } from 'commander';
import { report } from './shared.ts';

function wholeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new Error(`${flag} must be a whole number >= 0; got "${value}"`);
    return n;
  };
}

export function addImagesCommands(program: Command): void {
  const images = program.command('images').description('Task images cagebench built: list them, prune them (base images, saved sessions and your own images are never removed)');
  images
    .command('list')
    .description('Task images: repo:tag, task, digest, size, created, last used, last run')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }) => {
      await report(async () => {
        const { listImages } = await import('../../harness/commands/images.ts');
        const { formatBytes } = await import('../../harness/images/units.ts');
        const { recordsDir, images: found } = await listImages();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ recordsDir, images: found }, null, 2)}\n`);
          return 0;
        }
        const rows = found.map((i) => [
          i.tags.join(',') || '<none>',
          i.taskId ?? '-',
          (i.contextDigest ?? i.taskDigest ?? '-').replace(/^sha256:/, '').slice(0, 12),
          formatBytes(i.size),
          formatBytes(i.bytes),
          i.createdAt.slice(0, 19).replace('T', ' '),
          i.record ? i.record.lastUsedAt.slice(0, 19).replace('T', ' ') : 'not recorded',
          i.lastRun ?? '-',
          i.prunability.prunable ? '' : `kept: ${i.prunability.reason}`,
        ]);
        const head = ['IMAGE', 'TASK', 'DIGEST', 'SIZE', 'OWN', 'CREATED', 'LAST USED', 'LAST RUN', ''];
        const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
        for (const row of [head, ...rows]) process.stdout.write(`${row.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()}\n`);
        const total = found.reduce((n, i) => n + i.bytes, 0);
        process.stdout.write(`${found.length} task image(s), ${formatBytes(total)} of their own layers (OWN: what each adds to its base image); last use recorded in ${recordsDir}\n`);
        return 0;
      });
    });
  images
    .command('prune')
    .description('Remove task images this machine\'s runs recorded, least recently used first; never one a container or a running cagebench uses')
    .option('--older-than <duration>', 'only those last used longer ago than this: 90m, 12h, 7d, 2w')
    .option('--keep-last <n>', 'keep the N most recently used', wholeNumber('--keep-last'))
    .option('--dry-run', 'say what would be removed; remove nothing')
    .option('--all', 'also task images no run here recorded (built by an earlier cagebench, or under another cache directory)')
    .action(async (opts: { olderThan?: string; keepLast?: number; dryRun?: boolean; all?: boolean }) => {
      await report(async () => {
        const { pruneImages } = await import('../../harness/commands/images.ts');
        const { formatBytes } = await import('../../harness/images/units.ts');
        const result = await pruneImages(opts);
        const verb = opts.dryRun ? 'would remove' : 'removed';
        for (const i of result.removed) process.stdout.write(`${verb} ${i.tags.join(', ')} (${i.taskId ?? 'task unknown'}, ${formatBytes(i.bytes)})\n`);
        for (const k of result.kept) process.stderr.write(`kept ${k.image.tags.join(', ')}: ${k.reason}\n`);
        process.stdout.write(`${result.removed.length} image(s) ${opts.dryRun ? 'would be removed' : 'removed'}, ${formatBytes(result.bytesFreed)} ${opts.dryRun ? 'would be ' : ''}freed${result.kept.length ? `; ${result.kept.length} kept (in use)` : ''}\n`);
        return 0;
      });
    });
}
