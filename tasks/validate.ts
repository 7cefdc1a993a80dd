// Schemas for the two task formats (Harbor's task.toml, cagebench's suite YAML). Their
// complaints become messages in tasks/issues.ts.
//
// Convention: every error message a schema sets is a predicate that follows the field name
// ("must be seconds > 0"); the formatter adds the file, the field, what was found and the line.
import { z } from 'zod';
import { show } from './issues.ts';
import { MODEL_GRADED_PLACEHOLDERS } from './task.ts';

export { check, formatField, show } from './issues.ts';

// ---------------------------------------------------------------------------------------------
// Building blocks

const SECONDS = 'must be seconds > 0';
const ID_RULE = 'must be an id made of letters, digits, ".", "_" and "-"';
export const ID_PATTERN = /^[A-Za-z0-9._-]+$/;

const seconds = z.number({ error: SECONDS }).positive({ error: SECONDS });
const positiveNumber = z.number({ error: 'must be a number > 0' }).positive({ error: 'must be a number > 0' });
const positiveInt = z
  .number({ error: 'must be a whole number > 0' })
  .int({ error: 'must be a whole number > 0' })
  .positive({ error: 'must be a whole number > 0' });
const nonEmpty = z
  .string({ error: 'must be a non-empty string' })
  .refine((s) => s.trim() !== '', { error: 'must be a non-empty string' });
const id = z.string({ error: ID_RULE }).regex(ID_PATTERN, { error: ID_RULE });
/** A container runtime's name, as the run's `--runtime` takes it (harness/options.ts holds the same pattern). */
export const RUNTIME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const RUNTIME_RULE = 'must be a container runtime name the engine offers, e.g. runsc (gVisor) or crun';
const runtime = z.string({ error: RUNTIME_RULE }).regex(RUNTIME_PATTERN, { error: RUNTIME_RULE });
const absolutePath = z
  .string({ error: 'must be an absolute path (starting with "/")' })
  .refine((s) => s.startsWith('/'), { error: 'must be an absolute path (starting with "/")' });
const table = z.record(z.string(), z.unknown());

/** A JavaScript regular expression source that compiles. */
const regexSource = z.string({ error: 'must be a regular expression (a string)' }).superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
    ctx.addIssue({ code: 'custom', message: `must be a regular expression that compiles (${reason}) (got ${show(source, 'yaml')})`, input: source });
  }
});

/** `fields` are alternatives: exactly one must be set. */
function exactlyOne(fields: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    const set = fields.filter((f) => value[f] !== undefined);
    if (set.length === 1) return;
    const got = set.length === 0 ? 'none' : set.join(' and ');
    ctx.addIssue({ code: 'custom', message: `must set exactly one of ${fields.join(', ')} (got ${got})`, input: value });
  };
}

// ---------------------------------------------------------------------------------------------
// Sizes ("2G", "512M", "4g") as Harbor writes `[environment].memory`

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([KMGT])(?:IB|I|B)?\s*$/i;
const SIZE_RULE = 'must be a size like "2G", "512M" or "4g" of at least 1M';

/** Megabytes in a size string (`2G` → 2048, `512M` → 512, `1.5g` → 1536), or undefined. */
export function parseSizeMb(size: string): number | undefined {
  const m = SIZE_PATTERN.exec(size);
  if (!m) return undefined;
  const factor = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[m[2]!.toUpperCase() as 'K' | 'M' | 'G' | 'T'];
  const mb = Math.floor(Number(m[1]) * factor);
  return mb >= 1 ? mb : undefined;
}

// ---------------------------------------------------------------------------------------------
// Harbor 0.22: task.toml. Every key Harbor knows is typed here; tables are loose, because
// Harbor ignores keys it does not know (load-harbor lists them as ignored and keeps them).

