import type { Context, Env, Hono } from 'hono';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import { credentialFingerprint, PASSWORD_KEY, type LoginVia } from './credentials.ts';
import type { Html } from './html.ts';
import { redeemLoginLink } from './login-link.ts';
import { loginLinkPage } from './pages/login.ts';
import { getMeta } from '../store/meta.ts';

/** What the link routes use of the dashboard (dashboard.ts's context). */
export interface LoginLinkUi {
  store: Store;
  clock: Clock;
  log: Logger;
  sameOrigin(c: Context): boolean;
  clientAddressOf(c: Context): string;
  page(c: Context, s: null, title: string, section: 'none', main: Html, status?: 200 | 400 | 401 | 404 | 429): Promise<Response>;
  startSession(c: Context, via: LoginVia, credential: string, now: number): void;
}

/**
 * GET /ui/login-link?token=… shows a button; POST takes the link (once, before its expiry) and opens
 * a session. Not behind the login throttle on purpose: it is the way in when the throttle is
 * closed (login-link.ts), and a 256-bit token costs one indexed delete to refuse, not an scrypt.
 */
export function registerLoginLinkRoutes<E extends Env>(app: Hono<E>, ui: LoginLinkUi): void {
  app.get('/login-link', (c) => {
    const token = c.req.query('token') ?? '';
    return ui.page(c, null, 'Log in', 'none', loginLinkPage({ token }));
  });

  app.post('/login-link', async (c) => {
    if (!ui.sameOrigin(c)) return c.json({ message: "cross-site login refused: the Origin header must be this dashboard's own" }, 403);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    const now = ui.clock.now();
    const peer = ui.clientAddressOf(c);
    const refuse = (error: string) => ui.page(c, null, 'Log in', 'none', loginLinkPage({ error }), 401);
    if (!(await redeemLoginLink(ui.store, token, now))) {
      ui.log.warn({ ip: peer }, 'dashboard login link refused: unknown, used or expired');
      return refuse('This login link is unknown, already used or expired.');
    }
    // The session stands on the password (a new password ends it, as for a password login); the admin token where there is none.
    const via: LoginVia = (await getMeta(ui.store, PASSWORD_KEY)) ? 'password' : 'token';
    const credential = await credentialFingerprint(ui.store, via);
    if (!credential) return refuse('No dashboard password or admin token is set on this server: set one with vigil admin password.');
    ui.startSession(c, via, credential, now);
    ui.log.info({ ip: peer, via: 'login-link' }, 'dashboard login');
    return c.redirect('/ui/', 303);
  });
}
