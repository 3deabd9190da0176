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
import { detectServiceManager } from '../lib/service-manager.ts';
import { recordServeRunbookSettings } from '../store/runbook-settings.ts';
import { StoreHealth } from '../server/store-health.ts';
import { HealthEngine } from '../health/engine.ts';
import { logIssueChanges } from '../health/issue-log.ts';
import { LapiAlive } from '../health/lapi-alive.ts';
import { startNotifications, type Notifications } from '../notify/start.ts';
import { createWebSurface, type WebSurface } from '../web/surface.ts';
import type { CanaryRunner } from '../canary/runner.ts';
import { DriftObserver } from '../canary/drift.ts';
import type { Bouncer } from '../core/model/records.ts';
import { Lifecycle } from './lifecycle.ts';
import { startListeners } from './lapi-listeners.ts';
import { applyEnvRegistrations } from './env-registrations.ts';
import { crowdsecKeyNames } from './crowdsec-key-names.ts';
import { DEFAULT_CROWDSEC_CONFIG } from '../watch/crowdsec-config.ts';
import { readEnvRegistrations, type EnvRegistrations } from '../config/env-registrations.ts';
import { lostMarkerPath, writeLostMarker } from './run-file.ts';
import { applyReload, startCanaries, type ReloadOutcome } from './reload.ts';
import { decisionsRev } from '../store/decisions.ts';
import { secret } from '../store/meta.ts';
import { RetentionJob } from '../store/retention-job.ts';
import type { FlushConfig } from '../config/flush.ts';

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
  /** Canaries (`canaries:`) and drift observations: proof of enforcement (docs/canaries.md). A reload may replace the runner. */
  readonly canaries: CanaryRunner;
  drift: DriftObserver;
  /** The retention purge (`flush:`, docs/retention.md); `runOnce()` purges now. */
  retention: RetentionJob;
  /** The configuration in use (the one started with, or the last reload applied). */
  readonly config: VigilConfig;
  /**
   * Applies a re-read vigil.yaml without losing state (docs/operations.md § Reload). Settings that
   * only a restart changes are named in the outcome and logged once; the rest is applied.
   */
  reload(next: VigilConfig): Promise<ReloadOutcome>;
  /** Stop accepting, finish requests in flight, write what is buffered, close the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Creates the dashboard password on first start and hands it over to be printed once (`vigil serve`). */
  firstStartPassword?: (password: string, dashboardUrl: string) => void;
}

/**
 * Starts `vigil serve`'s parts in order on one lifecycle (app/lifecycle.ts): the store and what
 * follows it, health and notifications, the listeners, then the proof-of-enforcement loops. Stopped
 * in reverse; a part that fails to start stops exactly those started before it, then rethrows.
 */
export async function startServer(config: VigilConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.logLevel);
  const life = new Lifecycle(log);
  return life.build(async () => {
    // Refused before anything starts: a bad BOUNCER_KEY_* or secret names itself, the store untouched.
    const registrations = readEnvRegistrations(opts.env ?? process.env);
    const core = await startCore(life, config, clock, log, registrations, opts.env ?? process.env);
    // Parts that only need the store (an "alive mark", a cleanup loop) start here, before anything listens.
    const scheme = config.tls ? 'https' : 'http';
    let boundUrl = `${scheme}://${formatListen(config.listen)}`;
    const lapiUrl = () => `${boundUrl}/`;
    const { store, health } = core;
    // Messages link to the dashboard: on its own listener (admin_listen: HOST:PORT) once that listens.
    let dashboardBase: string | null = null;
    // Refuses a bad channel before anything listens; queues what a crash left unannounced.
    const notifications = await life.start(
      'notifications',
      () => startNotifications({ store, clock, log, config, engine: health, lapiUrl, dashboardUrl: () => dashboardBase, env: opts.env }),
      (n) => n.stop(),
    );
    const web = await life.start(
      'dashboard',
      () => createWebSurface({ config, store, clock, rules: health.rules, sync: core.sync, log, lapiUrl, firstStartPassword: opts.firstStartPassword }),
      (w) => w.close(),
    );
    const listeners = await startListeners(life, config, { ...core, clock, log, web, lapiUrl });
    boundUrl = listeners.url;
    // `vigil issues show` in another process prints this URL and this host's service manager in runbooks.
    await recordServeRunbookSettings(core.store, { lapiUrl: `${listeners.url}/`, serviceManager: detectServiceManager() });
    if (config.health.evaluateEveryMs > 0)
      await life.start(
        'health evaluation',
        () => health.start(config.health.evaluateEveryMs),
        () => health.stop(),
      );
    const evaluate = () => health.evaluateNow().catch((e) => log.error({ err: e }, 'health evaluation failed'));
    // Proof of enforcement: each canary run, and each new drift observation, is evaluated at once.
    const canaryDeps = { store, clock, log, sync: core.sync, lastPullSeen: (b: Bouncer) => core.activity.cursor(b).lastPullAt, evaluate };
    let canaries = startCanaries(canaryDeps, config.canaries);
    life.defer('canaries', () => canaries.stop());
    const drift = await life.start(
      'drift observation',
      () => startDrift(store, clock, log, evaluate),
      (d) => d.stop(),
    );
    await web.start(listeners.url);
    if (web.adminOn === 'own' && web.dashboardUrl) dashboardBase = new URL(web.dashboardUrl).origin;
    // Stopped before the listeners: a dashboard's live-update stream would hold the Local API listener's close open.
    life.defer('dashboard streams', () => web.close());

    let current = config;
    return {
      url: listeners.url,
      metricsUrl: listeners.metricsUrl,
      ...core,
      notifications,
      web,
      get canaries() {
        return canaries;
      },
      drift,
      get config() {
        return current;
      },
      async reload(next) {
        const replaceCanaries = async (list: VigilConfig['canaries']) => {
          await canaries.stop();
          canaries = startCanaries(canaryDeps, list);
        };
        const outcome = await applyReload({ current, next, log, env: opts.env, health, notifications, replaceCanaries });
        if (outcome.applied) current = { ...next, ...outcome.kept };
        return outcome;
      },
      close: () => life.stop(),
    };
  });
}