const nonNegativeSeconds = z.number({ error: 'must be seconds >= 0' }).nonnegative({ error: 'must be seconds >= 0' });
const wholeAtLeastZero = z
  .number({ error: 'must be a whole number >= 0' })
  .int({ error: 'must be a whole number >= 0' })
  .nonnegative({ error: 'must be a whole number >= 0' });
const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }), { error: 'must be a table of strings' });
const stringList = z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' });
const USER_RULE = 'must be a user name or a uid (a whole number >= 0)';
/** Harbor's `user = "name" | uid`; a uid becomes its string form (docker takes either). */
const harborUser = z
  .union([nonEmpty, z.number().int().nonnegative()], { error: USER_RULE })
  .transform((u) => String(u));
export const NETWORK_MODES = ['public', 'no-network', 'allowlist'] as const;
const networkMode = z.enum(NETWORK_MODES, { error: 'must be one of "public", "no-network", "allowlist"' });
const sizeString = z
  .string({ error: SIZE_RULE })
  .refine((s) => parseSizeMb(s) !== undefined, { error: SIZE_RULE });

/** Harbor: `allowed_hosts` is only valid with `network_mode = "allowlist"`. */
function allowedHostsNeedAllowlist(policy: { network_mode?: string; allowed_hosts?: readonly string[] }, ctx: z.core.$RefinementCtx): void {
  if (policy.allowed_hosts !== undefined && policy.allowed_hosts.length > 0 && policy.network_mode !== 'allowlist') {
    ctx.addIssue({ code: 'custom', path: ['allowed_hosts'], message: 'is only valid with network_mode = "allowlist"' });
  }
}

export const HarborTaskSection = z.looseObject({
  name: nonEmpty,
  version: nonEmpty.optional(),
  description: z.string({ error: 'must be a string' }).optional(),
  authors: z
    .array(z.looseObject({ name: nonEmpty, email: z.string({ error: 'must be a string' }).optional() }), {
      error: 'must be an array of { name, email }',
    })
    .optional(),
  keywords: stringList.optional(),
});

export const HarborAgentSection = z
  .looseObject({
    timeout_sec: seconds.optional(),
    user: harborUser.optional(),
    network_mode: networkMode.optional(),
    allowed_hosts: stringList.optional(),
  })
  .superRefine(allowedHostsNeedAllowlist);

export const HarborVerifierSection = z
  .looseObject({
    timeout_sec: seconds.optional(),
    env: stringMap.optional(),
    user: harborUser.optional(),
    network_mode: networkMode.optional(),
    allowed_hosts: stringList.optional(),
    environment_mode: z.enum(['shared', 'separate'], { error: 'must be one of "shared", "separate"' }).optional(),
    environment: table.optional(),
    collect: z.array(table, { error: 'must be an array of tables ([[verifier.collect]])' }).optional(),
  })
  .superRefine(allowedHostsNeedAllowlist)
  .superRefine((verifier, ctx) => {
    if (verifier.environment_mode === 'shared' && verifier.environment !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['environment_mode'],
        message: 'is "shared", which cannot go with a [verifier.environment] table: remove one of them',
      });
    }
  });

export const HarborSolutionSection = z.looseObject({ env: stringMap.optional() });

export const HarborHealthcheck = z.looseObject({
  command: nonEmpty,
  interval_sec: nonNegativeSeconds.optional(),
  timeout_sec: seconds.optional(),
  start_period_sec: nonNegativeSeconds.optional(),
  start_interval_sec: nonNegativeSeconds.optional(),
  retries: wholeAtLeastZero.optional(),
});

export const MCP_TRANSPORTS = ['sse', 'streamable-http', 'http', 'stdio'] as const;
export const HarborMcpServer = z
  .looseObject({
    name: nonEmpty,
    transport: z.enum(MCP_TRANSPORTS, { error: 'must be one of "sse", "streamable-http", "http", "stdio"' }).optional(),
    url: nonEmpty.optional(),
    command: nonEmpty.optional(),
    args: stringList.optional(),
  })
  .superRefine((server, ctx) => {
    const transport = server.transport ?? 'sse';
    if (transport === 'stdio' && server.command === undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'is missing: transport "stdio" starts a command' });
    } else if (transport !== 'stdio' && server.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `is missing: transport "${transport}" needs the server's url` });
    }
  });

