// cagebench suite files: one YAML file, many samples sharing an environment.
//
//   name: smoke                       # default: the file name without .yaml/.yml
//   environment:                      # shared by every sample
//     image: cagebench/sandbox:bookworm   # or dockerfile: ./env (a directory, relative to this file)
//     cpus: 1
//     memory_mb: 1024
//     workdir: /workspace             # default /workspace
//     network: none                   # none | bridge
//     runtime: runsc                  # container runtime (runsc for gVisor, crun); default: the run's --runtime, else the engine's
//     build_timeout_sec: 600
//   defaults:                         # for every sample that does not say otherwise
//     timeouts: { setup_sec: 60, agent_sec: 300, verifier_sec: 60 }
//     attempts: 1
//     cpus: 1
//     memory_mb: 1024
//     runtime: runsc
//     tools: ./tools.ts               # host tools files (or a list), served to the agent over MCP
//   samples:
//     - id: hello                     # unique, [A-Za-z0-9._-]+; the task id
//       instruction: Create hello.txt containing "hi".
//       files: { data.txt: "1 2 3\n" } # or a list of {path, content | source, mode}
//       setup: git init -q repo       # shell command, after the files, before the agent
//       scorer: { type: file, path: hello.txt, contains: hi }
//       solution: echo hi > hello.txt # or a list of commands; the oracle's answer is the last one's stdout
//       metadata: { difficulty: easy }
//       timeouts: { agent_sec: 60 }   # and attempts, cpus, memory_mb, runtime, tools: per-sample overrides
//       turns:                        # scripted follow-ups: the agent continues its session
//         - prompt: Now add "bye".    # with each prompt; the turn's scorer (optional) scores it
//           scorer: { type: file, path: hello.txt, contains: bye }
//           solution: echo bye >> hello.txt   # what the oracle runs for the turn (optional)
//
// Scorers: {type: command, command} | {type: file, path, exists | equals | contains | matches}
// | {type: answer, includes | equals | matches, ignore_case} | {type: module, path, export, options}
// | {type: model_graded, rubric, model, graders, template, partial_credit, input}.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { digestTask } from './digest.ts';
import { TaskLoadError, type TaskProblem } from './errors.ts';
import { DEFAULT_BUILD_TIMEOUT_SEC, DEFAULT_IMAGE, DEFAULT_TIMEOUTS, type ScorerSpec, type Solution, type Task, type TaskEnvironment, type TaskFile, type TaskTurn } from './task.ts';
import { check, formatField, SuiteSchema, type SuiteConfig, type SuiteSample, type SuiteScorer } from './validate.ts';

export const DEFAULT_SUITE_WORKDIR = '/workspace';

