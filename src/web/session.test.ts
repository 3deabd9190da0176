import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionCodec } from './session.ts';
import { LoginThrottle, MAX_FAILURES, WINDOW_MS } from './login-throttle.ts';
import { safeNext } from './dashboard.ts';
import { generatePassword, hashPassword, verifyPassword } from './credentials.ts';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const TTL = 12 * 3600_000;

describe('SessionCodec', () => {
  const codec = new SessionCodec(crypto.randomBytes(32));

  it('reads back what it issued until the expiry, by the clock it is given', () => {
    const { session, cookie } = codec.issue('password', 'fp1', T0, TTL);
    expect(codec.read(cookie, T0 + TTL - 1)).toEqual(session);
    expect(codec.read(cookie, T0 + TTL)).toBeNull();
  });

  it('refuses a forged, altered or foreign cookie', () => {
    const { cookie } = codec.issue('token', 'fp1', T0, TTL);
    const parts = cookie.split('.');
    parts[4] = String(T0 + 100 * TTL); // a later expiry
    expect(codec.read(parts.join('.'), T0)).toBeNull();
    expect(codec.read(cookie.replace('token', 'password'), T0)).toBeNull();
    expect(new SessionCodec(crypto.randomBytes(32)).read(cookie, T0)).toBeNull();
    expect(codec.read('garbage', T0)).toBeNull();
    expect(codec.read(undefined, T0)).toBeNull();
  });

  it('forgets a logged-out session', () => {
    const { session, cookie } = codec.issue('password', 'fp1', T0, TTL);
    codec.end(session, T0);
    expect(codec.read(cookie, T0 + 1)).toBeNull();
  });

  it('derives a CSRF token per session and checks it in constant time', () => {
    const a = codec.issue('password', 'fp', T0, TTL).session;
    const b = codec.issue('password', 'fp', T0, TTL).session;
    expect(codec.csrfToken(a)).not.toBe(codec.csrfToken(b));
    expect(codec.checkCsrf(a, codec.csrfToken(a))).toBe(true);
    expect(codec.checkCsrf(a, codec.csrfToken(b))).toBe(false);
    expect(codec.checkCsrf(a, undefined)).toBe(false);
    expect(codec.checkCsrf(a, '')).toBe(false);
  });
});

describe('LoginThrottle', () => {
  it(`refuses an address after ${MAX_FAILURES} failures in the window, until the oldest leaves it`, () => {
    const t = new LoginThrottle();
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect(t.retryAfter('192.0.2.1', T0 + i)).toBe(0);
      t.failed('192.0.2.1', T0 + i);
    }
    expect(t.retryAfter('192.0.2.1', T0 + 10)).toBe(WINDOW_MS - 10);
    expect(t.retryAfter('192.0.2.2', T0 + 10)).toBe(0);
    expect(t.retryAfter('192.0.2.1', T0 + WINDOW_MS)).toBe(0);
    t.failed('192.0.2.3', T0);
    t.succeeded('192.0.2.3');
    expect(t.retryAfter('192.0.2.3', T0)).toBe(0);
  });
});

describe('credentials', () => {
  it('generates readable random passwords and stores only a salted scrypt hash', async () => {
    const pw = generatePassword();
    expect(pw).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(generatePassword()).not.toBe(pw);
    const h1 = await hashPassword(pw);
    const h2 = await hashPassword(pw);
    expect(h1).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword(pw, h1)).toBe(true);
    expect(await verifyPassword(`${pw}x`, h1)).toBe(false);
    expect(await verifyPassword(pw, 'plain-text')).toBe(false);
  });
});

describe('safeNext', () => {
  it('returns to dashboard pages only', () => {
    expect(safeNext('/ui/issues/3?deployment=docker')).toBe('/ui/issues/3?deployment=docker');
    expect(safeNext('/ui')).toBe('/ui');
    for (const bad of ['//evil.example/ui/', 'https://evil.example/', '/uix', '/ui\\..\\x', '/admin/v1/summary', undefined, '']) expect(safeNext(bad)).toBe('/ui/');
  });
});
