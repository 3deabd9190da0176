import { describe, expect, it } from 'vitest';
import { parseAlertsPayload, MAX_DECISIONS_PER_REQUEST } from './payload.ts';
import { DEFAULT_PROFILES, decisionsFromProfiles, type Profile } from './profiles.ts';
import { alertMatches, decisionsToDelete, parseAlertFilter, parseDecisionDeleteFilter } from './query.ts';
import type { Decision } from '../model/records.ts';
import { parseOneAlert, storedAlert, wireAlert } from '../../../test/support/alert-builders.ts';

const alert = (over: Record<string, unknown> = {}) =>
  wireAlert({ scenario_hash: '', remediation: true, source: { scope: 'Ip', value: '192.0.2.1', ip: '192.0.2.1', range: '192.0.2.0/24' }, ...over });
const parsed = parseOneAlert;

describe('parseAlertsPayload', () => {
  it("lists every missing required field as CrowdSec's swagger does, with status 500", () => {
    const r = parseAlertsPayload([alert({ capacity: undefined, source: { value: 'x' } })]);
    expect(r).toEqual({ ok: false, status: 500, message: 'validation failure list:\n0.capacity in body is required\n0.source.scope in body is required' });
  });
  it('refuses a wrong type with Go json words (400), and too many decisions with 413', () => {
    expect(parseAlertsPayload([alert({ simulated: 'no' })])).toMatchObject({ status: 400, message: expect.stringContaining('Alert.simulated of type bool') });
    const d = { duration: '1h', origin: 'cscli', scenario: 's', scope: 'Ip', type: 'ban', value: '1.2.3.4' };
    const big = parseAlertsPayload([alert({ decisions: Array.from({ length: MAX_DECISIONS_PER_REQUEST + 1 }, () => d) })]);
    expect(big).toMatchObject({ ok: false, status: 413 });
  });
  it('converts times to epoch ms', () => {
    expect(parsed(alert())).toMatchObject({ startAt: Date.UTC(2026, 10, 24, 4, 18, 3), stopAt: Date.UTC(2026, 10, 24, 4, 18, 5), decisions: null });
  });
});

describe('profiles', () => {
  it('default: remediation + Ip → ban 4h with origin crowdsec; no remediation → nothing', () => {
    expect(decisionsFromProfiles(parsed(alert()), DEFAULT_PROFILES)).toEqual([
      { profile: 'default_ip_remediation', scope: 'Ip', value: '192.0.2.1', type: 'ban', duration: '4h', reason: 'crowdsecurity/ssh-bf', origin: 'crowdsec' },
    ]);
    expect(decisionsFromProfiles(parsed(alert({ remediation: false })), DEFAULT_PROFILES)).toEqual([]);
  });
  it('break stops at the first match, continue goes on; scenario prefixes and Range scope', () => {
    const profiles: Profile[] = [
      { name: 'http', filters: { scenarios: ['crowdsecurity/http-*'] }, decisions: [{ type: 'captcha', duration: '1h' }], onSuccess: 'break' },
      { name: 'ssh', filters: { scenarios: ['crowdsecurity/ssh-bf'] }, decisions: [{ type: 'ban', duration: '24h', scope: 'Range' }], onSuccess: 'continue' },
      { name: 'all', filters: {}, decisions: [{ type: 'ban', duration: '1h' }], onSuccess: 'break' },
      { name: 'never', filters: {}, decisions: [{ type: 'ban', duration: '9h' }], onSuccess: 'break' },
    ];
    expect(decisionsFromProfiles(parsed(alert()), profiles).map((d) => [d.profile, d.scope, d.value])).toEqual([
      ['ssh', 'Range', '192.0.2.0/24'],
      ['all', 'Ip', '192.0.2.1'],
    ]);
    expect(decisionsFromProfiles(parsed(alert({ scenario: 'crowdsecurity/http-probing' })), profiles).map((d) => d.profile)).toEqual(['http']);
  });
});

describe('alert and decision filters', () => {
  const now = Date.UTC(2026, 10, 24, 5, 0, 0);
  const stored = {
    ...storedAlert(1, now - 3600_000, { message: '' }),
    capacity: 0,
    scenarioHash: '',
    scenarioVersion: '',
    remediation: false,
    kind: '',
    extra: '{}',
  };
  const dec = (over: Partial<Decision> = {}): Decision => ({
    id: 1,
    alertId: 1,
    origin: 'cscli',
    type: 'ban',
    scope: 'Ip',
    value: '192.0.2.1',
    scenario: 's',
    createdAt: 0,
    until: now + 1,
    deletedAt: null,
    simulated: false,
    ...over,
  });
  const f = (q: string) => parseAlertFilter(new URLSearchParams(q), now);
  it('matches ip, range/contains, since, origin, include_capi, has_active_decision', () => {
    expect(alertMatches(stored, [dec()], f('ip=192.0.2.1'), now)).toBe(true);
    expect(alertMatches(stored, [dec()], f('ip=192.0.2.2'), now)).toBe(false);
    expect(alertMatches(stored, [dec()], f('range=192.0.2.0/24'), now)).toBe(false);
    expect(alertMatches(stored, [dec()], f('range=192.0.2.0/24&contains=false'), now)).toBe(true);
    expect(alertMatches(stored, [dec()], f('since=30m'), now)).toBe(false);
    expect(alertMatches(stored, [dec()], f('since=2h'), now)).toBe(true);
    expect(alertMatches(stored, [dec({ origin: 'CAPI' })], f('include_capi=false'), now)).toBe(false);
    expect(alertMatches(stored, [dec({ until: now })], f('has_active_decision=true'), now)).toBe(false);
    expect(alertMatches(stored, [dec({ until: now })], f('has_active_decision=false'), now)).toBe(true);
    expect(() => f('ip=nope')).toThrow("unable to convert 'nope' to int: invalid address: invalid ip address / range");
    expect(() => f('limit=-1')).toThrow(/limit/);
  });
  it('DELETE /v1/decisions: exact scenario, scopes, ip containment; unknown parameters refused', () => {
    const ds = [dec({ id: 1 }), dec({ id: 2, scope: 'Range', value: '192.0.2.0/24' }), dec({ id: 3, scenario: 'other' })];
    expect(decisionsToDelete(ds, parseDecisionDeleteFilter(new URLSearchParams('ip=192.0.2.1'))).map((d) => d.id)).toEqual([1, 2, 3]);
    expect(decisionsToDelete(ds, parseDecisionDeleteFilter(new URLSearchParams('ip=192.0.2.1&scopes=range'))).map((d) => d.id)).toEqual([2]);
    expect(decisionsToDelete(ds, parseDecisionDeleteFilter(new URLSearchParams('scenario=s'))).map((d) => d.id)).toEqual([1, 2]);
    expect(() => parseDecisionDeleteFilter(new URLSearchParams('limit=1'))).toThrow("'limit' doesn't exist: invalid filter");
  });
});