/** The store and the parts that live on it: store health, decision sync, activity, keys, the health engine. */
async function startCore(life: Lifecycle, config: VigilConfig, clock: Clock, log: Logger, registrations: EnvRegistrations, env: NodeJS.ProcessEnv) {
  const store = await life.start(
    'store',
    () => openStore(config, log),
    (s) => s.close(),
  );
  // BOUNCER_KEY_<name>, /run/secrets/bouncer_key_<name>, AGENT_USERNAME: in the store before any key is checked.
  await applyEnvRegistrations(store, registrations, clock.now(), log);
  // Store failures are logged when the store goes down and when it is back, not once per call.
  // A SQLite file deleted or replaced under the server is noticed within a second (issue 27 item 9).
  const storeHealth = await life.start(
    'store health',
    () => {
      const h = new StoreHealth({ log, clock, probe: () => decisionsRev(store), file: store.file });
      h.onLost = (lost) => rescueLostStore(store, clock, log, lost.reason);
      return h;
    },
    (s) => s.stop(),
  );
  const sync = await life.start(
    'decision sync',
    async () => {
      const s = new DecisionSync(store, clock);
      s.failed.subscribe((e) => storeHealth.failed(e));
      await s.start(config.decisionsSyncEveryMs);
      return s;
    },
    (s) => s.stop(),
  );
  const activity = await life.start(
    'bouncer activity',
    () => startActivity(store, log, storeHealth, config.activityFlushEveryMs),
    (a) => a.stop(),
  );
  const auth = await life.start(
    'bouncer keys',
    () => startBouncerKeys(store, clock, storeHealth, config, log),
    (a) => a.stop(),
  );
  // This run, marked alive as it goes: silences that begin at a restart are explained by it, and the
  // time no run was alive is nobody's silence (core/health/downtime.ts). Its last mark is written on stop.
  await life.start(
    'alive mark',
    async () => {
      const a = await LapiAlive.start(store, clock);
      a.onError = (e) => storeHealth.failed(e);
      return a;
    },
    (a) => a.stop(),
  );
  const retention = await life.start(
    'retention',
    () => startRetention(store, clock, log, config.flush, storeHealth),
    (r) => r.stop(),
  );
  const health = new HealthEngine(store, clock, healthRules(config.health), {
    canaries: config.canaries,
    connectionClosedAt: (id) => activity.clientClosedAt(id),
    crowdsecKeyNames: crowdsecKeyNames(config.watch.crowdsec_config ?? DEFAULT_CROWDSEC_CONFIG, env, await secret(store, 'fingerprint'), clock),
  });
  health.failed.subscribe((e) => log.error({ err: e }, 'health evaluation failed'));
  health.evaluated.subscribe(logIssueChanges(log));
  return { store, storeHealth, sync, activity, auth, health, retention };
}

/** The store `vigil serve` runs on, opened as its replica; a store made on this start is said once. */
async function openStore(config: VigilConfig, log: Logger): Promise<Store> {
  const store = await Store.open(config.db, {
    role: 'serve',
    source: config.dbSource,
    timeoutMs: config.limits.storeTimeoutMs,
    checkpointInBackground: true,
    onWarning: (message) => log.warn(message),
  });
  if (store.created) log.info({ store: store.description }, `created a new store at ${store.description.replace(/^sqlite:/, '')}`);
  return store;
}

