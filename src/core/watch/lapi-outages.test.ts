import { describe, expect, it } from 'vitest';
import { creditOutages, LapiOutages } from './lapi-outages.ts';

const T0 = Date.UTC(2026, 11, 7, 16, 14, 50);
const URL = 'http://127.0.0.1:8080/';
const down = { state: 'down' as const, error: 'ECONNREFUSED' };

describe("CrowdSec's Local API, probe by probe", () => {
  it('one failed probe holds the verdicts but raises nothing (a restart); two over 5 s raise lapi_down, Critical, with the cause', () => {
    const o = new LapiOutages(URL);
    o.observe({ at: T0, result: { state: 'up' }, prometheusUp: true });
    expect(o.holding).toBe(false);
    o.observe({ at: T0 + 10_000, result: down, prometheusUp: false });
    expect(o.holding).toBe(true);
    expect(o.finding(T0 + 10_000)).toBeNull();
    o.observe({ at: T0 + 20_000, result: down, prometheusUp: false });
    const f = o.finding(T0 + 20_000)!;
    expect(f).toMatchObject({ kind: 'lapi_down', criticality: 'critical', subject: 'lapi', bouncerName: null, since: T0 + 10_000 });
    expect(f.summary).toContain("CrowdSec's Local API at http://127.0.0.1:8080/ does not answer");
    expect(f.causes[0]).toMatchObject({ cause: 'lapi_stopped', confidence: 'high' });
    expect(f.causes[0]!.evidence.join('\n')).toContain('ECONNREFUSED');
  });
  it('Prometheus still answering points at the Local API, not the process', () => {
    const o = new LapiOutages(URL);
    o.observe({ at: T0, result: down, prometheusUp: true });
    o.observe({ at: T0 + 6000, result: down, prometheusUp: true });
    expect(o.finding(T0 + 6000)!.causes[0]!.cause).toBe('lapi_not_listening');
  });
  it('Vigil answering, or the Local API disabled in the config: one lapi_replaced issue saying to stop or repoint watch', () => {
    for (const result of [{ state: 'replaced' as const, by: 'vigil serve' }, { state: 'disabled' as const }]) {
      const o = new LapiOutages(URL);
      o.observe({ at: T0, result, prometheusUp: null });
      o.observe({ at: T0 + 10_000, result, prometheusUp: null });
      const f = o.finding(T0 + 10_000)!;
      expect(f.kind).toBe('lapi_replaced');
      expect(f.summary).toContain('Stop this vigil watch, or repoint it');
      expect(f.causes[0]!.cause).toBe(result.state === 'replaced' ? 'lapi_replaced_by_vigil' : 'lapi_disabled');
    }
  });
  it('vigil watch --once (one probe per process) raises at its first failed probe', () => {
    const o = new LapiOutages(URL, { oneShot: true });
    o.observe({ at: T0, result: down, prometheusUp: null });
    expect(o.finding(T0)?.kind).toBe('lapi_down');
  });
  it('keeps the outage from the last probe that found it serving to the first that does again', () => {
    const o = new LapiOutages(URL);
    o.observe({ at: T0, result: { state: 'up' }, prometheusUp: null });
    o.observe({ at: T0 + 10_000, result: down, prometheusUp: null });
    expect(o.outages(0, T0 + 15_000)).toEqual([{ from: T0, to: T0 + 15_000 }]);
    o.observe({ at: T0 + 500_000, result: { state: 'up' }, prometheusUp: null });
    expect(o.holding).toBe(false);
    expect(o.finding(T0 + 500_000)).toBeNull();
    expect(o.outages(0, T0 + 600_000)).toEqual([{ from: T0, to: T0 + 500_000 }]);
    expect(o.outages(T0 + 500_001, T0 + 600_000)).toEqual([]);
  });
});

describe('creditOutages: the Local API downtime is not a bouncer silence', () => {
  const outage = [{ from: T0, to: T0 + 480_000 }];
  it('a bouncer that pulled just before the outage is credited with all of it', () => {
    expect(creditOutages(T0 - 5000, outage, T0 + 490_000, 60_000)).toBe(T0 + 475_000);
  });
  it('a bouncer already late when the outage began is not (its issue stays, neither resolved nor delayed)', () => {
    expect(creditOutages(T0 - 120_000, outage, T0 + 490_000, 60_000)).toBe(T0 - 120_000);
  });
  it('a pull after the outage needs no credit; never later than now', () => {
    expect(creditOutages(T0 + 485_000, outage, T0 + 490_000, 60_000)).toBe(T0 + 485_000);
    expect(creditOutages(T0 - 1000, [{ from: T0, to: T0 + 1_000_000 }], T0 + 10_000, null)).toBe(T0 + 9_000);
    expect(creditOutages(null, outage, T0, 60_000)).toBeNull();
  });
});
