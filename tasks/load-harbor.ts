// Harbor task directories (Harbor 0.22, Terminal-Bench 2), read as they are:
//
//   <id>/task.toml            [task], [metadata], [agent], [verifier], [solution], [environment]...
//   <id>/instruction.md       the instruction (required, non-empty)
//   <id>/environment/         Dockerfile context (built unless [environment].docker_image is usable)
//   <id>/tests/test.sh        the verifier (required); writes /logs/verifier/reward.txt or reward.json
//   <id>/solution/solve.sh    the reference solution (optional)
//
// Every key of task.toml is honoured, mapped onto something close, listed as ignored, or
// refused (the task does not load, and the error says why and what to do): never silently
// dropped. `Task.keys` says which, key by key. Whatever is ignored is also kept, in its own
// shape, under `metadata.toml`.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { digestTask } from './digest.ts';
import { TaskLoadError, collectProblems, type TaskProblem } from './errors.ts';
import {
  DEFAULT_BUILD_TIMEOUT_SEC,
  DEFAULT_TIMEOUTS,
  type EnvironmentSource,
  type Healthcheck,
  type KeyUse,
  type Task,
  type TaskArtifact,
  type TaskEnvironment,
  type TaskFile,
  type TaskMcpServer,
} from './task.ts';
import { toScorerSpec } from './load-suite.ts';
import { validate } from './issues.ts';
import { check, HARBOR_KNOWN_KEYS, HarborConfigSchema, ID_PATTERN, parseSizeMb, SuiteScorerSchema, type HarborConfig } from './validate.ts';
import type { ScorerSpec } from './task.ts';

export const HARBOR_CONFIG_FILE = 'task.toml';
/** Harbor's `[verifier].timeout_sec` when unset. */
export const HARBOR_VERIFIER_TIMEOUT_SEC = 600;
/** Harbor's `[environment.healthcheck]` defaults. */
export const HARBOR_HEALTHCHECK_DEFAULTS = { intervalSec: 5, timeoutSec: 30, retries: 3, startPeriodSec: 0, startIntervalSec: 5 } as const;

export interface LoadHarborOptions {
  /** The suite the task belongs to. @default the name of the directory holding the task directory */
  readonly suite?: string;
}

/** Whether `dir` is a Harbor task directory (it holds a task.toml). */
export async function isHarborTaskDir(dir: string): Promise<boolean> {
  return (await kindOf(join(dir, HARBOR_CONFIG_FILE))) === 'file';
}

