import { describe, expect, it } from 'vitest';
import { refusedOf, type AttributableBouncer, type AttributableRequest } from './attribution.ts';

const custom: AttributableBouncer = { name: 'custom-bouncer', ipAddress: '127.0.0.1', type: 'crowdsec-custom-bouncer', version: '-' };
const fw: AttributableBouncer = { name: 'fw', ipAddress: '127.0.0.1', type: 'crowdsec-firewall-bouncer', version: '-' };
const fa: AttributableBouncer = { name: 'vigil-forward-auth', ipAddress: '127.0.0.1', type: 'vigil-bouncer', version: '1.0.0' };
const fleet = [custom, fw, fa];

const req = (over: Partial<AttributableRequest & { id: number }>): AttributableRequest & { id: number } => ({
  id: 0,
  peerIp: '127.0.0.1',
  userAgent: 'crowdsec-custom-bouncer/-',
  bouncerName: '',
  reason: 'unknown',
  ...over,
});

describe('refusedOf: the health engine rules, for the bouncer page and bouncers inspect', () => {
  // The field report: the forward-auth bouncer's page listed the custom bouncer's wrong-key pulls and doctor's HEAD.
  const wrongKey = req({ id: 1 });
  const doctor = req({ id: 2, userAgent: 'vigil-doctor/0.1.0' });
  const revokedFa = req({ id: 3, bouncerName: 'vigil-forward-auth', reason: 'revoked', userAgent: 'vigil-bouncer/1.0.0' });
  const noAgent = req({ id: 4, userAgent: '' });

  it("does not give a bouncer another product's requests from its shared address", () => {
    const mine = refusedOf(fa, fleet, [wrongKey, doctor, revokedFa, noAgent]);
    expect(mine.map((m) => [m.request.id, m.match, m.confidence])).toEqual([
      [3, 'own', 'high'],
      [4, 'shared', 'low'],
    ]);
    expect(mine[1]!.label).toBe('its address, shared with 2 other bouncer(s) (low confidence)');
  });

  it('gives the request with its address and product to the only bouncer that has that pair', () => {
    const mine = refusedOf(custom, fleet, [wrongKey, doctor, revokedFa]);
    expect(mine.map((m) => [m.request.id, m.match, m.label])).toEqual([[1, 'pair', 'its address and User-Agent']]);
  });

  it('labels a pair that two bouncers share as low confidence, and uses a unique User-Agent from elsewhere', () => {
    const twin: AttributableBouncer = { ...custom, name: 'custom-2' };
    expect(refusedOf(custom, [...fleet, twin], [wrongKey]).map((m) => m.match)).toEqual(['shared']);
    const elsewhere = req({ id: 5, peerIp: '10.0.0.9', userAgent: 'crowdsec-firewall-bouncer/-' });
    expect(refusedOf(fw, fleet, [elsewhere]).map((m) => m.match)).toEqual(['agent']);
    expect(refusedOf(fw, [...fleet, { ...fw, name: 'fw-2', ipAddress: '10.0.0.2' }], [elsewhere])).toEqual([]);
  });

  it("leaves machines' refused logins out", () => {
    expect(refusedOf(fa, fleet, [req({ userAgent: '', reason: 'login:bad-password' })])).toEqual([]);
  });
});
