/**
 * `vigil watch` as a running process: Vigil's own store (issues and their history), the watcher
 * over CrowdSec's bouncers, and one HTTP listener with the same admin API as `vigil serve`
 * (`/admin/v1`, admin token), Prometheus `/metrics` and `/health`. Nothing is written to CrowdSec.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../lib/clock.ts';
import { healthRules, type VigilConfig } from '../config/config.ts';
import { formatListen } from '../lib/listen-address.ts';
import { VigilError } from '../lib/errors.ts';
import { writeRunbookSettings } from '../store/runbook-settings.ts';
import { writeWatchPollEvery } from '../store/watch-poll-every.ts';
import type { HealthRules } from '../core/health/types.ts';
import { createAdminApp } from '../server/admin.ts';
import { installErrorHandler } from '../lib/http-errors.ts';
import { listenOn } from '../server/listen.ts';
import { LapiMetrics } from '../server/metrics.ts';
import { createLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import { parseStoreUrl } from '../store/database.ts';
import { describeDb } from './crowdsec-config.ts';
import { CscliSource, sourceFor, type BouncerSource } from './sources.ts';
import { describeSource, type WatchSettings } from './watch-config.ts';
import { Watcher, type PollResult } from './watcher.ts';
import { LapiLearning } from './lapi-learning.ts';
import { lapiProbe } from './lapi-probe.ts';
import { describeLapiLog, lapiLogReader, type LapiLogSpec } from './lapi-log.ts';
import { startNotifications, type Notifications } from '../notify/start.ts';
import { createWebSurface, type WebSurface } from '../web/surface.ts';
import { logIssueChanges } from '../health/issue-log.ts';

export interface RunningWatch {
  /** `http://HOST:PORT` of the admin/metrics listener, or null when it is off. */
  url: string | null;
  store: Store;
  watcher: Watcher;
  notifications: Notifications;
  /** The dashboard's address (`/ui/` on the watch listener); null when the listener is off. */
  dashboardUrl: string | null;
  close(): Promise<void>;
}

/**
 * Vigil's store must never be CrowdSec's database: opening it would add Vigil's tables (one of them
 * also named `bouncers`) to CrowdSec's. Refused before anything is opened.
 */
export function refuseCrowdsecDbAsStore(storeUrl: string, settings: WatchSettings): void {
  if (settings.source.type !== 'db') return;
  const watched = settings.source.db;
  const store = parseStoreUrl(storeUrl);
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  let same = false;
  if (watched.type === 'sqlite' && store.dialect === 'sqlite') same = real(watched.path) === real(store.target);
  if (watched.type === 'postgres' && store.dialect === 'postgres') {
    const u = new URL(store.target);
    same = u.hostname === watched.host && Number(u.port || 5432) === watched.port && decodeURIComponent(u.pathname.slice(1)) === watched.database;
  }
  if (same) {
    throw new VigilError(
      'E_CONFIG',
      `db: Vigil's store would be CrowdSec's own database (${describeDb(watched)}); give vigil watch a store of its own, e.g. --db sqlite:/var/lib/vigil/watch.db`,
    );
  }
}

export function createSource(settings: WatchSettings, env?: NodeJS.ProcessEnv): BouncerSource {
  return settings.source.type === 'cscli' ? new CscliSource(settings.source.command, { env }) : sourceFor(settings.source.db);
}

export interface StartWatchOptions {
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  source?: BouncerSource;
  poll?: boolean;
  /** `vigil watch --once`: one poll in a new process; CrowdSec's Local API down is raised at its first failed probe. */
  oneShot?: boolean;
  /** Creates the dashboard password on first start and hands it over to be printed once. */
  firstStartPassword?: (password: string, dashboardUrl: string) => void;
}