/** Load one Harbor task directory. Its id is the directory's name. */
export async function loadHarborTask(dir: string, options: LoadHarborOptions = {}): Promise<Task> {
  const root = resolve(dir);
  const id = basename(root);
  const suite = options.suite ?? basename(dirname(root));
  const tomlFile = join(root, HARBOR_CONFIG_FILE);
  const problems: TaskProblem[] = [];
  const at = (file: string, field: string | undefined, text: string) => problems.push(field === undefined ? { file, text } : { file, field, text });

  if (!ID_PATTERN.test(id)) {
    at(root, undefined, `cannot be a task id: a Harbor task's id is its directory name, which must be made of letters, digits, ".", "_" and "-"`);
  }

  // task.toml: syntax, then shape. A config that cannot be read stops here; the files are still checked.
  let config: HarborConfig | undefined;
  let raw: Record<string, unknown> | undefined;
  try {
    raw = parseToml(await readText(tomlFile, root, HARBOR_CONFIG_FILE)) as Record<string, unknown>;
    config = check(HarborConfigSchema, raw, { file: tomlFile, notation: 'toml' });
  } catch (err) {
    if (err instanceof TomlError) problems.push(tomlSyntaxProblem(tomlFile, err));
    else problems.push(...collectProblems([err]));
  }

  // instruction.md
  const instructionFile = join(root, 'instruction.md');
  let instruction: string | undefined;
  switch (await kindOf(instructionFile)) {
    case 'missing':
      at(root, 'instruction.md', 'is missing: a Harbor task states its instruction for the agent in instruction.md');
      break;
    case 'file':
      instruction = await readText(instructionFile, root, 'instruction.md').catch((err: unknown) => {
        problems.push(...collectProblems([err]));
        return undefined;
      });
      if (instruction !== undefined && instruction.trim() === '') {
        at(root, 'instruction.md', 'is empty: write the instruction for the agent in it');
        instruction = undefined;
      }
      break;
    default:
      at(root, 'instruction.md', 'must be a file');
  }

  // tests/test.sh
  const testsDir = join(root, 'tests');
  const testsKind = await kindOf(testsDir);
  if (testsKind !== 'dir') {
    at(root, 'tests/', `${testsKind === 'missing' ? 'is missing' : 'must be a directory'}: a Harbor task needs tests/test.sh, the verifier that writes /logs/verifier/reward.txt or reward.json`);
  } else if ((await kindOf(join(testsDir, 'test.sh'))) !== 'file') {
    at(root, 'tests/test.sh', 'is missing: it is the verifier, run as `bash /tests/test.sh`, that writes /logs/verifier/reward.txt or reward.json');
  }

  // solution/solve.sh: optional; a solution/ without solve.sh is not a solution.
  const solutionDir = join(root, 'solution');
  const hasSolution = (await kindOf(join(solutionDir, 'solve.sh'))) === 'file';

  // environment: docker_image (with environment/Dockerfile as the fallback), else environment/Dockerfile.
  // A docker-compose.yaml means several containers: refused, even beside a Dockerfile.
  const envDir = join(root, 'environment');
  const envKind = await kindOf(envDir);
  const hasDockerfile = envKind === 'dir' && (await kindOf(join(envDir, 'Dockerfile'))) === 'file';
  const hasCompose = envKind === 'dir' && (await kindOf(join(envDir, 'docker-compose.yaml'))) === 'file';
  const envDirHasFiles = envKind === 'dir' && (await readdir(envDir)).length > 0;
  if (hasCompose) {
    at(
      root,
      'environment/docker-compose.yaml',
      'is refused: multi-container tasks (docker compose) are not supported: cagebench runs one sandbox per sample; build what the task needs into environment/Dockerfile',
    );
  }
  let source: EnvironmentSource | undefined;
  if (config) {
    const image = config.environment?.docker_image;
    if (image !== undefined) source = hasDockerfile ? { image, dockerfile: envDir } : { image };
    else if (hasDockerfile) source = { dockerfile: envDir };
    else if (!hasCompose) {
      at(
        tomlFile,
        '[environment].docker_image',
        envKind === 'dir'
          ? 'is not set and environment/ has no Dockerfile: set docker_image, or add environment/Dockerfile'
          : 'is not set and there is no environment/ directory: set docker_image, or add environment/Dockerfile',
      );
    }
  }

  // What each key of task.toml becomes; refused keys are problems.
  let uses: KeyEntry[] = [];
  if (config && raw) {
    uses = classifyKeys(raw, config, { hasDockerfile, uploadsEnvDir: !hasDockerfile && envDirHasFiles });
    for (const u of uses) {
      if (u.use === 'refused' && !u.quiet) problems.push({ file: tomlFile, field: u.key, text: `is refused: ${u.note ?? ''}` });
    }
  }

  const extraScorers = config ? extraScorersOf(config.metadata, tomlFile, root, problems) : [];

  if (problems.length > 0 || !config || !raw || instruction === undefined || !source) throw new TaskLoadError(problems);

  const env = config.environment ?? {};
  const memoryMb = env.memory !== undefined ? parseSizeMb(env.memory) : env.memory_mb;
  const network = baselineNetwork(config);
  const environment: TaskEnvironment = {
    source,
    ...(env.cpus === undefined ? {} : { cpus: env.cpus }),
    ...(memoryMb === undefined ? {} : { memoryMb }),
    ...(env.workdir === undefined ? {} : { workdir: env.workdir }),
    ...(network === 'public' ? { network: 'bridge' } : network === 'no-network' ? { network: 'none' } : {}),
    buildTimeoutSec: env.build_timeout_sec ?? DEFAULT_BUILD_TIMEOUT_SEC,
    ...(isEmpty(env.env) ? {} : { env: env.env }),
    ...(env.healthcheck === undefined ? {} : { healthcheck: healthcheckOf(env.healthcheck) }),
  };
  // docker_image without a Dockerfile: Harbor copies environment/ into the workdir.
  const files: TaskFile[] = source.dockerfile === undefined && envDirHasFiles ? [{ path: env.workdir ?? '.', source: envDir }] : [];
  const verifierEnv = config.verifier?.env;
  const solutionEnv = config.solution?.env;
  const mcpServers = mcpServersOf(env.mcp_servers);
  const artifacts = artifactsOf(config.artifacts);
  const task: Omit<Task, 'digest'> = {
    id,
    suite,
    format: 'harbor',
    origin: root,
    instruction,
    environment,
    timeouts: {
      setupSec: DEFAULT_TIMEOUTS.setupSec,
      agentSec: config.agent?.timeout_sec ?? DEFAULT_TIMEOUTS.agentSec,
      verifierSec: config.verifier?.timeout_sec ?? HARBOR_VERIFIER_TIMEOUT_SEC,
    },
    files,
    scorer: {
      type: 'verifier',
      testsDir,
      ...(isEmpty(verifierEnv) ? {} : { env: verifierEnv }),
      ...(config.verifier?.user === undefined ? {} : { user: config.verifier.user }),
    },
    ...(extraScorers.length === 0 ? {} : { extraScorers }),
    ...(hasSolution ? { solution: { kind: 'script', dir: solutionDir, ...(isEmpty(solutionEnv) ? {} : { env: solutionEnv }) } as const } : {}),
    ...(config.agent?.user === undefined ? {} : { agentUser: config.agent.user }),
    ...(mcpServers === undefined ? {} : { mcpServers }),
    ...(env.skills_dir === undefined ? {} : { skillsDir: env.skills_dir }),
    ...(artifacts.length === 0 ? {} : { artifacts }),
    keys: uses.map(({ key, use, note }) => (note === undefined ? { key, use } : { key, use, note })),
    metadata: { ...(config.metadata ?? {}), ...tomlExtras(raw, uses) },
  };
  return { ...task, digest: await digestTask(task) };
}

