import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Bouncer } from '../core/model/records.ts';
import type { Clock } from '../lib/clock.ts';
import { parseUserAgent, type ParsedUserAgent } from '../core/bouncers/user-agent.ts';
import { probeOf } from '../core/bouncers/probe.ts';
import { hashApiKey, keyFingerprint } from '../core/bouncers/api-key.ts';
import { RefusalLog, REFUSAL_LOG_EVERY_MS } from './refusal-log.ts';
import { watchConnection } from './connection-watch.ts';
import type { ActivityRecorder } from './activity.ts';
import type { AuthResult, BouncerAuth } from './auth.ts';
import type { ClientCertVerdict } from '../core/tls/client-cert.ts';
import type { LapiMetrics } from './metrics.ts';
import type { ClientCertSource } from './client-cert.ts';
import type { StreamFilters } from '../core/health/enforcement.ts';
import { requestPeer } from './client-address.ts';

/** What the gate needs to know of a request, whatever serves it (Hono or the raw fast path). */
export interface GateRequest {
  method: string;
  path: string;
  apiKey: string | undefined;
  userAgent: string | undefined;
  peer: string;
  /**
   * The client certificate's verdict when the connection presented one (TLS listener): used
   * instead of the API key, as CrowdSec does (src/server/client-cert.ts).
   */
  clientCert?: ClientCertVerdict;
  /** The connection it came on: the bouncer closing it is a sign its process exited (connection-watch.ts). */
  socket?: Socket;
}

/**
 * The gate's view of a request, built once per request wherever it is served (the fast path, the
 * body guard, Hono): the path as routed, the first API key and User-Agent, the folded peer address,
 * and on a TLS listener the client certificate's verdict.
 */
export function gateRequestOf(req: IncomingMessage, method: string, path: string, clientCerts: ClientCertSource | undefined): GateRequest {
  return {
    method,
    path,
    apiKey: requestHeader(req, 'x-api-key'),
    userAgent: req.headers['user-agent'],
    peer: requestPeer(req),
    clientCert: clientCerts?.bouncer(req.socket),
    socket: req.socket,
  };
}

/**
 * A request header as Go's Header.Get (what CrowdSec reads) sees it: the first value when the header
 * is repeated. node:http joins repeated custom headers with ", " in `req.headers` (built for every
 * request anyway), so only then is the raw list read.
 */
