import { describe, expect, it } from 'vitest';
import { judgeClientCert, type PeerCertFacts } from './client-cert.ts';

const NOW = Date.UTC(2026, 5, 1);
const good: PeerCertFacts = {
  authorized: true,
  authorizationError: undefined,
  cn: 'fw',
  ous: ['bouncer-ou'],
  validFrom: NOW - 86_400_000,
  validTo: NOW + 86_400_000,
};

describe('judgeClientCert', () => {
  it('accepts a verified, valid certificate with an allowed OU', () => {
    expect(judgeClientCert(good, ['bouncer-ou'], NOW)).toEqual({ ok: true, cn: 'fw' });
    expect(judgeClientCert({ ...good, ous: ['x', 'bouncer-ou'] }, ['bouncer-ou'], NOW).ok).toBe(true);
  });
  it.each<[Partial<PeerCertFacts>, number, string]>([
    [{ authorized: false, authorizationError: 'CERT_REVOKED' }, NOW, 'tls:revoked'],
    [{ authorized: false, authorizationError: 'CERT_HAS_EXPIRED' }, NOW, 'tls:expired'],
    [{ authorized: false, authorizationError: 'CERT_NOT_YET_VALID' }, NOW, 'tls:not-yet-valid'],
    [{ authorized: false, authorizationError: 'UNABLE_TO_GET_CRL' }, NOW, 'tls:crl-unavailable'],
    [{ authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, NOW, 'tls:untrusted'],
    // The injected clock decides too: moved past the end, before the start.
    [{}, NOW + 2 * 86_400_000, 'tls:expired'],
    [{}, NOW - 2 * 86_400_000, 'tls:not-yet-valid'],
    [{ ous: ['agent-ou'] }, NOW, 'tls:bad-ou'],
    [{ ous: [] }, NOW, 'tls:bad-ou'],
    [{ cn: '' }, NOW, 'tls:no-cn'],
  ])('%o at %d → %s', (change, now, reason) => {
    expect(judgeClientCert({ ...good, ...change }, ['bouncer-ou'], now)).toMatchObject({ ok: false, reason });
  });
});