/**
 * Every subdirectory of `dir` that holds a task.toml, loaded as one suite named after `dir`.
 * Subdirectories without one are skipped; a folder with no task at all is an error.
 * Problems of all tasks are reported together.
 */
export async function loadHarborSuite(dir: string, options: { readonly filter?: (id: string) => boolean } = {}): Promise<Task[]> {
  const root = resolve(dir);
  const entries = await readdir(root, { withFileTypes: true }).catch((cause: unknown) => {
    throw TaskLoadError.at(root, undefined, `cannot be read: ${(cause as Error).message}`, { cause });
  });
  const names = entries
    .filter((e) => e.isDirectory() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const taskDirs: string[] = [];
  for (const name of names) if (await isHarborTaskDir(join(root, name))) taskDirs.push(name);
  if (taskDirs.length === 0) {
    throw TaskLoadError.at(root, undefined, `is not a task suite: none of its subdirectories holds a ${HARBOR_CONFIG_FILE} (and it has none itself)`);
  }
  const selected = options.filter ? taskDirs.filter(options.filter) : taskDirs;
  const results = await Promise.allSettled(selected.map((name) => loadHarborTask(join(root, name), { suite: basename(root) })));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length > 0) throw new TaskLoadError(collectProblems(failures));
  return results.map((r) => (r as PromiseFulfilledResult<Task>).value);
}

// ---------------------------------------------------------------------------------------------
// Key by key: what cagebench does with each key of task.toml

type Path = readonly (string | number)[];

