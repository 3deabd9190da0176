import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { Bouncer, Decision } from '../store/types.ts';
import type { Clock } from '../clock.ts';
import { isVigilError } from '../errors.ts';
import { parseUserAgent } from '../bouncers/user-agent.ts';
import { hashApiKey, keyFingerprint } from '../bouncers/api-key.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import { lookupLive } from '../decisions/live-lookup.ts';
import { matchesStream, parseLiveQuery, parseStreamQuery } from '../decisions/query.ts';
import { decisionsJson, streamJson } from '../decisions/wire.ts';
import type { ActivityRecorder } from './activity.ts';
import type { BouncerAuth } from './auth.ts';
import type { LapiMetrics } from './metrics.ts';
import { parseUsageMetrics, USAGE_METRICS_MAX_BYTES } from './usage-metrics.ts';

export interface LapiDeps {
  store: Store;
  clock: Clock;
  sync: DecisionSync;
  auth: BouncerAuth;
  activity: ActivityRecorder;
  log: Logger;
  /** Secret for refused-key fingerprints. */
  fingerprintSecret: Buffer;
  metrics?: LapiMetrics;
  /** Mounted under /admin/v1 (JSON, admin token). */
  admin?: Hono;
}

/** The peer address of the TCP connection, IPv4-mapped IPv6 folded to IPv4 (as CrowdSec shows it). */
export type PeerAddress = (c: Context) => string;

const JSON_TYPE = 'application/json; charset=utf-8';
const FORBIDDEN = '{"message":"access forbidden"}';
/** CrowdSec's GET /v1/decisions refreshes last_pull at most once a minute (reference §2). */
const LIVE_PULL_REFRESH_MS = 60_000;
/** Deltas re-send deletions from 2 s before the last pull, as CrowdSec does (reference §4). */
const DELETED_OVERLAP_MS = 2_000;

type Env = { Bindings: { incoming?: { socket?: { remoteAddress?: string } } } };

export function peerAddressOf(c: Context<Env>): string {
  const raw = c.env?.incoming?.socket?.remoteAddress ?? '';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}

/**
 * The bouncer-facing Local API, wire-compatible with CrowdSec 1.4.6 (reference §4, §7). Where it
 * deliberately differs (400 for a malformed ip, revoked keys refused) the README's compatibility
 * table says so.
 */
