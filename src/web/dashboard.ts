/**
 * The dashboard: server-rendered pages under /ui, a small browser script for live updates and
 * actions, login with the admin token or the dashboard password, signed session cookies, and CSRF
 * protection (a per-session token in a header, and the Origin checked) on every state change.
 * This file composes it: the response rules every answer gets, then the routes (routes/: login,
 * pages, actions-api, events) in match order; context.ts holds what they share.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compress } from 'hono/compress';
import type { Logger } from 'pino';
import { BODY_CAPS } from '../config/listener-limits.ts';
import { installErrorHandler } from '../lib/http-errors.ts';
import { secret } from '../store/meta.ts';
import { DashboardContext, type DashboardDeps, type Env } from './context.ts';
import type { LiveUpdates } from './live.ts';
import { registerActionsApi } from './routes/actions-api.ts';
import { registerLiveEvents } from './routes/events.ts';
import { registerPublicRoutes, requireSession } from './routes/login.ts';
import { registerPages } from './routes/pages.ts';

export type { DashboardDeps } from './context.ts';
export { FLEET_ROWS } from './routes/pages.ts';
export { safeNext } from './safe-next.ts';

/** What the admin API asks the dashboard: is this request a logged-in session allowed to act? */
export type AdminSessionAuth = (c: Context) => Promise<'ok' | Response | null>;

export interface Dashboard {
  /** Serves /ui/…; route requests whose path starts with /ui to it. */
  app: Hono<Env>;
  /** Lets the admin API (/admin/v1) accept a dashboard session, CSRF-checked, besides the bearer token. */
  adminAuth: AdminSessionAuth;
  /** Silence and acknowledge show up once the admin API has their endpoints (issue 8). */
  attachAdmin(admin: Hono): void;
  live: LiveUpdates;
  /** Ends the live-update streams, so the server can close. */
  close(): Promise<void>;
}

/** The body caps of config/listener-limits.ts, as the dashboard's own listener applies them. */
export const MAX_LOGIN_BODY = BODY_CAPS.login;

const MAX_DASHBOARD_BODY = BODY_CAPS.admin;

const SECURITY_HEADERS: Record<string, string> = {
  // Everything is served by Vigil itself: no inline script or style, no third party.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

export async function createDashboard(deps: DashboardDeps): Promise<Dashboard> {
  const ui = new DashboardContext(deps, await secret(deps.store, 'dashboard-session'));
  // Not strict: /ui and /ui/ are the same page.
  const app = new Hono<Env>({ strict: false }).basePath('/ui');
  // Registration order is the routing order: everything after requireSession needs a session.
  applyResponseRules(app, ui.log);
  registerPublicRoutes(app, ui);
  requireSession(app, ui);
  registerPages(app, ui);
  registerActionsApi(app, ui);
  registerLiveEvents(app, ui);
  app.notFound(async (c) => ui.notFound(c, await ui.sessionOf(c)));

  return {
    app,
    live: ui.live,
    async adminAuth(c) {
      const s = await ui.sessionOf(c);
      if (!s) return null;
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        const refused = ui.csrfRefusal(c, s, c.req.header('x-csrf-token'));
        if (refused) return refused;
      }
      return 'ok';
    },
    attachAdmin(admin: Hono) {
      const has = (method: string, suffix: string) => admin.routes.some((r) => r.method === method && r.path.endsWith(suffix));
      ui.actions = { silence: has('POST', '/issues/:id/silence'), acknowledge: has('POST', '/issues/:id/ack') };
    },
    async close() {
      ui.live.stop();
      for (const finish of [...ui.streams]) finish();
    },
  };
}

/** Compression, security headers, errors as JSON, and body size limits: what every answer gets. */
function applyResponseRules(app: Hono<Env>, log: Logger): void {
  // Pages of a large fleet are big and refetched on every live update. (The CSRF token in them is
  // safe from compression-oracle attacks: SameSite=Strict keeps cross-site requests logged out.)
  // The event stream is never compressed (hono/compress skips text/event-stream).
  app.use('*', compress());
  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });

  installErrorHandler(app, log, 'dashboard');

  // Read no further than a form of ours can be (hono/body-limit counts a chunked body as it comes).
  const tooLarge = (max: number) => (c: Context) =>
    c.json({ message: `request body over ${max / 1024} KiB: the dashboard's forms and actions are smaller; send only the fields they use` }, 413);
  app.post('/login', bodyLimit({ maxSize: MAX_LOGIN_BODY, onError: tooLarge(MAX_LOGIN_BODY) }));
  app.use('*', bodyLimit({ maxSize: MAX_DASHBOARD_BODY, onError: tooLarge(MAX_DASHBOARD_BODY) }));
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost';
}