interface KeyEntry extends KeyUse {
  /** Where the key is in the parsed TOML. */
  readonly path: Path;
  /** Refused, but another key's refusal already says it (allowed_hosts beside network_mode). */
  readonly quiet?: boolean;
}

interface Facts {
  readonly hasDockerfile: boolean;
  /** docker_image without a Dockerfile, and environment/ has files: they are copied into the workdir. */
  readonly uploadsEnvDir: boolean;
}

const NOT_HARBOR = 'not a Harbor 0.22 key';
const HOST_REFS = '${NAME} values are taken from the host when a run starts (--pass-env NAME)';
const ALLOWLIST_REFUSED =
  'cagebench cannot enforce a host allowlist (it has no egress filter): use network_mode = "public" (every host) or "no-network"';

/** What cagebench does with each key present in task.toml, in the file's order. */
function classifyKeys(raw: Record<string, unknown>, config: HarborConfig, facts: Facts): KeyEntry[] {
  const out: KeyEntry[] = [];
  const add = (path: Path, key: string, use: KeyUse['use'], note?: string, quiet?: boolean): void => {
    out.push({ path, key, use, ...(note === undefined ? {} : { note }), ...(quiet ? { quiet } : {}) });
  };
  const unknownKeys = (value: unknown, path: Path, known: readonly string[], name: (k: string) => string): void => {
    if (!isTable(value)) return;
    for (const k of Object.keys(value)) if (!known.includes(k)) add([...path, k], name(k), 'ignored', NOT_HARBOR);
  };
  const baseline = baselineNetwork(config);

  for (const [top, value] of Object.entries(raw)) {
    switch (top) {
      case 'schema_version':
      case 'version':
        add([top], top, 'ignored', 'the schema version: cagebench reads Harbor 0.22 task.toml');
        break;
      case 'source':
        add([top], top, 'ignored', 'provenance only');
        break;
      case 'multi_step_reward_strategy':
        add([top], top, 'ignored', 'only matters with [[steps]]');
        break;
      case 'steps': {
        const n = config.steps?.length ?? 0;
        if (n === 0) add([top], '[[steps]]', 'ignored', 'empty: a single-step task');
        else {
          add(
            [top],
            '[[steps]]',
            'refused',
            `multi-step tasks (${n} step${n === 1 ? '' : 's'}) are not supported: cagebench gives the agent one instruction and verifies once; split the steps into separate tasks`,
          );
        }
        break;
      }
      case 'artifacts': {
        const entries = config.artifacts ?? [];
        if (entries.length === 0) {
          add([top], top, 'ignored', 'empty');
          break;
        }
        add([top], top, 'honoured', `${entries.length} path${entries.length === 1 ? '' : 's'} collected from the sandbox into the sample's artifacts/ after the agent`);
        entries.forEach((entry, i) => {
          if (typeof entry === 'string') return;
          if (entry.service !== undefined && entry.service !== 'main') {
            add(
              [top, i, 'service'],
              `artifacts[${i}].service`,
              'refused',
              `collects from compose service "${entry.service}": cagebench runs one container per sample; collect from the main container (remove service) or drop the entry`,
            );
          }
          unknownKeys((value as unknown[])[i], [top, i], HARBOR_KNOWN_KEYS['artifacts']!, (k) => `artifacts[${i}].${tomlKey(k)}`);
        });
        break;
      }
      case 'task':
        for (const k of Object.keys(value as object)) {
          const known = HARBOR_KNOWN_KEYS['task']!.includes(k);
          add([top, k], `[task].${tomlKey(k)}`, 'ignored', known ? 'package information: no effect on a run (the task id is the directory name)' : NOT_HARBOR);
        }
        break;
      case 'metadata': {
        const cagebench = config.metadata?.['cagebench'];
        const scorers = isTable(cagebench) ? cagebench['scorers'] : undefined;
        const n = Array.isArray(scorers) ? scorers.length : 0;
        if (n > 0) {
          add([top, 'cagebench', 'scorers'], '[[metadata.cagebench.scorers]]', 'honoured', `${n} extra scorer${n === 1 ? '' : 's'} run after test.sh; each adds its value to the step's values under its name (the verifier still decides pass/fail); Harbor ignores them`);
        }
        add([top], '[metadata]', 'ignored', "kept as the task's metadata: no effect on a run");
        break;
      }
      case 'agent':
      case 'verifier':
        for (const k of Object.keys(value as object)) {
          const key = `[${top}].${tomlKey(k)}`;
          const path = [top, k];
          const phase = top === 'agent' ? config.agent! : config.verifier!;
          if (!HARBOR_KNOWN_KEYS[top]!.includes(k)) {
            add(path, key, 'ignored', NOT_HARBOR);
            continue;
          }
          switch (k) {
            case 'timeout_sec':
              add(path, key, 'honoured', top === 'agent' ? "the agent's time limit" : "test.sh's time limit (Harbor's default when unset: 600 s)");
              break;
            case 'user':
              add(path, key, 'honoured', top === 'agent' ? 'the agent and the oracle run as this user (the image must have it)' : 'test.sh runs as this user (the image must have it)');
              break;
            case 'network_mode':
            case 'allowed_hosts': {
              if (phase.network_mode === undefined) {
                add(path, key, 'ignored', 'no network_mode beside it');
                break;
              }
              const mode = effectiveNetwork(phase.network_mode, phase.allowed_hosts);
              const quiet = k === 'allowed_hosts';
              if (mode === 'allowlist') add(path, key, 'refused', ALLOWLIST_REFUSED, quiet);
              else if (mode === baseline) add(path, key, 'honoured', `the same as the sandbox's network (${baseline}): nothing to switch`);
              else {
                add(
                  path,
                  key,
                  'refused',
                  `switches the network to "${mode}" for the ${top === 'agent' ? 'agent' : 'verifier'} while the sandbox's is "${baseline ?? 'allowlist'}": cagebench cannot switch a sandbox's network between phases; remove it, or set [environment].network_mode = "${mode}"`,
                  quiet,
                );
              }
              break;
            }
            case 'env':
              add(path, key, 'honoured', `set for test.sh; ${HOST_REFS}`);
              break;
            case 'environment_mode':
              if (config.verifier?.environment_mode === 'shared') add(path, key, 'honoured', "test.sh runs in the agent's sandbox");
              else add(path, key, 'refused', "a separate verifier container is not supported: cagebench runs test.sh in the agent's sandbox; remove it");
              break;
            case 'environment':
              add(path, '[verifier.environment]', 'refused', "a separate verifier container is not supported: cagebench runs test.sh in the agent's sandbox; remove the table");
              break;
            case 'collect':
              if ((config.verifier?.collect?.length ?? 0) === 0) add(path, '[[verifier.collect]]', 'ignored', 'empty');
              else {
                add(
                  path,
                  '[[verifier.collect]]',
                  'refused',
                  'collect hooks are not supported: cagebench has no compose services and no step between the agent and the verifier; run the commands at the start of tests/test.sh',
                );
              }
              break;
            default:
              add(path, key, 'ignored', NOT_HARBOR);
          }
        }
        break;
      case 'solution':
        for (const k of Object.keys(value as object)) {
          if (k === 'env') add([top, k], '[solution].env', 'honoured', `set for solution/solve.sh (the oracle); ${HOST_REFS}`);
          else add([top, k], `[solution].${tomlKey(k)}`, 'ignored', NOT_HARBOR);
        }
        break;
      case 'environment':
        classifyEnvironment(value as Record<string, unknown>, config, facts, baseline, add, unknownKeys);
        break;
      default:
        add([top], tomlKey(top), 'ignored', NOT_HARBOR);
    }
  }
  return out;
}