export async function startWatch(config: VigilConfig, settings: WatchSettings, opts: StartWatchOptions = {}): Promise<RunningWatch> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.logLevel);
  refuseCrowdsecDbAsStore(config.db, settings);
  const store = await Store.open(config.db, { role: 'watch', source: config.dbSource });
  if (store.created) log.info({ store: store.description }, `created a new store at ${store.description.replace(/^sqlite:/, '')}`);
  const source = opts.source ?? createSource(settings, opts.env);
  settings = await withLearntLapiUrl(settings, source);
  // `vigil issues show` and the admin API then write CrowdSec's commands for this store's issues.
  await writeRunbookSettings(store, { cli: 'cscli', ...settings.runbook });
  // Statuses read between two polls allow for a last pull up to one poll old (no false `late`).
  const rules: HealthRules = { ...healthRules(config.health), observedEveryMs: settings.pollEveryMs };
  await writeWatchPollEvery(store, settings.pollEveryMs);
  const learning = await LapiLearning.open(store, clock, { log: openLapiLog(settings.lapiLog ?? null, log), prometheusUrl: settings.prometheusUrl ?? null });
  // CrowdSec's own Local API is probed where its address is known (its config, --lapi-url), not at a guess.
  const probe = settings.lapiUrlIsDefault ? undefined : lapiProbe(settings.runbook.lapiUrl, { crowdsecConfigPath: settings.crowdsecConfigPath, env: opts.env });
  const watcher = loggedWatcher(new Watcher(store, source, clock, rules, { learning, lapiProbe: probe, oneShot: opts.oneShot }), log);
  // What was opened before notifications and the listener, closed newest first.
  const closeOpened = async () => {
    await learning.close();
    await source.close();
    await store.close();
  };
  // The same notifications as `vigil serve` (channels from vigil.yaml), with CrowdSec's runbooks.
  const runbook = { cli: 'cscli' as const, ...settings.runbook };
  // The dashboard is on watch's own listener, never on CrowdSec's Local API: messages link there once it listens.
  let dashboardBase: string | null = null;
  const notifications = await startNotifications({
    store,
    clock,
    log,
    config,
    engine: watcher.engine,
    lapiUrl: () => runbook.lapiUrl,
    dashboardUrl: () => dashboardBase,
    runbook,
    env: opts.env,
  }).catch(async (e) => {
    await closeOpened();
    throw e;
  });
  const metrics = watchMetrics(store, clock, watcher, log);

  const listen = settings.listen;
  const listener = listen
    ? await startWatchListener({
        config,
        settings: { ...settings, listen },
        store,
        clock,
        rules,
        log,
        watcher,
        metrics,
        lapiUrl: () => runbook.lapiUrl,
        firstStartPassword: opts.firstStartPassword,
      }).catch(async (e) => {
        await notifications.stop();
        await closeOpened();
        throw e;
      })
    : undefined;
  dashboardBase = listener?.url ?? null;
  logWatching(log, settings, source, store, learning, listener);
  if (opts.poll !== false) watcher.start(settings.pollEveryMs);

  return runningWatch({ listener, store, watcher, notifications, closeOpened });
}

/** What startWatch hands back: its parts, and a `close` that stops them newest first, once. */
function runningWatch(parts: {
  listener: WatchListener | undefined;
  store: Store;
  watcher: Watcher;
  notifications: Notifications;
  closeOpened: () => Promise<void>;
}): RunningWatch {
  const { listener, store, watcher, notifications, closeOpened } = parts;
  let closing: Promise<void> | undefined;
  return {
    url: listener?.url ?? null,
    store,
    watcher,
    notifications,
    dashboardUrl: listener?.web.dashboardUrl ?? null,
    close() {
      closing ??= (async () => {
        await watcher.stop();
        await listener?.close();
        await notifications.stop();
        await closeOpened();
      })();
      return closing;
    },
  };
}

/** The start line: what is read, how often, and where the listener and the store are. */
function logWatching(
  log: Logger,
  settings: WatchSettings,
  source: BouncerSource,
  store: Store,
  learning: LapiLearning,
  listener: WatchListener | undefined,
): void {
  log.info(
    {
      source: describeSource(settings.source),
      every: settings.pollEveryMs,
      listen: listener?.url ?? null,
      store: store.description,
      accessLog: learning.status().accessLog?.source ?? null,
      prometheus: learning.status().prometheus?.url ?? null,
    },
    `watching CrowdSec's bouncers through ${source.description}`,
  );
}

