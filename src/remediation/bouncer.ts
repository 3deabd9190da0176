/**
 * The Vigil bouncer: keeps the Local API's decisions (stream) or asks for them (live), answers
 * "what happens to this address" from memory, renders the remediation, and reports its own health
 * (User-Agent, usage metrics, a `healthy` signal tied to the age of its last successful pull).
 * Framework adapters (node:http, Express, Fastify) and the forward-auth daemon call `handle()`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { Decision } from '../core/model/records.ts';
import type { IpFamily } from '../lib/ip.ts';
import { DecisionCache, canonicalIp, parseAddressInto, type Remediation } from './decision-cache.ts';
import { LapiClient, LapiError } from './lapi-client.ts';
import { resolveClientIp, TrustedProxies } from './client-ip.ts';
import { CaptchaService } from './captcha.ts';
import { banPage, captchaPage, continuePage, safeReturnPath, VERIFY_PATH, wantsJson, type BanReason, type Page } from './pages.ts';
import { UsageCounters, originLabel, usageMetricsPayload } from './usage-metrics.ts';
import { evaluateHealth, type BouncerHealth, type HealthStatus, type LastFailure } from './health.ts';
import { normalizeOptions, stderrLogger, type BouncerLogger, type BouncerOptions, type NormalizedOptions } from './options.ts';
import { BOUNCER_USER_AGENT } from './version.ts';

export type VerdictReason = 'none' | 'decision' | 'lapi_unavailable' | 'invalid_address';

/** What the bouncer decided for one address. */
export interface Verdict {
  remediation: Remediation;
  reason: VerdictReason;
  /** The decision applied, when reason is `decision`. */
  decision?: Decision;
}

const ALLOW: Verdict = Object.freeze({ remediation: 'bypass', reason: 'none' });
const INVALID: Verdict = Object.freeze({ remediation: 'ban', reason: 'invalid_address' });

/** A request as the adapters see it. */
export interface RequestView {
  method: string;
  /** Path and query as this server received them. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The TCP peer's address. */
  peer: string;
  /** The connection to us is TLS. */
  secure?: boolean;
}

/**
 * How a request is being asked about:
 * - `middleware`: in the application; allowed requests go on to it.
 * - `forward-auth`: a proxy asks (nginx auth_request, Traefik forwardAuth, Caddy forward_auth); the
 *   original URI is in X-Forwarded-Uri or X-Original-URI; allowed = 200 with no body.
 * - `render`: nginx redirected a 401/403 here to show the page; nothing to allow.
 */
export type HandleMode = 'middleware' | 'forward-auth' | 'render';

export type Outcome =
  | { action: 'allow'; ip: string; verdict: Verdict }
  | { action: 'respond'; ip: string | null; verdict: Verdict | null; status: number; headers: Record<string, string>; body: string };

export type PushResult = 'sent' | 'unsupported' | 'failed' | 'disabled';

interface LiveEntry {
  decision: Decision | undefined;
  expiresAt: number;
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
/** Whether the client asked for JSON (read only when a remediation is rendered). */
const acceptsJson = (req: RequestView): boolean => wantsJson(first(req.headers.accept));

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T>)?.then === 'function';

export class Bouncer {
  readonly options: NormalizedOptions;
  readonly captcha: CaptchaService;
  readonly cache: DecisionCache;
  readonly #client: LapiClient;
  readonly #clock: Clock;
  readonly #log: BouncerLogger;
  readonly #trusted: TrustedProxies;
  readonly #counters: UsageCounters;
  readonly #scratch = new Uint32Array(4);
  readonly #onHealthChange?: (healthy: boolean, summary: string) => void;

  readonly startedAt: number;
  #lastSuccessAt: number | null = null;
  #lastFailure: LastFailure | null = null;
  #consecutiveFailures = 0;
  #reportedStatus: HealthStatus = 'starting';
  #lastFailureLogAt = 0;
  #lastFailureLogged = '';
  /** The next pull asks for the full set: at start, and after any failure (a lost delta, a rebuilt LAPI). */
  #needStartup = true;
  #pulling: Promise<void> | null = null;
  #firstAttempt: Promise<void>;
  #resolveFirstAttempt!: () => void;
  #timers = new Set<NodeJS.Timeout>();
  #running = false;
  #live = new Map<string, LiveEntry>();
  #inflight = new Map<string, Promise<Verdict>>();
  #metricsBackoff = 1;

