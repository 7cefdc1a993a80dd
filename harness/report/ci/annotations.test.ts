import { describe, expect, it } from 'vitest';
import { armFromRun } from '../../compare/arm.ts';
import { compareArms } from '../../compare/compare.ts';
import { annotations, command, escapeData, escapeProperty } from './annotations.ts';
import { taskFilePath } from './paths.ts';
import { fakeView, uniform, type Cell } from './test-support.ts';

describe('annotations', () => {
  it('escape as the Actions toolkit does: data % CR LF, properties also : and ,', () => {
    expect(escapeData('100% done\r\nnext: a,b')).toBe('100%25 done%0D%0Anext: a,b');
    expect(escapeProperty('100% done\r\nnext: a,b')).toBe('100%25 done%0D%0Anext%3A a%2Cb');
    // % first, so an escape is never escaped twice.
    expect(escapeData('%0A')).toBe('%250A');
    expect(command('error', { file: 'a,b/task.toml', title: 'x: y' }, 'm\nn')).toBe('::error file=a%2Cb/task.toml,title=x%3A y::m%0An');
    expect(command('notice', {}, 'plain')).toBe('::notice::plain');
  });

  it('at most 10 ::error lines for the most regressed tasks, then one ::notice counting the rest', () => {
    const base = fakeView({ runId: 'b', tasks: uniform(40, [1, 1, 1, 1, 1]) });
    const candTasks: Record<string, readonly Cell[]> = { ...uniform(40, [1, 1, 1, 1, 1]) };
    for (let i = 0; i < 25; i++) candTasks[`t${String(i).padStart(4, '0')}`] = i < 5 ? [0, 0, 0, 0, 0] : [1, 0, 1, 1, 1];
    const cand = fakeView({ runId: 'c', tasks: candTasks, origin: (id) => `/repo/tasks/demo/${id}` });
    const c = compareArms(armFromRun(base), armFromRun(cand));
    const lines = annotations(c, { tasks: cand.run.tasks, root: '/repo' });
    expect(lines).toHaveLength(11);
    expect(lines.slice(0, 10).every((l) => l.startsWith('::error file=tasks/demo/'))).toBe(true);
    expect(lines[0]).toMatch(/^::error file=tasks\/demo\/t0000\/task\.toml,title=cagebench%3A t0000 regressed −100\.0 pts::t0000: base 5\/5 → cand 0\/5 \(Δ −100\.0 pts\), newly broken/);
    expect(lines[0]).toContain('%0ARun verdict: FAIL.');
    expect(lines[10]).toMatch(/^::notice title=cagebench%3A more regressed tasks::15 more task\(s\) regressed/);
    // No line breaks survive inside a command.
    expect(lines.every((l) => !/[\r\n]/.test(l))).toBe(true);
  });

  it('no regressed task, no annotation', () => {
    const v = fakeView({ runId: 'b', tasks: uniform(12, [1, 1]) });
    expect(annotations(compareArms(armFromRun(v), armFromRun(v)), { root: '/repo' })).toEqual([]);
  });

  it('a task file relative to the checkout, the suite file for suite tasks, else <task>/task.toml', () => {
    expect(taskFilePath('t', { origin: '/repo/tasks/t' }, '/repo')).toBe('tasks/t/task.toml');
    expect(taskFilePath('t', { origin: '/repo/suites/smoke.yaml' }, '/repo')).toBe('suites/smoke.yaml');
    expect(taskFilePath('t', { origin: '/elsewhere/t' }, '/repo')).toBe('t/task.toml');
    expect(taskFilePath('t', undefined, '/repo')).toBe('t/task.toml');
  });
});
