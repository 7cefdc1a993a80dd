// An agent that runs out of time is ended gracefully (SIGTERM, then SIGKILL after the grace),
// and the attempt's record and its agent.end event say which signal ended it.
// Real Docker, the oracle agent on the local slim image, as a non-root user.
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testRunId } from '../../sandboxes/test-support/run-id.ts';
import { run } from '../index.ts';
import { outDir, results, sampleEvents } from './support.ts';

async function slowTask(suite: string, name: string, solve: string): Promise<void> {
  const files: Record<string, string> = {
    'task.toml': 'version = "1.0"\n[agent]\ntimeout_sec = 1.0\nuser = "nobody"\n[environment]\ndocker_image = "debian:bookworm-slim"\nallow_internet = false\n',
    'instruction.md': 'Save your work when told to stop.\n',
    'solution/solve.sh': solve,
    // The reward says whether the solution got to save its state after the timeout.
    'tests/test.sh': '#!/bin/bash\n[ -e /tmp/saved ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(suite, name, path, '..'), { recursive: true });
    await writeFile(join(suite, name, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  }
}

describe('an agent that runs out of time', () => {
  it('is sent SIGTERM first, can save its state, and the record says how it ended', async () => {
    const out = await outDir();
    const suite = join(out, 'suite');
    await slowTask(suite, 'saves', "#!/bin/bash\ntrap 'echo saved > /tmp/saved; exit 0' TERM\nsleep 300 & wait\n");
    await slowTask(suite, 'stubborn', "#!/bin/bash\ntrap '' TERM\nsleep 300\n");
    const done = await run({ paths: [suite], agent: 'oracle', out, runId: testRunId('agent-timeout'), concurrency: 2 });
    const byTask = new Map((await results(done.runDir)).map((r) => [r.taskId, r]));

    const saves = byTask.get('saves')!;
    expect(saves.outcome, saves.error?.message).toBe('pass');
    expect(saves.attempts[0]!.agent).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    const end = (await sampleEvents(done.runDir, saves.sampleId)).find((e) => e.type === 'agent.end');
    expect(end).toMatchObject({ timedOut: true, signal: 'SIGTERM' });

    const stubborn = byTask.get('stubborn')!;
    expect(stubborn.outcome, stubborn.error?.message).toBe('fail');
    expect(stubborn.attempts[0]!.agent).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  }, 120_000);
});
