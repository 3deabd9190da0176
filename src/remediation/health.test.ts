import { describe, expect, it } from 'vitest';
import { defaultUnhealthyAfter, evaluateHealth, type HealthState } from './health.ts';

const T0 = 1_000_000;
const base: HealthState = { mode: 'stream', startedAt: T0, lastSuccessAt: null, lastFailure: null, consecutiveFailures: 0, unhealthyAfterMs: 30_000 };

describe('bouncer health', () => {
  it('threshold: three missed pulls, at least 30 s', () => {
    expect(defaultUnhealthyAfter(10_000)).toBe(30_000);
    expect(defaultUnhealthyAfter(1_000)).toBe(30_000);
    expect(defaultUnhealthyAfter(60_000)).toBe(180_000);
  });

  it('starting, then healthy while the last success is fresh, unhealthy one ms after the threshold', () => {
    expect(evaluateHealth(base, T0 + 30_000).status).toBe('starting');
    expect(evaluateHealth(base, T0 + 30_001)).toMatchObject({ status: 'unhealthy', healthy: false, summary: 'no successful pull since the start 30s ago' });
    const ok = { ...base, lastSuccessAt: T0 + 5000 };
    expect(evaluateHealth(ok, T0 + 35_000)).toMatchObject({ status: 'healthy', healthy: true, ageMs: 30_000 });
    const failure = { at: T0 + 40_000, kind: 'auth' as const, status: 403, message: 'refused the API key' };
    const h = evaluateHealth({ ...ok, lastFailure: failure, consecutiveFailures: 4 }, T0 + 35_001);
    expect(h).toMatchObject({ status: 'unhealthy', consecutiveFailures: 4 });
    expect(h.summary).toBe('no successful pull for 30s (threshold 30s); last error: refused the API key');
  });
});