export const HarborEnvironmentSection = z
  .looseObject({
    build_timeout_sec: seconds.optional(),
    docker_image: nonEmpty.optional(),
    os: z
      .string({ error: 'must be one of "linux", "windows"' })
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['linux', 'windows'], { error: 'must be one of "linux", "windows"' }))
      .optional(),
    cpus: positiveNumber.optional(),
    memory_mb: positiveInt.optional(),
    storage_mb: positiveInt.optional(),
    gpus: wholeAtLeastZero.optional(),
    gpu_types: stringList.optional(),
    tpu: z.looseObject({ type: nonEmpty, topology: nonEmpty }, { error: 'must be a table { type, topology }' }).optional(),
    memory: sizeString.optional(),
    storage: sizeString.optional(),
    allow_internet: z.boolean({ error: 'must be true or false' }).optional(),
    network_mode: networkMode.optional(),
    allowed_hosts: stringList.optional(),
    env: stringMap.optional(),
    mcp_servers: z.array(HarborMcpServer, { error: 'must be an array of tables ([[environment.mcp_servers]])' }).optional(),
    skills_dir: absolutePath.optional(),
    healthcheck: HarborHealthcheck.optional(),
    /** The working directory of agent, solution and verifier. */
    workdir: absolutePath.optional(),
  })
  .superRefine(allowedHostsNeedAllowlist)
  .superRefine((env, ctx) => {
    for (const [size, mb] of [
      ['memory', 'memory_mb'],
      ['storage', 'storage_mb'],
    ] as const) {
      const text = env[size];
      const exact = env[mb];
      if (text === undefined || exact === undefined) continue;
      const fromSize = parseSizeMb(text);
      if (fromSize !== undefined && fromSize !== exact) {
        ctx.addIssue({
          code: 'custom',
          path: [size],
          message: `must agree with ${mb} = ${exact} when both are set; set only one (got ${show(text, 'toml')}, which is ${fromSize} MB)`,
          input: text,
        });
      }
    }
    const seen = new Map<string, number>();
    env.mcp_servers?.forEach((server, i) => {
      const j = seen.get(server.name);
      if (j === undefined) seen.set(server.name, i);
      else ctx.addIssue({ code: 'custom', path: ['mcp_servers', i, 'name'], message: `must be unique: "${server.name}" is also the name of mcp_servers[${j}]` });
    });
  });

const ARTIFACT_RULE = 'must be a path in the sandbox, or a table { source, destination, exclude, service }';
const NO_DOTDOT = 'must not contain ".." components';
const artifactSource = nonEmpty.refine((s) => !s.split('/').includes('..'), { error: NO_DOTDOT });
/** Harbor: relative, "/"-separated, no "..", not the reserved manifest.json. */
function destinationProblem(dest: string): string | undefined {
  if (dest.includes('\\')) return 'must use "/" as the separator';
  if (dest.startsWith('/')) return "must be a relative path (under the sample's artifacts directory)";
  if (dest.split('/').includes('..')) return NO_DOTDOT;
  if (dest.replace(/\/+$/, '') === 'manifest.json') return 'must not be manifest.json (reserved)';
  return undefined;
}
export const HarborArtifact = z.union(
  [
    artifactSource,
    z.looseObject({
      source: artifactSource,
      destination: z
        .string({ error: 'must be a string' })
        .superRefine((dest, ctx) => {
          const problem = destinationProblem(dest);
          if (problem) ctx.addIssue({ code: 'custom', message: problem, input: dest });
        })
        .optional(),
      exclude: stringList.optional(),
      service: nonEmpty.optional(),
    }),
  ],
  { error: ARTIFACT_RULE },
);