/** Bouncer activity (pulls, addresses), written in batches; a failed write is the store's health, logged once. */
function startActivity(store: Store, log: Logger, storeHealth: StoreHealth, flushEveryMs: number): ActivityRecorder {
  const a = new ActivityRecorder(store);
  a.onError = (e) => {
    if (storeHealth.state().store === 'up') log.error({ err: e }, 'writing bouncer activity failed; will retry');
    storeHealth.failed(e);
  };
  a.onIpChange = (b, oldIp, newIp) => log.warn({ bouncer: b.name }, `new IP address detected for bouncer '${b.name}': ${newIp} (old: ${oldIp})`);
  a.start(flushEveryMs);
  return a;
}

/** Drift between what the store holds and what bouncers report holding; each new observation is evaluated at once. */
function startDrift(store: Store, clock: Clock, log: Logger, evaluate: () => unknown): DriftObserver {
  const d = new DriftObserver(store, clock);
  d.failed.subscribe((e) => log.error({ err: e }, 'drift observation failed'));
  d.observed.subscribe(() => void evaluate());
  d.start(DRIFT_OBSERVE_EVERY_MS);
  return d;
}

/** The bouncers' keys, with CrowdSec's log lines for a new row and a key tried from too many addresses. */
function startBouncerKeys(store: Store, clock: Clock, storeHealth: StoreHealth, config: VigilConfig, log: Logger): BouncerAuth {
  const a = new BouncerAuth(store, clock, undefined, storeHealth);
  a.start();
  // CrowdSec's line (key sharing, client certificates: docs/reference/crowdsec-1.6-1.7.md §1, §2).
  a.onCreated = (b) => log.info({ bouncer: b.name, ip: b.ipAddress, auth_type: b.authType }, `Creating bouncer ${b.name}`);
  a.maxInstancesPerKey = config.limits.maxInstancesPerKey;
  // One line per key a minute at most: a leaked key tried from thousands of addresses must not flood the log.
  const warned = new Map<string, number>();
  a.onTooManyInstances = (first, ip, rows) => {
    const now = clock.now();
    if (now - (warned.get(first.name) ?? -Infinity) < 60_000) return;
    if (warned.size > 10_000) warned.clear();
    warned.set(first.name, now);
    log.warn(
      { bouncer: first.name, ip, rows, limit: config.limits.maxInstancesPerKey },
      `API key of bouncer '${first.name}' refused from new address ${ip}: it already has ${rows} rows (limits.max_instances_per_key); a leaked key? (logged once a minute per key)`,
    );
  };
  return a;
}

/**
 * CrowdSec's flush, bounded (docs/retention.md): expired decisions, old alerts and Vigil's own
 * history are purged every `flush.every`, 1,000 rows per transaction, by one replica at a time.
 */
function startRetention(store: Store, clock: Clock, log: Logger, flush: FlushConfig, storeHealth: StoreHealth): RetentionJob {
  const job = new RetentionJob(store, clock, flush);
  job.onError = (e) => {
    if (storeHealth.state().store === 'up') log.error({ err: e }, 'retention purge failed; will retry');
    storeHealth.failed(e);
  };
  job.onRun = (outcome) => {
    const purged = Object.fromEntries(Object.entries(outcome.deleted).filter(([, n]) => n > 0));
    const total = Object.values(purged).reduce((a, b) => a + b, 0);
    if (outcome.busy) log.debug('retention purge: another replica is purging; skipped');
    if (total === 0) return;
    log.info(
      {
        purged,
        batches: outcome.batches,
        longest_batch_ms: Math.round(outcome.longestBatchMs),
        complete: outcome.complete,
        ...(outcome.vacuumed.length > 0 && { vacuumed: outcome.vacuumed, vacuum_ms: Math.round(outcome.vacuumMs) }),
      },
      `retention purge: deleted ${total} rows past flush.max_age / max_items / history_max_age`,
    );
  };
  job.start(flush.everyMs);
  return job;
}

/**
 * The store file is gone or replaced: no write is acknowledged any more, and what the orphaned
 * file still holds (the connection keeps it open, WAL included) is copied beside it for the operator.
 */
function rescueLostStore(store: Store, clock: Clock, log: Logger, reason: string): void {
  store.refuseWrites();
  const file = store.file!;
  const at = new Date(clock.now()).toISOString();
  const dest = `${file}.rescued-${at.replace(/[:.]/g, '-')}`;
  try {
    // A restart must not quietly make an empty store where this one was (src/app/run-file.ts).
    writeLostMarker(file, `${reason} at ${at}; rescue copy ${dest}`);
  } catch (e) {
    log.error(
      { err: e },
      `could not write ${lostMarkerPath(file)} (${(e as Error).message}): a restart would create an empty store at ${file}; restore it first`,
    );
  }
  store.copyTo(dest).then(
    () => log.error({ rescue: dest }, `rescue copy of the lost store written to ${dest}: stop vigil serve, move it to ${file}, then start vigil serve again`),
    (e: unknown) =>
      log.error({ err: e }, `could not write a rescue copy of the lost store to ${dest} (${(e as Error).message}): restore ${file} from a backup`),
  );
}
