import { dbOf } from '../src/store/store-db.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { cookieFrom, startDashboardServer } from './support/dashboard-server.ts';
import type { RunningServer } from '../src/app/serve.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { rotateAdminToken } from '../src/server/admin.ts';
import { resetDashboardPassword } from '../src/web/credentials.ts';
import { writeRunbookSettings } from '../src/store/runbook-settings.ts';
import { MAX_FAILURES, WINDOW_MS } from '../src/web/login-throttle.ts';
import { FLEET_ROWS } from '../src/web/dashboard.ts';
import { createBouncer } from '../src/store/bouncers.ts';
import { activeDecisions } from '../src/store/decisions.ts';
import { addAllowlistItems, createAllowlist } from '../src/store/allowlists.ts';
import { openHealthIssue, openHealthIssues } from '../src/store/health-issues.ts';

/**
 * The dashboard over real HTTP on loopback: login (password, admin token, wrong secret, throttle),
 * the session cookie's attributes and expiry on the server's clock, CSRF (token header and Origin)
 * on every state change, the admin API through a session, and the live-update stream.
 * test/web-http-listeners.test.ts has where the dashboard is served and how it gets its password.
 */
const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const MIN = 60_000;
const PASSWORD = 'correct-horse-battery-staple';
const TTL = 12 * 60 * MIN;

