import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import type { Store } from '../store/store.ts';
import type { Bouncer } from '../core/model/records.ts';
import type { Clock } from '../lib/clock.ts';
import { installErrorHandler } from '../lib/http-errors.ts';
import type { ActivityRecorder } from './activity.ts';
import { gateRequestOf, type BouncerGate, type PullKind } from './bouncer-gate.ts';
import type { GuardedRequest } from './body-guard.ts';
import { ADMIN_MOUNT, assertInRouteTable, METHOD_NOT_ALLOWED } from './routes.ts';
import type { LapiMetrics } from './metrics.ts';
import { parseBouncerUsageMetrics } from './usage-metrics.ts';
import { isAgentRequest } from './agent-usage.ts';
import { storeLost, type StoreHealth, type StoreState } from './store-health.ts';
import { isDiskFull } from '../lib/disk-full.ts';
import type { ClientCertSource } from './client-cert.ts';
import { recordUsageMetrics } from '../store/usage-metrics.ts';

/** The `Server` header of `/health`: how `vigil watch` tells Vigil from CrowdSec on the Local API's address. */
export const VIGIL_SERVER_HEADER = 'Vigil';

export interface LapiDeps {
  store: Store;
  clock: Clock;
  activity: ActivityRecorder;
  gate: BouncerGate;
  log: Logger;
  metrics?: LapiMetrics;
  /** Mounted under /admin/v1 (JSON, admin token). */
  admin?: Hono;
  /** The store's health: /health says when it is degraded or lost; a lost store acknowledges no write; a full one is noted. */
  storeHealth?: Pick<StoreHealth, 'state' | 'lost' | 'diskFull' | 'wrote'>;
  /** The watcher (machine) routes (watcher/index.ts). */
  watchers?: Hono<Env>;
  /** On a TLS listener: client certificates stand for bouncers (usage metrics), as on the decision routes. */
  clientCerts?: ClientCertSource;
  /** Agents' usage reports (agent-usage.ts); without it, only bouncers' are taken. */
  agentUsage?: (c: Context<Env>) => Promise<Response>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const FORBIDDEN = '{"message":"access forbidden"}';
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const STORE_LOST = JSON.stringify({ message: storeLost().message });

/** CrowdSec's `{"status":"up"}` while the store is well; what is wrong with it otherwise (README "Security and limits"). */
export function healthBody(state: StoreState): string {
  if (state.store === 'up') return '{"status":"up"}';
  // "unreachable" is the original degraded answer, kept as it was.
  if (state.store === 'degraded' && state.reason === 'unreachable') return '{"status":"up","store":"degraded"}';
  return JSON.stringify({ status: 'up', store: state.store, reason: state.reason });
}

/** What @hono/node-server hands every route: the node:http request (as the body guard left it). */
export type Env = { Bindings: { incoming: GuardedRequest } };

/**
 * The Local API's less travelled routes, wire-compatible with CrowdSec 1.4.6 (docs/reference/crowdsec-wire-protocol.md §4, §7):
 * /health, usage metrics, CrowdSec's status quirks (trailing slash, 404, 405) and the admin API.
 * The hot decision routes are served before this app, on node:http (decision-routes.ts).
 */
export function createLapiApp(deps: LapiDeps): Hono<Env> {
  const { gate, log } = deps;
  const app = new Hono<Env>();
  const metrics = deps.metrics;
  if (metrics) countRequests(app, metrics);

  const json = (c: Context, body: string, status: 200 | 400 | 403 | 413 | 422 | 500 | 503 = 200) => c.body(body, status, { 'Content-Type': JSON_TYPE });

  const storeHealth = deps.storeHealth;
  if (storeHealth) guardStoreWrites(app, storeHealth);

  /**
   * Authenticates and records the request (unless the body guard already did, before reading the
   * body), then hands the bouncer over; answers 403 itself.
   */
  async function withBouncer(c: Context<Env>, pull: PullKind, run: (b: Bouncer, at: number) => Promise<Response> | Response) {
    const incoming = c.env.incoming;
    const admitted = incoming.admitted ?? (await gate.admit(gateRequestOf(incoming, c.req.method, c.req.path, deps.clientCerts), pull));
    if (!admitted.ok) return json(c, FORBIDDEN, 403);
    return run(admitted.bouncer, admitted.at);
  }

  installErrorHandler(app, log, 'Local API');
  app.notFound(async (c) => {
    // A bouncer with a wrong api_url (`//v1/…`, `/decisions`, `/v1/decision`) lands here; keep a
    // trace so the health engine can name that cause. Scanners without a key and without
    // "decision" in the path are not worth a row.
    const key = c.req.header('x-api-key');
    if (key || /decision/i.test(c.req.path)) {
      metrics?.refused.inc({ reason: 'wrong-path' });
      await gate.misrouted(gateRequestOf(c.env.incoming, c.req.method, c.req.path, undefined));
    }
    return c.body(null, 404);
  });

  // CrowdSec's answer, byte for byte, while the store answers. Without it this server still serves
  // decisions from memory, so it stays 200 (a load balancer must not take every replica out
  // because their shared PostgreSQL is down); the body says the store is degraded.
  // The Server header tells a `vigil watch` left on this address that Vigil, not CrowdSec, serves it.
  app.get('/health', (c) => {
    c.header('Server', VIGIL_SERVER_HEADER);
    return json(c, healthBody(storeHealth?.state() ?? { store: 'up' }));
  });
  if (deps.admin) app.route(ADMIN_MOUNT, deps.admin);
  if (deps.watchers) app.route('/', deps.watchers);

  // Gin redirects a trailing slash; some bouncer configs produce it (docs/reference/crowdsec-wire-protocol.md §4 "Other status quirks").
  app.get('/v1/decisions/', (c) =>
    c.body('<a href="/v1/decisions">Moved Permanently</a>.\n\n', 301, {
      Location: '/v1/decisions',
      'Content-Type': 'text/html; charset=utf-8',
    }),
  );

  // CrowdSec 1.6.3+: bouncers report what they did. A report is a sign of life (it does not move
  // the last pull, as in CrowdSec): the health engine counts it for live-mode bouncers.
  // The bytes as sent are capped by the body guard (the route table's cap); the parser caps them once inflated.
  app.post('/v1/usage-metrics', (c) =>
    // CrowdSec's eitherAuthMiddleware: an API key is a bouncer's, a JWT (or `crowdsec/` User-Agent) an agent's.
    deps.agentUsage && isAgentRequest(c)
      ? deps.agentUsage(c)
      : withBouncer(c, 'none', async (b, at) => {
          const parsed = parseBouncerUsageMetrics(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-encoding'));
          if (!parsed.ok) return json(c, JSON.stringify({ message: parsed.message }), parsed.status);
          await recordUsageMetrics(deps.store, b.id, at, parsed.report);
          return c.body(null, 201);
        }),
  );
  // CrowdSec's 405s (routes.ts METHOD_NOT_ALLOWED), last: a path's real routes match first.
  for (const [methods, paths] of METHOD_NOT_ALLOWED) app.on([...methods], [...paths], (c) => c.body(null, 405));

  assertInRouteTable(app.routes);
  return app;
}

/** Every request of this app counted by route, method and status. */
function countRequests(app: Hono<Env>, metrics: LapiMetrics): void {
  app.use('*', async (c, next) => {
    await next();
    metrics.requests.inc({ route: c.req.routePath, method: c.req.method, status: String(c.res.status) });
  });
}

/** Writes refused while the store is lost; a full disk and a write that succeeded reported to the store's health. */
function guardStoreWrites(app: Hono<Env>, storeHealth: NonNullable<LapiDeps['storeHealth']>): void {
  app.use('*', async (c, next) => {
    // A lost store (file deleted or replaced): no write may be acknowledged, it would vanish with the orphaned file.
    if (storeHealth.lost && !READ_METHODS.has(c.req.method)) return c.body(STORE_LOST, 503, { 'Content-Type': JSON_TYPE, 'Retry-After': '60' });
    await next();
    // A write refused for lack of space (answered 507 by the error handler): /health and /metrics say so.
    if (c.error && isDiskFull(c.error)) storeHealth.diskFull(c.error);
    else if (!READ_METHODS.has(c.req.method) && c.res.status < 300) storeHealth.wrote();
  });
}
