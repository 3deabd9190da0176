import { BODY_CAPS } from '../config/listener-limits.ts';
import { USAGE_METRICS_MAX_BYTES } from './usage-metrics.ts';

/**
 * Every route of the Local API listener in one table, as CrowdSec's controllers/controller.go
 * `NewV1()`: what it answers, who may call it, the body it reads. The body guard (body-guard.ts),
 * the fast path (decision-routes.ts) and the web surface (web/surface.ts) read it; the Hono apps
 * are checked against it at start-up (`assertInRouteTable`), so a handler without its line here
 * refuses to start. A new route: one line here and one handler (docs/architecture.md).
 */

/**
 * Who may call a route: a bouncer's API key (or client certificate), a machine's JWT (gin-jwt's
 * 401 otherwise), either (CrowdSec's eitherAuthMiddleware), anyone, or a person (the admin token
 * or a dashboard session).
 */
export type RouteAuth = 'bouncer-key' | 'machine-jwt' | 'bouncer-key-or-machine-jwt' | 'none' | 'admin-session';

export interface Route {
  readonly methods: readonly string[];
  /** Exact, with `:param` segments, or a mount (`/ui/*` answers `/ui` and everything under it). */
  readonly path: string;
  readonly auth: RouteAuth;
  /** The largest body it reads, in bytes as sent (gzip is capped again once inflated); null: it reads none. */
  readonly bodyCap: number | null;
  /** Served on raw node:http before Hono (decision-routes.ts), with how the pull moves the bouncer's record. */
  readonly fast?: 'live' | 'stream';
  /** A DELETE whose filters CrowdSec reads from the query only: a body is refused (400), never taken for filters. */
  readonly filtersInQuery?: true;
}

/** Where the admin API and the dashboard are mounted (on the Local API listener or their own). */
export const ADMIN_MOUNT = '/admin/v1';
export const DASHBOARD_MOUNT = '/ui';

const GET = ['GET'];
const PEOPLE = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const r = (methods: readonly string[], path: string, auth: RouteAuth, bodyCap: number | null = null, more: Partial<Route> = {}): Route => ({
  methods,
  path,
  auth,
  bodyCap,
  ...more,
});

export const ROUTES: readonly Route[] = [
  // Bouncers: the hot path, then usage metrics (CrowdSec 1.6.3+, an agent's too).
  r(['GET', 'HEAD'], '/v1/decisions', 'bouncer-key', null, { fast: 'live' }),
  r(['GET', 'HEAD'], '/v1/decisions/stream', 'bouncer-key', null, { fast: 'stream' }),
  r(['POST'], '/v1/usage-metrics', 'bouncer-key-or-machine-jwt', USAGE_METRICS_MAX_BYTES),
  // Anyone: gin's trailing-slash redirect, the health check, a machine logging in or registering.
  r(GET, '/health', 'none'),
  r(GET, '/v1/decisions/', 'none'),
  r(['POST'], '/v1/watchers/login', 'none', BODY_CAPS.watcherLogin),
  r(['POST'], '/v1/watchers', 'none', BODY_CAPS.watcherLogin),
  // Machines (server/watcher/). refresh_token checks its token itself (gin-jwt's RefreshHandler).
  r(GET, '/v1/refresh_token', 'machine-jwt'),
  r(['DELETE'], '/v1/watchers/self', 'machine-jwt'),
  r(GET, '/v1/heartbeat', 'machine-jwt'),
  r(['POST'], '/v1/alerts', 'machine-jwt', BODY_CAPS.alerts),
  r(GET, '/v1/alerts', 'machine-jwt'),
  r(['DELETE'], '/v1/alerts', 'machine-jwt', null, { filtersInQuery: true }),
  r(['GET', 'DELETE'], '/v1/alerts/:id', 'machine-jwt'),
  r(['DELETE'], '/v1/decisions', 'machine-jwt', null, { filtersInQuery: true }),
  r(['DELETE'], '/v1/decisions/:id', 'machine-jwt'),
  r(GET, '/v1/allowlists', 'machine-jwt'),
  r(['POST'], '/v1/allowlists/check', 'machine-jwt', BODY_CAPS.watcher),
  r(['GET', 'HEAD'], '/v1/allowlists/check/:value', 'machine-jwt'),
  r(GET, '/v1/allowlists/:name', 'machine-jwt'),
  // People (admin_listen: lapi): the admin API and the dashboard, whose login page is open to all.
  r(PEOPLE, `${ADMIN_MOUNT}/*`, 'admin-session', BODY_CAPS.admin),
  r(['GET', 'POST'], `${DASHBOARD_MOUNT}/login`, 'none', BODY_CAPS.login),
  r(PEOPLE, `${DASHBOARD_MOUNT}/*`, 'admin-session', BODY_CAPS.admin),
];