function classifyEnvironment(
  value: Record<string, unknown>,
  config: HarborConfig,
  facts: Facts,
  baseline: Network,
  add: (path: Path, key: string, use: KeyUse['use'], note?: string, quiet?: boolean) => void,
  unknownKeys: (value: unknown, path: Path, known: readonly string[], name: (k: string) => string) => void,
): void {
  const env = config.environment!;
  for (const k of Object.keys(value)) {
    const key = `[environment].${tomlKey(k)}`;
    const path = ['environment', k];
    switch (k) {
      case 'build_timeout_sec':
        add(path, key, 'honoured', 'the time limit of the image build');
        break;
      case 'docker_image':
        add(
          path,
          key,
          'honoured',
          facts.hasDockerfile
            ? 'used when the engine has it, else environment/Dockerfile is built'
            : facts.uploadsEnvDir
              ? "the sandbox's image; environment/ is copied into the workdir, as Harbor does"
              : "the sandbox's image",
        );
        break;
      case 'os':
        if (env.os === 'windows') add(path, key, 'refused', 'Windows containers are not supported: cagebench runs Linux sandboxes');
        else add(path, key, 'ignored', 'linux: the only OS cagebench runs');
        break;
      case 'cpus':
        add(path, key, 'honoured', 'cpu limit');
        break;
      case 'memory_mb':
        add(path, key, 'honoured', 'memory limit');
        break;
      case 'memory':
        add(path, key, 'honoured', `memory limit, ${parseSizeMb(env.memory!)} MB (deprecated in Harbor for memory_mb)`);
        break;
      case 'storage_mb':
      case 'storage':
        add(path, key, 'ignored', 'no per-sandbox disk quota on Docker (Harbor does not apply it either)');
        break;
      case 'gpus':
        if ((env.gpus ?? 0) > 0) add(path, key, 'refused', `the task needs ${env.gpus} GPU(s) and cagebench's Docker sandboxes have none (Harbor's Docker environment refuses it too); run it elsewhere or set gpus = 0`);
        else add(path, key, 'ignored', 'no GPU asked for');
        break;
      case 'gpu_types':
        add(path, key, 'ignored', 'a hint for GPU providers; cagebench sandboxes have no GPUs');
        break;
      case 'tpu':
        add(path, '[environment.tpu]', 'refused', "TPUs are not supported (Harbor runs them on GKE only); remove the table");
        break;
      case 'allow_internet':
        if (env.network_mode !== undefined || env.allowed_hosts !== undefined) add(path, key, 'ignored', 'network_mode or allowed_hosts is set and wins, as in Harbor');
        else add(path, key, 'mapped', `deprecated in Harbor: ${env.allow_internet ? 'true is network_mode = "public" (the default bridge network, with the model bridge at its gateway)' : 'false is network_mode = "no-network" (network none: an agent with a model reaches only the model bridge)'}`);
        break;
      case 'network_mode':
      case 'allowed_hosts': {
        const quiet = k === 'allowed_hosts';
        if (k === 'allowed_hosts' && env.network_mode !== 'allowlist') add(path, key, 'ignored', 'empty, and network_mode is not "allowlist"');
        else if (baseline === 'allowlist') add(path, key, 'refused', ALLOWLIST_REFUSED, quiet);
        else if (env.network_mode === 'allowlist') add(path, key, 'mapped', 'an empty allowlist denies every host: network none, as no-network');
        else if (baseline === 'public') add(path, key, 'honoured', 'network bridge: the outside world');
        else add(path, key, 'honoured', 'network none: nothing outside (an agent with a model reaches only the model bridge)');
        break;
      }
      case 'env':
        add(path, key, 'honoured', `set for every process in the sandbox; ${HOST_REFS}`);
        break;
      case 'mcp_servers': {
        const servers = env.mcp_servers ?? [];
        add(path, '[[environment.mcp_servers]]', servers.length === 0 ? 'ignored' : 'honoured', servers.length === 0 ? 'empty' : `given to the agent: ${servers.map((s) => s.name).join(', ')}`);
        const entries = value[k];
        if (Array.isArray(entries)) {
          entries.forEach((entry, i) => unknownKeys(entry, [...path, i], HARBOR_KNOWN_KEYS['environment.mcp_servers']!, (x) => `[environment].mcp_servers[${i}].${tomlKey(x)}`));
        }
        break;
      }
      case 'skills_dir':
        add(path, key, 'honoured', 'the agent gets the skills in this sandbox directory');
        break;
      case 'healthcheck': {
        const table = value[k] as Record<string, unknown>;
        for (const h of Object.keys(table)) {
          const known = HARBOR_KNOWN_KEYS['environment.healthcheck']!.includes(h);
          add([...path, h], `[environment.healthcheck].${tomlKey(h)}`, known ? 'honoured' : 'ignored', known ? (h === 'command' ? 'must succeed before the agent starts' : undefined) : NOT_HARBOR);
        }
        break;
      }
      case 'workdir':
        add(path, key, 'honoured', 'where the agent, the oracle and test.sh start');
        break;
      default:
        add(path, key, 'ignored', NOT_HARBOR);
    }
  }
}