export const HarborConfigSchema = z.looseObject({
  schema_version: z.string({ error: 'must be a string like "1.4"' }).optional(),
  version: z.union([z.string(), z.number()], { error: 'must be a string like "1.0"' }).optional(),
  source: z.string({ error: 'must be a string' }).optional(),
  multi_step_reward_strategy: z.enum(['mean', 'final'], { error: 'must be one of "mean", "final"' }).optional(),
  artifacts: z.array(HarborArtifact, { error: 'must be an array of paths or tables' }).optional(),
  steps: z.array(table, { error: 'must be an array of tables ([[steps]])' }).optional(),
  task: HarborTaskSection.optional(),
  metadata: table.optional(),
  agent: HarborAgentSection.optional(),
  verifier: HarborVerifierSection.optional(),
  solution: HarborSolutionSection.optional(),
  environment: HarborEnvironmentSection.optional(),
});
export type HarborConfig = z.output<typeof HarborConfigSchema>;

/** Every key Harbor 0.22 knows, by table ('' is the top level); anything else is "not a Harbor 0.22 key". */
export const HARBOR_KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(HarborConfigSchema.shape),
  task: Object.keys(HarborTaskSection.shape),
  agent: Object.keys(HarborAgentSection.shape),
  verifier: Object.keys(HarborVerifierSection.shape),
  solution: Object.keys(HarborSolutionSection.shape),
  environment: Object.keys(HarborEnvironmentSection.shape),
  'environment.healthcheck': Object.keys(HarborHealthcheck.shape),
  'environment.mcp_servers': Object.keys(HarborMcpServer.shape),
  'environment.tpu': ['type', 'topology'],
  artifacts: ['source', 'destination', 'exclude', 'service'],
};

// ---------------------------------------------------------------------------------------------
// cagebench suite YAML. Strict: an unknown key is a typo until proven otherwise.

export const SCORER_TYPES = ['command', 'file', 'answer', 'model_graded', 'module'] as const;

const CommandScorerSchema = z.strictObject({ type: z.literal('command'), command: nonEmpty });
const FileScorerSchema = z
  .strictObject({
    type: z.literal('file'),
    path: nonEmpty,
    exists: z.boolean({ error: 'must be true or false' }).optional(),
    equals: z.string({ error: 'must be a string' }).optional(),
    contains: z.string({ error: 'must be a string' }).optional(),
    matches: regexSource.optional(),
  })
  .superRefine(exactlyOne(['exists', 'equals', 'contains', 'matches']));