/**
 * Methods answered 405 rather than 404, as CrowdSec does on these paths (gin's
 * HandleMethodNotAllowed in 1.7 for the watcher paths; 1.4.6 for decisions and usage metrics).
 */
const WATCHER_405 = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
export const METHOD_NOT_ALLOWED: ReadonlyArray<readonly [methods: readonly string[], paths: readonly string[]]> = [
  [
    ['POST', 'PUT', 'PATCH'],
    ['/v1/decisions', '/v1/decisions/stream'],
  ],
  [['GET', 'PUT', 'PATCH', 'DELETE'], ['/v1/usage-metrics']],
  ...(
    [
      '/v1/watchers',
      '/v1/watchers/login',
      '/v1/allowlists/check',
      '/v1/watchers/self',
      '/v1/heartbeat',
      '/v1/refresh_token',
      '/v1/allowlists',
      '/v1/allowlists/check/:value',
      '/v1/alerts',
      '/v1/alerts/:id',
      '/v1/decisions/:id',
    ] as const
  ).map((path) => {
    const answered = ROUTES.filter((x) => x.path === path).flatMap((x) => x.methods);
    return [WATCHER_405.filter((m) => !answered.includes(m)), [path]] as const;
  }),
];

const SLASH = 47;

/** Whether `path` is `mount` or under it (`/ui`, `/ui/…`; not `/uix`). */
export function isUnder(path: string, mount: string): boolean {
  return path === mount || (path.startsWith(mount) && path.charCodeAt(mount.length) === SLASH);
}

/** Whether a request path matches a table pattern. */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern.endsWith('/*')) return isUnder(path, pattern.slice(0, -2));
  if (!pattern.includes(':')) return pattern === path;
  const want = pattern.split('/');
  const got = path.split('/');
  return want.length === got.length && want.every((seg, i) => (seg.startsWith(':') ? got[i] !== '' : seg === got[i]));
}

/** The route answering `method` on `path`, first match in table order; undefined for a 404 or 405. */
export function routeFor(method: string, path: string): Route | undefined {
  // HEAD is answered by a GET route (Hono, as gin's HEAD-less routes answer 404 only where CrowdSec's do).
  return ROUTES.find((x) => (x.methods.includes(method) || (method === 'HEAD' && x.methods.includes('GET'))) && pathMatches(x.path, path));
}

/**
 * The route whose cap bounds a body on a path before its method is looked at: the first route on
 * that path that reads one (table order: `/ui/login` before `/ui/*`). Without one (a 404, or a
 * path that reads no body), `BODY_CAPS.other`: a 404 or 405 never needs more.
 */
export function bodyRouteAt(path: string): Route | undefined {
  for (const x of ROUTES) if (x.bodyCap !== null && pathMatches(x.path, path)) return x;
  return undefined;
}

export function bodyCapAt(path: string): number {
  return bodyRouteAt(path)?.bodyCap ?? BODY_CAPS.other;
}

/** The fast paths, by exact path: one map lookup per request on the hot path. */
export const FAST_ROUTES: ReadonlyMap<string, Route & { fast: 'live' | 'stream' }> = new Map(
  ROUTES.filter((x): x is Route & { fast: 'live' | 'stream' } => x.fast !== undefined).map((x) => [x.path, x]),
);

/** A table pattern or a Hono path with its parameter names dropped: `/v1/alerts/:id` → `/v1/alerts/:`. */
const shape = (path: string) => path.replace(/\/:[^/]+/g, '/:');

/** Whether the table (or its 405s) holds what a Hono app registered: `method` on `path`. */
export function inRouteTable(method: string, path: string): boolean {
  const p = shape(path);
  const routed = ROUTES.some((x) => x.methods.includes(method) && (shape(x.path) === p || (x.path.endsWith('/*') && pathMatches(x.path, path))));
  return routed || METHOD_NOT_ALLOWED.some(([methods, paths]) => methods.includes(method) && paths.some((q) => shape(q) === p));
}

/**
 * Refuses to start a Local API app that answers a route the table does not hold (a handler added
 * without its line): the table stays the whole truth. `ALL` entries are middleware, not routes.
 */
export function assertInRouteTable(registered: ReadonlyArray<{ method: string; path: string }>): void {
  const missing = registered.filter((x) => x.method !== 'ALL' && !inRouteTable(x.method, x.path)).map((x) => `${x.method} ${x.path}`);
  if (missing.length > 0) {
    // A programming error, caught by every test that starts a server: not an operator's to fix.
    throw new Error(`Local API routes missing from src/server/routes.ts ROUTES: ${[...new Set(missing)].join(', ')}`);
  }
}