/**
 * The access log reader, or null when off. A default guess that does not exist here (no such file,
 * no journalctl) is skipped with a line in the log; a path given explicitly is read even while it is
 * missing, and its absence shows in `/admin/v1/watch`.
 */
function openLapiLog(spec: LapiLogSpec | null, log: Logger): ReturnType<typeof lapiLogReader> | null {
  if (!spec) return null;
  if (!spec.explicit) {
    const present = spec.type === 'file' ? fs.existsSync(spec.accessLog) : onPath('journalctl');
    if (!present) {
      log.info(
        { accessLog: describeLapiLog(spec), from: spec.from },
        `not reading CrowdSec's access log: ${describeLapiLog(spec)} is not here (set watch.access_log)`,
      );
      return null;
    }
  }
  return lapiLogReader(spec);
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, cmd)));
}

/** Through cscli, CrowdSec can say where its Local API listens when nothing else did. */
async function withLearntLapiUrl(settings: WatchSettings, source: BouncerSource): Promise<WatchSettings> {
  if (!settings.lapiUrlIsDefault || !(source instanceof CscliSource)) return settings;
  const listen = await source.lapiListenUri();
  return listen ? { ...settings, runbook: { ...settings.runbook, lapiUrl: `http://${listen}/` } } : settings;
}

/** The watcher with its failures and the issues it opens and resolves going to the log. */
function loggedWatcher(watcher: Watcher, log: Logger): Watcher {
  watcher.engine.failed.subscribe((e) => log.error({ err: e }, 'health evaluation failed'));
  watcher.onError = (e) => log.error({ err: e }, 'watch poll failed');
  watcher.engine.evaluated.subscribe(logIssueChanges(log));
  return watcher;
}

/** The health gauges `vigil serve` has, and the source's: up, last success, failures; transitions logged. */
function watchMetrics(store: Store, clock: Clock, watcher: Watcher, log: Logger): LapiMetrics {
  const metrics = new LapiMetrics(store, clock, null, undefined, () => watcher.engine.rules);
  watcher.engine.evaluated.subscribe(() => metrics.evaluatedAt(clock.now()));
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [metrics.registry] });
  const sourceUp = gauge('vigil_watch_source_up', "1 when the last read of CrowdSec's bouncers succeeded, else 0.");
  const lastSuccess = gauge('vigil_watch_last_success_timestamp_seconds', "Unix time of the last successful read of CrowdSec's bouncers.");
  const failures = new Counter({ name: 'vigil_watch_source_failures_total', help: "Failed reads of CrowdSec's bouncers.", registers: [metrics.registry] });
  const logUp = gauge('vigil_watch_access_log_up', "1 when the last read of CrowdSec's access log succeeded, 0 when it failed; absent when it is not read.");
  const logMalformed = gauge('vigil_watch_access_log_malformed_lines', "Lines of CrowdSec's access log that could not be read (skipped), since start.");
  const promUp = gauge(
    'vigil_watch_prometheus_up',
    "1 when the last scrape of CrowdSec's Prometheus endpoint succeeded, else 0; absent when it is not scraped.",
  );
  const lapiUp = gauge(
    'vigil_watch_lapi_up',
    "1 when CrowdSec's own Local API answered its last probe, else 0 (down, disabled, or answered by Vigil); absent when it is not probed.",
  );
  let wasUp: boolean | undefined;
  let lapiWas: string | undefined;
  watcher.onPoll = (r: PollResult) => {
    const s = watcher.status();
    if (s.lapi) {
      lapiUp.set(s.lapi.state === 'up' ? 1 : 0);
      // Log transitions of CrowdSec's Local API, not every probe.
      if (lapiWas !== undefined && s.lapi.state !== lapiWas)
        (s.lapi.state === 'up' ? log.info.bind(log) : log.warn.bind(log))(
          { lapi: s.lapi.state },
          `CrowdSec's Local API is ${s.lapi.state === 'up' ? 'serving again' : s.lapi.state}`,
        );
      lapiWas = s.lapi.state;
    }
    if (s.learning.accessLog) {
      logUp.set(s.learning.accessLog.up ? 1 : 0);
      logMalformed.set(s.learning.accessLog.malformed);
    }
    if (s.learning.prometheus) promUp.set(s.learning.prometheus.up ? 1 : 0);
    sourceUp.set(s.up ? 1 : 0);
    if (s.lastSuccessAt !== null) lastSuccess.set(s.lastSuccessAt / 1000);
    if (r.read === 'failed') failures.inc();
    // Log transitions, not every failed poll.
    if (r.read === 'failed' && wasUp !== false) log.error({ source: s.source }, `cannot read CrowdSec's bouncers: ${r.error}`);
    if (r.read === 'ok' && wasUp === false) log.info({ source: s.source }, `reading CrowdSec's bouncers again (${s.bouncers} bouncers)`);
    if (r.mirror) {
      for (const name of r.mirror.added) log.debug({ bouncer: name }, `bouncer '${name}' seen in CrowdSec`);
      for (const name of r.mirror.removed) log.info({ bouncer: name }, `bouncer '${name}' no longer in CrowdSec`);
    }
    wasUp = r.read === 'ok';
  };
  return metrics;
}

