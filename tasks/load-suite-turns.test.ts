// Multi-turn samples in suite YAML: `turns` read into Task.turns, their problems reported with
// the rest (field, line), attempts refused beside them, and the turns in the digest.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from './load-suite.ts';
import { lines } from './test-support/fixture.ts';
import { loadError, suiteFile } from './test-support/suite.ts';


const NOTES = `samples:
  - id: notes
    instruction: Create notes.txt with the line one.
    scorer: { type: file, path: notes.txt, equals: "one\\n" }
    solution: echo one > notes.txt
    turns:
      - prompt: Now add the line two.
        scorer: { type: file, path: notes.txt, equals: "one\\ntwo\\n" }
        solution: [echo two >> notes.txt, cat notes.txt]
      - prompt: Say what you did.
`;

describe('suite turns', () => {
  it('reads turns: prompt, an optional scorer, an optional solution (a command or a list)', async () => {
    const [task] = await loadSuite(await suiteFile(NOTES));
    expect(task!.turns).toEqual([
      {
        prompt: 'Now add the line two.',
        scorer: { type: 'file', path: 'notes.txt', equals: 'one\ntwo\n' },
        solution: { kind: 'commands', commands: ['echo two >> notes.txt', 'cat notes.txt'] },
      },
      { prompt: 'Say what you did.' },
    ]);
    expect(task!.solution).toEqual({ kind: 'commands', commands: ['echo one > notes.txt'] });
  });

  it('leaves turns out of a sample without them', async () => {
    const [task] = await loadSuite(await suiteFile('samples:\n  - { id: a, instruction: x, scorer: { type: answer, includes: y } }\n'));
    expect(task).not.toHaveProperty('turns');
  });

  it('allows attempts: 1 beside turns, also over defaults.attempts', async () => {
    const file = await suiteFile(`defaults: { attempts: 3 }
samples:
  - id: a
    instruction: x
    scorer: { type: answer, includes: y }
    attempts: 1
    turns: [{ prompt: more }]
  - id: b
    instruction: x
    scorer: { type: answer, includes: y }
`);
    const [a, b] = await loadSuite(file);
    expect([a!.attempts, b!.attempts]).toEqual([1, 3]);
  });

  it('reports bad turns with the field and the line', async () => {
    const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: answer, includes: y }
    turns:
      - prompt: ""
      - scorer: { type: file, path: out.txt }
      - prompt: ok
        scorer: { type: nope }
        solution: []
        attempts: 2
      - just a string
  - id: b
    instruction: x
    scorer: { type: answer, includes: y }
    turns: []
  - id: c
    instruction: x
    scorer: { type: answer, includes: y }
    turns: { prompt: more }
`);
    expect(lines(await loadError(file))).toEqual([
      `${file}: samples[0].turns[0].prompt must be a non-empty string (got "") (line 6)`,
      `${file}: samples[0].turns[1].prompt is missing (it must be a non-empty string) (line 7)`,
      `${file}: samples[0].turns[1].scorer must set exactly one of exists, equals, contains, matches (got none) (line 7)`,
      `${file}: samples[0].turns[2].scorer.type must be one of command, file, answer, model_graded, module (got "nope") (line 9)`,
      `${file}: samples[0].turns[2].solution must be a command (a string) or a non-empty list of commands (got a list) (line 10)`,
      `${file}: samples[0].turns[2].attempts is not a known field (known fields: prompt, scorer, solution) (line 11)`,
      `${file}: samples[0].turns[3] must be a mapping (got "just a string") (line 12)`,
      `${file}: samples[1].turns must list at least one turn (or be left out) (got a list) (line 16)`,
      `${file}: samples[2].turns must be a list of turns, each { prompt, scorer, solution } (got a mapping) (line 20)`,
    ]);
  });

  it('refuses attempts > 1 beside turns, naming the field, and a default of several attempts reaching a multi-turn sample', async () => {
    const file = await suiteFile(`defaults: { attempts: 2 }
samples:
  - id: a
    instruction: x
    scorer: { type: answer, includes: y }
    attempts: 3
    turns: [{ prompt: more }]
  - id: b
    instruction: x
    scorer: { type: answer, includes: y }
    turns: [{ prompt: more }]
`);
    expect(lines(await loadError(file))).toEqual([
      `${file}: samples[0].attempts must be 1 in a sample with turns: a multi-turn sample is played once, each turn continuing the session (no retries within a turn) (got 3) (line 6)`,
      `${file}: samples[1].turns cannot go with defaults.attempts = 2: a multi-turn sample is played with one attempt; set attempts: 1 on this sample (line 11)`,
    ]);
  });

  it("checks a turn's module scorer file like the sample's", async () => {
    const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: module, path: score.ts }
    turns:
      - prompt: more
        scorer: { type: module, path: missing.ts }
`, { 'score.ts': 'export default () => ({ value: 1 });\n' });
    expect(lines(await loadError(file))).toEqual([
      `${file}: samples[0].turns[0].scorer.path must be a module file relative to the suite file (${join(file, '..', 'missing.ts')} does not exist) (line 7)`,
    ]);
  });

  it('puts the turns in the digest: a prompt, a scorer or a solution changed is another task; no turns keeps the old digest', async () => {
    const digest = async (yaml: string) => (await loadSuite(await suiteFile(yaml)))[0]!.digest;
    const base = await digest(NOTES);
    const changed = await Promise.all([
      digest(NOTES.replace('Now add the line two.', 'Now add the line 2.')),
      digest(NOTES.replace('equals: "one\\ntwo\\n"', 'equals: "one\\n2\\n"')),
      digest(NOTES.replace('[echo two >> notes.txt, cat notes.txt]', 'echo two >> notes.txt')),
      digest(NOTES.replace('      - prompt: Say what you did.\n', '')),
    ]);
    for (const d of changed) expect(d).not.toBe(base);
    expect(new Set(changed).size).toBe(changed.length);
    expect(await digest(NOTES)).toBe(base);

    const single = `samples:\n  - id: a\n    instruction: x\n    scorer: { type: answer, includes: y }\n`;
    const withTurn = `${single}    turns: [{ prompt: more }]\n`;
    expect(await digest(withTurn)).not.toBe(await digest(single));
    // A sample without turns keeps the digest it had before turns existed (computed at 1160a35).
    expect(await digest(single)).toBe('sha256:560def892f1859107792a2552abe4d450792f30005bebda4212ab0cc84837843');
  });
});