/** Load every sample of a suite YAML file as a task. Problems of all samples are reported together. */
export async function loadSuite(file: string): Promise<Task[]> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw TaskLoadError.at(path, undefined, code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(cause as Error).message}`, { cause });
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new TaskLoadError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return pos ? { file: path, line: pos.line, text: `invalid YAML at line ${pos.line}, column ${pos.col}: ${reason}` } : { file: path, text: `invalid YAML: ${reason}` };
      }),
    );
  }
  readModesAsOctal(doc);
  const data: unknown = doc.toJS();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw TaskLoadError.at(path, undefined, 'is not a suite: it must be a YAML mapping with name, environment, defaults and samples');
  }
  return suiteTasks(data, { path, name: basename(path, extname(path)), dir: dirname(path), locate: (at) => lineOf(doc, lineCounter, at) });
}

export interface SuiteSource {
  /** The file (or, for tasks defined in code, a description of where) named in messages. */
  readonly path: string;
  /** The suite's name when it gives none. */
  readonly name: string;
  /** Relative host paths (a Dockerfile directory, file sources, scorer modules) start here. */
  readonly dir: string;
  readonly locate?: (at: readonly PropertyKey[]) => number | undefined;
}

/** A suite's content (parsed YAML, or an object built in code) as tasks; every problem reported together. */
export async function suiteTasks(data: unknown, where: SuiteSource): Promise<Task[]> {
  const { path, dir, locate } = where;
  const suite = check(SuiteSchema, data, { file: path, notation: 'yaml', ...(locate && { locate }) });
  const problems: TaskProblem[] = [];
  const problem = (at: readonly PropertyKey[], text: string) => {
    const line = locate?.(at);
    problems.push({ file: path, field: formatField(at, 'yaml'), ...(line === undefined ? {} : { line }), text });
  };

  // What the schema cannot see: the host paths the suite points at.
  const dockerfile = suite.environment?.dockerfile;
  if (dockerfile !== undefined) {
    const ctx = resolve(dir, dockerfile);
    const kind = await kindOf(ctx);
    if (kind !== 'dir') problem(['environment', 'dockerfile'], `must be a directory holding a Dockerfile, relative to the suite file (${ctx} ${kind === 'missing' ? 'does not exist' : 'is not a directory'})`);
    else if ((await kindOf(resolve(ctx, 'Dockerfile'))) !== 'file') problem(['environment', 'dockerfile'], `must be a directory holding a Dockerfile (${ctx} has none)`);
  }
  // Tools files are loaded by the harness, before the run; here only that they exist.
  const checkTools = async (at: readonly PropertyKey[], given: string | readonly string[] | undefined): Promise<void> => {
    for (const [j, file] of (given === undefined ? [] : typeof given === 'string' ? [given] : given).entries()) {
      if ((await kindOf(resolve(dir, file))) !== 'file') problem(typeof given === 'string' ? at : [...at, j], `must be a tools file relative to the suite file (${resolve(dir, file)} does not exist)`);
    }
  };
  await checkTools(['defaults', 'tools'], suite.defaults?.tools);
  for (const [i, sample] of suite.samples.entries()) {
    if (Array.isArray(sample.files)) {
      const seen = new Map<string, number>();
      for (const [j, f] of sample.files.entries()) {
        const k = seen.get(f.path);
        if (k !== undefined) problem(['samples', i, 'files', j, 'path'], `must be unique within the sample: "${f.path}" is also files[${k}]`);
        else seen.set(f.path, j);
        if (f.source !== undefined && (await kindOf(resolve(dir, f.source))) === 'missing') {
          problem(['samples', i, 'files', j, 'source'], `must be a file or directory relative to the suite file (${resolve(dir, f.source)} does not exist)`);
        }
      }
    }
    await checkTools(['samples', i, 'tools'], sample.tools);
    const scorers: [readonly PropertyKey[], SuiteScorer | undefined][] = [
      [['samples', i, 'scorer'], sample.scorer],
      ...(sample.turns ?? []).map((turn, j): [readonly PropertyKey[], SuiteScorer | undefined] => [['samples', i, 'turns', j, 'scorer'], turn.scorer]),
    ];
    for (const [at, scorer] of scorers) {
      if (scorer?.type === 'module' && (await kindOf(resolve(dir, scorer.path))) !== 'file') {
        problem([...at, 'path'], `must be a module file relative to the suite file (${resolve(dir, scorer.path)} does not exist)`);
      }
    }
  }
  if (problems.length > 0) throw new TaskLoadError(problems);

  const name = suite.name ?? where.name;
  return Promise.all(suite.samples.map((sample) => toTask(sample, suite, { name, path, dir })));
}

async function toTask(sample: SuiteSample, suite: SuiteConfig, where: { name: string; path: string; dir: string }): Promise<Task> {
  const env = suite.environment ?? {};
  const defaults = suite.defaults ?? {};
  const cpus = sample.cpus ?? defaults.cpus ?? env.cpus;
  const memoryMb = sample.memory_mb ?? defaults.memory_mb ?? env.memory_mb;
  const runtime = sample.runtime ?? defaults.runtime ?? env.runtime;
  const environment: TaskEnvironment = {
    source: env.dockerfile !== undefined ? { dockerfile: resolve(where.dir, env.dockerfile) } : { image: env.image ?? DEFAULT_IMAGE },
    ...(cpus === undefined ? {} : { cpus }),
    ...(memoryMb === undefined ? {} : { memoryMb }),
    workdir: env.workdir ?? DEFAULT_SUITE_WORKDIR,
    ...(env.network === undefined ? {} : { network: env.network }),
    ...(runtime === undefined ? {} : { runtime }),
    buildTimeoutSec: env.build_timeout_sec ?? DEFAULT_BUILD_TIMEOUT_SEC,
  };
  const timeouts = {
    setupSec: sample.timeouts?.setup_sec ?? defaults.timeouts?.setup_sec ?? DEFAULT_TIMEOUTS.setupSec,
    agentSec: sample.timeouts?.agent_sec ?? defaults.timeouts?.agent_sec ?? DEFAULT_TIMEOUTS.agentSec,
    verifierSec: sample.timeouts?.verifier_sec ?? defaults.timeouts?.verifier_sec ?? DEFAULT_TIMEOUTS.verifierSec,
  };
  const attempts = sample.attempts ?? defaults.attempts;
  const toolFiles = sample.tools ?? defaults.tools;
  const tools = toolFiles === undefined ? undefined : (typeof toolFiles === 'string' ? [toolFiles] : toolFiles).map((f) => resolve(where.dir, f));
  const files: TaskFile[] = Array.isArray(sample.files)
    ? sample.files.map((f) => ({
        path: f.path,
        ...(f.content === undefined ? {} : { content: f.content }),
        ...(f.source === undefined ? {} : { source: resolve(where.dir, f.source) }),
        ...(f.mode === undefined ? {} : { mode: f.mode }),
      }))
    : Object.entries(sample.files ?? {}).map(([path, content]) => ({ path, content }));
  const solution = toSolution(sample.solution);
  const turns = sample.turns?.map((turn): TaskTurn => {
    const turnSolution = toSolution(turn.solution);
    return {
      prompt: turn.prompt,
      ...(turn.scorer === undefined ? {} : { scorer: toScorerSpec(turn.scorer, where.dir) }),
      ...(turnSolution === undefined ? {} : { solution: turnSolution }),
    };
  });
  const task: Omit<Task, 'digest'> = {
    id: sample.id,
    suite: where.name,
    format: 'cagebench',
    origin: where.path,
    instruction: sample.instruction,
    environment,
    timeouts,
    ...(attempts === undefined ? {} : { attempts }),
    files,
    ...(sample.setup === undefined ? {} : { setup: sample.setup }),
    scorer: toScorerSpec(sample.scorer, where.dir),
    ...(solution === undefined ? {} : { solution }),
    ...(turns === undefined ? {} : { turns }),
    ...(tools === undefined ? {} : { tools }),
    metadata: sample.metadata ?? {},
  };
  return { ...task, digest: await digestTask(task) };
}

function toSolution(solution: string | readonly string[] | undefined): Solution | undefined {
  if (solution === undefined) return undefined;
  return { kind: 'commands', commands: typeof solution === 'string' ? [solution] : solution };
}

/** A suite scorer as a ScorerSpec; a module's path is relative to `dir`. Harbor extra scorers use it too. */
export function toScorerSpec(s: SuiteScorer, dir: string): ScorerSpec {
  const only = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  switch (s.type) {
    case 'command':
      return { type: 'command', command: s.command };
    case 'file':
      return only({ type: 'file', path: s.path, exists: s.exists, equals: s.equals, contains: s.contains, matches: s.matches });
    case 'answer':
      return only({ type: 'answer', includes: s.includes, equals: s.equals, matches: s.matches, ignoreCase: s.ignore_case });
    case 'model_graded': {
      const input = s.input === undefined ? undefined : Array.isArray(s.input) ? s.input : [s.input];
      return only({ type: 'model_graded', rubric: s.rubric, model: s.model, graders: s.graders, template: s.template, partialCredit: s.partial_credit, input });
    }
    case 'module':
      return only({ type: 'module', path: resolve(dir, s.path), export: s.export, options: s.options });
  }
}

/**
 * `mode: 0755` and `mode: 755` mean octal to anyone who has used chmod, but YAML 1.2 reads
 * them as decimal: read a plain integer under `samples[*].files[*].mode` as octal digits.
 * (`0o755` and `"0755"` are unambiguous already.) Any other integer (`999`, `0x1ed`) is kept
 * as its source text, which the schema then refuses: no mode is ever read as decimal.
 */
function readModesAsOctal(doc: Document): void {
  const samples = doc.get('samples', true);
  if (!isSeq(samples)) return;
  for (const sample of samples.items) {
    if (!isMap(sample)) continue;
    const files = sample.get('files', true);
    if (!isSeq(files)) continue;
    for (const entry of files.items) {
      if (!isMap(entry)) continue;
      const mode = entry.get('mode', true);
      if (!isScalar(mode) || typeof mode.value !== 'number' || mode.format === 'OCT') continue;
      const source = mode.source ?? String(mode.value);
      mode.value = /^0?[0-7]{1,4}$/.test(source) ? parseInt(source, 8) : source;
    }
  }
}

/** The line of the deepest node on `path` that exists. */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}

async function kindOf(path: string): Promise<'file' | 'dir' | 'other' | 'missing'> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}
