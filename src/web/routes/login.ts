/** What needs no session (the browser files, the login form, the one-time links), and the gate before everything else. */
import type { Context, Hono } from 'hono';
import { exactTime, humanDuration } from '../../lib/human-time.ts';
import { asset, isAssetName } from '../assets.ts';
import type { DashboardContext, Env } from '../context.ts';
import { checkLoginSecret, credentialFingerprint } from '../credentials.ts';
import { registerLoginLinkRoutes } from '../login-link-routes.ts';
import { isRefusal } from '../login-throttle.ts';
import { loginPage } from '../pages/login.ts';
import { safeNext } from '../safe-next.ts';

/** What needs no session: the browser files and the login. */
export function registerPublicRoutes(app: Hono<Env>, ui: DashboardContext): void {
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    if (!isAssetName(name)) return c.body(null, 404);
    const a = asset(name);
    // The URL carries the content hash (?v=…): a new version is a new URL.
    return c.body(a.body, 200, { 'Content-Type': a.contentType, 'Cache-Control': 'public, max-age=31536000, immutable' });
  });

  app.get('/login', async (c) => {
    if (await ui.sessionOf(c)) return c.redirect(safeNext(c.req.query('next')), 303);
    return ui.page(c, null, 'Log in', 'none', loginPage({ next: safeNext(c.req.query('next')) }));
  });

  app.post('/login', (c) => logIn(c, ui));
  registerLoginLinkRoutes(app, ui);
}

/** The login form's answer: throttled per address and overall, then the secret checked and a session cookie set. */
async function logIn(c: Context<Env>, ui: DashboardContext): Promise<Response> {
  const { store, clock, log } = ui;
  if (!ui.sameOrigin(c)) {
    return c.json(
      {
        message:
          "cross-site login refused: the Origin header must be this dashboard's own (behind a reverse proxy: keep the Host header, or send X-Forwarded-Host from an address in admin_trusted_proxies)",
      },
      403,
    );
  }
  const peer = ui.clientAddressOf(c);
  const form = await c.req.parseBody();
  const next = typeof form.next === 'string' ? form.next : undefined;
  // The slot is taken before the secret is checked, with no await in between (login-throttle.ts).
  const now = clock.now();
  const attempt = ui.throttle.begin(peer, now);
  if (isRefusal(attempt)) {
    const wait = attempt.retryAfterMs;
    const who = attempt.reason === 'address' ? 'from your address' : 'to this dashboard from all addresses together';
    log.warn({ ip: peer, limit: attempt.reason }, 'dashboard login refused: too many failed attempts');
    const error = `Too many failed attempts ${who}: try again in ${humanDuration(wait)} (at ${exactTime(now + wait)}); even the right password is refused until then. On the server, vigil admin login-link prints a one-time link that this limit does not close.`;
    c.header('Retry-After', String(Math.ceil(wait / 1000)));
    return ui.page(c, null, 'Log in', 'none', loginPage({ next: safeNext(next), error }), 429);
  }
  const secret = typeof form.secret === 'string' ? form.secret.trim() : '';
  const via = secret && secret.length <= 1024 ? await checkLoginSecret(store, secret) : null;
  const credential = via ? await credentialFingerprint(store, via) : null;
  if (!via || !credential) {
    // The slot stays taken: that is the failure.
    log.warn({ ip: peer }, 'dashboard login refused: wrong password or token');
    return ui.page(c, null, 'Log in', 'none', loginPage({ next: safeNext(next), error: 'Wrong password or token.' }), 401);
  }
  attempt.succeeded();
  ui.startSession(c, via, credential, now);
  log.info({ ip: peer, via }, 'dashboard login');
  return c.redirect(safeNext(next), 303);
}

/** Everything registered after this needs a session: pages go to the login, the API and events answer 401. */
export function requireSession(app: Hono<Env>, ui: DashboardContext): void {
  app.use('*', async (c, next) => {
    const s = await ui.sessionOf(c);
    if (!s) {
      const p = c.req.path;
      if (p.startsWith('/ui/api/') || p === '/ui/events' || c.req.method !== 'GET') {
        return c.json({ message: 'not logged in, or the session expired: log in at /ui/login' }, 401);
      }
      const url = new URL(c.req.url);
      return c.redirect(`/ui/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set('session', s);
    await next();
  });
}
