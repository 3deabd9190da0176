import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardServer } from '../support/dashboard-server.ts';
import { cookieOf, requestFrom } from '../support/http-from.ts';
import type { RunningServer } from '../../src/app/serve.ts';
import { ManualClock } from '../../src/lib/clock.ts';

/**
 * The login's `next=` (where the browser goes after logging in) over real HTTP, as a browser or an
 * attacker's link would send it: every odd value lands on /ui/ with a 303, never a 500, never
 * another site, never a header of the attacker's. Sent as raw bytes (already percent-encoded).
 */
const PASSWORD = 'correct-horse-battery-staple';
const ODD_NEXT = [
  '%0d%0a',
  '/ui/%0d%0aSet-Cookie:%20planted=1',
  '/ui%0d%0a',
  '/ui/%00',
  '/ui/%09x',
  '//evil.example',
  '//evil.example/ui/',
  '/%5Cevil.example',
  '/ui/%5C%5Cevil.example',
  'https://x',
  'https%3A%2F%2Fevil.example%2Fui%2F',
  'javascript:alert(1)',
  '/ui/' + 'a'.repeat(6000),
  '%ff',
  '/ui/%ff%fe/%c0%af',
  '/ui/../x',
  '/ui/%2e%2e/admin/v1/summary',
  '/ui/.%2E/x',
  '/ui/./../x',
  '/uix',
  '',
];

describe('login next= redirects', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let origin: string;
  let cookie: string;

  const postLogin = (nextRaw: string) =>
    requestFrom(`${origin}/ui/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
      body: `secret=${encodeURIComponent(PASSWORD)}&next=${nextRaw}`,
    });

  beforeAll(async () => {
    ({ server, cleanup } = await startDashboardServer({ clock: new ManualClock(Date.UTC(2026, 11, 1)), password: PASSWORD }));
    origin = new URL(server.web.dashboardUrl!).origin;
    cookie = cookieOf(await postLogin(''));
    expect(cookie).toMatch(/^vigil_session=/);
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it.each(ODD_NEXT.map((raw) => [raw.length > 60 ? `${raw.slice(0, 40)}… (${raw.length} chars)` : JSON.stringify(raw), raw]))(
    'next=%s lands on /ui/ with 303, after the login form and when already logged in',
    async (_label, raw) => {
      const posted = await postLogin(raw);
      expect([posted.status, posted.headers.location]).toEqual([303, '/ui/']);
      expect(posted.headers['set-cookie']?.join('\n')).not.toContain('planted');
      const loggedIn = await requestFrom(`${origin}/ui/login?next=${raw}`, { headers: { Cookie: cookie } });
      expect([loggedIn.status, loggedIn.headers.location]).toEqual([303, '/ui/']);
      // Logged out, the login page carries it along (escaped) and still answers.
      const page = await requestFrom(`${origin}/ui/login?next=${raw}`);
      expect(page.status).toBe(200);
      expect(page.text).not.toMatch(/value="[^"]*"[^>]*\sonload/i);
    },
  );

  it('keeps a dashboard page (path and query) as it was asked for', async () => {
    for (const good of ['/ui/issues/3?deployment=docker', '/ui', '/ui/', '/ui/bouncers/web%20one', '/ui/decisions?q=192.0.2.0%2F24']) {
      const posted = await postLogin(encodeURIComponent(good));
      expect([posted.status, posted.headers.location]).toEqual([303, good]);
    }
  });
});
