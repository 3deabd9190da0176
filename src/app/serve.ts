import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import { createLogger } from '../lib/logger.ts';

/** Re-exported: tests and embedders start a server and its logger from here. */
export { createLogger };
import { healthRules, type VigilConfig } from '../config/config.ts';
import { formatListen } from '../lib/listen-address.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { Store } from '../store/store.ts';
import { DecisionSync } from '../decisions/decision-sync.ts';
import { ActivityRecorder } from '../server/activity.ts';
import { BouncerAuth } from '../server/auth.ts';
import { createLapiApp } from '../server/lapi.ts';
import { BouncerGate } from '../server/bouncer-gate.ts';
import { createDecisionRoutes } from '../server/decision-routes.ts';
import { listenOn } from '../server/listen.ts';
import { createLapiListener } from '../server/tls-listener.ts';
import { guardListener, serverOptions } from '../server/limits.ts';
import { createBodyGuard } from '../server/body-guard.ts';
import { MachineTokens } from '../server/machine-auth.ts';
import { createWatcherApp } from '../server/watcher-routes.ts';
import { StoreHealth } from '../server/store-health.ts';
import { HealthEngine } from '../health/engine.ts';
import { LapiAlive } from '../health/lapi-alive.ts';
import { LapiMetrics } from '../server/metrics.ts';
import { createAdminApp } from '../server/admin.ts';
import { startNotifications, type Notifications } from '../notify/start.ts';
import { createWebSurface, type WebSurface } from '../web/surface.ts';
import { CanaryRunner } from '../canary/runner.ts';
import { DriftObserver } from '../canary/drift.ts';

/** How often drift is checked against the latest usage-metrics reports (bouncers report every 30 min by default). */
const DRIFT_OBSERVE_EVERY_MS = 30_000;

export interface RunningServer {
  /** `http://HOST:PORT` (`https://` with `tls:`) actually bound (port 0 resolved). */
  url: string;
  /** Prometheus endpoint, when enabled. */
  metricsUrl: string | null;
  store: Store;
  sync: DecisionSync;
  activity: ActivityRecorder;
  health: HealthEngine;
  /** Notification planning and delivery (a no-op without channels). */
  notifications: Notifications;
  /** The admin API and dashboard (admin_listen); `dashboardUrl` is null when off. */
  web: WebSurface;
  /** Canaries (`canaries:`) and drift observations: proof of enforcement (docs/canaries.md). */
  canaries: CanaryRunner;
  drift: DriftObserver;
  /** Stop accepting, finish requests in flight, write what is buffered, close the store. */
  close(): Promise<void>;
}

