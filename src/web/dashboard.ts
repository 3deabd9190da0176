/**
 * The dashboard: server-rendered pages under /ui, a small browser script for live updates and
 * actions, login with the admin token or the dashboard password, signed session cookies, and CSRF
 * protection (a per-session token in a header, and the Origin checked) on every state change.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { compress } from 'hono/compress';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import type { HealthRules } from '../core/health/types.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import type { Deployment } from '../core/health/runbooks/index.ts';
import { installErrorHandler } from '../lib/http-errors.ts';
import { readJsonBody } from '../lib/json-body.ts';
import { z } from 'zod';
import { buildDecision, manualAlert } from '../core/decisions/new-decisions.ts';
import { checkLoginSecret, credentialFingerprint, type LoginVia } from './credentials.ts';
import { registerLoginLinkRoutes } from './login-link-routes.ts';
import { SESSION_COOKIE, SessionCodec, type Session } from './session.ts';
import { isRefusal, LoginThrottle } from './login-throttle.ts';
import { EndedSessions } from './ended-sessions.ts';
import { clientAddress, fromOwnPages, servedOverHttps, type RequestFacts } from './forwarded.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { DEFAULT_ADMIN_TRUSTED_PROXIES } from '../config/config.ts';
import { LiveUpdates } from './live.ts';
import { DashboardData } from './data.ts';
import { asset, isAssetName } from './assets.ts';
import { exactTime, humanDuration } from '../lib/human-time.ts';
import { html, type Html } from './html.ts';
import { layout, type PageContext, type Section } from './pages/layout.ts';
import { loginPage } from './pages/login.ts';
import { fleetPage } from './pages/fleet.ts';
import { issuePage, issuesPage, issueTitle, type IssueActions } from './pages/issues.ts';
import { issueMarks } from './issue-marks.ts';
import { issueMarksDigest } from '../store/change-digest.ts';
import { bouncerPage } from './pages/bouncer.ts';
import { decisionsPage } from './pages/decisions.ts';
import { BODY_CAPS } from '../config/listener-limits.ts';
import { foldPeerAddress } from '../lib/ip.ts';
import { addDecisions, softDeleteDecisions } from '../store/decisions.ts';
import { secret } from '../store/meta.ts';

type Env = { Bindings: { incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } } }; Variables: { session: Session } };

/** Who made dashboard decisions, as cscli's manual decisions name their machine. */
export const DASHBOARD_MACHINE_ID = 'vigil-dashboard';

export interface DashboardDeps {
  store: Store;
  clock: Clock;
  rules: HealthRules;
  /** The server's decision index; without it (vigil watch: CrowdSec keeps the decisions) there is no Decisions page. */
  sync?: DecisionSync;
  log: Logger;
  /** The Local API URL bouncers use, for the runbooks. */
  lapiUrl: () => string;
  sessionTtlMs: number;
  /** Reverse proxies whose X-Forwarded-Proto/Host/For are believed (`admin_trusted_proxies`; default loopback). */
  trustedProxies?: readonly string[];
  /** How often open dashboards' data is checked for changes (default 2 s). */
  livePollMs?: number;
}

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

const HTML_TYPE = 'text/html; charset=utf-8';
/** The body caps of config/listener-limits.ts, as the dashboard's own listener applies them. */
export const MAX_LOGIN_BODY = BODY_CAPS.login;
const MAX_DASHBOARD_BODY = BODY_CAPS.admin;
/** Rows the fleet table draws unless asked for all: problems come first, so none is hidden behind healthy ones. */
export const FLEET_ROWS = 200;
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

/** What every dashboard route shares: its state, and how it reads a session, checks a change and draws a page. */
class DashboardContext {
  readonly deps: DashboardDeps;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly codec: SessionCodec;
  readonly throttle = new LoginThrottle();
  readonly ended: EndedSessions;
  readonly trusted: TrustedProxies;
  readonly sync: DecisionSync | undefined;
  readonly data: DashboardData;
  readonly live: LiveUpdates;
  /** The open live-update streams, each ended by its function. */
  readonly streams = new Set<() => void>();
  /** Which admin actions the issue pages offer; set once the admin API is attached. */
  actions: IssueActions = { silence: false, acknowledge: false };