export function createLapiApp(deps: LapiDeps): Hono<Env> {
  const { clock, sync, auth, activity, log } = deps;
  const app = new Hono<Env>();
  const metrics = deps.metrics;
  if (metrics) {
    app.use('*', async (c, next) => {
      await next();
      metrics.requests.inc({ route: c.req.routePath, method: c.req.method, status: String(c.res.status) });
    });
  }

  const json = (c: Context, body: string, status: 200 | 400 | 403 | 413 | 422 | 500 = 200) =>
    c.body(body, status, { 'Content-Type': JSON_TYPE });

  /** Authenticates, records the request and hands the bouncer over; answers 403 itself. */
  async function withBouncer(c: Context<Env>, pull: 'stream' | 'live' | 'none', run: (b: Bouncer, at: number) => Promise<Response> | Response) {
    const at = clock.now();
    const peer = peerAddressOf(c);
    const key = c.req.header('x-api-key');
    const result = await auth.authenticate(key);
    if (!result.ok) {
      activity.refused({
        at,
        peerIp: peer,
        userAgent: c.req.header('user-agent') ?? '',
        method: c.req.method,
        path: c.req.path,
        reason: result.reason,
        keyFingerprint: result.keyHash ? keyFingerprint(deps.fingerprintSecret, result.keyHash) : '',
        bouncerName: result.bouncer?.name ?? '',
      });
      metrics?.refused.inc({ reason: result.reason });
      log.warn({ ip: peer, reason: result.reason, path: c.req.path, bouncer: result.bouncer?.name }, 'refused bouncer request');
      // Same status and body for missing, unknown and revoked keys, as CrowdSec (reference §7.3).
      return c.req.method === 'HEAD' ? c.body(null, 403, { 'Content-Type': JSON_TYPE, 'Content-Length': '30' }) : json(c, FORBIDDEN, 403);
    }
    const b = result.bouncer;
    const ua = parseUserAgent(c.req.header('user-agent'));
    if (!ua.wellFormed && c.req.method !== 'HEAD') log.warn({ ip: peer, name: b.name }, `bad user agent '${c.req.header('user-agent') ?? ''}'`);
    if (c.req.method === 'HEAD') {
      // HEAD checks the key only: no last pull, no type/version (CrowdSec does the same), but it is a sign of life.
      activity.request(b, at, peer, undefined);
      // Hono answers HEAD through the GET route; reply here: 200 text/plain, no body, no Content-Length (reference §4).
      c.header('Content-Type', 'text/plain; charset=utf-8');
      return c.body(null, 200);
    } else if (pull === 'stream') {
      // The stream handler records the pull itself, with the revision it served.
    } else {
      const cursor = activity.cursor(b);
      const refresh = pull === 'live' && (cursor.lastPullAt === null || at - cursor.lastPullAt >= LIVE_PULL_REFRESH_MS);
      activity.request(b, at, peer, ua, refresh ? { rev: cursor.lastPullRev ?? 0 } : undefined);
    }
    return run(b, at);
  }

  app.onError((err, c) => {
    if (isVigilError(err)) return json(c, JSON.stringify({ message: err.message }), 400);
    log.error({ err }, 'request failed');
    return json(c, JSON.stringify({ message: 'internal error' }), 500);
  });
  app.notFound((c) => {
    // A bouncer with a wrong api_url (`//v1/…`, `/decisions`, `/v1/decision`) lands here; keep a
    // trace so the health engine can name that cause. Scanners without a key and without
    // "decision" in the path are not worth a row.
    const key = c.req.header('x-api-key');
    if (key || /decision/i.test(c.req.path)) {
      metrics?.refused.inc({ reason: 'wrong-path' });
      activity.refused({
        at: clock.now(),
        peerIp: peerAddressOf(c),
        userAgent: c.req.header('user-agent') ?? '',
        method: c.req.method,
        path: c.req.path,
        reason: 'wrong-path',
        keyFingerprint: key ? keyFingerprint(deps.fingerprintSecret, hashApiKey(key)) : '',
        bouncerName: '',
      });
    }
    return c.body(null, 404);
  });

  app.get('/health', (c) => json(c, '{"status":"up"}'));
  if (deps.admin) app.route('/admin/v1', deps.admin);

  app.get('/v1/decisions', (c) =>
    withBouncer(c, 'live', (_b, at) => {
      const q = parseLiveQuery(new URL(c.req.url).searchParams);
      return json(c, decisionsJson(lookupLive(sync.index, q, at), at));
    }),
  );

  app.get('/v1/decisions/stream', (c) =>
    withBouncer(c, 'stream', async (b, at) => {
      const q = parseStreamQuery(new URL(c.req.url).searchParams);
      const peer = peerAddressOf(c);
      const ua = parseUserAgent(c.req.header('user-agent'));
      // Read the revision first: anything committed after it is sent next time (perhaps twice, never lost).
      const rev = await deps.store.decisionsRev();
      const cursor = activity.cursor(b);
      let added: Decision[];
      let deleted: Decision[];
      if (q.startup || cursor.lastPullRev === null || cursor.lastPullAt === null) {
        added = await deps.store.activeDecisions(at);
        deleted = await deps.store.expiredDecisions(at);
      } else {
        const changed = await deps.store.decisionsChangedSince(cursor.lastPullRev);
        added = changed.filter((d) => d.until > at);
        const expired = await deps.store.expiredDecisions(at, cursor.lastPullAt - DELETED_OVERLAP_MS);
        const seen = new Set(expired.map((d) => d.id));
        deleted = expired.concat(changed.filter((d) => d.until <= at && !seen.has(d.id)));
        added.sort(byUntilThenId);
        deleted.sort(byUntilThenId);
      }
      added = added.filter((d) => !d.simulated && matchesStream(d, q));
      deleted = deleted.filter((d) => !d.simulated && matchesStream(d, q));
      activity.request(b, at, peer, ua, { rev, stream: true });
      return json(c, streamJson(deleted, added, at));
    }),
  );

  // Gin redirects a trailing slash; some bouncer configs produce it (reference §4 "Other status quirks").
  app.get('/v1/decisions/', (c) =>
    c.body('<a href="/v1/decisions">Moved Permanently</a>.\n\n', 301, {
      Location: '/v1/decisions',
      'Content-Type': 'text/html; charset=utf-8',
    }),
  );
  app.on(['POST', 'PUT', 'PATCH'], ['/v1/decisions', '/v1/decisions/stream'], (c) => c.body(null, 405));

  // CrowdSec 1.6.3+: bouncers report what they did. A report is a sign of life (it does not move
  // the last pull, as in CrowdSec): the health engine counts it for live-mode bouncers.
  const usageBodyLimit = bodyLimit({
    maxSize: USAGE_METRICS_MAX_BYTES,
    // The rest of the body is never read: close the connection so a client does not reuse it mid-body.
    onError: (c) =>
      c.body(JSON.stringify({ message: `body: larger than ${USAGE_METRICS_MAX_BYTES} bytes; send one report per push` }), 413, {
        'Content-Type': JSON_TYPE,
        Connection: 'close',
      }),
  });
  app.post('/v1/usage-metrics', usageBodyLimit, (c) =>
    withBouncer(c, 'none', async (b, at) => {
      const parsed = parseUsageMetrics(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-encoding'));
      if (!parsed.ok) return json(c, JSON.stringify({ message: parsed.message }), parsed.status);
      await deps.store.recordUsageMetrics(b.id, at, parsed.report);
      return c.body(null, 201);
    }),
  );
  app.on(['GET', 'PUT', 'PATCH', 'DELETE'], '/v1/usage-metrics', (c) => c.body(null, 405));

  return app;
}

function byUntilThenId(a: Decision, b: Decision): number {
  return a.until - b.until || a.id - b.id;
}
