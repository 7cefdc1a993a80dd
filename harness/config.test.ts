import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { resolveConfig } from './config.ts';
import { defineScorer, tasksFromDefinitions } from './define.ts';

describe('run() options', () => {
  it('are checked by the same table as flags and files: every problem, named by key', () => {
    expect(() => resolveConfig({ agent: 'oracle', paths: ['x'], epochs: 0, concurrency: 1.5, openaiApi: 'soap' as 'chat', colour: 'red' } as never)).toThrow(
      /^run\(\) options: epochs must be an integer >= 1 \(got 0\)\nrun\(\) options: concurrency must be an integer >= 1 \(got 1\.5\)\nrun\(\) options: openaiApi must be one of "chat", "responses" \(got "soap"\)\nrun\(\) options: colour is not a known field \(known fields: paths, tasks, agent, /,
    );
    expect(() => resolveConfig({ agent: 'oracle' })).toThrow(/Give tasks: task paths .* or `tasks:` made with defineTask\(\)/);
    expect(() => resolveConfig({ paths: ['x'] } as never)).toThrow(/Name the agent: --agent NAME/);
  });

  it('code (a scorer, tasks, a filter function) is not written to the record, which says it was given', () => {
    const scorer = defineScorer(() => true);
    const config = resolveConfig({ agent: 'oracle', paths: ['suite.yaml'], scorer, filter: () => undefined, tasks: [], incorrectMessage: 'again', engineGrace: 5 });
    expect(config.record).toMatchObject({ agent: 'oracle', paths: [resolve('suite.yaml')], inline: ['scorer', 'filter'], incorrectMessage: 'again', engineGrace: 5 });
    expect(JSON.stringify(config.record)).not.toMatch(/=>/);
    expect(config).toMatchObject({ scorer, continueMessage: 'again', engineGraceSec: 5, buildConcurrency: 2, concurrency: 4 });
  });
});

describe('defineTask', () => {
  it('tasks written in code are held to the suite rules, each problem naming the task', async () => {
    await expect(tasksFromDefinitions([{ id: 'bad id', instruction: '', scorer: { type: 'command', command: 'true' } }])).rejects.toThrow(
      /^defineTask\(\) tasks\[0\] "bad id": id must be an id made of letters, digits.*\(got "bad id"\)\ndefineTask\(\) tasks\[0\] "bad id": instruction must be a non-empty string \(got ""\)$/,
    );
  });

  it('a scorer function becomes the task\'s scorer, and its source is part of the digest', async () => {
    const def = (fn: () => boolean) => ({ id: 't', instruction: 'x', scorer: fn });
    const [a] = await tasksFromDefinitions([def(() => true)]);
    const [b] = await tasksFromDefinitions([def(() => false)]);
    expect(a!.scorer).toMatchObject({ type: 'function', name: 'task t' });
    expect(a!.environment).toMatchObject({ source: { image: 'cagebench/sandbox:bookworm' }, workdir: '/workspace' });
    expect(a!.digest).not.toBe(b!.digest);
  });
});
