import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type RunningServer, startServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { resetDashboardPassword } from '../../src/web/credentials.ts';
import { runVigil } from '../support/cli.ts';
import { DIALECTS, freshDbUrl } from '../support/databases.ts';
import { type Answer, cookieOf, postLogin, requestFrom } from '../support/http-from.ts';

/**
 * 24 wrong guesses from 24 addresses spend the dashboard's global login budget: every login, the
 * right password from a fresh address included, is refused for 5 minutes (as documented). The
 * administrator's way in that the throttle does not close: `vigil admin login-link` on the server
 * prints a one-time link (stored hashed, single use, short expiry, honoured by every replica).
 * Real servers (in process, manual clock), real HTTP from several 127.0.0.x addresses, the real CLI.
 */
const T0 = Date.UTC(2026, 11, 1, 6, 0, 0);
const PASSWORD = 'correct-horse-battery-staple';

for (const dialect of DIALECTS) {
  describe(`${dialect}: a login spray does not lock the administrator out`, () => {
    const clock = new ManualClock(T0);
    let dbUrl: string;
    let cleanup: () => Promise<void>;
    let cwd: string;
    const running: RunningServer[] = [];
    let a: string;
    let b: string;

    const start = async () => {
      const config = loadConfig({
        flags: { listen: '127.0.0.1:0', db: dbUrl, metricsListen: 'off', adminListen: '127.0.0.1:0' },
        env: {},
        cwd: '/nonexistent',
      });
      config.health.evaluateEveryMs = 0;
      const s = await startServer(config, { clock, log: createLogger('silent') });
      running.push(s);
      return new URL(s.web.dashboardUrl!).origin;
    };
    const vigil = (...argv: string[]) => runVigil({ env: { VIGIL_DB: dbUrl }, cwd, clock }, argv);
    const makeLink = async (origin: string, ...more: string[]) => {
      const r = await vigil('admin', 'login-link', '--url', origin, ...more);
      expect(r.code, r.err).toBe(0);
      return r.out.trim();
    };
    const useLink = (link: string, from: string): Promise<Answer> => {
      const u = new URL(link);
      return requestFrom(`${u.origin}/ui/login-link`, {
        method: 'POST',
        localAddress: from,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: u.origin },
        body: new URLSearchParams({ token: u.searchParams.get('token') ?? '' }).toString(),
      });
    };
    const sessionStatus = async (origin: string, cookie: string) => (await requestFrom(`${origin}/ui/api/session`, { headers: { Cookie: cookie } })).status;

    beforeAll(async () => {
      const db = await freshDbUrl(dialect);
      dbUrl = db.url;
      cleanup = db.cleanup;
      cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-login-lockout-'));
      a = await start();
      b = await start();
      await resetDashboardPassword(running[0]!.store, PASSWORD);
    });
    afterAll(async () => {
      for (const s of running) await s.close();
      await cleanup?.();
      if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
    });

    it('after 24 wrong guesses from 24 addresses, a one-time link from vigil admin login-link opens a session though the password is refused', async () => {
      const spray = await Promise.all(Array.from({ length: 24 }, (_, i) => postLogin(a, `guess-${i}`, { from: `127.0.0.${i + 2}` })));
      expect(spray.filter((r) => r.status === 429).length).toBeGreaterThan(0);
      // The administrator, from an address that never failed: the global limit holds (as documented) and says the way in.
      const refused = await postLogin(a, PASSWORD, { from: '127.0.0.77' });
      expect(refused.status).toBe(429);
      expect(refused.text).toContain('vigil admin login-link');

      const link = await makeLink(a);
      expect(link).toMatch(new RegExp(`^${a}/ui/login-link\\?token=[A-Za-z0-9_-]{43}$`));
      // Opening it only shows a button: a link preview fetching it does not use it up.
      const page = await requestFrom(link, { localAddress: '127.0.0.77' });
      expect(page.status).toBe(200);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.text).toContain('action="/ui/login-link"');
      const ok = await useLink(link, '127.0.0.77');
      expect([ok.status, ok.headers.location]).toEqual([303, '/ui/']);
      const cookie = cookieOf(ok);
      expect(cookie).toMatch(/^vigil_session=v1\./);
      expect(await sessionStatus(a, cookie)).toBe(200);
      // Still locked for passwords: the link did not reopen the throttle for the sprayer.
      expect((await postLogin(a, PASSWORD, { from: '127.0.0.78' })).status).toBe(429);
    });

    it('works once, on any replica sharing the store, and not after its expiry; a forged token is refused', async () => {
      const link = await makeLink(a);
      // Made for A, used on B (same store): accepted once; the same link again on A or B: refused.
      const onB = link.replace(a, b);
      expect((await useLink(onB, '127.0.0.1')).status).toBe(303);
      for (const replay of [link, onB]) {
        const again = await useLink(replay, '127.0.0.1');
        expect(again.status).toBe(401);
        expect(again.headers['set-cookie']).toBeUndefined();
        expect(again.text).toContain('unknown, already used or expired');
      }
      const short = await makeLink(a, '--ttl', '1m');
      clock.advance(60_000);
      expect((await useLink(short, '127.0.0.1')).status).toBe(401);
      const forged = `${a}/ui/login-link?token=${'A'.repeat(43)}`;
      expect((await useLink(forged, '127.0.0.1')).status).toBe(401);
      // A link is refused cross-site, as the password form is.
      const fresh = await makeLink(a);
      const cross = await requestFrom(`${a}/ui/login-link`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example' },
        body: new URLSearchParams({ token: new URL(fresh).searchParams.get('token')! }).toString(),
      });
      expect(cross.status).toBe(403);
      expect((await useLink(fresh, '127.0.0.1')).status).toBe(303);
    });

    it('refuses a ttl over 1h, and only the hash is stored', async () => {
      const r = await vigil('admin', 'login-link', '--ttl', '2h', '--url', a);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain('--ttl "2h": a login link lives more than 0 and at most 1h');
      const link = await makeLink(a);
      const token = new URL(link).searchParams.get('token')!;
      const store = running[0]!.store;
      const { dbOf } = await import('../../src/store/store-db.ts');
      const rows = await dbOf(store).selectFrom('vigil_meta').select(['key', 'value']).where('key', 'like', 'login_link:%').execute();
      expect(rows.length).toBeGreaterThan(0);
      expect(JSON.stringify(rows)).not.toContain(token);
    });
  });
}