  constructor(options: BouncerOptions) {
    this.options = normalizeOptions(options);
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? stderrLogger;
    this.#onHealthChange = options.onHealthChange;
    this.#client = new LapiClient({ apiUrl: this.options.apiUrl, apiKey: this.options.apiKey, userAgent: BOUNCER_USER_AGENT });
    this.#trusted = new TrustedProxies(this.options.trustedProxies);
    this.cache = new DecisionCache({ fallbackRemediation: this.options.fallbackRemediation });
    const c = options.captcha ?? {};
    this.captcha = new CaptchaService(
      {
        provider: c.provider,
        difficulty: c.difficulty,
        lifetimeMs: this.options.captchaLifetimeMs,
        signingKey: c.signingKey,
        signingKeyFile: c.signingKeyFile,
        cookieName: c.cookieName,
        siteKey: c.siteKey,
        secretKey: c.secretKey,
        verifyUrl: c.verifyUrl,
      },
      this.#clock,
    );
    this.startedAt = this.#clock.now();
    this.#counters = new UsageCounters(this.startedAt);
    this.#firstAttempt = new Promise((resolve) => (this.#resolveFirstAttempt = resolve));
    if (options.autoStart !== false) this.start();
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts pulling (stream) or probing (live), and the usage-metrics push. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const loop = async () => {
      if (!this.#running) return;
      if (this.options.mode === 'stream') await this.pull();
      else await this.#probeIfIdle();
      this.#after(this.options.updateFrequencyMs, loop);
    };
    void loop();
    if (this.options.usageMetricsIntervalMs > 0) {
      const push = async () => {
        if (!this.#running) return;
        await this.pushUsageMetrics();
        this.#after(this.options.usageMetricsIntervalMs * this.#metricsBackoff, push);
      };
      this.#after(this.options.usageMetricsIntervalMs, push);
    }
  }

  /** Stops the timers and waits for a pull in flight. The cache stays usable. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#pulling;
  }

  /** Resolves once the first pull (or live probe) has finished, successfully or not. */
  ready(): Promise<void> {
    return this.#firstAttempt;
  }

  #after(ms: number, fn: () => Promise<void>): void {
    if (!this.#running) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      void fn();
    }, ms);
    // A library must not keep its host process alive.
    t.unref();
    this.#timers.add(t);
  }

  // ------------------------------------------------------------------ Local API

