import { describe, expect, it } from 'vitest';
import { PermissionGate, ruleAction } from './permissions.ts';

const request = (command: string, id = 'c1') => ({ id, tool: 'bash', command, input: { command } });

describe('rules', () => {
  it('deny wins over ask, ask over allow; a match is a whole-word command prefix; no rule allows', () => {
    const rules = [
      { tool: 'bash', action: 'allow' as const },
      { tool: 'bash', match: 'git push', action: 'ask' as const },
      { tool: 'bash', match: 'git', action: 'deny' as const },
      { tool: '*', match: 'rm', action: 'ask' as const },
    ];
    expect(ruleAction(rules, request('git push origin'))).toBe('deny');
    expect(ruleAction(rules, request('rm -rf x'))).toBe('ask');
    expect(ruleAction(rules, request('rmdir x'))).toBe('allow');
    expect(ruleAction(rules, request('ls'))).toBe('allow');
    expect(ruleAction([], { tool: 'edit' })).toBe('allow');
  });
});

describe('the gate', () => {
  it('ask parks the request: pending lists it, confirm answers it (once)', async () => {
    const events: string[] = [];
    const gate = new PermissionGate([{ tool: 'bash', match: 'rm', action: 'ask' }], { timeoutMs: 5_000 }, (type) => events.push(type));
    const decision = gate.decide(request('rm a'));
    expect(gate.pending()).toMatchObject([{ id: 'c1', tool: 'bash', command: 'rm a' }]);
    expect(gate.pending()[0]!.remainingMs).toBeGreaterThan(4_000);
    expect(gate.confirm({ id: 'c1', approve: true, reason: 'fine' })).toBe(true);
    expect(await decision).toEqual({ approve: true, by: 'human', reason: 'fine' });
    expect(gate.confirm({ id: 'c1', approve: false })).toBe(false);
    expect(gate.pending()).toEqual([]);
    expect(events).toEqual(['permission.asked', 'permission']);
  });

  it('a reject, a timeout (reject by default, or approve), and a cancel each answer', async () => {
    const gate = new PermissionGate([{ tool: '*', action: 'ask' }], { timeoutMs: 50 }, () => undefined);
    const rejected = gate.decide(request('x', 'a'));
    gate.confirm({ id: 'a', approve: false });
    expect(await rejected).toEqual({ approve: false, by: 'human' });
    expect(await gate.decide(request('y', 'b'))).toEqual({ approve: false, by: 'timeout' });
    const lenient = new PermissionGate([{ tool: '*', action: 'ask' }], { timeoutMs: 50, onTimeout: 'approve' }, () => undefined);
    expect(await lenient.decide(request('z', 'c'))).toEqual({ approve: true, by: 'timeout' });
    const slow = new PermissionGate([{ tool: '*', action: 'ask' }], { timeoutMs: 60_000 }, () => undefined);
    const both = [slow.decide(request('p', 'd')), slow.decide(request('q', 'e'))];
    slow.cancelAll();
    expect(await Promise.all(both)).toEqual([{ approve: false, by: 'cancel' }, { approve: false, by: 'cancel' }]);
  });

  it('a preToolUse hook speaks before the rules; removing it restores them', async () => {
    const gate = new PermissionGate([{ tool: 'bash', match: 'rm', action: 'deny' }], {}, () => undefined);
    const off = gate.hook((r) => (r.command === 'rm safe.tmp' ? 'allow' : undefined));
    expect(await gate.decide(request('rm safe.tmp'))).toEqual({ approve: true, by: 'hook' });
    expect(await gate.decide(request('rm other'))).toEqual({ approve: false, by: 'rule' });
    off();
    expect(await gate.decide(request('rm safe.tmp'))).toEqual({ approve: false, by: 'rule' });
  });
});
