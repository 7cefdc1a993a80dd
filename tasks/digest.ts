// A task's digest: sha256 over everything that decides what a run of it does, so that
// `resume` can refuse a task that changed under it.
//
// Covered: format, instruction, environment (an image name, and/or every file of the Dockerfile
// context), limits, workdir, network, container runtime, env, healthcheck, timeouts, attempts, files (inline
// content, or every file under a source), setup, scorer (a verifier's tests directory, env and
// user, a module scorer's file), solution (commands, or every file of the solution directory,
// and its env), agent user, MCP servers, skills directory, artifacts, and a multi-turn task's
// turns (each one's prompt, scorer and solution).
// Not covered: id, suite, origin and metadata (they name and describe the task; moving or
// re-tagging it is not changing it), and anything the file system adds: mtimes, owners, and
// permission bits other than "executable".
import { createHash, type Hash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScorerSpec, Solution, Task, TaskFile, TaskTurn } from './task.ts';

const DIGEST_VERSION = 'cagebench-task-digest/1';

/** The digest of a task (everything but its `digest`), as `sha256:<hex>`. */
export async function digestTask(task: Omit<Task, 'digest'>): Promise<string> {
  const canonical = {
    v: DIGEST_VERSION,
    format: task.format,
    instruction: task.instruction,
    environment: {
      source: await canonicalSource(task.environment.source),
      cpus: task.environment.cpus ?? null,
      memoryMb: task.environment.memoryMb ?? null,
      workdir: task.environment.workdir ?? null,
      network: task.environment.network ?? null,
      buildTimeoutSec: task.environment.buildTimeoutSec,
      // runtime: present only when set, so tasks without one keep their digests.
      ...defined({ env: task.environment.env, healthcheck: task.environment.healthcheck, runtime: task.environment.runtime }),
    },
    timeouts: { setupSec: task.timeouts.setupSec, agentSec: task.timeouts.agentSec, verifierSec: task.timeouts.verifierSec },
    attempts: task.attempts ?? null,
    files: await Promise.all(task.files.map(canonicalFile)),
    setup: task.setup ?? null,
    scorer: await canonicalScorer(task.scorer),
    // Harbor extra scorers; absent without them, so other tasks keep their digests.
    ...defined({ extraScorers: task.extraScorers && (await Promise.all(task.extraScorers.map(async (x) => ({ name: x.name, spec: await canonicalScorer(x.spec) })))) }),
    solution: task.solution ? await canonicalSolution(task.solution) : null,
    // Added with Harbor 0.22's keys; present only when set, so older tasks keep their digests.
    ...defined({ agentUser: task.agentUser, mcpServers: task.mcpServers, skillsDir: task.skillsDir, artifacts: task.artifacts }),
    // Host tools files, by content: an edited tool makes a different task. Absent without tools.
    ...defined({ tools: task.tools && (await Promise.all(task.tools.map((path) => digestTree(path)))) }),
    // Multi-turn tasks: every turn's prompt, scorer and solution; absent for single-turn tasks.
    ...defined({ turns: task.turns && (await Promise.all(task.turns.map(canonicalTurn))) }),
  };
  return `sha256:${createHash('sha256').update(stableJson(canonical)).digest('hex')}`;
}

async function canonicalSource(source: Task['environment']['source']): Promise<unknown> {
  if (!('image' in source)) return { dockerfile: await digestTree(source.dockerfile) };
  return source.dockerfile === undefined ? { image: source.image } : { image: source.image, dockerfile: await digestTree(source.dockerfile) };
}

/** The entries whose value is not undefined. */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

async function canonicalFile(file: TaskFile): Promise<unknown> {
  return {
    path: file.path,
    content: file.content ?? null,
    source: file.source === undefined ? null : await digestTree(file.source),
    mode: file.mode ?? null,
  };
}

async function canonicalScorer(spec: ScorerSpec): Promise<unknown> {
  switch (spec.type) {
    case 'verifier':
      return { type: spec.type, tests: await digestTree(spec.testsDir), env: spec.env ?? null, ...defined({ user: spec.user }) };
    case 'module':
      return { type: spec.type, module: await digestTree(spec.path), export: spec.export ?? null, options: spec.options ?? null };
    case 'function':
      // Its source is the best identity code has: an edited scorer makes a different task.
      return { type: spec.type, source: spec.fn.toString() };
    default:
      return spec;
  }
}

async function canonicalTurn(turn: TaskTurn): Promise<unknown> {
  return {
    prompt: turn.prompt,
    scorer: turn.scorer ? await canonicalScorer(turn.scorer) : null,
    solution: turn.solution ? await canonicalSolution(turn.solution) : null,
  };
}

async function canonicalSolution(solution: Solution): Promise<unknown> {
  return solution.kind === 'script' ? { kind: solution.kind, dir: await digestTree(solution.dir), ...defined({ env: solution.env }) } : solution;
}

/**
 * sha256 of a host file or directory tree: every entry's relative path, type, executable bit,
 * link target and bytes, walked in sorted order (by code unit, not locale).
 */
export async function digestTree(path: string): Promise<string> {
  const hash = createHash('sha256');
  await walk(hash, path, '');
  return hash.digest('hex');
}

async function walk(hash: Hash, abs: string, rel: string): Promise<void> {
  const stat = await lstat(abs);
  const name = JSON.stringify(rel);
  if (stat.isSymbolicLink()) {
    hash.update(`link ${name} ${JSON.stringify(await readlink(abs))}\n`);
  } else if (stat.isDirectory()) {
    hash.update(`dir ${name}\n`);
    const entries = (await readdir(abs)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const entry of entries) await walk(hash, join(abs, entry), rel === '' ? entry : `${rel}/${entry}`);
  } else if (stat.isFile()) {
    const content = await readFile(abs);
    const exec = (stat.mode & 0o111) !== 0 ? 'x' : '-';
    hash.update(`file ${name} ${exec} ${content.length}\n`);
    hash.update(content);
    hash.update('\n');
  } else {
    hash.update(`other ${name}\n`); // sockets, fifos: present, content unknowable
  }
}

/** JSON with object keys sorted, so equal values always serialize the same. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