interface Jar {
  cookie: string;
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: dashboard over HTTP (own admin listener)`, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    let ui: string;
    let origin: string;
    let token: string;
    const clock = new ManualClock(T0);
    const jar: Jar = { cookie: '' };

    const get = (path: string, cookie = jar.cookie) => fetch(`${origin}${path}`, { redirect: 'manual', headers: cookie ? { Cookie: cookie } : {} });
    const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${origin}${path}`, {
        method,
        redirect: 'manual',
        headers: { 'Content-Type': 'application/json', Cookie: jar.cookie, Origin: origin, ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const login = (secret: string, headers: Record<string, string> = {}) =>
      fetch(`${origin}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, ...headers },
        body: new URLSearchParams({ secret, next: '/ui/decisions' }),
      });
    const csrfOf = async (cookie = jar.cookie) => /<meta name="csrf-token" content="([^"]+)">/.exec(await (await get('/ui/', cookie)).text())?.[1] ?? '';

    beforeAll(async () => {
      ({ server, cleanup } = await startDashboardServer({ clock, password: PASSWORD, dialect }));
      ui = server.web.dashboardUrl!;
      origin = new URL(ui).origin;
      token = await rotateAdminToken(server.store);
      await createBouncer(server.store, { name: 'web', apiKeyHash: hashApiKey('web-key'), now: T0 });
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it('serves the dashboard and the admin API on its own listener, and neither on the Local API one', async () => {
      expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ui\/$/);
      expect(origin).not.toBe(server.url);
      const root = await get('/');
      expect([root.status, root.headers.get('location')]).toEqual([303, '/ui/']);
      expect((await fetch(`${origin}/admin/v1/summary`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${server.url}/admin/v1/summary`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(404);
      expect((await fetch(`${server.url}/ui/`, { redirect: 'manual' })).status).toBe(404);
    });

    it('sends every page but the login to the login page without a session, and refuses the APIs', async () => {
      const page = await get('/ui/issues?all=1', '');
      expect([page.status, page.headers.get('location')]).toEqual([303, '/ui/login?next=%2Fui%2Fissues%3Fall%3D1']);
      expect((await get('/ui/api/session', '')).status).toBe(401);
      expect((await get('/ui/events', '')).status).toBe(401);
      expect((await fetch(`${origin}/admin/v1/summary`)).status).toBe(401);
      const loginPage = await get('/ui/login', '');
      expect(loginPage.status).toBe(200);
      expect(loginPage.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await loginPage.text()).toContain('Password or admin token');
    });

    it('refuses a wrong password with 401 and no cookie', async () => {
      const res = await login('not-the-password');
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('Wrong password or token.');
    });

    it('refuses a login posted from another site (Origin) or without an Origin', async () => {
      expect((await login(PASSWORD, { Origin: 'http://evil.example' })).status).toBe(403);
      const noOrigin = await fetch(`${origin}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ secret: PASSWORD }),
      });
      expect(noOrigin.status).toBe(403);
    });

    it('logs in with the password: HttpOnly, SameSite=Strict, not Secure over plain HTTP, back to `next`', async () => {
      const res = await login(PASSWORD);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/ui/decisions');
      const set = res.headers.get('set-cookie')!;
      expect(set).toMatch(/^vigil_session=v1\./);
      expect(set).toContain('HttpOnly');
      expect(set).toContain('SameSite=Strict');
      expect(set).toContain('Path=/');
      expect(set).not.toContain('Secure');
      expect(set).not.toContain(PASSWORD);
      jar.cookie = cookieFrom(res);
      const fleet = await get('/ui/');
      expect(fleet.status).toBe(200);
      const body = await fleet.text();
      expect(body).toContain('data-bouncer="web"');
      expect(body).toContain('Never pulled');
    });

    it('marks the cookie Secure behind a TLS proxy on the same host (X-Forwarded-Proto from loopback)', async () => {
      const res = await login(PASSWORD, { 'X-Forwarded-Proto': 'https', Origin: origin.replace('http:', 'https:') });
      expect(res.status).toBe(303);
      expect(res.headers.get('set-cookie')).toContain('Secure');
    });

    it('logs in with the admin token too; a never-seen `next` cannot send the browser elsewhere', async () => {
      const res = await fetch(`${origin}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin },
        body: new URLSearchParams({ secret: token, next: '//evil.example/ui/' }),
      });
      expect([res.status, res.headers.get('location')]).toEqual([303, '/ui/']);
      expect((await get('/ui/api/session', cookieFrom(res))).status).toBe(200);
    });

    it('refuses a state change without the CSRF token, with a wrong one, or from another Origin; changes nothing', async () => {
      const csrf = await csrfOf();
      expect(csrf.length).toBeGreaterThan(20);
      const body = { value: '192.0.2.1', type: 'ban', duration: '4h', reason: 'test' };
      const none = await send('POST', '/ui/api/decisions', body);
      expect(none.status).toBe(403);
      expect((await none.json()).message).toContain('CSRF token');
      expect((await send('POST', '/ui/api/decisions', body, { 'X-CSRF-Token': `${csrf}x` })).status).toBe(403);
      const crossSite = await send('POST', '/ui/api/decisions', body, { 'X-CSRF-Token': csrf, Origin: 'http://evil.example' });
      expect(crossSite.status).toBe(403);
      expect((await crossSite.json()).message).toContain('Origin');
      expect(await activeDecisions(server.store, clock.now())).toEqual([]);
      // And on the admin API reached with the session cookie.
      expect((await send('POST', '/admin/v1/silences', { bouncer: 'web', for: '1h', reason: 'x' })).status).toBe(403);
    });

    it('adds a decision, finds it by IP and by range from the index, and deletes it (with the token)', async () => {
      const csrf = await csrfOf();
      const added = await send(
        'POST',
        '/ui/api/decisions',
        { value: '192.0.2.1', type: 'ban', duration: '4h', reason: 'from the test' },
        { 'X-CSRF-Token': csrf },
      );
      expect(added.status).toBe(201);
      const { id } = await added.json();
      const [d] = await activeDecisions(server.store, clock.now());
      expect(d).toMatchObject({
        id,
        scope: 'Ip',
        value: '192.0.2.1',
        type: 'ban',
        origin: 'cscli',
        scenario: 'from the test',
        until: clock.now() + 4 * 60 * MIN,
      });
      expect(await (await get('/ui/decisions?q=192.0.2.1')).text()).toContain('1 active decision applies to 192.0.2.1');
      expect(await (await get('/ui/decisions?q=192.0.2.0%2F24')).text()).toContain('1 applies to addresses or smaller ranges inside it');
      const bad = await get('/ui/decisions?q=192.0.2.300');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('is not an IPv4 or IPv6 address');
      const refused = await send('POST', '/ui/api/decisions', { value: '192.0.2.0/33', duration: '4h' }, { 'X-CSRF-Token': csrf });
      expect(refused.status).toBe(400);
      expect((await refused.json()).message).toContain('range "192.0.2.0/33": not a CIDR range');
      expect((await send('DELETE', `/ui/api/decisions/${id}`, undefined)).status).toBe(403);
      expect((await send('DELETE', `/ui/api/decisions/${id}`, undefined, { 'X-CSRF-Token': csrf })).status).toBe(200);
      expect(await activeDecisions(server.store, clock.now())).toEqual([]);
      expect((await send('DELETE', `/ui/api/decisions/${id}`, undefined, { 'X-CSRF-Token': csrf })).status).toBe(404);
      expect(await (await get('/ui/decisions?q=192.0.2.1')).text()).toContain('No active decision applies to 192.0.2.1');
    });

    it('refuses an allowlisted address unless "add even if allowlisted" is ticked, as vigil decisions add does', async () => {
      const csrf = await csrfOf();
      const list = await createAllowlist(server.store, { name: 'office', description: 'the office', now: clock.now() });
      await addAllowlistItems(server.store, list, [{ value: '198.51.100.0/24', comment: '', expiresAt: null }], clock.now());
      const body = { value: '198.51.100.7', type: 'ban', duration: '1h' };
      const refused = await send('POST', '/ui/api/decisions', body, { 'X-CSRF-Token': csrf });
      expect(refused.status).toBe(409);
      expect((await refused.json()).message).toContain('198.51.100.7 is allowlisted by item 198.51.100.0/24');
      expect(await activeDecisions(server.store, clock.now())).toEqual([]);
      const bypassed = await send('POST', '/ui/api/decisions', { ...body, bypass_allowlist: 'on' }, { 'X-CSRF-Token': csrf });
      expect(bypassed.status).toBe(201);
      const { id } = await bypassed.json();
      expect((await send('DELETE', `/ui/api/decisions/${id}`, undefined, { 'X-CSRF-Token': csrf })).status).toBe(200);
      expect((await send('POST', '/ui/api/decisions', { value: '192.0.2.9', duration: '1h' }, { 'X-CSRF-Token': csrf })).status).toBe(201);
    });

    it('uses the admin API with the session: reads freely, changes with the CSRF token', async () => {
      expect((await get('/admin/v1/summary')).status).toBe(200);
      const csrf = await csrfOf();
      const res = await send('POST', '/admin/v1/silences', { bouncer: 'web', for: '1h', reason: 'maintenance' }, { 'X-CSRF-Token': csrf });
      expect(res.status).toBe(201);
      // A bearer token still works without any CSRF token: it is not an ambient credential.
      const list = await fetch(`${origin}/admin/v1/silences`, { headers: { Authorization: `Bearer ${token}` } });
      expect((await list.json()).length).toBe(1);
    });

    it('draws the pull timeline from the hourly pull history', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${server.url}/v1/decisions/stream?startup=${i === 0}`, {
          headers: { 'X-Api-Key': 'web-key', 'User-Agent': 'crowdsec-firewall-bouncer/v0.0.25' },
        });
        expect(r.status).toBe(200);
      }
      await server.activity.flush();
      const page = await (await get('/ui/bouncers/web')).text();
      expect(page).toContain('Last 24 hours: pulled in 1 of 24 hours, including this hour');
      expect(page).toContain('3 pulls</title>');
      const fleet = await (await get('/ui/')).text();
      expect(fleet).toContain('Healthy');
      expect(fleet).toContain('crowdsec-firewall-bouncer');
    });

    it('pushes a refresh event to open dashboards when something changes', async () => {
      const res = await get('/ui/events');
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let seen = '';
      const until = async (pattern: RegExp) => {
        while (!pattern.test(seen)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${pattern}: ${seen}`);
          seen += decoder.decode(value);
        }
      };
      await until(/event: hello/);
      await server.web.dashboard!.live.poll();
      await createBouncer(server.store, { name: 'late-comer', apiKeyHash: hashApiKey('late-key'), now: clock.now() });
      await server.web.dashboard!.live.poll();
      await until(/event: refresh/);
      await reader.cancel();
    });

    it('ends the session when it expires on the server clock, and when the password changes', async () => {
      clock.advance(TTL - 1000);
      expect((await get('/ui/api/session')).status).toBe(200);
      clock.advance(1000);
      expect((await get('/ui/api/session')).status).toBe(401);
      expect((await get('/ui/')).headers.get('location')).toBe('/ui/login?next=%2Fui%2F');
      jar.cookie = cookieFrom(await login(PASSWORD));
      expect((await get('/ui/api/session')).status).toBe(200);
      await resetDashboardPassword(server.store, `${PASSWORD}-2`);
      expect((await get('/ui/api/session')).status).toBe(401);
      jar.cookie = cookieFrom(await login(`${PASSWORD}-2`));
    });

    it('logs out (the cookie stops working even if replayed)', async () => {
      const replay = jar.cookie;
      const csrf = await csrfOf();
      const res = await fetch(`${origin}/ui/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: jar.cookie, Origin: origin },
        body: new URLSearchParams({ csrf }),
      });
      expect([res.status, res.headers.get('location')]).toEqual([303, '/ui/login']);
      expect((await get('/ui/api/session', replay)).status).toBe(401);
    });

    it(`refuses an address after ${MAX_FAILURES} wrong secrets, even the right one, until the window passes`, async () => {
      for (let i = 0; i < MAX_FAILURES; i++) expect((await login('wrong')).status).toBe(401);
      const blocked = await login(`${PASSWORD}-2`);
      expect(blocked.status).toBe(429);
      expect(await blocked.text()).toContain('Too many failed attempts');
      clock.advance(WINDOW_MS);
      expect((await login(`${PASSWORD}-2`)).status).toBe(303);
    });

    it(`draws at most ${FLEET_ROWS} rows, problems first, and all of them on request`, async () => {
      clock.advance(24 * 60 * MIN); // 'web' and 'late-comer' are offline now
      jar.cookie = cookieFrom(await login(`${PASSWORD}-2`));
      const now = clock.now();
      const many = Array.from({ length: FLEET_ROWS + 5 }, (_, i) => ({
        name: `bulk-${String(i).padStart(3, '0')}`,
        api_key_hash: `bulk-hash-${i}`,
        revoked: 0,
        ip_address: '',
        type: '',
        version: '',
        auth_type: 'api-key',
        created_at: now,
        updated_at: now,
        last_pull_at: null,
        last_pull_rev: null,
        last_request_at: null,
        kind_override: null,
        pull_cadence_ms: null,
      }));
      await dbOf(server.store).insertInto('bouncers').values(many).execute();
      const page = await (await get('/ui/')).text();
      const total = FLEET_ROWS + 5 + 2;
      expect(page.match(/<tr data-bouncer=/g)).toHaveLength(FLEET_ROWS);
      expect(page).toContain(`The first ${FLEET_ROWS} of ${total} bouncers, problems first.`);
      // The two offline ones lead, before the never-pulled newcomers.
      expect([...page.matchAll(/<tr data-bouncer="([^"]+)" data-status="([^"]+)"/g)].slice(0, 3).map((m) => `${m[1]}:${m[2]}`)).toEqual([
        'late-comer:offline',
        'web:offline',
        'bulk-000:never_pulled',
      ]);
      const all = await (await get('/ui/?all=1')).text();
      expect(all.match(/<tr data-bouncer=/g)).toHaveLength(total);
    });

    it('never shows a bouncer with a Critical issue open as fine: `failing`, and it leads the table (criticality first)', async () => {
      await openHealthIssue(server.store, {
        kind: 'remediation_not_enforced',
        criticality: 'critical',
        subject: 'bouncer:bulk-010',
        bouncerName: 'bulk-010',
        openedAt: clock.now(),
        since: clock.now(),
        summary: 'canary not blocked',
        evidence: { causes: [], notes: [] },
      });
      const page = await (await get('/ui/?all=1')).text();
      const rows = [...page.matchAll(/<tr data-bouncer="([^"]+)" data-status="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`);
      expect(rows[0]).toBe('bulk-010:failing');
      expect(page).toContain('<span class="status status-failing">Failing</span>');
      // The summary counts it as failing, not as never pulled.
      expect(page).toMatch(/status-failing">Failing<\/span> 1</);
    });

    it("writes runbooks as the store's runbook settings say (vigil watch: cscli, where CrowdSec runs)", async () => {
      await server.health.evaluateNow();
      const issue = (await openHealthIssues(server.store)).find((i) => i.bouncerName === 'web')!;
      expect((await get(`/ui/issues/${issue.id}`)).status).toBe(200);
      expect(await (await get(`/ui/issues/${issue.id}`)).text()).toContain('sudo vigil bouncers');
      await writeRunbookSettings(server.store, { cli: 'cscli', deployment: 'docker', container: 'crowdsec' });
      const page = await (await get(`/ui/issues/${issue.id}`)).text();
      expect(page).toContain('docker exec crowdsec cscli bouncers');
      expect(page).toMatch(/<a href="\/ui\/issues\/\d+\?deployment=docker" aria-current="page">Docker<\/a>/);
      expect(await (await get(`/ui/issues/${issue.id}?deployment=host`)).text()).toContain('sudo cscli bouncers');
    });
  });
}
