// Run as a separate process by lock.test.ts. Usage: node --import tsx lock-child.ts <path> <mode> [log]
//   turns: print READY, wait for a line on stdin, then take the lock 10 times, each time
//          appending "enter <pid>" and "exit <pid>" to <log> around a 30 ms hold; print how
//          many times it had to wait.
//   hold:  take the lock, print HELD, and keep it until killed.
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLock } from '../lock.ts';

const [path, mode, log] = process.argv.slice(2);

if (mode === 'hold') {
  await withLock(path!, async () => {
    process.stdout.write('HELD\n');
    await new Promise(() => setInterval(() => undefined, 60_000));
  });
} else {
  process.stdout.write('READY\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
  let waits = 0;
  for (let i = 0; i < 10; i++) {
    await withLock(
      path!,
      async () => {
        await appendFile(log!, `enter ${process.pid}\n`);
        await sleep(30);
        await appendFile(log!, `exit ${process.pid}\n`);
      },
      { onWait: () => waits++ },
    );
  }
  process.stdout.write(`WAITED ${waits}\n`);
}
