import crypto from 'node:crypto';
import type { LoginVia } from './credentials.ts';

/**
 * Dashboard sessions as signed cookies (HMAC-SHA256 under a secret kept in the store), so they
 * survive a restart and work on any replica sharing the store. A session names the credential
 * it was opened with and that credential's fingerprint: a new password or token ends it. Expiry
 * is absolute, from the server's Clock. Logouts are kept in the store (ended-sessions.ts), not here:
 * this only signs and reads.
 */
export interface Session {
  id: string;
  via: LoginVia;
  issuedAt: number;
  expiresAt: number;
  /** Fingerprint of the stored credential at login (credentials.ts). */
  credential: string;
}

export const SESSION_COOKIE = 'vigil_session';

export class SessionCodec {
  #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  issue(via: LoginVia, credential: string, now: number, ttlMs: number): { session: Session; cookie: string } {
    const session: Session = { id: crypto.randomBytes(16).toString('base64url'), via, issuedAt: now, expiresAt: now + ttlMs, credential };
    const payload = ['v1', session.id, via, now, session.expiresAt, credential].join('.');
    return { session, cookie: `${payload}.${this.#mac(payload)}` };
  }

  /** The session a cookie carries, or null when it is forged, malformed or expired. */
  read(cookie: string | undefined, now: number): Session | null {
    if (!cookie || cookie.length > 512) return null;
    const parts = cookie.split('.');
    if (parts.length !== 7 || parts[0] !== 'v1') return null;
    const payload = parts.slice(0, 6).join('.');
    const mac = Buffer.from(parts[6]!, 'base64url');
    const expected = Buffer.from(this.#mac(payload), 'base64url');
    if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) return null;
    const [, id, via, issuedAt, expiresAt, credential] = parts as [string, string, string, string, string, string];
    if (via !== 'password' && via !== 'token') return null;
    const session: Session = { id, via, issuedAt: Number(issuedAt), expiresAt: Number(expiresAt), credential };
    if (!(now < session.expiresAt)) return null;
    return session;
  }

  /** The CSRF token of a session: derived, so nothing is stored; sent back in a header. */
  csrfToken(session: Session): string {
    return this.#mac(`csrf.${session.id}`);
  }

  checkCsrf(session: Session, token: string | undefined): boolean {
    if (!token) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(this.csrfToken(session));
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  }

  #mac(text: string): string {
    return crypto.createHmac('sha256', this.#secret).update(text).digest('base64url');
  }
}
