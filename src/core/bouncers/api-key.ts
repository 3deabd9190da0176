import crypto from 'node:crypto';
import { VigilError } from '../../lib/errors.ts';

/** cscli's default: 16 random bytes, lowercase hex (32 characters). */
export const DEFAULT_KEY_BYTES = 16;

export function generateApiKey(lengthBytes = DEFAULT_KEY_BYTES): string {
  if (!Number.isInteger(lengthBytes) || lengthBytes < 1 || lengthBytes > 256) {
    throw new VigilError('E_BAD_LENGTH', `length "${lengthBytes}": use a whole number of bytes from 1 to 256 (default 16 → 32 hex characters)`);
  }
  return crypto.randomBytes(lengthBytes).toString('hex');
}

/** SHA-512 hex, exactly what CrowdSec stores in bouncers.api_key. */
export function hashApiKey(key: string): string {
  // One-shot hash: no Hash object per request on the hot path.
  return crypto.hash('sha512', key, 'hex');
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A short, non-reversible tag of a key for the refused-request record: an HMAC of its SHA-512 under
 * an installation secret. Taking the stored hash as input lets Vigil tell, later, that a refused key
 * once belonged to a bouncer, without ever keeping the key.
 */
export function keyFingerprint(secret: Buffer, apiKeyHash: string): string {
  return crypto.createHmac('sha256', secret).update(apiKeyHash).digest('hex').slice(0, 16);
}

/** Keys go in an HTTP header: printable ASCII without spaces, reasonable length. */
export function validateApiKey(key: string, field = 'key'): string {
  if (key.length < 1 || key.length > 512 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new VigilError('E_BAD_KEY', `${field}: use 1 to 512 printable ASCII characters without spaces (or omit it to generate one)`);
  }
  return key;
}
