import crypto from 'node:crypto';
import { parseDuration } from '../lib/duration.ts';
import { VigilError } from '../lib/errors.ts';
import { storeLoginLink, takeLoginLink } from '../store/login-links.ts';
import type { Store } from '../store/store.ts';

/**
 * One-time dashboard login links (`vigil admin login-link`): the administrator's way in that the
 * login throttle never closes. A spray of wrong passwords from many addresses spends the global
 * budget and refuses every login for 5 minutes (login-throttle.ts); a link is made on the server
 * itself, by whoever can read the store, so it needs no budget. 256 random bits, stored only as
 * SHA-256 in the store (every replica honours it), usable once, for minutes.
 */
export const LOGIN_LINK_PATH = '/ui/login-link';
export const DEFAULT_LOGIN_LINK_TTL = '10m';
export const MAX_LOGIN_LINK_TTL_MS = 3600_000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A new link's token, stored hashed until `now + ttl`. */
export async function createLoginLink(store: Store, now: number, ttlText = DEFAULT_LOGIN_LINK_TTL): Promise<{ token: string; expiresAt: number }> {
  const ttlMs = parseDuration(ttlText, '--ttl');
  if (!(ttlMs > 0 && ttlMs <= MAX_LOGIN_LINK_TTL_MS)) {
    throw new VigilError('E_USAGE', `--ttl "${ttlText}": a login link lives more than 0 and at most 1h; use e.g. 10m`);
  }
  const token = crypto.randomBytes(32).toString('base64url');
  await storeLoginLink(store, sha256(token), now + ttlMs, now);
  return { token, expiresAt: now + ttlMs };
}

/** True once for a link made by createLoginLink, before it expires; false for anything else. */
export async function redeemLoginLink(store: Store, token: string, now: number): Promise<boolean> {
  if (!TOKEN.test(token)) return false;
  return takeLoginLink(store, sha256(token), now);
}

/** The link for a dashboard at `base` (`http://HOST:PORT`). */
export function loginLinkUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}${LOGIN_LINK_PATH}?token=${token}`;
}

function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}
