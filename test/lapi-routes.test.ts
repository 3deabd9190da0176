import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.ts';
import { useInProcessServer } from './support/in-process-server.ts';
import type { RunningServer } from '../src/app/serve.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { hashMachinePassword } from '../src/lib/password.ts';
import { createMachine } from '../src/store/machines.ts';
import { rotateAdminToken } from '../src/server/admin.ts';
import { assertInRouteTable, FAST_ROUTES, METHOD_NOT_ALLOWED, ROUTES, routeFor, type Route } from '../src/server/routes.ts';
import { createBouncer } from '../src/store/bouncers.ts';

/**
 * The route table (src/server/routes.ts) is the whole truth of the Local API listener: the server
 * refuses to start with a Hono route that has no line in it, and every line is answered over real
 * HTTP, refused without its credentials the way CrowdSec refuses (403 for a bouncer key, gin-jwt's
 * 401 for a machine token) and answered with them.
 */
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const KEY = 'aaaabbbbccccddddeeeeffff00001111';
const MACHINE = 'routes-machine';
const PASSWORD = 'routes-machine-password-0123456789';

/** A concrete path for a table pattern: parameters filled in, a mount's home page. */
function concrete(path: string): string {
  if (path === '/admin/v1/*') return '/admin/v1/bouncers';
  if (path === '/ui/*') return '/ui/';
  return path.replace(':id', '1').replace(':value', '192.0.2.1').replace(':name', 'nothing');
}

/** A body the route takes: a machine's login, an empty JSON document elsewhere. */
function bodyFor(route: Route, method: string): string | undefined {
  if (route.bodyCap === null || method === 'GET' || method === 'HEAD') return undefined;
  if (route.path === '/v1/watchers/login') return JSON.stringify({ machine_id: MACHINE, password: PASSWORD });
  if (route.path === '/v1/allowlists/check') return JSON.stringify({ targets: ['192.0.2.1'] });
  return '{}';
}

/** Answered by a route: not a 405, and not the bare 404 of a path nobody serves. */
const answered = (r: { status: number; body: string }) => r.status !== 405 && !(r.status === 404 && r.body === '');

// Deleting the machine's own row last: every other machine route still has it.
const ORDERED = ROUTES.flatMap((route) => route.methods.map((method) => ({ route, method }))).sort(
  (a, b) => Number(a.route.path === '/v1/watchers/self') - Number(b.route.path === '/v1/watchers/self'),
);

describe('the route table', () => {
  it('refuses a Hono route without its line in the table', () => {
    expect(() => assertInRouteTable([{ method: 'GET', path: '/v1/alerts/:id' }])).not.toThrow();
    expect(() => assertInRouteTable([{ method: 'ALL', path: '*' }])).not.toThrow();
    expect(() => assertInRouteTable([{ method: 'PUT', path: '/v1/alerts' }])).not.toThrow(); // a 405 line
    expect(() => assertInRouteTable([{ method: 'POST', path: '/v1/heartbeat/extra' }])).toThrow(/POST \/v1\/heartbeat\/extra/);
    expect(() => assertInRouteTable([{ method: 'POST', path: '/health' }])).toThrow(/POST \/health/);
  });

  it('holds the fast paths as exact GET/HEAD bouncer routes', () => {
    expect([...FAST_ROUTES.keys()].sort()).toEqual(['/v1/decisions', '/v1/decisions/stream']);
    for (const r of FAST_ROUTES.values()) expect([r.auth, [...r.methods].sort()]).toEqual(['bouncer-key', ['GET', 'HEAD']]);
  });
});

