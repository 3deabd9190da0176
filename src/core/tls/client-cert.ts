/**
 * Whether a client certificate may stand for a bouncer or an agent, as CrowdSec's TLS auth decides
 * (cs pkg/apiserver/middlewares/v1/tls_auth.go@v1.7.8, docs/reference/crowdsec-1.6-1.7.md §2): the chain
 * verified against the CA pool (and the CRL), the leaf within its validity, one of its OUs allowed.
 * Pure: the TLS adapter (src/server/client-cert.ts) hands over what the handshake established.
 */

/** What the TLS handshake established about the peer's certificate. */
export interface PeerCertFacts {
  /** The chain verified against the CA pool and, when one is loaded, the CRL. */
  authorized: boolean;
  /** OpenSSL's verification error when not authorized (`CERT_REVOKED`, `CERT_HAS_EXPIRED`, …). */
  authorizationError: string | undefined;
  cn: string;
  ous: string[];
  validFrom: number;
  validTo: number;
}

/**
 * `tls:revoked`, `tls:expired`, … name the refusal in the refused-request record, so the health
 * engine and `vigil bouncers inspect` can say why a bouncer's certificate was turned away.
 */
export type ClientCertReason = 'tls:revoked' | 'tls:expired' | 'tls:not-yet-valid' | 'tls:untrusted' | 'tls:crl-unavailable' | 'tls:bad-ou' | 'tls:no-cn';

export type ClientCertVerdict = { ok: true; cn: string } | { ok: false; reason: ClientCertReason; cn: string; detail: string };

const EXPIRED = new Set(['CERT_HAS_EXPIRED']);
const NOT_YET = new Set(['CERT_NOT_YET_VALID']);
const CRL_TROUBLE = new Set(['UNABLE_TO_GET_CRL', 'CRL_HAS_EXPIRED', 'CRL_NOT_YET_VALID', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE', 'CRL_SIGNATURE_FAILURE']);

/** `allowedOus`: the role's list (bouncers_allowed_ou or agents_allowed_ou); `now` from the Clock. */
export function judgeClientCert(cert: PeerCertFacts, allowedOus: readonly string[], now: number): ClientCertVerdict {
  const refuse = (reason: ClientCertReason, detail: string): ClientCertVerdict => ({ ok: false, reason, cn: cert.cn, detail });
  const err = cert.authorizationError;
  const expired = () => refuse('tls:expired', `the certificate expired at ${new Date(cert.validTo).toISOString()}`);
  const notYet = () => refuse('tls:not-yet-valid', `the certificate is valid only from ${new Date(cert.validFrom).toISOString()}`);
  if (err === 'CERT_REVOKED') return refuse('tls:revoked', 'the certificate is revoked by the CRL (tls.crl_path)');
  if (err !== undefined && EXPIRED.has(err)) return expired();
  if (err !== undefined && NOT_YET.has(err)) return notYet();
  if (err !== undefined && CRL_TROUBLE.has(err)) return refuse('tls:crl-unavailable', `the revocation check could not run (${err}): check tls.crl_path`);
  if (!cert.authorized) return refuse('tls:untrusted', `the certificate does not verify against tls.ca_cert_path (${err ?? 'not verified'})`);
  // OpenSSL checked the dates against the system time; the Clock decides as well.
  if (now > cert.validTo) return expired();
  if (now < cert.validFrom) return notYet();
  if (cert.cn === '') return refuse('tls:no-cn', 'the certificate has no Common Name (CN) to name the bouncer or agent');
  if (!cert.ous.some((ou) => allowedOus.includes(ou)))
    return refuse('tls:bad-ou', `its OU (${cert.ous.join(', ') || 'none'}) is not one of ${allowedOus.join(', ')}`);
  return { ok: true, cn: cert.cn };
}