  constructor(deps: DashboardDeps, sessionSecret: Buffer) {
    const { store, clock, log } = deps;
    this.deps = deps;
    this.store = store;
    this.clock = clock;
    this.log = log;
    this.codec = new SessionCodec(sessionSecret);
    this.ended = new EndedSessions(store);
    this.trusted = new TrustedProxies(deps.trustedProxies ?? DEFAULT_ADMIN_TRUSTED_PROXIES, 'admin_trusted_proxies');
    this.sync = deps.sync;
    this.data = new DashboardData({ store, rules: deps.rules, index: this.sync?.index, lapiUrl: deps.lapiUrl });
    this.live = new LiveUpdates({ store, clock, pollMs: deps.livePollMs ?? 2000 });
    this.live.onError = (e) => log.error({ err: e }, 'dashboard live-update check failed');
    this.live.extraDigest = () => issueMarksDigest(store);
  }

  async sessionOf(c: Context): Promise<Session | null> {
    return this.validSession(getCookie(c, SESSION_COOKIE));
  }

  async validSession(cookie: string | undefined): Promise<Session | null> {
    const s = this.codec.read(cookie, this.clock.now());
    if (!s) return null;
    // A new password or a rotated token ends the sessions opened with the old one.
    if ((await credentialFingerprint(this.store, s.via)) !== s.credential) return null;
    return (await this.ended.has(s)) ? null : s;
  }

  /** The session requireSession found; only in routes registered after it. */
  sessionIn(c: Context<Env>): Session {
    return c.get('session');
  }

  facts(c: Context<Env>): RequestFacts {
    return {
      peer: peerAddressOf(c),
      encrypted: new URL(c.req.url).protocol === 'https:' || c.env?.incoming?.socket?.encrypted === true,
      header: (name) => c.req.header(name),
    };
  }

  /** State changes must come from our own pages (forwarded.ts: Sec-Fetch-Site, or the Origin's host). */
  sameOrigin(c: Context<Env>): boolean {
    return fromOwnPages(this.facts(c), this.trusted);
  }

  csrfRefusal(c: Context<Env>, s: Session, token: string | undefined): Response | null {
    if (!this.sameOrigin(c)) return c.json({ message: "cross-site request refused: the Origin header must be this dashboard's own" }, 403);
    if (!this.codec.checkCsrf(s, token))
      return c.json({ message: 'CSRF token missing or wrong: send the X-CSRF-Token header of the dashboard page (reload it)' }, 403);
    return null;
  }

  clientAddressOf(c: Context<Env>): string {
    return clientAddress(this.facts(c), this.trusted);
  }

  /** Sets the session cookie of a login (password, token or one-time link). */
  startSession(c: Context<Env>, via: LoginVia, credential: string, now: number): void {
    const { cookie } = this.codec.issue(via, credential, now, this.deps.sessionTtlMs);
    setCookie(c, SESSION_COOKIE, cookie, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: this.isHttps(c),
      path: '/',
      maxAge: Math.floor(this.deps.sessionTtlMs / 1000),
    });
  }

  isHttps(c: Context<Env>): boolean {
    return servedOverHttps(this.facts(c), this.trusted);
  }

  async pageContext(s: Session | null): Promise<PageContext> {
    return {
      csrfToken: s ? this.codec.csrfToken(s) : null,
      openIssues: s ? await this.data.openIssueCount() : 0,
      decisions: this.sync !== undefined,
      assets: { css: asset('style.css').url, js: asset('app.js').url },
    };
  }

  async page(c: Context, s: Session | null, title: string, section: Section, main: Html, status: 200 | 400 | 401 | 404 | 429 = 200): Promise<Response> {
    return c.body(layout(await this.pageContext(s), { title, section }, main).text, status, { 'Content-Type': HTML_TYPE });
  }

  async notFound(c: Context, s: Session | null): Promise<Response> {
    if (c.req.path.startsWith('/ui/api/')) return c.json({ message: 'not found' }, 404);
    return this.page(c, s, 'Not found', 'none', NOT_FOUND, 404);
  }
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