for (const dialect of DIALECTS) {
  describe(`${dialect}: every line of the route table is answered`, () => {
    let server: RunningServer;
    let jwt = '';
    let adminToken = '';
    let session = '';
    const clock = new ManualClock(T0);
    const started = useInProcessServer(dialect, clock);

    const send = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
      // A `name/version` User-Agent, as CrowdSec wants of a machine's login; not an agent's (`crowdsec/`).
      const all = { 'User-Agent': 'routes-test/v1.0', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers };
      const res = await fetch(`${server.url}${path}`, { method, headers: all, body, redirect: 'manual' });
      return { status: res.status, body: await res.text(), location: res.headers.get('location') };
    };
    /** The credentials a route's auth kind takes. */
    const credentials = (route: Route): Record<string, string> => {
      switch (route.auth) {
        case 'bouncer-key':
        case 'bouncer-key-or-machine-jwt':
          return { 'X-Api-Key': KEY };
        case 'machine-jwt':
          return { Authorization: `Bearer ${jwt}` };
        case 'admin-session':
          return route.path.startsWith('/ui') ? { Cookie: session, Origin: new URL(server.url).origin } : { Authorization: `Bearer ${adminToken}` };
        case 'none':
          return {};
      }
    };

    beforeAll(async () => {
      server = started();
      await createBouncer(server.store, { name: 'routes-bouncer', apiKeyHash: hashApiKey(KEY), now: T0 });
      await createMachine(server.store, { machineId: MACHINE, passwordHash: await hashMachinePassword(PASSWORD), now: T0, isValidated: true });
      const login = await send('POST', '/v1/watchers/login', {}, JSON.stringify({ machine_id: MACHINE, password: PASSWORD }));
      jwt = (JSON.parse(login.body) as { token: string }).token;
      adminToken = await rotateAdminToken(server.store);
      const ui = await fetch(`${server.url}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: new URL(server.url).origin },
        body: new URLSearchParams({ secret: adminToken, next: '/ui/' }),
      });
      session = (ui.headers.get('set-cookie') ?? '').split(';')[0]!;
      expect([login.status, ui.status, jwt !== undefined, session !== '']).toEqual([200, 303, true, true]);
    });

    it('refuses each route without its credentials as CrowdSec does, and answers it with them', async () => {
      const seen: string[] = [];
      for (const { route, method } of ORDERED) {
        const path = concrete(route.path);
        const body = bodyFor(route, method);
        const without = await send(method, path, {}, body);
        const line = `${method} ${route.path} (${route.auth})`;
        switch (route.auth) {
          case 'bouncer-key':
          case 'bouncer-key-or-machine-jwt':
            // Same status and body for a missing key as for a wrong one (docs/reference/crowdsec-wire-protocol.md §7.3).
            expect([line, without.status, method === 'HEAD' ? '' : without.body]).toEqual([
              line,
              403,
              method === 'HEAD' ? '' : '{"message":"access forbidden"}',
            ]);
            break;
          case 'machine-jwt':
            // gin-jwt's answer, except refresh_token, which checks its token itself.
            expect([line, without.status]).toEqual([line, 401]);
            if (method !== 'HEAD') expect(JSON.parse(without.body)).toMatchObject({ code: 401 });
            break;
          case 'admin-session':
            // The admin API answers 401; a dashboard page sends the browser to the login page.
            if (without.status === 303) expect([line, without.location?.startsWith('/ui/login')]).toEqual([line, true]);
            else expect([line, without.status]).toEqual([line, 401]);
            break;
          case 'none': {
            // Open: answered to anyone; only a login (its credentials in the body) may refuse what it is sent.
            const refused = without.status === 401 || without.status === 403;
            expect([line, answered(without), refused && body === undefined]).toEqual([line, true, false]);
            break;
          }
        }
        // A mount's other methods answer what its own app routes; its credentials are what is checked above.
        if (route.path.endsWith('/*') && method !== 'GET') continue;
        const withAuth = await send(method, path, credentials(route), body);
        // An open route's credentials, if any, are in its body (a login): answered is all it promises.
        const refused = route.auth !== 'none' && (withAuth.status === 401 || withAuth.status === 403);
        expect([line, refused, answered(withAuth)]).toEqual([line, false, true]);
        seen.push(line);
      }
      expect(seen.length).toBeGreaterThan(ROUTES.length);
    });

    it('answers 405 for the methods CrowdSec refuses on a route, 404 where no route is', async () => {
      let checked = 0;
      for (const [methods, paths] of METHOD_NOT_ALLOWED) {
        for (const method of methods) {
          for (const p of paths) {
            // GET /v1/allowlists/check is GET /v1/allowlists/:name (a 404 there), as in CrowdSec's router.
            if (routeFor(method, concrete(p)) !== undefined) continue;
            expect([method, p, (await send(method, concrete(p), { Authorization: `Bearer ${jwt}` })).status]).toEqual([method, p, 405]);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(40);
      for (const p of ['/v1/nothing', '/v1/decision', '/v2/decisions/stream', '/ui-not', '/admin/v2/bouncers']) {
        expect([p, (await send('GET', p, { 'X-Api-Key': KEY })).status]).toEqual([p, 404]);
      }
    });
  });
}