type Network = 'public' | 'no-network' | 'allowlist';

/** An allowlist without hosts denies everything: no-network. */
function effectiveNetwork(mode: Network, hosts: readonly string[] | undefined): Network {
  return mode === 'allowlist' && (hosts === undefined || hosts.length === 0) ? 'no-network' : mode;
}

/** Harbor's baseline: [environment].network_mode, else the deprecated allow_internet, else public. */
function baselineNetwork(config: HarborConfig): Network {
  const env = config.environment ?? {};
  if (env.network_mode !== undefined) return effectiveNetwork(env.network_mode, env.allowed_hosts);
  if (env.allow_internet !== undefined && env.allowed_hosts === undefined) return env.allow_internet ? 'public' : 'no-network';
  return 'public';
}

function healthcheckOf(h: NonNullable<NonNullable<HarborConfig['environment']>['healthcheck']>): Healthcheck {
  const d = HARBOR_HEALTHCHECK_DEFAULTS;
  return {
    command: h.command,
    intervalSec: h.interval_sec ?? d.intervalSec,
    timeoutSec: h.timeout_sec ?? d.timeoutSec,
    // Harbor gives up when the failures in a row reach `retries`: 0 behaves as 1.
    retries: Math.max(1, h.retries ?? d.retries),
    startPeriodSec: h.start_period_sec ?? d.startPeriodSec,
    startIntervalSec: h.start_interval_sec ?? d.startIntervalSec,
  };
}

