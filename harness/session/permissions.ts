// The permission gate of a session: every tool call the agent asks about goes through it.
// Hooks speak first, then the rules (deny over ask over allow; no rule: allow); `ask` parks
// the request until a person answers with `confirm`, or its time runs out (reject by
// default). Cancelling a turn answers every parked request `cancelled`.
import type { PermissionRule } from './rules.ts';

export interface PermissionRequest {
  /** The agent's id of the tool call. */
  readonly id: string;
  /** The canonical tool: `bash`, `edit`, `write`, `read`, `fetch`, or the agent's own name. */
  readonly tool: string;
  /** For `bash`: the command line. */
  readonly command?: string;
  readonly input: unknown;
}

export interface Decision {
  readonly approve: boolean;
  readonly by: 'rule' | 'hook' | 'human' | 'timeout' | 'cancel';
  readonly reason?: string;
}

export interface Confirmation extends PermissionRequest {
  readonly remainingMs: number;
}

/** A `preToolUse` hook: say allow, deny or ask, or nothing to leave it to the rules. */
export type PreToolUseHook = (request: PermissionRequest) => PermissionRule['action'] | undefined | Promise<PermissionRule['action'] | undefined>;

export interface ConfirmOptions {
  /** How long a parked request waits for `confirm`. @default 30_000 */
  readonly timeoutMs?: number;
  /** What happens then. @default 'reject' */
  readonly onTimeout?: 'reject' | 'approve';
}

interface Parked {
  readonly request: PermissionRequest;
  readonly deadline: number;
  readonly timer: NodeJS.Timeout;
  readonly answer: (decision: Decision) => void;
}

/** The rule that decides `request`: deny over ask over allow, among those that match. */
export function ruleAction(rules: readonly PermissionRule[], request: Pick<PermissionRequest, 'tool' | 'command'>): PermissionRule['action'] {
  const matching = rules.filter((r) => (r.tool === '*' || r.tool === request.tool) && (r.match === undefined || startsWithWords(request.command ?? '', r.match)));
  for (const action of ['deny', 'ask', 'allow'] as const) if (matching.some((r) => r.action === action)) return action;
  return 'allow';
}

/** `rm -rf x` starts with `rm` and with `rm -rf`, not with `r`. */
function startsWithWords(command: string, prefix: string): boolean {
  const text = command.trim();
  return text === prefix || text.startsWith(`${prefix} `);
}

export class PermissionGate {
  private readonly parked = new Map<string, Parked>();
  private readonly hooks = new Set<PreToolUseHook>();

  constructor(
    private readonly rules: readonly PermissionRule[],
    private readonly confirmOptions: ConfirmOptions,
    private readonly emit: (type: string, fields: Record<string, unknown>) => void,
  ) {}

  hook(fn: PreToolUseHook): () => void {
    this.hooks.add(fn);
    return () => this.hooks.delete(fn);
  }

  async decide(request: PermissionRequest): Promise<Decision> {
    let action: PermissionRule['action'] | undefined;
    let by: Decision['by'] = 'rule';
    for (const hook of this.hooks) {
      action = await hook(request);
      if (action) {
        by = 'hook';
        break;
      }
    }
    action ??= ruleAction(this.rules, request);
    const decided = (decision: Decision): Decision => {
      this.emit('permission', { id: request.id, tool: request.tool, ...(request.command ? { command: request.command } : {}), action, approve: decision.approve, by: decision.by, ...(decision.reason ? { reason: decision.reason } : {}) });
      return decision;
    };
    if (action !== 'ask') return decided({ approve: action === 'allow', by });
    const timeoutMs = this.confirmOptions.timeoutMs ?? 30_000;
    this.emit('permission.asked', { id: request.id, tool: request.tool, ...(request.command ? { command: request.command } : {}), timeoutMs });
    return new Promise<Decision>((resolve) => {
      const answer = (decision: Decision): void => {
        const parked = this.parked.get(request.id);
        if (!parked) return;
        clearTimeout(parked.timer);
        this.parked.delete(request.id);
        resolve(decided(decision));
      };
      const timer = setTimeout(() => answer({ approve: this.confirmOptions.onTimeout === 'approve', by: 'timeout' }), timeoutMs);
      this.parked.set(request.id, { request, deadline: Date.now() + timeoutMs, timer, answer });
    });
  }

  pending(): Confirmation[] {
    return [...this.parked.values()].map((p) => ({ ...p.request, remainingMs: Math.max(0, p.deadline - Date.now()) }));
  }

  /** Answer a parked request; false when there is none by that id (answered, timed out, unknown). */
  confirm(answer: { readonly id: string; readonly approve: boolean; readonly reason?: string }): boolean {
    const parked = this.parked.get(answer.id);
    if (!parked) return false;
    parked.answer({ approve: answer.approve, by: 'human', ...(answer.reason ? { reason: answer.reason } : {}) });
    return true;
  }

  /** A cancelled turn: every parked request is answered, not approved. */
  cancelAll(): void {
    for (const parked of [...this.parked.values()]) parked.answer({ approve: false, by: 'cancel' });
  }
}
