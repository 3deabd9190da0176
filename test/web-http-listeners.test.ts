import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type RunningServer, startServer } from '../src/app/serve.ts';
import { main } from '../src/cli/main.ts';
import { loadConfig } from '../src/config/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { getMeta } from '../src/store/meta.ts';
import { Store } from '../src/store/store.ts';
import { checkLoginSecret, resetDashboardPassword } from '../src/web/credentials.ts';
import { createDashboard } from '../src/web/dashboard.ts';
import { createWebSurface } from '../src/web/surface.ts';
import { cookieFrom } from './support/dashboard-server.ts';
import { freshDbUrl } from './support/databases.ts';

/**
 * Where the dashboard is served and how it gets its password: on the Local API listener (the
 * default, a password made and handed over at first start), `admin_listen` parsed, mounted without a
 * decision index, `vigil admin password`, and the warning for a non-loopback listener.
 * test/web-http.test.ts has the dashboard itself over HTTP.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const MIN = 60_000;
const PASSWORD = 'correct-horse-battery-staple';
const TTL = 12 * 60 * MIN;

describe('dashboard on the Local API listener (admin_listen: lapi, the default)', () => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  const printed: string[] = [];

  beforeAll(async () => {
    const db = await freshDbUrl('sqlite');
    cleanup = db.cleanup;
    const config = loadConfig({ flags: { listen: '127.0.0.1:0', db: db.url, metricsListen: 'off' }, env: {}, cwd: '/nonexistent' });
    config.health.evaluateEveryMs = 0;
    server = await startServer(config, { log: createLogger('silent'), firstStartPassword: (p, url) => printed.push(`${url} ${p}`) });
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('creates the dashboard password at first start and hands it over once; it logs in', async () => {
    expect(server.web.dashboardUrl).toBe(`${server.url}/ui/`);
    expect(printed).toHaveLength(1);
    const [url, password] = printed[0]!.split(' ');
    // Announced before the server listens, with the configured address (port 0 here).
    expect(url).toBe('http://127.0.0.1:0/ui/');
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    const stored = await getMeta(server.store, 'dashboard_password_scrypt');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored).not.toContain(password);
    const res = await fetch(`${server.url}/ui/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
      body: new URLSearchParams({ secret: password! }),
    });
    expect(res.status).toBe(303);
    // The bouncer API is unchanged beside it.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('closes promptly while a dashboard holds a live-update stream open', async () => {
    const password = printed[0]!.split(' ')[1]!;
    const login = await fetch(`${server.url}/ui/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
      body: new URLSearchParams({ secret: password }),
    });
    const res = await fetch(`${server.url}/ui/events`, { headers: { Cookie: cookieFrom(login) } });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: hello');
    // close() ends the stream itself; left open, it would hold close() until the test times out.
    await server.close();
    let ended = false;
    while (!ended) ended = (await reader.read().catch(() => ({ done: true }))).done;
    expect(ended).toBe(true);
  });

  it('does not create another password on the next start', async () => {
    const config = loadConfig({
      flags: { listen: '127.0.0.1:0', db: `sqlite:${server.store.description.slice(7)}`, metricsListen: 'off' },
      env: {},
      cwd: '/nonexistent',
    });
    const again = await startServer(
      { ...config, health: { ...config.health, evaluateEveryMs: 0 } },
      {
        log: createLogger('silent'),
        firstStartPassword: (p) => printed.push(p),
      },
    );
    await again.close();
    expect(printed).toHaveLength(1);
  });
});

describe('admin_listen configuration', () => {
  const load = (adminListen: string | undefined) => loadConfig({ flags: { adminListen }, env: {}, cwd: '/nonexistent' });
  it('defaults to the Local API listener; `off` disables; HOST:PORT gives it its own', () => {
    expect(load(undefined).adminListen).toBe('lapi');
    expect(load('off').adminListen).toBeNull();
    expect(load('127.0.0.1:8081').adminListen).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(load(undefined).adminSessionTtlMs).toBe(TTL);
  });
  it('names the key and the choices when the value is wrong', () => {
    expect(() => load('dashboard')).toThrow(
      '--admin-listen "dashboard": use HOST:PORT for a listener of its own (e.g. 127.0.0.1:8081), lapi to share the Local API listener, or off',
    );
  });
});

describe('dashboard without a decision index (as `vigil watch` can mount it)', () => {
  it('has no Decisions page, and the rest works through app.request', async () => {
    const db = await freshDbUrl('sqlite');
    const store = await Store.open(db.url);
    try {
      const dashboard = await createDashboard({
        store,
        clock: new ManualClock(T0),
        rules: { offlineAfterMs: 24 * 60 * MIN, lateAfterFactor: 10, lateAfterMinMs: 5 * MIN },
        log: createLogger('silent'),
        lapiUrl: () => 'http://127.0.0.1:8080/',
        sessionTtlMs: TTL,
      });
      await resetDashboardPassword(store, PASSWORD);
      const base = 'http://watch.example';
      const login = await dashboard.app.request(`${base}/ui/login`, {
        method: 'POST',
        headers: { Host: 'watch.example', Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ secret: PASSWORD }),
      });
      expect(login.status).toBe(303);
      const cookie = cookieFrom(login);
      const fleet = await dashboard.app.request(`${base}/ui/`, { headers: { Cookie: cookie } });
      expect(fleet.status).toBe(200);
      expect(await fleet.text()).not.toContain('/ui/decisions');
      expect((await dashboard.app.request(`${base}/ui/decisions`, { headers: { Cookie: cookie } })).status).toBe(404);
      await dashboard.close();
    } finally {
      await store.close();
      await db.cleanup();
    }
  });
});

describe('vigil admin password', () => {
  it('prints a new password once, stores only its scrypt hash, and the old one stops working', async () => {
    const db = await freshDbUrl('sqlite');
    try {
      const run = async () => {
        let out = '';
        let err = '';
        const code = await main(['admin', 'password'], {
          stdout: (t) => (out += t),
          stderr: (t) => (err += t),
          env: { VIGIL_DB: db.url },
          cwd: '/nonexistent',
          isTTY: false,
          clock: new ManualClock(T0),
        });
        return { code, out, err };
      };
      const first = await run();
      expect(first.code).toBe(0);
      const password = first.out.trim();
      expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
      expect(first.err).toContain('dashboard password set');
      const second = await run();
      const store = await Store.open(db.url);
      try {
        const stored = (await getMeta(store, 'dashboard_password_scrypt'))!;
        expect(stored).not.toContain(second.out.trim());
        expect(await checkLoginSecret(store, second.out.trim())).toBe('password');
        expect(await checkLoginSecret(store, password)).toBeNull();
      } finally {
        await store.close();
      }
    } finally {
      await db.cleanup();
    }
  });
});

describe('admin listener on a non-loopback address', () => {
  it('warns at start that it is reachable from other hosts, login required', async () => {
    const db = await freshDbUrl('sqlite');
    const store = await Store.open(db.url);
    const lines: string[] = [];
    try {
      const web = await createWebSurface({
        config: { adminListen: 'lapi', adminSessionTtlMs: TTL, listen: { host: '0.0.0.0', port: 8080 } },
        store,
        clock: new ManualClock(T0),
        rules: { offlineAfterMs: 24 * 60 * MIN, lateAfterFactor: 10, lateAfterMinMs: 5 * MIN },
        log: createLogger('warn', (l) => lines.push(l)),
        lapiUrl: () => 'http://0.0.0.0:8080/',
      });
      await web.start('http://0.0.0.0:8080');
      await web.close();
      expect(lines.join('')).toContain('the admin API and dashboard listen on 0.0.0.0:8080, reachable from other hosts over plain HTTP (login required)');
    } finally {
      await store.close();
      await db.cleanup();
    }
  });
});