/** What needs no session: the browser files and the login. */
function registerPublicRoutes(app: Hono<Env>, ui: DashboardContext): void {
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
function requireSession(app: Hono<Env>, ui: DashboardContext): void {
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

/** The logout and the pages: fleet, issues, one issue, one bouncer, decisions. */
function registerPages(app: Hono<Env>, ui: DashboardContext): void {
  const { store, clock, data } = ui;
  app.post('/logout', async (c) => {
    const s = ui.sessionIn(c);
    const form = await c.req.parseBody();
    const refused = ui.csrfRefusal(c, s, c.req.header('x-csrf-token') ?? (typeof form.csrf === 'string' ? form.csrf : undefined));
    if (refused) return refused;
    await ui.ended.end(s, clock.now());
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: ui.isHttps(c) });
    return c.redirect('/ui/login', 303);
  });

  app.get('/', async (c) => {
    const s = ui.sessionIn(c);
    const all = c.req.query('all') === '1';
    return ui.page(c, s, 'Fleet', 'fleet', fleetPage(await data.fleet(clock.now(), all ? Infinity : FLEET_ROWS)));
  });

  app.get('/issues', async (c) => {
    const s = ui.sessionIn(c);
    const now = clock.now();
    const all = c.req.query('all') === '1';
    const rows = await data.issues(now, all);
    const marks = await issueMarks(store, rows, now);
    return ui.page(c, s, 'Issues', 'issues', issuesPage(rows, marks, now, all));
  });

  app.get('/issues/:id', async (c) => {
    const s = ui.sessionIn(c);
    const id = c.req.param('id');
    const deployment = c.req.query('deployment') as Deployment | undefined;
    if (!/^\d{1,15}$/.test(id) || (deployment !== undefined && !['host', 'docker', 'kubernetes'].includes(deployment))) return ui.notFound(c, s);
    const now = clock.now();
    const v = await data.issue(Number(id), now, deployment);
    if (!v) return ui.notFound(c, s);
    const marks = (await issueMarks(store, [v.issue], now)).get(v.issue.id);
    return ui.page(c, s, `#${v.issue.id} ${issueTitle(v.issue)}`, 'issues', issuePage(v, marks, ui.actions));
  });

  app.get('/bouncers/:name', async (c) => {
    const s = ui.sessionIn(c);
    const v = await data.bouncer(c.req.param('name'), clock.now());
    if (!v) return ui.notFound(c, s);
    return ui.page(c, s, v.row.name, 'fleet', bouncerPage(v));
  });

  app.get('/decisions', async (c) => {
    const s = ui.sessionIn(c);
    if (!ui.sync) return ui.notFound(c, s);
    const v = data.decisions(c.req.query('q'), clock.now());
    return ui.page(c, s, 'Decisions', 'decisions', decisionsPage(v), v.query.kind === 'invalid' ? 400 : 200);
  });
}

/** The JSON API of the pages' actions: CSRF-checked changes, the session, adding and deleting decisions. */
function registerActionsApi(app: Hono<Env>, ui: DashboardContext): void {
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const refused = ui.csrfRefusal(c, ui.sessionIn(c), c.req.header('x-csrf-token'));
    if (refused) return refused;
    await next();
  });

  app.get('/api/session', (c) => c.json({ via: ui.sessionIn(c).via, expiresAt: new Date(ui.sessionIn(c).expiresAt).toISOString() }));
  app.post('/api/decisions', (c) => addDecision(c, ui));
  app.delete('/api/decisions/:id', (c) => deleteDecision(c, ui));
}

/** A manual decision from the dashboard, validated and recorded as `vigil decisions add` does. */
async function addDecision(c: Context<Env>, ui: DashboardContext): Promise<Response> {
  const { store, clock, log, sync } = ui;
  if (!sync) return c.json({ message: 'decisions are not managed here' }, 404);
  const body = await readJsonBody(c, NEW_DECISION_BODY, '{"value":"192.0.2.1","type":"ban","duration":"4h"}');
  const field = (k: keyof typeof body) => body[k] ?? '';
  const value = field('value').trim();
  const type = field('type').trim() || 'ban';
  const now = clock.now();
  const reason = field('reason').trim() || `manual '${type}' from '${DASHBOARD_MACHINE_ID}'`;
  // Same validation and records as `vigil decisions add` (cscli's origin, a manual alert).
  const d = buildDecision(
    { scope: value.includes('/') ? 'Range' : 'Ip', value, type, duration: field('duration').trim() || '4h', reason, origin: 'cscli' },
    now,
  );
  const { decisionIds } = await addDecisions(
    store,
    manualAlert({ now, scenario: reason, scope: d.scope, value: d.value, count: 1, machineId: DASHBOARD_MACHINE_ID }),
    [d],
  );
  await sync.refresh();
  log.info(
    { decision: decisionIds[0], scope: d.scope, value: d.value, type: d.type, until: new Date(d.until).toISOString() },
    'decision added from the dashboard',
  );
  return c.json({ id: decisionIds[0], scope: d.scope, value: d.value, type: d.type, until: new Date(d.until).toISOString() }, 201);
}

