import crypto from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Vigil-Signature-256';

/**
 * `sha256=<hex HMAC-SHA256 of the exact body bytes>`, as GitHub signs webhooks, so receivers can
 * reuse their verification code. Replays are caught by the delivery id, which the body carries.
 */
export function signBody(secret: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** For receivers (and tests): constant-time check of a signature header against the body. */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}
