import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import type { VigilConfig } from '../config/config.ts';
import { formatListen } from '../config/config.ts';
import { systemClock, type Clock } from '../clock.ts';
import { Store } from '../store/store.ts';
import { DecisionSync } from '../decisions/decision-sync.ts';
import { ActivityRecorder } from './activity.ts';
import { BouncerAuth } from './auth.ts';
import { createLapiApp } from './lapi.ts';
import { BouncerGate } from './bouncer-gate.ts';
import { createDecisionRoutes } from './decision-routes.ts';
import { listenOn } from './listen.ts';
import { HealthEngine } from '../health/engine.ts';
import { LapiMetrics } from './metrics.ts';
import { createAdminApp } from './admin.ts';
import crypto from 'node:crypto';
import { startNotifications, type Notifications } from '../notify/start.ts';
import { createWebSurface, type WebSurface } from '../web/surface.ts';

export interface RunningServer {
  /** `http://HOST:PORT` actually bound (port 0 resolved). */
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
  /** Stop accepting, finish requests in flight, write what is buffered, close the store. */
  close(): Promise<void>;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  // Keys never reach a log line: the key header is not logged anywhere, and this is a second net.
  return pino({ level, base: { svc: 'vigil' }, redact: ['req.headers["x-api-key"]', 'key', 'apiKey'] }, destination as never);
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
  const store = await Store.open(config.db);
  const sync = new DecisionSync(store, clock);
  sync.onError = (e) => log.error({ err: e }, 'decision sync failed');
  await sync.start(config.decisionsSyncEveryMs);
  const activity = new ActivityRecorder(store);
  activity.onError = (e) => log.error({ err: e }, 'writing bouncer activity failed; will retry');
  activity.onIpChange = (b, oldIp, newIp) => log.warn({ bouncer: b.name }, `new IP address detected for bouncer '${b.name}': ${newIp} (old: ${oldIp})`);
  activity.start(config.activityFlushEveryMs);
  const auth = new BouncerAuth(store, clock);
  // Silences that begin at a restart are explained by it (health: "did not reconnect").
  await store.recordLapiStart(clock.now(), crypto.randomUUID());
  const health = new HealthEngine(store, clock, {
    offlineAfterMs: config.health.offlineAfterMs,
    lateAfterFactor: config.health.lateAfterFactor,
    lateAfterMinMs: config.health.lateAfterMinMs,
  });
  health.onError = (e) => log.error({ err: e }, 'health evaluation failed');
  health.onResult = ({ opened, resolved }) => {
    for (const i of opened) log.warn({ issue: i.id, kind: i.kind, bouncer: i.bouncerName, criticality: i.criticality }, `issue opened: ${i.summary}`);
    for (const i of resolved) log.info({ issue: i.id, kind: i.kind, bouncer: i.bouncerName }, `issue resolved: ${i.kind} ${i.subject}`);
  };
  const metrics = new LapiMetrics(store, clock, sync);
  let boundUrl = `http://${formatListen(config.listen)}`;
  // Refuses a bad channel before anything listens; queues what a crash left unannounced.
  const notifications = await startNotifications({ store, clock, log, config, engine: health, lapiUrl: () => `${boundUrl}/`, env: opts.env }).catch(async (e) => {
    sync.stop();
    await activity.stop();
    await store.close();
    throw e;
  });
  const web = await createWebSurface({ config, store, clock, rules: health.rules, sync, log, lapiUrl: () => `${boundUrl}/`, firstStartPassword: opts.firstStartPassword });
  const admin = web.adminOn ? createAdminApp({ store, clock, rules: health.rules, lapiUrl: () => `${boundUrl}/`, sessionAuth: web.adminAuth }) : undefined;
  web.attachAdmin(admin);
  const fingerprintSecret = await store.secret('fingerprint');
  const gate = new BouncerGate({ clock, auth, activity, log, metrics, fingerprintSecret });
  const app = createLapiApp({ store, clock, activity, gate, log, metrics, admin: web.adminOn === 'lapi' ? admin : undefined });
  const decisionRoutes = createDecisionRoutes({ store, sync, activity, gate, log, metrics });
  const honoListener = getRequestListener(web.onLapiListener(app.fetch));

  // The decision routes answer on node:http directly (the hot path); Hono serves the rest.
  const server = http.createServer((req, res) => {
    if (!decisionRoutes(req, res)) void honoListener(req, res);
  });
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
  const url = `http://${formatListen({ host: addr.address, port: addr.port })}`;
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
    close() {
      closing ??= (async () => {
        sync.stop();
        health.stop();
        await web.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets would hold close() open; requests in flight still finish.
          server.closeIdleConnections();
        });
        await metricsServer?.close();
        await notifications.stop();
        gate.stop();
        await activity.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
