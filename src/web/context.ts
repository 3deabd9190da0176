/** What every dashboard route shares (the state, reading a session, checking a change, drawing a page), and what it is built from. */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Logger } from 'pino';
import { DEFAULT_ADMIN_TRUSTED_PROXIES } from '../config/config.ts';
import type { HealthRules } from '../core/health/types.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import type { Clock } from '../lib/clock.ts';
import { socketPeer } from '../server/client-address.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { issueMarksDigest } from '../store/change-digest.ts';
import type { Store } from '../store/store.ts';
import { asset } from './assets.ts';
import { credentialFingerprint, type LoginVia } from './credentials.ts';
import { DashboardData } from './data.ts';
import { EndedSessions } from './ended-sessions.ts';
import { clientAddress, fromOwnPages, servedOverHttps, type RequestFacts } from './forwarded.ts';
import { html, type Html } from './html.ts';
import { LiveUpdates } from './live.ts';
import { LoginThrottle } from './login-throttle.ts';
import type { IssueActions } from './pages/issues.ts';
import { layout, type PageContext, type Section } from './pages/layout.ts';
import { SESSION_COOKIE, SessionCodec, type Session } from './session.ts';

export type Env = { Bindings: { incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } } }; Variables: { session: Session } };

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

const HTML_TYPE = 'text/html; charset=utf-8';

/** What every dashboard route shares: its state, and how it reads a session, checks a change and draws a page. */
export class DashboardContext {
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

const NOT_FOUND = html`<h1>Not found</h1><p>Nothing here. Go back to the <a href="/ui/">fleet</a>.</p>`;

/**
 * The TCP peer, IPv4-mapped IPv6 folded to IPv4, or the client a trusted TCP balancer named in its
 * PROXY header (`api.proxy_protocol`): what the login throttle counts by. X-Forwarded-For is the
 * dashboard's own affair (`admin_trusted_proxies`).
 */
function peerAddressOf(c: Context<Env>): string {
  return socketPeer(c.env?.incoming?.socket);
}
