import { describe, expect, it } from 'vitest';
import { bouncerState, criticalityRank, worstCriticality } from './bouncer-state.ts';

describe('bouncerState', () => {
  it('a bouncer that looks healthy with a Critical issue open (fail-open, canary) is failing, never green', () => {
    expect(bouncerState('healthy', [{ criticality: 'critical' }])).toBe('failing');
    expect(bouncerState('late', [{ criticality: 'critical' }])).toBe('failing');
    expect(bouncerState('never_pulled', [{ criticality: 'critical' }])).toBe('failing');
  });
  it('a lesser issue leaves the status as it is; offline and revoked stay what they are', () => {
    expect(bouncerState('healthy', [{ criticality: 'warning' }])).toBe('healthy');
    expect(bouncerState('healthy', [])).toBe('healthy');
    expect(bouncerState('offline', [{ criticality: 'critical' }])).toBe('offline');
    expect(bouncerState('revoked', [{ criticality: 'critical' }])).toBe('revoked');
  });
  it('orders by the worst open criticality', () => {
    expect(worstCriticality([{ criticality: 'warning' }, { criticality: 'high' }])).toBe('high');
    expect(worstCriticality([])).toBeNull();
    expect([null, 'warning', 'critical'].map((c) => criticalityRank(c as never))).toEqual([4, 2, 0]);
  });
});