  /** One stream pull now: the full set at start and after a failure, the delta otherwise. */
  pull(): Promise<void> {
    if (this.options.mode === 'live') return this.#probe();
    this.#pulling ??= this.#doPull().finally(() => {
      this.#pulling = null;
      this.#resolveFirstAttempt();
    });
    return this.#pulling;
  }

  async #doPull(): Promise<void> {
    const startup = this.#needStartup;
    try {
      const body = await this.#client.stream(startup, this.options.filters, this.options.streamTimeoutMs);
      const now = this.#clock.now();
      const r = startup ? this.cache.replace(body.new, now) : this.cache.apply(body.new, body.deleted, now);
      this.cache.pruneExpired(now);
      this.#needStartup = false;
      if (r.added > 0 || r.deleted > 0 || startup) {
        this.#log.debug({ startup, added: r.added, deleted: r.deleted, ignored: r.ignored, decisions: this.cache.size }, 'decisions pulled');
      }
      this.#succeeded(now);
    } catch (e) {
      this.#needStartup = true;
      this.#failed(e);
    }
  }

  async #probe(): Promise<void> {
    try {
      await this.#client.probe(this.options.lapiTimeoutMs);
      this.#succeeded(this.#clock.now());
    } catch (e) {
      this.#failed(e);
    } finally {
      this.#resolveFirstAttempt();
    }
  }

  /** Live mode: a key-checking probe only when no query has succeeded within one interval. */
  async #probeIfIdle(): Promise<void> {
    const now = this.#clock.now();
    for (const [ip, entry] of this.#live) if (entry.expiresAt <= now) this.#live.delete(ip);
    if (this.#lastSuccessAt === null || now - this.#lastSuccessAt >= this.options.updateFrequencyMs) await this.#probe();
    else this.#reportHealth();
  }

  #succeeded(now: number): void {
    this.#lastSuccessAt = now;
    this.#consecutiveFailures = 0;
    this.#reportHealth();
  }

  #failed(e: unknown): void {
    const now = this.#clock.now();
    const err = e instanceof LapiError ? e : new LapiError('bad_response', null, `unexpected error: ${(e as Error)?.message ?? String(e)}`);
    this.#lastFailure = { at: now, kind: err.kind, status: err.status, message: err.message };
    this.#consecutiveFailures++;
    // One line when the failure changes, then one every 5 minutes while it lasts.
    if (err.message !== this.#lastFailureLogged || now - this.#lastFailureLogAt >= 300_000) {
      this.#log.warn({ kind: err.kind, status: err.status, failures: this.#consecutiveFailures }, `Local API call failed: ${err.message}`);
      this.#lastFailureLogged = err.message;
      this.#lastFailureLogAt = now;
    }
    this.#reportHealth();
  }

  #reportHealth(): void {
    const h = this.health();
    if (h.status === this.#reportedStatus) return;
    const was = this.#reportedStatus;
    this.#reportedStatus = h.status;
    if (h.status === 'unhealthy') this.#log.error({ healthy: false }, `bouncer unhealthy: ${h.summary}`);
    else if (h.status === 'healthy') {
      this.#log.info({ healthy: true }, was === 'unhealthy' ? `bouncer healthy again: ${h.summary}` : `bouncer healthy: ${h.summary}`);
      this.#lastFailureLogged = '';
    }
    if (was === 'healthy' || h.status === 'healthy') this.#onHealthChange?.(h.healthy, h.summary);
  }

  /** The bouncer's own health (see health.ts). */
  health(): BouncerHealth {
    return evaluateHealth(
      {
        mode: this.options.mode,
        startedAt: this.startedAt,
        lastSuccessAt: this.#lastSuccessAt,
        lastFailure: this.#lastFailure,
        consecutiveFailures: this.#consecutiveFailures,
        unhealthyAfterMs: this.options.unhealthyAfterMs,
      },
      this.#clock.now(),
    );
  }

  get healthy(): boolean {
    return this.health().healthy;
  }

  /** Pushes usage metrics now; a LAPI without the route (CrowdSec < 1.6.3) is backed off quietly. */
  async pushUsageMetrics(): Promise<PushResult> {
    if (this.options.usageMetricsIntervalMs === 0) return 'disabled';
    const now = this.#clock.now();
    const payload = usageMetricsPayload({
      counters: this.#counters,
      active: this.cache.active(now),
      now,
      startedAt: this.startedAt,
      lastPullAt: this.#lastSuccessAt,
      name: this.options.name,
    });
    try {
      await this.#client.pushUsageMetrics(payload, 10_000);
      this.#counters.reset(now);
      this.#metricsBackoff = 1;
      return 'sent';
    } catch (e) {
      if (e instanceof LapiError && e.kind === 'not_found') {
        // CrowdSec before 1.6.3 has no such route: expected, so no warning; ask again less often.
        if (this.#metricsBackoff === 1) this.#log.info({}, 'the Local API does not accept usage metrics (CrowdSec older than 1.6.3?); will ask again later');
        this.#metricsBackoff = Math.min(this.#metricsBackoff * 2, 48);
        return 'unsupported';
      }
      this.#log.warn({}, `usage metrics not sent (kept for the next push): ${(e as Error).message}`);
      return 'failed';
    }
  }

  // ------------------------------------------------------------------ decisions

  /** Whether requests must be refused because the Local API cannot be reached and fail-closed is set. */
  #failingClosed(now: number): boolean {
    return !this.options.failOpen && (this.#lastSuccessAt === null || now - this.#lastSuccessAt > this.options.unhealthyAfterMs);
  }

  /** The verdict for an address; synchronous in stream mode and for live answers already cached. */
  check(ip: string): Verdict | Promise<Verdict> {
    const family = parseAddressInto(ip, this.#scratch);
    if (family === 0) return INVALID;
    return this.#checkParsed(family, ip);
  }

  #failClosedVerdict(): Verdict {
    return { remediation: this.options.failClosedRemediation, reason: 'lapi_unavailable' };
  }

  #verdictOf(d: Decision | undefined): Verdict {
    if (d === undefined) return ALLOW;
    const remediation = this.cache.remediationOf(d);
    return remediation === 'bypass' ? ALLOW : { remediation, reason: 'decision', decision: d };
  }

  /** `this.#scratch` holds the address's words. */
  #checkParsed(family: IpFamily, ip: string): Verdict | Promise<Verdict> {
    const now = this.#clock.now();
    if (this.options.mode === 'stream') {
      if (this.#failingClosed(now)) return this.#failClosedVerdict();
      const match = this.cache.strongestMatch(family, this.#scratch, now);
      if (match === undefined) return ALLOW;
      const remediation = this.cache.remediationOfType(match.type);
      return remediation === 'bypass' ? ALLOW : { remediation, reason: 'decision', decision: match.decision };
    }
    const cached = this.#live.get(ip);
    if (cached !== undefined && cached.expiresAt > now) return this.#verdictOf(cached.decision);
    const pending = this.#inflight.get(ip);
    if (pending !== undefined) return pending;
    const canonical = canonicalIp(family, this.#scratch);
    const query = this.#queryLive(ip, canonical).finally(() => this.#inflight.delete(ip));
    this.#inflight.set(ip, query);
    return query;
  }

  async #queryLive(key: string, canonical: string): Promise<Verdict> {
    let raw: unknown[];
    try {
      raw = await this.#client.decisionsFor(canonical, this.options.lapiTimeoutMs);
    } catch (e) {
      this.#failed(e);
      return this.options.failOpen ? ALLOW : this.#failClosedVerdict();
    }
    const now = this.#clock.now();
    this.#succeeded(now);
    const decision = this.cache.pick(raw, now);
    const expiresAt = Math.min(now + this.options.cacheExpirationMs, decision?.until ?? Infinity);
    if (this.#live.size >= this.options.liveCacheSize) {
      // Forget the oldest answer (Map keeps insertion order).
      const oldest = this.#live.keys().next();
      if (!oldest.done) this.#live.delete(oldest.value);
    }
    this.#live.delete(key);
    this.#live.set(key, { decision, expiresAt });
    return this.#verdictOf(decision);
  }

  // ------------------------------------------------------------------ requests

  /** The client address of a request: the TCP peer, or the forwarded one from a trusted proxy; null = refuse. */
  clientIp(req: RequestView): string | null {
    const h = this.options.realIpHeader;
    return resolveClientIp(req.peer, h, req.headers[h], this.#trusted);
  }

  /** Decides a request and renders the remediation. Synchronous unless live mode must ask the LAPI. */
  handle(req: RequestView, mode: HandleMode = 'middleware'): Outcome | Promise<Outcome> {
    const ip = this.clientIp(req);
    const family = ip === null ? 0 : parseAddressInto(ip, this.#scratch);
    if (ip === null || family === 0) {
      this.#log.info({ ip: ip ?? req.peer, remediation: 'ban', reason: 'bad_client_address' }, 'request refused: the client address is not an IP address');
      return this.#respond(ip, null, banPage(ip ?? '?', 'bad_client_address', acceptsJson(req)));
    }
    const target = mode === 'forward-auth' ? this.#originalUri(req) : req.url;
    if (target.startsWith(VERIFY_PATH) && (target.length === VERIFY_PATH.length || target[VERIFY_PATH.length] === '?')) {
      return this.#verify(ip, family, target, req, acceptsJson(req));
    }
    const v = this.#checkParsed(family, ip);
    if (isPromise(v)) return v.then((verdict) => this.#finish(ip, family, verdict, req, mode));
    return this.#finish(ip, family, v, req, mode);
  }

  #originalUri(req: RequestView): string {
    const h = req.headers;
    const uri = first(h['x-forwarded-uri']) ?? first(h['x-original-uri']);
    return uri?.startsWith('/') ? uri : '/';
  }

  #secure(req: RequestView): boolean {
    if (req.secure) return true;
    return first(req.headers['x-forwarded-proto']) === 'https' && this.#trusted.hasText(req.peer);
  }

  #respond(ip: string | null, verdict: Verdict | null, page: Page, extra?: Record<string, string>): Outcome {
    return { action: 'respond', ip, verdict, status: page.status, headers: extra ? { ...page.headers, ...extra } : page.headers, body: page.body };
  }

  #finish(ip: string, family: IpFamily, verdict: Verdict, req: RequestView, mode: HandleMode, asJson?: boolean): Outcome {
    this.#counters.processed(family);
    if (verdict.remediation === 'bypass') return mode === 'render' ? this.#respond(ip, verdict, continuePage()) : { action: 'allow', ip, verdict };
    // Only a refused request needs to know how to answer (most requests are let through).
    asJson ??= acceptsJson(req);
    // Parsed again: after a live query's await, the scratch words may be another request's.
    parseAddressInto(ip, this.#scratch);
    const canonical = canonicalIp(family, this.#scratch);
    const d = verdict.decision;
    if (verdict.remediation === 'captcha') {
      if (this.captcha.hasPass(canonical, first(req.headers.cookie))) {
        return mode === 'render' ? this.#respond(ip, verdict, continuePage()) : { action: 'allow', ip, verdict };
      }
      this.#counters.drop(d ? originLabel(d) : 'fail-closed', 'captcha', family);
      this.#logRemediation(canonical, verdict);
      return this.#respond(ip, verdict, this.#captchaPage(canonical, asJson, false));
    }
    this.#counters.drop(d ? originLabel(d) : verdict.reason === 'invalid_address' ? 'invalid-address' : 'fail-closed', 'ban', family);
    this.#logRemediation(canonical, verdict);
    const reason: BanReason =
      verdict.reason === 'lapi_unavailable' ? 'lapi_unavailable' : verdict.reason === 'invalid_address' ? 'bad_client_address' : 'decision';
    return this.#respond(ip, verdict, banPage(canonical, reason, asJson));
  }

  #logRemediation(ip: string, v: Verdict): void {
    // One line per remediation: time (the logger's), source address, remediation (remediation spec).
    this.#log.info(
      { ip, remediation: v.remediation, reason: v.reason, origin: v.decision?.origin, scenario: v.decision?.scenario },
      `${v.remediation} ${ip}${v.decision ? ` (${v.decision.origin}: ${v.decision.scenario})` : v.reason === 'lapi_unavailable' ? ' (Local API unreachable, failing closed)' : ''}`,
    );
  }

  #captchaPage(ip: string, asJson: boolean, retry: boolean): Page {
    if (this.captcha.provider === 'pow') {
      const c = this.captcha.issueChallenge(ip);
      return captchaPage({ ip, provider: 'pow', challenge: c.challenge, difficulty: c.difficulty, retry }, asJson);
    }
    return captchaPage({ ip, provider: this.captcha.provider, siteKey: this.captcha.siteKey, retry }, asJson);
  }

  /** `GET /.vigil/captcha/verify?c=&n=&r=` (proof of work) or `?t=&r=` (provider token). */
  #verify(ip: string, family: IpFamily, target: string, req: RequestView, asJson: boolean): Outcome | Promise<Outcome> {
    const canonical = canonicalIp(family, this.#scratch);
    const q = new URLSearchParams(target.slice(VERIFY_PATH.length + 1));
    const back = safeReturnPath(q.get('r'));
    // A banned address cannot solve its way out.
    const v = this.#checkParsed(family, ip);
    const conclude = (verdict: Verdict, solved: boolean): Outcome => {
      if (verdict.remediation === 'ban') return this.#finish(ip, family, verdict, req, 'middleware', asJson);
      if (!solved) return this.#respond(ip, verdict, this.#captchaPage(canonical, asJson, true));
      this.#log.info({ ip: canonical, remediation: 'captcha', solved: true }, `captcha solved by ${canonical}`);
      return {
        action: 'respond',
        ip,
        verdict,
        status: 303,
        headers: {
          Location: back,
          'Set-Cookie': this.captcha.passCookie(canonical, this.#secure(req)),
          'Cache-Control': 'no-store',
          'Content-Type': 'text/plain; charset=utf-8',
        },
        body: 'solved, continuing\n',
      };
    };
    const solve = (verdict: Verdict): Outcome | Promise<Outcome> => {
      if (verdict.remediation === 'ban') return conclude(verdict, false);
      if (this.captcha.provider === 'pow') return conclude(verdict, this.captcha.verifySolution(canonical, q.get('c') ?? '', q.get('n') ?? ''));
      return this.captcha.verifyProviderToken(canonical, q.get('t') ?? '').then((ok) => conclude(verdict, ok));
    };
    return isPromise(v) ? v.then(solve) : solve(v);
  }
}

/** Creates a bouncer and (unless `autoStart: false`) starts pulling decisions at once. */
export function createBouncer(options: BouncerOptions): Bouncer {
  return new Bouncer(options);
}
