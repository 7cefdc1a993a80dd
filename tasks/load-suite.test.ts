import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from './load-suite.ts';
import { DEFAULT_BUILD_TIMEOUT_SEC, DEFAULT_IMAGE, DEFAULT_TIMEOUTS } from './task.ts';
import { lines, tempDir } from './test-support/fixture.ts';
import { loadError, suiteFile } from './test-support/suite.ts';


const MINIMAL = `samples:
  - id: one
    instruction: Say hi.
    scorer: { type: answer, includes: hi }
`;

describe('loadSuite', () => {
  it('reads a minimal suite, with defaults', async () => {
    const file = await suiteFile(MINIMAL);
    const [task, ...rest] = await loadSuite(file);
    expect(rest).toEqual([]);
    expect(task).toEqual({
      id: 'one',
      suite: 'suite',
      format: 'cagebench',
      origin: file,
      instruction: 'Say hi.',
      environment: { source: { image: DEFAULT_IMAGE }, workdir: '/workspace', buildTimeoutSec: DEFAULT_BUILD_TIMEOUT_SEC },
      timeouts: DEFAULT_TIMEOUTS,
      files: [],
      scorer: { type: 'answer', includes: 'hi' },
      metadata: {},
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
  });

  it('reads every field: environment, defaults, per-sample overrides, files, scorers, solutions', async () => {
    const file = await suiteFile(
      `name: full
environment:
  dockerfile: env
  cpus: 2
  memory_mb: 2048
  workdir: /src
  network: bridge
  build_timeout_sec: 300
defaults:
  timeouts: { setup_sec: 30, agent_sec: 200 }
  attempts: 3
  cpus: 1
samples:
  - id: files-and-command
    instruction: |
      Fix it.
    files:
      - { path: a.sh, content: "echo a\\n", mode: 0755 }
      - { path: b.sh, content: "", mode: 755 }
      - { path: c.txt, source: data/c.txt, mode: "0600" }
      - { path: /etc/d, source: data, mode: 0o640 }
    setup: git init -q
    scorer: { type: command, command: bash a.sh }
    solution: echo fixed
    metadata: { level: 2, tags: [x] }
    timeouts: { agent_sec: 50, verifier_sec: 9 }
    attempts: 1
    memory_mb: 512
  - id: file-scorer
    instruction: x
    files: { "src/main.py": "print(1)\\n", notes.md: "" }
    scorer: { type: file, path: out.txt, matches: '^ok\\s*$' }
    solution: [echo a, echo b]
  - id: answer.ignore_case
    instruction: x
    scorer: { type: answer, equals: YES, ignore_case: true }
  - id: module_scorer
    instruction: x
    scorer: { type: module, path: scorers/mine.ts, export: score, options: { strict: true } }
`,
      {
        'env/Dockerfile': 'FROM cagebench/sandbox:bookworm\n',
        'data/c.txt': 'c\n',
        'scorers/mine.ts': 'export const score = async () => ({ value: 1, passed: true });\n',
      },
    );
    const dir = join(file, '..');
    const tasks = await loadSuite(file);
    expect(tasks.map((t) => [t.id, t.suite])).toEqual([
      ['files-and-command', 'full'],
      ['file-scorer', 'full'],
      ['answer.ignore_case', 'full'],
      ['module_scorer', 'full'],
    ]);
    const [a, b, c, d] = tasks as [(typeof tasks)[0], (typeof tasks)[0], (typeof tasks)[0], (typeof tasks)[0]];
    expect(a.environment).toEqual({ source: { dockerfile: join(dir, 'env') }, cpus: 1, memoryMb: 512, workdir: '/src', network: 'bridge', buildTimeoutSec: 300 });
    expect(b.environment).toMatchObject({ cpus: 1, memoryMb: 2048 });
    expect(a.timeouts).toEqual({ setupSec: 30, agentSec: 50, verifierSec: 9 });
    expect(b.timeouts).toEqual({ setupSec: 30, agentSec: 200, verifierSec: DEFAULT_TIMEOUTS.verifierSec });
    expect([a.attempts, b.attempts]).toEqual([1, 3]);
    expect(a.files).toEqual([
      { path: 'a.sh', content: 'echo a\n', mode: 0o755 },
      { path: 'b.sh', content: '', mode: 0o755 },
      { path: 'c.txt', source: join(dir, 'data/c.txt'), mode: 0o600 },
      { path: '/etc/d', source: join(dir, 'data'), mode: 0o640 },
    ]);
    expect(a.setup).toBe('git init -q');
    expect(a.scorer).toEqual({ type: 'command', command: 'bash a.sh' });
    expect(a.solution).toEqual({ kind: 'commands', commands: ['echo fixed'] });
    expect(a.metadata).toEqual({ level: 2, tags: ['x'] });
    expect(a.instruction).toBe('Fix it.\n');
    expect(b.files).toEqual([
      { path: 'src/main.py', content: 'print(1)\n' },
      { path: 'notes.md', content: '' },
    ]);
    expect(b.scorer).toEqual({ type: 'file', path: 'out.txt', matches: '^ok\\s*$' });
    expect(b.solution).toEqual({ kind: 'commands', commands: ['echo a', 'echo b'] });
    expect(c.scorer).toEqual({ type: 'answer', equals: 'YES', ignoreCase: true });
    expect(c.solution).toBeUndefined();
    expect(d.scorer).toEqual({ type: 'module', path: join(dir, 'scorers/mine.ts'), export: 'score', options: { strict: true } });
  });

  it('reads a container runtime from the environment, the defaults or the sample, the nearest winning', async () => {
    const file = await suiteFile(`environment:
  runtime: runsc
samples:
  - { id: env, instruction: x, scorer: { type: command, command: "true" } }
  - { id: own, instruction: x, scorer: { type: command, command: "true" }, runtime: crun }
`);
    const [env, own] = await loadSuite(file);
    expect(env!.environment.runtime).toBe('runsc');
    expect(own!.environment.runtime).toBe('crun');
    const withDefaults = await suiteFile(`environment: { runtime: runsc }
defaults: { runtime: runc }
samples:
  - { id: a, instruction: x, scorer: { type: command, command: "true" } }
  - { id: b, instruction: x, scorer: { type: command, command: "true" }, runtime: kata-qemu }
`);
    expect((await loadSuite(withDefaults)).map((t) => t.environment.runtime)).toEqual(['runc', 'kata-qemu']);
    // None named: none in the task (the run's --runtime, else the engine's default, applies).
    const [plain] = await loadSuite(await suiteFile(MINIMAL));
    expect(plain!.environment).not.toHaveProperty('runtime');
  });

  it('reads model_graded scorers: one input or a list, partial credit, graders as a count or a list', async () => {
    const file = await suiteFile(`samples:
  - id: a
    instruction: Review it.
    scorer: { type: model_graded, rubric: Names the bug., input: diff, partial_credit: true, model: mock/g.yaml, graders: 3 }
  - id: b
    instruction: Review it.
    scorer: { type: model_graded, rubric: r, graders: [openai/a, anthropic/b], input: [answer, { file: review.md }], template: "{question}: {submission} ({rubric})" }
`);
    const [a, b] = await loadSuite(file);
    expect(a!.scorer).toEqual({ type: 'model_graded', rubric: 'Names the bug.', model: 'mock/g.yaml', graders: 3, partialCredit: true, input: ['diff'] });
    expect(b!.scorer).toEqual({ type: 'model_graded', rubric: 'r', graders: ['openai/a', 'anthropic/b'], template: '{question}: {submission} ({rubric})', input: ['answer', { file: 'review.md' }] });
  });

  describe('errors name the file, the field, what is expected and the line', () => {
    it('a runtime that is not a runtime name', async () => {
      const file = await suiteFile(`environment:
  runtime: "gVisor please"
defaults: { runtime: 7 }
samples:
  - id: a
    instruction: x
    scorer: { type: command, command: "true" }
    runtime: -runsc
  - id: b
    instruction: x
    scorer: { type: command, command: "true" }
    runtime: ""
`);
      const err = await loadError(file);
      const rule = 'must be a container runtime name the engine offers, e.g. runsc (gVisor) or crun';
      expect(lines(err)).toEqual([
        `${file}: environment.runtime ${rule} (got "gVisor please") (line 2)`,
        `${file}: defaults.runtime ${rule} (got 7) (line 3)`,
        `${file}: samples[0].runtime ${rule} (got "-runsc") (line 8)`,
        `${file}: samples[1].runtime ${rule} (got "") (line 12)`,
      ]);
      expect(err).toMatchObject({ code: 'CB_TASK_INVALID', kind: 'task', file, field: 'environment.runtime' });
    });


    it('a timeout that is not seconds', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: command, command: "true" }
  - id: b
    instruction: x
    scorer: { type: command, command: "true" }
  - id: c
    instruction: x
    scorer: { type: command, command: "true" }
    timeouts:
      agent_sec: ten
`);
      const err = await loadError(file);
      expect(err.message).toBe(`${file}: samples[2].timeouts.agent_sec must be seconds > 0 (got "ten") (line 12)`);
      expect(err).toMatchObject({ code: 'CB_TASK_INVALID', kind: 'task', file, field: 'samples[2].timeouts.agent_sec' });
      expect(err.problems[0]!.line).toBe(12);
    });

    it('an unknown scorer type', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: regex, pattern: "x" }
`);
      expect((await loadError(file)).message).toBe(`${file}: samples[0].scorer.type must be one of command, file, answer, model_graded, module (got "regex") (line 4)`);
    });

    it('a scorer without a type, or missing', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { command: "true" }
  - id: b
    instruction: x
`);
      expect(lines(await loadError(file))).toEqual([
        `${file}: samples[0].scorer.type is missing (it must be one of command, file, answer, model_graded, module) (line 4)`,
        `${file}: samples[1].scorer is missing (it must be a mapping with a type (command, file, answer, model_graded, module)) (line 5)`,
      ]);
    });

    it('file and answer scorers need exactly one criterion, and regexes must compile', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: file, path: f }
  - id: b
    instruction: x
    scorer: { type: answer, includes: x, equals: y }
  - id: c
    instruction: x
    scorer: { type: answer, matches: "(unclosed" }
`);
      expect(lines(await loadError(file))).toEqual([
        `${file}: samples[0].scorer must set exactly one of exists, equals, contains, matches (got none) (line 4)`,
        `${file}: samples[1].scorer must set exactly one of includes, equals, matches (got includes and equals) (line 7)`,
        `${file}: samples[2].scorer.matches must be a regular expression that compiles (/(unclosed/: Unterminated group) (got "(unclosed") (line 10)`,
      ]);
    });

    it('model_graded scorers: a rubric, grader models as provider/model, known placeholders, inputs', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: model_graded, model: gpt-5 }
  - id: b
    instruction: x
    scorer: { type: model_graded, rubric: r, model: mock/a, graders: [mock/b] }
  - id: c
    instruction: x
    scorer: { type: model_graded, rubric: r, template: "{question} {anwser}", input: [answer, { path: f }], graders: 0 }
`);
      expect(lines(await loadError(file))).toEqual([
        `${file}: samples[0].scorer.rubric is missing (it must be a non-empty string) (line 4)`,
        `${file}: samples[0].scorer.model must be a grader model as provider/model, e.g. anthropic/claude-sonnet-4-5 or mock/grader.yaml (got "gpt-5") (line 4)`,
        `${file}: samples[1].scorer.graders names the grader models itself: drop \`model\`, or give graders as a count of calls to it (line 7)`,
        `${file}: samples[2].scorer.graders must be a list of grader models (provider/model) or a count of calls to \`model\` from 1 to 9 (got 0) (line 10)`,
        `${file}: samples[2].scorer.template may only hold the placeholders {question}, {rubric}, {submission}, {answer}, {files}, {diff} (found {anwser}) (got "{question} {anwser}") (line 10)`,
        `${file}: samples[2].scorer.input[1] must be answer, diff or {file: PATH} (got a mapping) (line 10)`,
      ]);
    });

    it('duplicate sample ids, and ids that are not ids', async () => {
      const file = await suiteFile(`samples:
  - { id: same, instruction: x, scorer: { type: command, command: "true" } }
  - { id: other, instruction: x, scorer: { type: command, command: "true" } }
  - { id: same, instruction: x, scorer: { type: command, command: "true" } }
`);
      expect((await loadError(file)).message).toBe(`${file}: samples[2].id must be unique: "same" is also the id of samples[0] (line 4)`);
      const bad = await suiteFile(`samples:\n  - { id: "a b/c", instruction: x, scorer: { type: command, command: "true" } }\n`);
      expect((await loadError(bad)).message).toBe(`${bad}: samples[0].id must be an id made of letters, digits, ".", "_" and "-" (got "a b/c") (line 2)`);
    });

    it('a source file that does not exist, a module that does not exist, a duplicate file path', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    files:
      - { path: in.txt, source: data/missing.txt }
      - { path: in.txt, content: "" }
    scorer: { type: module, path: ./nope.ts }
`);
      const dir = join(file, '..');
      expect(lines(await loadError(file))).toEqual([
        `${file}: samples[0].files[0].source must be a file or directory relative to the suite file (${join(dir, 'data/missing.txt')} does not exist) (line 5)`,
        `${file}: samples[0].files[1].path must be unique within the sample: "in.txt" is also files[0] (line 6)`,
        `${file}: samples[0].scorer.path must be a module file relative to the suite file (${join(dir, 'nope.ts')} does not exist) (line 7)`,
      ]);
    });

    it('files entries: content or source, an octal mode, strings only', async () => {
      const file = await suiteFile(`samples:
  - id: a
    instruction: x
    scorer: { type: command, command: "true" }
    files:
      - { path: a }
      - { path: b, content: x, source: y }
      - { path: c, content: x, mode: 999 }
      - { path: d, content: x, mode: rwx }
  - id: b
    instruction: x
    scorer: { type: command, command: "true" }
    files: { ok.txt: fine, n.txt: 5 }
  - id: c
    instruction: x
    scorer: { type: command, command: "true" }
    files: just a string
`);
      expect(lines(await loadError(file))).toEqual([
        `${file}: samples[0].files[0] must set exactly one of content, source (got none) (line 6)`,
        `${file}: samples[0].files[1] must set exactly one of content, source (got content and source) (line 7)`,
        `${file}: samples[0].files[2].mode must be an octal file mode such as 0755, 0o644 or "0600" (got "999") (line 8)`,
        `${file}: samples[0].files[3].mode must be an octal file mode such as 0755, 0o644 or "0600" (got "rwx") (line 9)`,
        `${file}: samples[1].files["n.txt"] must be the file content (a string) (got 5) (line 13)`,
        `${file}: samples[2].files must be a mapping of path to content, or a list of {path, content | source, mode} (got "just a string") (line 17)`,
      ]);
    });

    it('unknown fields, with the known ones', async () => {
      const file = await suiteFile(`name: s
defaults: { attemps: 2 }
samples:
  - id: a
    instruction: x
    timeout: 10
    scorer: { type: command, command: "true", env: {} }
`);
      expect(lines(await loadError(file))).toEqual([
        `${file}: defaults.attemps is not a known field (known fields: timeouts, attempts, cpus, memory_mb, runtime, tools) (line 2)`,
        `${file}: samples[0].scorer.env is not a known field (known fields: type, command) (line 7)`,
        `${file}: samples[0].timeout is not a known field (known fields: id, instruction, files, setup, scorer, solution, turns, metadata, timeouts, attempts, cpus, memory_mb, runtime, tools) (line 6)`,
      ]);
    });

    it('missing and empty instructions, solutions of the wrong shape', async () => {
      const file = await suiteFile(`samples:
  - id: a
    scorer: { type: command, command: "true" }
  - id: b
    instruction: "   "
    scorer: { type: command, command: "true" }
    solution: []
`);
      expect(lines(await loadError(file))).toEqual([
        `${file}: samples[0].instruction is missing (it must be a non-empty string) (line 2)`,
        `${file}: samples[1].instruction must be a non-empty string (got "   ") (line 5)`,
        `${file}: samples[1].solution must be a command (a string) or a non-empty list of commands (got a list) (line 7)`,
      ]);
    });

    it('the environment', async () => {
      const file = await suiteFile(`environment: { image: x, dockerfile: y }
samples:
  - { id: a, instruction: x, scorer: { type: command, command: "true" } }
`);
      expect((await loadError(file)).message).toBe(`${file}: environment must set image or dockerfile, not both (line 1)`);
      const bad = await suiteFile(`environment: { network: host, workdir: src, cpus: -1 }
samples:
  - { id: a, instruction: x, scorer: { type: command, command: "true" } }
`);
      expect(lines(await loadError(bad))).toEqual([
        `${bad}: environment.cpus must be a number > 0 (got -1) (line 1)`,
        `${bad}: environment.workdir must be an absolute path (starting with "/") (got "src") (line 1)`,
        `${bad}: environment.network must be one of none, bridge (got "host") (line 1)`,
      ]);
      const noDir = await suiteFile(`environment: { dockerfile: env }
samples:
  - { id: a, instruction: x, scorer: { type: command, command: "true" } }
`);
      expect((await loadError(noDir)).message).toBe(
        `${noDir}: environment.dockerfile must be a directory holding a Dockerfile, relative to the suite file (${join(noDir, '../env')} does not exist) (line 1)`,
      );
    });

    it('a file that is not a suite: no samples, not a mapping, invalid YAML, missing', async () => {
      const none = await suiteFile('name: s\nsamples: []\n');
      expect((await loadError(none)).message).toBe(`${none}: samples must list at least one sample (got a list) (line 2)`);
      const scalar = await suiteFile('just text\n');
      expect((await loadError(scalar)).message).toBe(`${scalar}: is not a suite: it must be a YAML mapping with name, environment, defaults and samples`);
      const broken = await suiteFile('samples:\n  - id: a\n    instruction: [x\n');
      const err = await loadError(broken);
      expect(err.message).toMatch(new RegExp(`^${broken}: invalid YAML at line \\d+, column \\d+: `));
      expect(err.problems[0]!.line).toBeGreaterThan(0);
      const dup = await suiteFile('samples: []\nsamples: []\n');
      expect((await loadError(dup)).message).toBe(`${dup}: invalid YAML at line 2, column 1: Map keys must be unique`);
      const missing = join(await tempDir(), 'nope.yaml');
      expect((await loadError(missing)).message).toBe(`${missing}: does not exist`);
    });
  });
});