export async function startServer(
  config: VigilConfig,
  opts: {
    clock?: Clock;
    log?: Logger;
    env?: NodeJS.ProcessEnv;
    /** Creates the dashboard password on first start and hands it over to be printed once (`vigil serve`). */
    firstStartPassword?: (password: string, dashboardUrl: string) => void;
  } = {},
): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.logLevel);
  const store = await Store.open(config.db, {
    role: 'serve',
    source: config.dbSource,
    timeoutMs: config.limits.storeTimeoutMs,
    checkpointInBackground: true,
    onWarning: (message) => log.warn(message),
  });
  if (store.created) log.info({ store: store.description }, `created a new store at ${store.description.replace(/^sqlite:/, '')}`);
  // Store failures are logged when the store goes down and when it is back, not once per call.
  const storeHealth = new StoreHealth({ log, probe: () => store.decisionsRev() });
  const sync = new DecisionSync(store, clock);
  sync.onError = (e) => storeHealth.failed(e);
  await sync.start(config.decisionsSyncEveryMs);
  const activity = new ActivityRecorder(store);
  activity.onError = (e) => {
    if (storeHealth.up) log.error({ err: e }, 'writing bouncer activity failed; will retry');
    storeHealth.failed(e);
  };
  activity.onIpChange = (b, oldIp, newIp) => log.warn({ bouncer: b.name }, `new IP address detected for bouncer '${b.name}': ${newIp} (old: ${oldIp})`);
  activity.start(config.activityFlushEveryMs);
  const auth = new BouncerAuth(store, clock, undefined, storeHealth);
  auth.start();
  // CrowdSec's line (key sharing, client certificates: docs/reference/crowdsec-1.6-1.7.md §1, §2).
  auth.onCreated = (b) => log.info({ bouncer: b.name, ip: b.ipAddress, auth_type: b.authType }, `Creating bouncer ${b.name}`);
  // This run, marked alive as it goes: silences that begin at a restart are explained by it, and the time no run was alive is nobody's silence.
  const alive = await LapiAlive.start(store, clock);
  alive.onError = (e) => storeHealth.failed(e);
  const health = new HealthEngine(store, clock, healthRules(config.health), { canaries: config.canaries });
  health.onError = (e) => log.error({ err: e }, 'health evaluation failed');
  health.onResult = ({ opened, resolved, escalated }) => {
    for (const i of opened) log.warn({ issue: i.id, kind: i.kind, bouncer: i.bouncerName, criticality: i.criticality }, `issue opened: ${i.summary}`);
    for (const i of escalated) log.warn({ issue: i.id, kind: i.kind, bouncer: i.bouncerName, criticality: i.criticality }, `issue now ${i.kind}: ${i.summary}`);
    for (const i of resolved) log.info({ issue: i.id, kind: i.kind, bouncer: i.bouncerName }, `issue resolved: ${i.kind} ${i.subject}`);
  };
  const metrics = new LapiMetrics(store, clock, sync, storeHealth);
  const scheme = config.tls ? 'https' : 'http';
  let boundUrl = `${scheme}://${formatListen(config.listen)}`;
  // Refuses a bad channel before anything listens; queues what a crash left unannounced.
  const notifications = await startNotifications({ store, clock, log, config, engine: health, lapiUrl: () => `${boundUrl}/`, env: opts.env }).catch(
    async (e) => {
      sync.stop();
      auth.stop();
      await activity.stop();
      await alive.stop();
      await store.close();
      throw e;
    },
  );
  const web = await createWebSurface({
    config,
    store,
    clock,
    rules: health.rules,
    sync,
    log,
    lapiUrl: () => `${boundUrl}/`,
    firstStartPassword: opts.firstStartPassword,
  });
  const admin = web.adminOn ? createAdminApp({ store, clock, rules: health.rules, lapiUrl: () => `${boundUrl}/`, sessionAuth: web.adminAuth, log }) : undefined;
  web.attachAdmin(admin);
  const fingerprintSecret = await store.secret('fingerprint');
  const gate = new BouncerGate({ clock, auth, activity, log, metrics, fingerprintSecret });
  // Built before the routes: on a TLS listener, client certificates stand for bouncers.
  let onRequest: http.RequestListener = () => {};
  const listener = createLapiListener(config.tls, serverOptions(config.limits), (req, res) => onRequest(req, res), { clock, log });
  const clientCerts = listener.clientCerts;
  // The JWT key lives in the store: a token from one replica is honoured by the others.
  const machineTokens = new MachineTokens(await store.secret('jwt'), clock);
  const watchers = createWatcherApp({ store, clock, sync, activity, tokens: machineTokens, config: config.watcherApi, log, clientCerts });
  const app = createLapiApp({
    store,
    clock,
    activity,
    gate,
    log,
    metrics,
    admin: web.adminOn === 'lapi' ? admin : undefined,
    storeUp: () => storeHealth.up,
    watchers,
    clientCerts,
  });
  const decisionRoutes = createDecisionRoutes({ store, sync, activity, gate, log, metrics, storeHealth, clientCerts });
  // The body guard reads bodies (capped) and closes a connection whose body was left unread;
  // node-server would drain it (up to 64 MiB each).
  const honoListener = getRequestListener(web.onLapiListener(app.fetch), { autoCleanupIncoming: false });
  const bodyGuard = createBodyGuard({
    gate,
    onRefused: (reason) => metrics.bodiesRefused.inc({ reason }),
    machineToken: async (token) => (await machineTokens.check(token)).ok,
  });

  // The decision routes answer on node:http directly (the hot path); Hono serves the rest.
  const server = listener.server;
  onRequest = (req, res) => {
    if (!decisionRoutes(req, res)) bodyGuard(req, res, () => void honoListener(req, res));
  };
  // Timeouts and connection caps: slow or idle sockets must never keep a bouncer out (issue 15).
  guardListener(server, config.limits, { log, refused: metrics.connectionsRefused });
  await listenOn(server, config.listen, 'listen', 'stop the other server or pick another with --listen');
  const addr = server.address() as AddressInfo;
  let metricsServer: { url: string; close(): Promise<void> } | undefined;
  if (config.metricsListen) {
    try {
      metricsServer = await metrics.listen(config.metricsListen);
    } catch (e) {
      server.close();
      throw e;
    }
  }
  if (config.health.evaluateEveryMs > 0) health.start(config.health.evaluateEveryMs);
  // Proof of enforcement: each canary run, and each new drift observation, is evaluated at once.
  const canaries = new CanaryRunner({
    store,
    clock,
    log,
    canaries: config.canaries,
    sync,
    lastPullSeen: (b) => activity.cursor(b).lastPullAt,
    afterRun: () => health.evaluateNow().catch((e) => log.error({ err: e }, 'health evaluation failed')),
  });
  canaries.start();
  const drift = new DriftObserver(store, clock);
  drift.onError = (e) => log.error({ err: e }, 'drift observation failed');
  drift.onObserved = () => health.evaluateNow().catch((e) => log.error({ err: e }, 'health evaluation failed'));
  drift.start(DRIFT_OBSERVE_EVERY_MS);
  const url = `${scheme}://${formatListen({ host: addr.address, port: addr.port })}`;
  boundUrl = url;
  try {
    await web.start(url);
  } catch (e) {
    server.close();
    await metricsServer?.close();
    throw e;
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    metricsUrl: metricsServer?.url ?? null,
    store,
    sync,
    activity,
    health,
    notifications,
    web,
    canaries,
    drift,
    close() {
      closing ??= (async () => {
        // First: a canary in flight removes its test decision while the store is open.
        await canaries.stop();
        await drift.stop();
        sync.stop();
        health.stop();
        storeHealth.stop();
        await web.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets would hold close() open; requests in flight still finish.
          server.closeIdleConnections();
        });
        await metricsServer?.close();
        await notifications.stop();
        gate.stop();
        auth.stop();
        await activity.stop();
        await alive.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
