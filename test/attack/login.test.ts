import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDashboardServer } from '../support/dashboard-server.ts';
import { requestFrom, type Answer } from '../support/http-from.ts';
import type { RunningServer } from '../../src/app/serve.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { MAX_LOGIN_BODY } from '../../src/web/dashboard.ts';
import { GLOBAL_MAX_FAILURES, MAX_FAILURES, WINDOW_MS } from '../../src/web/login-throttle.ts';

/**
 * Password guessing against the dashboard login, over real HTTP on loopback: many guesses at once
 * from one address (the check and the record must not race around the async scrypt), and a spray
 * from many addresses (127.0.0.2…) that no per-address limit sees. The throttle lives in each
 * process's memory, so one database dialect is enough here.
 */
const T0 = Date.UTC(2026, 11, 1, 6, 0, 0);
const PASSWORD = 'correct-horse-battery-staple';

describe('login brute force', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let origin: string;
  const clock = new ManualClock(T0);

  const login = (secret: string, from: string): Promise<Answer> =>
    requestFrom(`${origin}/ui/login`, {
      method: 'POST',
      localAddress: from,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
      body: new URLSearchParams({ secret }).toString(),
    });
  const statuses = (answers: Answer[]) => {
    const counts: Record<number, number> = {};
    for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
    return counts;
  };

  beforeAll(async () => {
    ({ server, cleanup } = await startDashboardServer({ clock, password: PASSWORD }));
    origin = new URL(server.web.dashboardUrl!).origin;
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });
  // Each test starts after every earlier failure has left the window.
  beforeEach(() => clock.advance(WINDOW_MS));

  it(`evaluates at most ${MAX_FAILURES} of 60 concurrent wrong passwords from one address`, async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => login(`wrong-${i}`, '127.0.0.1')));
    const counts = statuses(answers);
    // 401: the secret was checked (scrypt ran) and was wrong; 429: refused before any check.
    expect(counts[401]).toBeLessThanOrEqual(MAX_FAILURES);
    expect(counts[401]! + counts[429]!).toBe(60);
    const refused = answers.find((a) => a.status === 429)!;
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it(`slows a spray of 20 addresses × 5 guesses after ${GLOBAL_MAX_FAILURES} failures in all`, async () => {
    const answers: Answer[] = [];
    for (let round = 0; round < 5; round++) {
      answers.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => login(`spray-${round}-${i}`, `127.0.0.${i + 2}`)))));
    }
    const counts = statuses(answers);
    expect(counts[401]).toBeLessThanOrEqual(GLOBAL_MAX_FAILURES);
    expect(counts[429]).toBeGreaterThanOrEqual(100 - GLOBAL_MAX_FAILURES);
    // The later guesses are the refused ones: the last round got no evaluation at all.
    expect(answers.slice(80).every((a) => a.status === 429)).toBe(true);
  });

  it('refuses even the right password during the lockout, saying when it works again; accepts it after the window', async () => {
    for (let i = 0; i < 20; i++) await login(`spray-${i}`, `127.0.0.${i + 2}`);
    // From an address that never failed: the lockout is global.
    const during = await login(PASSWORD, '127.0.0.77');
    expect(during.status).toBe(429);
    expect(during.headers['set-cookie']).toBeUndefined();
    const retryAfter = Number(during.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(during.text).toContain('even the right password is refused until then');
    expect(during.text).toMatch(/try again in 5 min \(at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/);
    clock.advance(retryAfter * 1000 - 1000);
    expect((await login(PASSWORD, '127.0.0.77')).status).toBe(429);
    clock.advance(1000);
    const after = await login(PASSWORD, '127.0.0.77');
    expect(after.status).toBe(303);
    expect(after.headers['set-cookie']?.[0]).toMatch(/^vigil_session=v1\./);
  });

  it('lets an operator who mistyped twice in', async () => {
    expect((await login('typo-1', '127.0.0.1')).status).toBe(401);
    expect((await login('typo-2', '127.0.0.1')).status).toBe(401);
    expect((await login(PASSWORD, '127.0.0.1')).status).toBe(303);
  });

  it(`locks one address after ${MAX_FAILURES} failures, even for the right password, and not the others`, async () => {
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login(`wrong-${i}`, '127.0.0.1')).status).toBe(401);
    const locked = await login(PASSWORD, '127.0.0.1');
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('from your address');
    expect((await login(PASSWORD, '127.0.0.2')).status).toBe(303);
    clock.advance(WINDOW_MS);
    expect((await login(PASSWORD, '127.0.0.1')).status).toBe(303);
  });
});

describe('login body size', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let origin: string;

  beforeAll(async () => {
    ({ server, cleanup } = await startDashboardServer({ clock: new ManualClock(T0), password: PASSWORD }));
    origin = new URL(server.web.dashboardUrl!).origin;
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it(`refuses a login body over ${MAX_LOGIN_BODY / 1024} KiB with 413 (declared or chunked), and the next login works`, async () => {
    const big = `secret=${'a'.repeat(8 * 1024 * 1024)}`;
    const declared = await requestFrom(`${origin}/ui/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(declared.text).toContain('request body over 16 KiB');
    const chunked = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${origin}/ui/login`);
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent: false,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      // The server may answer and close before it has it all.
      req.on('error', () => {});
      req.on('close', () => resolve(0));
      for (let i = 0; i < 64; i++) req.write('a'.repeat(64 * 1024));
      req.end();
      setTimeout(() => reject(new Error('no answer to a chunked 4 MiB login')), 10_000).unref();
    });
    expect(chunked).toBe(413);
    const ok = await requestFrom(`${origin}/ui/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
      body: new URLSearchParams({ secret: PASSWORD }).toString(),
    });
    expect(ok.status).toBe(303);
  });
});