interface WatchListener {
  url: string;
  web: WebSurface;
  close(): Promise<void>;
}

/** One listener: the admin API (with `/admin/v1/watch`), the dashboard, `/metrics` and `/health`. */
async function startWatchListener(deps: {
  config: VigilConfig;
  settings: WatchSettings & { listen: NonNullable<WatchSettings['listen']> };
  store: Store;
  clock: Clock;
  rules: HealthRules;
  log: Logger;
  watcher: Watcher;
  metrics: LapiMetrics;
  lapiUrl: () => string;
  firstStartPassword?: (password: string, dashboardUrl: string) => void;
}): Promise<WatchListener> {
  const { config, settings, store, clock, rules, log, watcher, metrics, lapiUrl } = deps;
  // The dashboard too, on the same listener as the admin API (its Decisions page needs a decision index: absent here).
  const web = await createWebSurface({
    config: { adminListen: 'lapi', adminSessionTtlMs: config.adminSessionTtlMs, adminTrustedProxies: config.adminTrustedProxies, listen: settings.listen },
    store,
    clock,
    rules,
    log,
    lapiUrl,
    firstStartPassword: deps.firstStartPassword,
  });
  const admin = createAdminApp({ store, clock, rules, lapiUrl, sessionAuth: web.adminAuth, log });
  web.attachAdmin(admin);
  admin.get('/watch', (c) => {
    const s = watcher.status();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return c.json({
      ...s,
      lastReadAt: iso(s.lastReadAt),
      lastSuccessAt: iso(s.lastSuccessAt),
      failingSince: iso(s.failingSince),
      lapi: s.lapi ? { state: s.lapi.state, notServingSince: iso(s.lapi.notServingSince), lastUpAt: iso(s.lapi.lastUpAt) } : null,
      pollEveryMs: settings.pollEveryMs,
    });
  });
  const app = new Hono();
  installErrorHandler(app, log, 'watch');
  app.get('/health', (c) => c.json({ status: 'up' }));
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));
  app.route('/admin/v1', admin);
  const server = http.createServer(getRequestListener(web.onLapiListener(app.fetch)));
  try {
    await listenOn(server, settings.listen, 'watch listen', 'pick another with --listen or turn it off with --listen off');
  } catch (e) {
    await web.close();
    throw e;
  }
  const a = server.address() as AddressInfo;
  const url = `http://${formatListen({ host: a.address, port: a.port })}`;
  await web.start(url);
  return {
    url,
    web,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await web.close();
    },
  };
}
