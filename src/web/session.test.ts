import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionCodec } from './session.ts';
import { GLOBAL_MAX_FAILURES, isRefusal, LoginThrottle, MAX_FAILURES, WINDOW_MS } from './login-throttle.ts';
import { safeNext } from './dashboard.ts';
import { generatePassword, hashDashboardPassword, verifyDashboardPassword } from './credentials.ts';

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
  const take = (t: LoginThrottle, address: string, now: number) => {
    const r = t.begin(address, now);
    if (isRefusal(r)) throw new Error(`refused: ${JSON.stringify(r)}`);
    return r;
  };

  it(`refuses an address after ${MAX_FAILURES} failures in the window, until the oldest leaves it`, () => {
    const t = new LoginThrottle();
    for (let i = 0; i < MAX_FAILURES; i++) take(t, '192.0.2.1', T0 + i);
    expect(t.begin('192.0.2.1', T0 + 10)).toEqual({ reason: 'address', retryAfterMs: WINDOW_MS - 10 });
    expect(isRefusal(t.begin('192.0.2.2', T0 + 10))).toBe(false);
    expect(isRefusal(t.begin('192.0.2.1', T0 + WINDOW_MS))).toBe(false);
  });

  it('counts an attempt in flight as a failure until it succeeds; a success frees the address', () => {
    const t = new LoginThrottle();
    const inFlight = Array.from({ length: MAX_FAILURES }, () => take(t, '192.0.2.1', T0));
    expect(isRefusal(t.begin('192.0.2.1', T0))).toBe(true);
    inFlight[0]!.succeeded();
    inFlight[0]!.succeeded(); // twice is once
    expect(isRefusal(t.begin('192.0.2.1', T0))).toBe(false);
  });

  it(`refuses every address after ${GLOBAL_MAX_FAILURES} failures from all of them, until the window passes`, () => {
    const t = new LoginThrottle();
    for (let i = 0; i < GLOBAL_MAX_FAILURES; i++) take(t, `198.51.100.${i}`, T0 + i);
    expect(t.begin('203.0.113.9', T0 + 100)).toEqual({ reason: 'global', retryAfterMs: WINDOW_MS - 100 });
    // The oldest failure leaves the window: one slot opens, and only one.
    take(t, '203.0.113.9', T0 + WINDOW_MS);
    expect(isRefusal(t.begin('203.0.113.10', T0 + WINDOW_MS))).toBe(true);
  });
});

describe('credentials', () => {
  it('generates readable random passwords and stores only a salted scrypt hash', async () => {
    const pw = generatePassword();
    expect(pw).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(generatePassword()).not.toBe(pw);
    const h1 = await hashDashboardPassword(pw);
    const h2 = await hashDashboardPassword(pw);
    expect(h1).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(h1).not.toBe(h2);
    expect(await verifyDashboardPassword(pw, h1)).toBe(true);
    expect(await verifyDashboardPassword(`${pw}x`, h1)).toBe(false);
    expect(await verifyDashboardPassword(pw, 'plain-text')).toBe(false);
  });
});

describe('safeNext', () => {
  it('returns to dashboard pages only', () => {
    expect(safeNext('/ui/issues/3?deployment=docker')).toBe('/ui/issues/3?deployment=docker');
    expect(safeNext('/ui')).toBe('/ui');
    for (const bad of ['//evil.example/ui/', 'https://evil.example/', '/uix', '/ui\\..\\x', '/admin/v1/summary', undefined, ''])
      expect(safeNext(bad)).toBe('/ui/');
    for (const bad of ['/ui/\r\nSet-Cookie: a=b', '/ui/../x', '/ui/%2e%2e/x', '/ui/%ff', '/ui/%0d%0a', '/ui/a b', `/ui/${'a'.repeat(2048)}`])
      expect(safeNext(bad)).toBe('/ui/');
  });
});
