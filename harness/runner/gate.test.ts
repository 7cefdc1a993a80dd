import { describe, expect, it } from 'vitest';
import type { Comparison } from '../compare/compare.ts';
import { gateRun } from './gate.ts';

const summary = (over: Partial<Parameters<typeof gateRun>[0]['summary']> = {}) => ({
  status: 'completed' as const,
  counts: { pass: 3, fail: 1, error: 0, total: 4 },
  errorsByKind: {},
  score: { mean: 0.75, stderr: 0.25, n: 4 },
  ...over,
});
const verdict = (v: Comparison['verdict']) => ({ verdict: v, reasons: [`why ${v}`] }) as unknown as Comparison;

describe('gateRun', () => {
  it('orders: interrupted, then errors, then the verdict, then --fail-under', () => {
    expect(gateRun({ summary: summary() })).toEqual({ exitCode: 0, reasons: [] });
    expect(gateRun({ summary: summary(), failUnder: 0.8 })).toMatchObject({ exitCode: 1, reasons: ['mean score 0.750 is under --fail-under 0.8'] });
    expect(gateRun({ summary: summary(), failUnder: 0.8, comparison: verdict('WARN') }).exitCode).toBe(5);
    expect(gateRun({ summary: summary(), comparison: verdict('INVALID') })).toMatchObject({ exitCode: 6, reasons: ['compare INVALID: why INVALID'] });
    expect(gateRun({ summary: summary(), comparison: verdict('PASS') })).toEqual({ exitCode: 0, reasons: [] });
    const errors = summary({ counts: { pass: 3, fail: 0, error: 1, total: 4 }, errorsByKind: { infra: 1 } });
    expect(gateRun({ summary: errors, comparison: verdict('FAIL'), errorHint: '; resume it' })).toMatchObject({ exitCode: 4 });
    expect(gateRun({ summary: errors, maxErrors: 1 }).exitCode).toBe(0);
    expect(gateRun({ summary: summary({ status: 'interrupted', interruptedBy: 'engine' }), unfinished: ['gone'] })).toMatchObject({ exitCode: 75, reasons: ['gone'] });
    expect(gateRun({ summary: summary({ status: 'interrupted' }) }).exitCode).toBe(130);
  });
});
