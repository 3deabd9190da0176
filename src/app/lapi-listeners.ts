import { flushCompileCache } from 'node:module';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/config.ts';
import { formatListen } from '../lib/listen-address.ts';
import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import type { DecisionSync } from '../decisions/decision-sync.ts';
import type { ActivityRecorder } from '../server/activity.ts';
import type { BouncerAuth } from '../server/auth.ts';
import { createLapiApp } from '../server/lapi.ts';
import { BouncerGate } from '../server/bouncer-gate.ts';
import { createDecisionRoutes } from '../server/decision-routes.ts';
import { listenOn } from '../server/listen.ts';
import { createLapiListener } from '../server/tls-listener.ts';
import { guardListener, serverOptions } from '../server/limits.ts';
import { forwardedForResolver } from '../server/client-address.ts';
import { acceptProxyProtocol } from '../server/proxy-protocol-listener.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { createBodyGuard } from '../server/body-guard.ts';
import { MachineTokens } from '../server/machine-auth.ts';
import { createWatcherApp } from '../server/watcher/index.ts';
import { agentUsageHandler } from '../server/agent-usage.ts';
import type { StoreHealth } from '../server/store-health.ts';
import type { HealthEngine } from '../health/engine.ts';
import { LapiMetrics } from '../server/metrics.ts';
import { registerLoopMetrics } from '../server/metrics-loop.ts';
import { createAdminApp } from '../server/admin.ts';
import type { WebSurface } from '../web/surface.ts';
import type { Lifecycle } from './lifecycle.ts';
import { secret } from '../store/meta.ts';

/** What the listeners serve: the store and the parts started on it (app/serve.ts's startCore), plus the dashboard. */
export interface ListenerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  sync: DecisionSync;
  activity: ActivityRecorder;
  auth: BouncerAuth;
  storeHealth: StoreHealth;
  health: HealthEngine;
  web: WebSurface;
  lapiUrl: () => string;
}

/** The Local API listener (decision routes on node:http, the rest on Hono) and the metrics listener. */
export async function startListeners(life: Lifecycle, config: VigilConfig, deps: ListenerDeps): Promise<{ url: string; metricsUrl: string | null }> {
  const { store, clock, log, auth, activity, storeHealth, health } = deps;
  // Node's compile cache (bin/vigil.js) written now, before bouncers can pull: written once serve
  // listened, it held the event loop 55 ms (and a 40 ms collection after it) on a new version's
  // first start (issue 27 item 5). A no-op without the cache; what loads later is written at exit.
  flushCompileCache?.();
  const metrics = new LapiMetrics(store, clock, deps.sync, storeHealth, () => health.rules);
  health.evaluated.subscribe(() => metrics.evaluatedAt(clock.now()));
  // Whether any work holds the loop that answers bouncers (issue 27), on /metrics.
  await life.start(
    'event loop probe',
    () => registerLoopMetrics(metrics.registry, log),
    (stop) => stop(),
  );
  const admin = deps.web.adminOn
    ? createAdminApp({ store, clock, rules: health.rules, lapiUrl: deps.lapiUrl, sessionAuth: deps.web.adminAuth, log })
    : undefined;
  deps.web.attachAdmin(admin);
  const fingerprintSecret = await secret(store, 'fingerprint');
  const gate = await life.start(
    'bouncer gate',
    () => new BouncerGate({ clock, auth, activity, log, metrics, fingerprintSecret }),
    (g) => g.stop(),
  );
  // Built before the routes: on a TLS listener, client certificates stand for bouncers.
  let onRequest: http.RequestListener = () => {};
  const listener = createLapiListener(config.tls, serverOptions(config.limits), (req, res) => onRequest(req, res), { clock, log });
  onRequest = await routeLapiRequests(config, deps, { gate, metrics, admin, clientCerts: listener.clientCerts });
  const server = listener.server;
  // Timeouts and connection caps: slow or idle sockets must never keep a bouncer out (issue 15).
  const guard = guardListener(server, config.limits, { log, refused: metrics.connectionsRefused, shed: metrics.connectionsShed });
  trustProxies(server, config, guard.maxConnections, log);
  await life.start(
    'local api listener',
    () => listenOn(server, config.listen, 'listen', 'stop the other server or pick another with --listen'),
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would hold close() open; requests in flight still finish.
        server.closeIdleConnections();
      }),
  );
  const addr = server.address() as AddressInfo;
  const metricsServer = config.metricsListen
    ? await life.start(
        'metrics listener',
        () => metrics.listen(config.metricsListen!),
        (m) => m.close(),
      )
    : null;
  const scheme = config.tls ? 'https' : 'http';
  return { url: `${scheme}://${formatListen({ host: addr.address, port: addr.port })}`, metricsUrl: metricsServer?.url ?? null };
}

type ClientCerts = ReturnType<typeof createLapiListener>['clientCerts'];

/**
 * One Local API request, routed: the decision routes answer on node:http directly (the hot path);
 * the body guard then hands the rest to Hono (watchers, agents, admin, dashboard).
 */
async function routeLapiRequests(
  config: VigilConfig,
  deps: ListenerDeps,
  listener: { gate: BouncerGate; metrics: LapiMetrics; admin: Hono | undefined; clientCerts: ClientCerts },
): Promise<http.RequestListener> {
  const { store, clock, log, sync, activity, storeHealth, web } = deps;
  const { gate, metrics, admin, clientCerts } = listener;
  // The JWT key lives in the store: a token from one replica is honoured by the others.
  const machineTokens = new MachineTokens(await secret(store, 'jwt'), clock);
  const watchers = createWatcherApp({ store, clock, sync, activity, tokens: machineTokens, config: config.watcherApi, log, clientCerts });
  const app = createLapiApp({
    store,
    clock,
    activity,
    gate,
    log,
    metrics,
    admin: web.adminOn === 'lapi' ? admin : undefined,
    storeHealth,
    watchers,
    clientCerts,
    agentUsage: agentUsageHandler({ store, clock, activity, tokens: machineTokens }),
  });
  const decisionRoutes = createDecisionRoutes({
    store,
    sync,
    activity,
    gate,
    log,
    metrics,
    storeHealth,
    clientCerts,
    expiredKeptMs: config.flush.maxAgeMs,
  });
  // The body guard reads bodies (capped) and closes a connection whose body was left unread;
  // node-server would drain it (up to 64 MiB each).
  const honoListener = getRequestListener(web.onLapiListener(app.fetch), { autoCleanupIncoming: false });
  const bodyGuard = createBodyGuard({
    gate,
    onRefused: (reason) => metrics.bodiesRefused.inc({ reason }),
    machineToken: async (token) => (await machineTokens.check(token)).ok,
    clientCerts,
  });
  return (req, res) => {
    if (!decisionRoutes(req, res)) bodyGuard(req, res, () => void honoListener(req, res));
  };
}

/** Behind a load balancer: who the client is, before the guard counts it and the routes name it. */
function trustProxies(server: http.Server, config: VigilConfig, maxWaiting: number, log: Logger): void {
  const trustedProxies = new TrustedProxies(config.proxy.trustedProxies, 'api.trusted_proxies');
  if (config.proxy.useForwardedForHeaders) server.prependListener('request', forwardedForResolver(trustedProxies));
  if (config.proxy.proxyProtocol) {
    acceptProxyProtocol(server, { trusted: trustedProxies, headerTimeoutMs: config.limits.headerTimeoutMs, maxWaiting, log });
  }
}