function mcpServersOf(servers: NonNullable<HarborConfig['environment']>['mcp_servers']): Record<string, TaskMcpServer> | undefined {
  if (!servers || servers.length === 0) return undefined;
  const out: Record<string, TaskMcpServer> = {};
  for (const s of servers) {
    const transport = s.transport ?? 'sse';
    out[s.name] =
      transport === 'stdio'
        ? { command: s.command!, ...(s.args && s.args.length > 0 ? { args: s.args } : {}) }
        : { url: s.url!, transport: transport === 'sse' ? 'sse' : 'http' };
  }
  return out;
}

function artifactsOf(entries: HarborConfig['artifacts']): TaskArtifact[] {
  return (entries ?? []).map((entry) => {
    const e = typeof entry === 'string' ? { source: entry } : entry;
    // `docker compose cp` reads a relative container path from /.
    const source = e.source.startsWith('/') ? e.source : `/${e.source}`;
    return {
      source,
      ...(e.destination === undefined || e.destination === '' ? {} : { destination: e.destination }),
      ...(e.exclude === undefined || e.exclude.length === 0 ? {} : { exclude: e.exclude }),
    };
  });
}

/** Everything task.toml says that cagebench ignores ([metadata] aside), in its own shape: `{ toml }`, or nothing. */
function tomlExtras(raw: Record<string, unknown>, uses: readonly KeyEntry[]): { toml?: Record<string, unknown> } {
  const extras: Record<string, unknown> = {};
  for (const u of uses) {
    if (u.use !== 'ignored' || u.key === '[metadata]') continue;
    let value: unknown = raw;
    for (const k of u.path) value = (value as Record<string | number, unknown>)[k];
    let into = extras;
    u.path.forEach((k, i) => {
      const name = String(k);
      if (i === u.path.length - 1) into[name] = value;
      else into = (into[name] ??= {}) as Record<string, unknown>;
    });
  }
  return Object.keys(extras).length === 0 ? {} : { toml: extras };
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
function tomlKey(key: string): string {
  return BARE_KEY.test(key) ? key : JSON.stringify(key);
}

function isEmpty(map: Readonly<Record<string, unknown>> | undefined): boolean {
  return map === undefined || Object.keys(map).length === 0;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function tomlSyntaxProblem(file: string, err: TomlError): TaskProblem {
  const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
  return { file, line: err.line, text: `invalid TOML at line ${err.line}, column ${err.column}: ${reason}` };
}

type Kind = 'file' | 'dir' | 'other' | 'missing';

async function kindOf(path: string): Promise<Kind> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

async function readText(file: string, taskDir: string, name: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const text = code === 'ENOENT' ? 'is missing: every Harbor task directory has one' : `cannot be read: ${(cause as Error).message}`;
    throw TaskLoadError.at(taskDir, name, text, { cause });
  }
}

// ---------------------------------------------------------------------------------------------
// Extra scorers: [[metadata.cagebench.scorers]], suite scorers with a name (Harbor ignores [metadata]).

const EXTRA_KEY = '[[metadata.cagebench.scorers]]';
const EXTRA_NAME = /^[A-Za-z0-9_-]+$/;

/** The extra scorers task.toml declares; their problems are pushed onto `problems`, naming task.toml and the key. */
function extraScorersOf(
  metadata: Readonly<Record<string, unknown>> | undefined,
  file: string,
  root: string,
  problems: TaskProblem[],
): { name: string; spec: ScorerSpec }[] {
  const cagebench = metadata?.['cagebench'];
  if (cagebench === undefined) return [];
  if (!isTable(cagebench)) {
    problems.push({ file, field: '[metadata.cagebench]', text: 'must be a table' });
    return [];
  }
  const entries = cagebench['scorers'];
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) {
    problems.push({ file, field: EXTRA_KEY, text: 'must be an array of tables ([[metadata.cagebench.scorers]])' });
    return [];
  }
  const out: { name: string; spec: ScorerSpec }[] = [];
  entries.forEach((entry: unknown, i) => {
    const at = `${EXTRA_KEY}[${i}]`;
    if (!isTable(entry)) {
      problems.push({ file, field: at, text: 'must be a table with a name and a scorer type' });
      return;
    }
    const { name, ...rest } = entry;
    let ok = true;
    if (typeof name !== 'string' || !EXTRA_NAME.test(name)) {
      problems.push({ file, field: `${at}.name`, text: `${name === undefined ? 'is missing (it ' : ''}must be a name made of letters, digits, "_" and "-"${name === undefined ? ')' : ''}` });
      ok = false;
    } else if (name === 'reward') {
      problems.push({ file, field: `${at}.name`, text: 'must not be "reward": that is the verifier\'s own value' });
      ok = false;
    } else if (out.some((x) => x.name === name) || entries.slice(0, i).some((e: unknown) => isTable(e) && e['name'] === name)) {
      problems.push({ file, field: `${at}.name`, text: `must be unique ("${name}" is used by an earlier scorer)` });
      ok = false;
    }
    const result = validate(SuiteScorerSchema, rest, {
      file,
      notation: 'toml',
      name: (path) => (path.length === 0 ? at : `${at}.${path.map(String).join('.')}`),
    });
    if (!result.ok) problems.push(...result.problems);
    else if (ok) out.push({ name: name as string, spec: toScorerSpec(result.data, root) });
  });
  return out;
}
