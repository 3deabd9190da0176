/**
 * The Vigil bouncer: keeps the Local API's decisions (stream) or asks for them (live), answers
 * "what happens to this address" from memory, renders the remediation, and reports its own health
 * (User-Agent, usage metrics, a `healthy` signal tied to the age of its last successful pull).
 * Framework adapters (node:http, Express, Fastify) and the forward-auth daemon call `handle()`.
 */
import { systemClock, type Clock } from '../lib/clock.ts';
import type { Decision } from '../core/model/records.ts';
import type { IpFamily } from '../lib/ip.ts';
import { DecisionCache, canonicalIp, parseAddressInto } from './decision-cache.ts';
import { LapiClient } from './lapi-client.ts';
import { resolveClientIp, TrustedProxies } from './client-ip.ts';
import { CaptchaService } from './captcha.ts';
import { banPage, captchaPage, continuePage, safeReturnPath, VERIFY_PATH, type BanReason, type Page } from './pages.ts';
import { UsageCounters, originLabel } from './usage-metrics.ts';
import type { BouncerHealth } from './health.ts';
import { normalizeOptions, stderrLogger, type BouncerLogger, type BouncerOptions, type NormalizedOptions } from './options.ts';
import { BOUNCER_USER_AGENT } from './version.ts';
import { PullLoop } from './pull-loop.ts';
import { UsagePush } from './usage-push.ts';
import { acceptsJson, ALLOW, first, INVALID, isPromise, type HandleMode, type Outcome, type PushResult, type RequestView, type Verdict } from './verdict.ts';

export type { HandleMode, Outcome, PushResult, RequestView, Verdict, VerdictReason } from './verdict.ts';

/** A live-mode answer, kept until it expires. */
interface LiveEntry {
  decision: Decision | undefined;
  expiresAt: number;
}

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
  readonly #loop: PullLoop;
  readonly #usage: UsagePush;

  readonly startedAt: number;
  #live = new Map<string, LiveEntry>();
  #inflight = new Map<string, Promise<Verdict>>();

  constructor(options: BouncerOptions) {
    this.options = normalizeOptions(options);
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? stderrLogger;
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
    const shared = { options: this.options, client: this.#client, clock: this.#clock, log: this.#log, cache: this.cache, startedAt: this.startedAt };
    this.#usage = new UsagePush({ ...shared, counters: this.#counters, lastPullAt: () => this.#loop.lastSuccessAt });
    this.#loop = new PullLoop({
      ...shared,
      usage: this.#usage,
      onHealthChange: options.onHealthChange,
      pruneLive: (now) => {
        for (const [ip, entry] of this.#live) if (entry.expiresAt <= now) this.#live.delete(ip);
      },
    });
    if (options.autoStart !== false) this.start();
  }

  // ------------------------------------------------------------------ Local API (pull-loop.ts, usage-push.ts)

  /** Starts pulling (stream) or probing (live), and the usage-metrics push. Idempotent. */
  start(): void {
    this.#loop.start();
  }

  /** Stops the timers and waits for a pull in flight. The cache stays usable. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Resolves once the first pull (or live probe) has finished, successfully or not. */
  ready(): Promise<void> {
    return this.#loop.ready();
  }

  /** One stream pull now: the full set at start and after a failure, the delta otherwise. */
  pull(): Promise<void> {
    return this.#loop.pull();
  }

  /** The bouncer's own health (see health.ts). */
  health(): BouncerHealth {
    return this.#loop.health();
  }

  get healthy(): boolean {
    return this.health().healthy;
  }

  /** Pushes usage metrics now; a LAPI without the route (CrowdSec < 1.6.3) is backed off quietly. */
  pushUsageMetrics(): Promise<PushResult> {
    return this.#usage.push();
  }

  // ------------------------------------------------------------------ decisions

  /** Whether requests must be refused because the Local API cannot be reached and fail-closed is set. */
  #failingClosed(now: number): boolean {
    const lastSuccessAt = this.#loop.lastSuccessAt;
    return !this.options.failOpen && (lastSuccessAt === null || now - lastSuccessAt > this.options.unhealthyAfterMs);
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
      this.#loop.failed(e);
      return this.options.failOpen ? ALLOW : this.#failClosedVerdict();
    }
    const now = this.#clock.now();
    this.#loop.succeeded(now);
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
