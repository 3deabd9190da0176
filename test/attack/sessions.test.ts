import { dbOf } from '../../src/store/store-db.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../support/databases.ts';
import { cookieOf, requestFrom } from '../support/http-from.ts';
import { startServer, createLogger, type RunningServer } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { resetDashboardPassword } from '../../src/web/credentials.ts';

/**
 * A logged-out session cookie, replayed (stolen from a shared machine, a proxy log, a backup):
 * refused after a restart of the server, and by every replica sharing the store, until it would
 * have expired anyway; then the record of it is pruned.
 */
const T0 = Date.UTC(2026, 11, 1, 6, 0, 0);
const PASSWORD = 'correct-horse-battery-staple';
const TTL = 12 * 3600_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: logged-out sessions stay logged out`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(T0);
    const running: RunningServer[] = [];

    const start = async () => {
      const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: url, metricsListen: 'off', adminListen: '127.0.0.1:0' }, env: {}, cwd: '/nonexistent' });
      config.health.evaluateEveryMs = 0;
      const s = await startServer(config, { clock, log: createLogger('silent') });
      running.push(s);
      return { server: s, origin: new URL(s.web.dashboardUrl!).origin };
    };
    const stop = async (s: RunningServer) => {
      running.splice(running.indexOf(s), 1);
      await s.close();
    };
    const login = async (origin: string) =>
      cookieOf(
        await requestFrom(`${origin}/ui/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
          body: new URLSearchParams({ secret: PASSWORD }).toString(),
        }),
      );
    const sessionStatus = async (origin: string, cookie: string) => (await requestFrom(`${origin}/ui/api/session`, { headers: { Cookie: cookie } })).status;
    const logout = async (origin: string, cookie: string) => {
      const page = await requestFrom(`${origin}/ui/`, { headers: { Cookie: cookie } });
      const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)![1]!;
      const res = await requestFrom(`${origin}/ui/logout`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: origin },
        body: new URLSearchParams({ csrf }).toString(),
      });
      expect([res.status, res.headers.location]).toEqual([303, '/ui/login']);
    };

    beforeAll(async () => {
      const db = await freshDbUrl(dialect);
      url = db.url;
      cleanup = db.cleanup;
      const { server } = await start();
      await resetDashboardPassword(server.store, PASSWORD);
      await stop(server);
    });
    afterAll(async () => {
      for (const s of [...running]) await s.close();
      await cleanup?.();
    });

    it('refuses a logged-out cookie after the server restarts', async () => {
      const first = await start();
      const cookie = await login(first.origin);
      const kept = await login(first.origin);
      expect(await sessionStatus(first.origin, cookie)).toBe(200);
      await logout(first.origin, cookie);
      expect(await sessionStatus(first.origin, cookie)).toBe(401);
      await stop(first.server);

      const second = await start();
      expect(await sessionStatus(second.origin, cookie)).toBe(401);
      // Only that session ended: another one opened before the restart still works.
      expect(await sessionStatus(second.origin, kept)).toBe(200);
      await stop(second.server);
    });

    it('refuses it on a replica sharing the store, which had already seen it valid', async () => {
      const a = await start();
      const b = await start();
      const cookie = await login(a.origin);
      expect(await sessionStatus(b.origin, cookie)).toBe(200);
      await logout(a.origin, cookie);
      expect(await sessionStatus(b.origin, cookie)).toBe(401);
      await stop(a.server);
      await stop(b.server);
    });

    it('forgets a logged-out session once it would have expired anyway', async () => {
      const s = await start();
      const cookie = await login(s.origin);
      await logout(s.origin, cookie);
      const table = dbOf(s.server.store).withTables<{ dashboard_ended_sessions: { session_id_sha256: string; expires_at: number } }>();
      const rows = async () => (await table.selectFrom('dashboard_ended_sessions').select('expires_at').execute()).length;
      expect(await rows()).toBeGreaterThanOrEqual(1);
      clock.advance(TTL);
      // The next logout prunes what expired.
      await logout(s.origin, await login(s.origin));
      expect(await rows()).toBe(1);
      expect(await sessionStatus(s.origin, cookie)).toBe(401);
      await stop(s.server);
    });
  });
}