function requestHeader(req: IncomingMessage, lowerName: string): string | undefined {
  const joined = req.headers[lowerName];
  if (typeof joined !== 'string' || !joined.includes(',')) return joined as string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/**
 * How a request moves the bouncer's record: `stream` pulls record themselves (with the revision
 * served), `live` queries refresh the last pull at most once a minute, `none` is a sign of life only.
 */
export type PullKind = 'stream' | 'live' | 'none';

/** `probe`: the key was accepted for someone checking it (doctor, curl), not the bouncer: nothing about it is recorded but the probe. */
/** `userAgent`: the request's User-Agent as parsed once by the gate (absent for a HEAD or a probe, which record none). */
export type GateResult = { ok: true; bouncer: Bouncer; at: number; probe?: boolean; userAgent?: ParsedUserAgent } | { ok: false; at: number };

export interface BouncerGateDeps {
  clock: Clock;
  auth: BouncerAuth;
  activity: ActivityRecorder;
  log: Logger;
  fingerprintSecret: Buffer;
  metrics?: LapiMetrics;
}

/** CrowdSec's GET /v1/decisions refreshes last_pull at most once a minute (docs/reference/crowdsec-wire-protocol.md §2). */
const LIVE_PULL_REFRESH_MS = 60_000;

/**
 * Authenticates a bouncer request and records what it says about the bouncer (last request, IP,
 * User-Agent, live pulls, stream pulls once served): the one place a bouncer's requests are
 * recorded, the User-Agent parsed once per request; a refused key is recorded with its reason and a fingerprint, never the key.
 */
export class BouncerGate {
  #deps: BouncerGateDeps;
  // CrowdSec logs this on every request; at 1,000 requests/s that is a log flood, so once a minute per bouncer.
  #badUaWarnings = new PerKeyThrottle(60_000);
  #userAgents = new UserAgentMemo();
  // One warn line per refused request was 14.5 MB for a 100k-key flood: first per address, then sums.
  #refusals: RefusalLog;
  #refusalTimer: NodeJS.Timeout;

  constructor(deps: BouncerGateDeps) {
    this.#deps = deps;
    this.#refusals = new RefusalLog(deps.log);
    // The sum is written even when the flood stops; the request path writes it too, by the Clock.
    this.#refusalTimer = setInterval(() => this.#refusals.flush(deps.clock.now()), REFUSAL_LOG_EVERY_MS);
    this.#refusalTimer.unref();
  }

  /** Writes what the refusal log summed so far and stops its timer (server close). */
  stop(): void {
    clearInterval(this.#refusalTimer);
    this.#refusals.flush(this.#deps.clock.now());
  }

  /**
   * Records a request that reached no route (a wrong api_url). A key it carries is looked up, so
   * a bouncer's own key sent to a wrong path is recorded as its own: the health engine then
   * blames its configuration with certainty, whatever address it came from.
   */
  async misrouted(req: GateRequest): Promise<void> {
    const at = this.#deps.clock.now();
    let owner = '';
    let fingerprint = '';
    if (req.apiKey) {
      // As a HEAD: naming the owner must not claim or create a row.
      const result = await this.#deps.auth.authenticate(req.apiKey, req.peer, 'HEAD');
      owner = result.ok ? result.bouncer.name : (result.bouncer?.name ?? '');
      fingerprint = keyFingerprint(this.#deps.fingerprintSecret, result.ok ? result.bouncer.apiKeyHash : result.keyHash || hashApiKey(req.apiKey));
    }
    this.#deps.activity.refused({
      at,
      peerIp: req.peer,
      userAgent: req.userAgent ?? '',
      method: req.method,
      path: req.path,
      reason: 'wrong-path',
      keyFingerprint: fingerprint,
      bouncerName: owner,
    });
  }

  /** Authenticates and records the request. */
  async admit(req: GateRequest, pull: PullKind): Promise<GateResult> {
    const at = this.#deps.clock.now();
    const cert = req.clientCert;
    if (cert !== undefined) {
      const result = cert.ok ? await this.#deps.auth.authenticateTls(`${cert.cn}@${req.peer}`, req.peer) : certRefusal(cert.reason);
      return this.#decide(req, pull, result, at);
    }
    return this.#decide(req, pull, await this.#deps.auth.authenticate(req.apiKey, req.peer, req.method), at);
  }

  /**
   * `admit` when the key's answer is already known (cached within a second), else undefined and the
   * caller awaits `admit`: a bouncer pulling steadily is answered without a promise.
   */
  admitNow(req: GateRequest, pull: PullKind): GateResult | undefined {
    const cert = req.clientCert;
    const result =
      cert === undefined
        ? this.#deps.auth.cached(req.apiKey, req.peer, req.method)
        : cert.ok
          ? this.#deps.auth.cachedTls(`${cert.cn}@${req.peer}`)
          : certRefusal(cert.reason);
    return result === undefined ? undefined : this.#decide(req, pull, result, this.#deps.clock.now());
  }

  #decide(req: GateRequest, pull: PullKind, result: AuthResult, at: number): GateResult {
    const { activity, log, metrics } = this.#deps;
    if (!result.ok) {
      activity.refused({
        at,
        peerIp: req.peer,
        userAgent: req.userAgent ?? '',
        method: req.method,
        path: req.path,
        reason: result.reason,
        keyFingerprint: result.keyHash ? keyFingerprint(this.#deps.fingerprintSecret, result.keyHash) : '',
        bouncerName: result.bouncer?.name ?? '',
      });
      metrics?.refused.inc({ reason: result.reason });
      this.#refusals.note(at, { ip: req.peer, reason: result.reason, path: req.path, bouncer: result.bouncer?.name });
      return { ok: false, at };
    }
    const b = result.bouncer;
    // Only a bouncer's own traffic is life (issue 24): a diagnosis is evidence, never a sign of life.
    const probe = probeOf(req.method, req.userAgent, b.type);
    if (probe !== null) {
      activity.probe({ bouncerId: b.id, at, userAgent: probe.userAgent, peerIp: req.peer, method: req.method, path: req.path });
      return { ok: true, bouncer: b, at, probe: true };
    }
    if (req.socket) watchConnection(req.socket, b.id, (id) => activity.clientClosed(id, this.#deps.clock.now()));
    if (req.method === 'HEAD') {
      // HEAD checks the key: a sign of life (last request), never a pull. CrowdSec 1.4.6 moves the
      // last pull on HEAD /v1/decisions/stream and takes type/version from a HEAD's User-Agent
      // (seen by `vigil doctor`'s tests); Vigil does not, so a key check (doctor, a probe) can never
      // make a silent bouncer look like it pulled. docs/local-api.md, compatibility table. Nor does
      // it move the row's address: with a shared key, a HEAD from elsewhere is not that instance (1.6.4+).
      activity.request(b, at, undefined, undefined);
      return { ok: true, bouncer: b, at };
    }
    const ua = this.#userAgents.parse(req.userAgent);
    if (!ua.wellFormed && this.#badUaWarnings.allow(b.id, at)) {
      log.warn({ ip: req.peer, name: b.name }, `bad user agent '${req.userAgent ?? ''}' (logged once a minute per bouncer)`);
    }
    // A stream pull is recorded once served, with the revision it served (`pulled`).
    if (pull !== 'stream') {
      const cursor = activity.cursor(b);
      const refresh = pull === 'live' && (cursor.lastPullAt === null || at - cursor.lastPullAt >= LIVE_PULL_REFRESH_MS);
      activity.request(b, at, req.peer, ua, refresh ? { rev: cursor.lastPullRev ?? 0 } : undefined);
    }
    return { ok: true, bouncer: b, at, userAgent: ua };
  }

  /**
   * A stream pull served at revision `rev` with these filters: moves the bouncer's cursor. A probe's
   * pull (doctor, curl) is answered from the cursor and moves nothing of it.
   */
  pulled(admitted: GateResult & { ok: true }, req: GateRequest, rev: number, filters: StreamFilters): void {
    if (admitted.probe) return;
    const { activity } = this.#deps;
    const { bouncer: b, at } = admitted;
    activity.request(b, at, req.peer, admitted.userAgent ?? this.#userAgents.parse(req.userAgent), { rev, stream: true });
    activity.streamFilters(b, at, filters);
  }
}

function certRefusal(reason: `tls:${string}`): AuthResult {
  return { ok: false, reason, keyHash: '' };
}

/** parseUserAgent, remembered: a fleet sends a handful of distinct User-Agents, over and over. */
class UserAgentMemo {
  #parsed = new Map<string, ParsedUserAgent>();
  parse(ua: string | undefined): ParsedUserAgent {
    if (ua === undefined) return parseUserAgent(ua);
    let p = this.#parsed.get(ua);
    if (p === undefined) {
      // Bounded: anyone with a valid key could send a new User-Agent per request.
      if (this.#parsed.size >= 1000) this.#parsed.clear();
      this.#parsed.set(ua, (p = parseUserAgent(ua)));
    }
    return p;
  }
}

/** Lets an event through at most once per period per key (bounded: forgets everything past 10k keys). */
class PerKeyThrottle {
  #last = new Map<number, number>();
  #periodMs: number;
  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }
  allow(key: number, now: number): boolean {
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#periodMs && now >= last) return false;
    if (this.#last.size >= 10_000) this.#last.clear();
    this.#last.set(key, now);
    return true;
  }
}
