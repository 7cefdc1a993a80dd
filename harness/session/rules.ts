// Permission rules for a session's agent: `{ tool, match, action }`, deny over ask over allow,
// compiled into the agent's own configuration so they hold when it runs headless (no one
// is there to answer). Headless, `ask` is a deny. A rule an agent's configuration cannot
// state is refused before the session starts: it never runs under a weaker policy.
import { ConfigError } from '../errors.ts';

export interface PermissionRule {
  /** `bash` (the shell tool), `edit`, `write`, `read`, `fetch`, or `*`. */
  readonly tool: string;
  /** For `bash`: the command's first word(s), e.g. `rm` or `git push`. */
  readonly match?: string;
  readonly action: 'allow' | 'deny' | 'ask';
}

const CLAUDE_TOOLS: Readonly<Record<string, string>> = { bash: 'Bash', edit: 'Edit', write: 'Write', read: 'Read', fetch: 'WebFetch' };
const OPENCODE_TOOLS: Readonly<Record<string, string>> = { bash: 'bash', edit: 'edit', write: 'edit', fetch: 'webfetch' };
const GEMINI_TOOLS: Readonly<Record<string, string>> = { bash: 'run_shell_command', edit: 'replace', write: 'write_file', read: 'read_file', fetch: 'web_fetch' };

/**
 * The agent options that carry `rules` for `agent`, on top of `options`. Only deny (and
 * ask, headless) rules need stating: every agent runs with everything else allowed.
 */
export function withRules(agent: string, rules: readonly PermissionRule[], options: Readonly<Record<string, unknown>> = {}): Readonly<Record<string, unknown>> {
  const refused = rules.filter((r) => r.action !== 'allow');
  if (!refused.length) return options;
  const unknown = refused.find((r) => !['bash', 'edit', 'write', 'read', 'fetch', '*'].includes(r.tool));
  if (unknown) throw new ConfigError(`Permission rule tool "${unknown.tool}": use bash, edit, write, read, fetch or *.`);
  const unsupported = (why: string): never => {
    throw new ConfigError(`Agent ${agent} cannot hold these permission rules headless: ${why}. Use another agent, or the acp driver.`);
  };
  const disallowed = [...((options.disallowed_tools as string[] | undefined) ?? [])];
  switch (agent) {
    case 'claude_code':
      // Claude's own rule syntax: `Bash(rm:*)` denies commands that start with `rm`.
      for (const r of refused) {
        if (r.tool === '*') unsupported('a rule on every tool');
        const name = CLAUDE_TOOLS[r.tool]!;
        disallowed.push(r.match ? `${name}(${r.match}:*)` : name);
      }
      return { ...options, disallowed_tools: disallowed };
    case 'opencode':
    case 'gemini_cli': {
      const table = agent === 'opencode' ? OPENCODE_TOOLS : GEMINI_TOOLS;
      for (const r of refused) {
        if (r.match) unsupported(`its tool deny list cannot match a command ("${r.tool}" matching "${r.match}")`);
        const name = table[r.tool];
        if (!name) unsupported(`it has no "${r.tool}" tool to deny`);
        disallowed.push(name!);
      }
      return { ...options, disallowed_tools: disallowed };
    }
    default:
      return unsupported('it has no per-tool deny list (its tools go with features)');
  }
}