/** A decision deleted from the dashboard (soft, as `vigil decisions delete`), and the index refreshed. */
async function deleteDecision(c: Context<Env, '/api/decisions/:id'>, ui: DashboardContext): Promise<Response> {
  const { store, clock, log, sync } = ui;
  const id = c.req.param('id');
  if (!sync) return c.json({ message: 'decisions are not managed here' }, 404);
  if (!/^\d{1,15}$/.test(id)) return c.json({ message: `id "${id}": use the numeric decision id` }, 400);
  const n = await softDeleteDecisions(store, [Number(id)], clock.now());
  if (n === 0) return c.json({ message: `decision ${id} is not active (it expired or was deleted already)` }, 404);
  await sync.refresh();
  log.info({ decision: Number(id) }, 'decision deleted from the dashboard');
  return c.json({ deleted: n });
}

/** Live updates (Server-Sent Events): `refresh` when the data changed, `ping` to keep proxies open, `expired` when the session ends. */
function registerLiveEvents(app: Hono<Env>, ui: DashboardContext): void {
  const { live, streams } = ui;
  app.get('/events', (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    // nginx would hold the events in its buffer (proxy_buffering is on by default): pass them as they come.
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => (finish = resolve));
      streams.add(finish);
      stream.onAbort(finish);
      // The session can end while the page stays open: say so, and the page goes to the login.
      const stillValid = async () => (await ui.validSession(cookie)) !== null;
      const send = async (event: string, payload: string) => {
        if (event !== 'expired' && !(await stillValid())) {
          await stream.writeSSE({ event: 'expired', data: '' }).catch(() => {});
          finish();
          return;
        }
        await stream.writeSSE({ event, data: payload }).catch(finish);
      };
      const unsubscribe = live.subscribe((version) => void send('refresh', String(version)));
      const keepAlive = setInterval(() => void send('ping', ''), 25_000);
      keepAlive.unref();
      try {
        await stream.writeSSE({ event: 'hello', data: String(live.version), retry: 3000 });
        void live.poll();
        await finished;
      } finally {
        clearInterval(keepAlive);
        unsubscribe();
        streams.delete(finish);
      }
    });
  });
}

const NOT_FOUND = html`<h1>Not found</h1><p>Nothing here. Go back to the <a href="/ui/">fleet</a>.</p>`;

/** Longer than any page of ours needs; a longer `next` is someone else's. */
const MAX_NEXT = 2048;
const BASE = 'http://vigil.invalid';

/**
 * Only our own pages: a `next` from a link or the login form never sends the browser elsewhere, nor
 * puts anything odd in the Location header. Kept only when it is a plain path (and query) under /ui
 * that reads the same once a browser has resolved it: no dot segments (`/ui/../x`, `%2e%2e`), no
 * backslash, control character or space (escaped or not), no escape that is not UTF-8, no scheme or
 * host. Anything else is /ui/.
 */
export function safeNext(next: string | undefined): string {
  if (!next || next.length > MAX_NEXT || !/^\/ui(?:[/?][\x21-\x7e]*)?$/.test(next) || /[\\"<>`]/.test(next)) return '/ui/';
  let resolved: URL;
  try {
    // Escapes must be of UTF-8 text, and of no control character (`%ff`, `%0d%0a`).
    if (/[\x00-\x1f\x7f]/.test(decodeURIComponent(next))) return '/ui/';
    resolved = new URL(next, BASE);
  } catch {
    return '/ui/';
  }
  const same = resolved.origin === BASE && resolved.pathname + resolved.search + resolved.hash === next;
  return same && (resolved.pathname === '/ui' || resolved.pathname.startsWith('/ui/')) ? next : '/ui/';
}

/** The TCP peer, IPv4-mapped IPv6 folded to IPv4: what the login throttle counts by. */
function peerAddressOf(c: Context<Env>): string {
  return foldPeerAddress(c.env?.incoming?.socket?.remoteAddress);
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost';
}

/** A decision added from the dashboard: every field a string, checked further as `vigil decisions add` checks it. */
const NEW_DECISION_BODY = z.object({
  value: z.string({ error: 'must be a string (an IP address or a range)' }).optional(),
  type: z.string({ error: 'must be a string, e.g. ban' }).optional(),
  duration: z.string({ error: 'must be a string, e.g. 4h' }).optional(),
  reason: z.string({ error: 'must be a string' }).optional(),
});