const AnswerScorerSchema = z
  .strictObject({
    type: z.literal('answer'),
    includes: z.string({ error: 'must be a string' }).optional(),
    equals: z.string({ error: 'must be a string' }).optional(),
    matches: regexSource.optional(),
    ignore_case: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .superRefine(exactlyOne(['includes', 'equals', 'matches']));
const MODEL_ROUTE = /^[^/\s]+\/\S+$/;
const MODEL_RULE = 'must be a grader model as provider/model, e.g. anthropic/claude-sonnet-4-5 or mock/grader.yaml';
const graderModel = z.string({ error: MODEL_RULE }).regex(MODEL_ROUTE, { error: MODEL_RULE });
const GRADED_INPUT_RULE = 'must be answer, diff or {file: PATH}, or a list of them';
const GRADED_ITEM_RULE = 'must be answer, diff or {file: PATH}';
const gradedInput = z.union([z.enum(['answer', 'diff']), z.strictObject({ file: nonEmpty })], { error: GRADED_ITEM_RULE });
const GRADERS_RULE = 'must be a list of grader models (provider/model) or a count of calls to `model` from 1 to 9';
const graderCount = z.number({ error: GRADERS_RULE }).int({ error: GRADERS_RULE }).min(1, { error: GRADERS_RULE }).max(9, { error: GRADERS_RULE });
const TEMPLATE_RULE = `may only hold the placeholders ${MODEL_GRADED_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
const ModelGradedScorerSchema = z
  .strictObject({
    type: z.literal('model_graded'),
    rubric: nonEmpty,
    model: graderModel.optional(),
    graders: z
      .union([z.array(graderModel).min(1, { error: GRADERS_RULE }), graderCount], { error: GRADERS_RULE })
      .optional(),
    template: nonEmpty
      .superRefine((template, ctx) => {
        const unknown = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).filter((p) => !(MODEL_GRADED_PLACEHOLDERS as readonly string[]).includes(p));
        if (unknown.length) ctx.addIssue({ code: 'custom', message: `${TEMPLATE_RULE} (found {${unknown[0]}})`, input: template });
      })
      .optional(),
    partial_credit: z.boolean({ error: 'must be true or false' }).optional(),
    input: z.union([gradedInput, z.array(gradedInput).min(1, { error: GRADED_INPUT_RULE })], { error: GRADED_INPUT_RULE }).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.model !== undefined && Array.isArray(s.graders)) {
      ctx.addIssue({ code: 'custom', path: ['graders'], message: 'names the grader models itself: drop `model`, or give graders as a count of calls to it', input: s.graders });
    }
  });
const ModuleScorerSchema = z.strictObject({
  type: z.literal('module'),
  path: nonEmpty,
  export: nonEmpty.optional(),
  options: table.optional(),
});

export const SuiteScorerSchema = z.discriminatedUnion(
  'type',
  [CommandScorerSchema, FileScorerSchema, AnswerScorerSchema, ModelGradedScorerSchema, ModuleScorerSchema],
  {
    error: (iss) =>
      iss.code === 'invalid_union' && 'note' in iss && iss.note === 'No matching discriminator'
        ? `must be one of ${SCORER_TYPES.join(', ')}`
        : `must be a mapping with a type (${SCORER_TYPES.join(', ')})`,
  },
);

const MODE_RULE = 'must be an octal file mode such as 0755, 0o644 or "0600"';
const ModeSchema = z
  .union([z.number().int().min(0).max(0o7777, { error: MODE_RULE }), z.string().regex(/^(?:0o?)?[0-7]{1,4}$/, { error: MODE_RULE })], { error: MODE_RULE })
  .transform((m) => (typeof m === 'number' ? m : parseInt(m.replace(/^0o/, ''), 8)));

const FileEntrySchema = z
  .strictObject({
    path: nonEmpty,
    content: z.string({ error: 'must be a string (the file content)' }).optional(),
    source: nonEmpty.optional(),
    mode: ModeSchema.optional(),
  })
  .superRefine(exactlyOne(['content', 'source']));

const FilesSchema = z.union(
  [
    z.record(nonEmpty, z.string({ error: 'must be the file content (a string)' })),
    z.array(FileEntrySchema),
  ],
  { error: 'must be a mapping of path to content, or a list of {path, content | source, mode}' },
);

const TimeoutsSchema = z.strictObject({
  setup_sec: seconds.optional(),
  agent_sec: seconds.optional(),
  verifier_sec: seconds.optional(),
});

const SuiteEnvironmentSchema = z
  .strictObject({
    image: nonEmpty.optional(),
    dockerfile: nonEmpty.optional(),
    cpus: positiveNumber.optional(),
    memory_mb: positiveInt.optional(),
    workdir: absolutePath.optional(),
    network: z.enum(['none', 'bridge'], { error: 'must be one of none, bridge' }).optional(),
    runtime: runtime.optional(),
    build_timeout_sec: seconds.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.image !== undefined && env.dockerfile !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'must set image or dockerfile, not both', input: env });
    }
  });

const TOOLS_RULE = 'must be a tools file (.ts or .js, relative to the suite file) or a list of them';
/** Host tools files (harness/tools): their tools are served to the agent over MCP. */
const ToolsSchema = z.union([nonEmpty, z.array(nonEmpty, { error: TOOLS_RULE }).min(1, { error: TOOLS_RULE })], { error: TOOLS_RULE });

const DefaultsSchema = z.strictObject({
  timeouts: TimeoutsSchema.optional(),
  attempts: positiveInt.optional(),
  cpus: positiveNumber.optional(),
  memory_mb: positiveInt.optional(),
  runtime: runtime.optional(),
  tools: ToolsSchema.optional(),
});

const SOLUTION_RULE = 'must be a command (a string) or a non-empty list of commands';
const SolutionSchema = z.union([nonEmpty, z.array(nonEmpty).min(1, { error: SOLUTION_RULE })], { error: SOLUTION_RULE });

/** A scripted follow-up turn: the agent continues its session with `prompt`. */
const TurnSchema = z.strictObject({
  prompt: nonEmpty,
  scorer: SuiteScorerSchema.optional(),
  solution: SolutionSchema.optional(),
});

const SampleSchema = z
  .strictObject({
    id,
    instruction: nonEmpty,
    files: FilesSchema.optional(),
    setup: nonEmpty.optional(),
    scorer: SuiteScorerSchema,
    solution: SolutionSchema.optional(),
    turns: z
      .array(TurnSchema, { error: 'must be a list of turns, each { prompt, scorer, solution }' })
      .min(1, { error: 'must list at least one turn (or be left out)' })
      .optional(),
    metadata: table.optional(),
    timeouts: TimeoutsSchema.optional(),
    attempts: positiveInt.optional(),
    cpus: positiveNumber.optional(),
    memory_mb: positiveInt.optional(),
    runtime: runtime.optional(),
    tools: ToolsSchema.optional(),
  })
  .superRefine((sample, ctx) => {
    if (sample.turns !== undefined && sample.attempts !== undefined && sample.attempts > 1) {
      ctx.addIssue({ code: 'custom', path: ['attempts'], message: TURNS_ONE_ATTEMPT, input: sample.attempts });
    }
  });

/** Attempts retry a whole sample after an incorrect answer; a multi-turn sample is played once, turn by turn. */
const TURNS_ONE_ATTEMPT = 'must be 1 in a sample with turns: a multi-turn sample is played once, each turn continuing the session (no retries within a turn)';

export const SuiteSchema = z
  .strictObject({
    name: id.optional(),
    environment: SuiteEnvironmentSchema.optional(),
    defaults: DefaultsSchema.optional(),
    samples: z.array(SampleSchema, { error: 'must be a list of samples' }).min(1, { error: 'must list at least one sample' }),
  })
  .superRefine((suite, ctx) => {
    const first = new Map<string, number>();
    suite.samples.forEach((sample, i) => {
      const j = first.get(sample.id);
      if (j === undefined) first.set(sample.id, i);
      else ctx.addIssue({ code: 'custom', path: ['samples', i, 'id'], message: `must be unique: "${sample.id}" is also the id of samples[${j}]` });
    });
    // A default of several attempts would reach a multi-turn sample that does not set its own.
    const attempts = suite.defaults?.attempts;
    if (attempts !== undefined && attempts > 1) {
      suite.samples.forEach((sample, i) => {
        if (sample.turns === undefined || sample.attempts !== undefined) return;
        ctx.addIssue({
          code: 'custom',
          path: ['samples', i, 'turns'],
          message: `cannot go with defaults.attempts = ${attempts}: a multi-turn sample is played with one attempt; set attempts: 1 on this sample`,
        });
      });
    }
  });
export type SuiteConfig = z.output<typeof SuiteSchema>;
export type SuiteSample = SuiteConfig['samples'][number];
export type SuiteScorer = z.output<typeof SuiteScorerSchema>;

