import type { Logger } from 'pino';
import { healthRules, type VigilConfig } from '../config/config.ts';
import { isVigilError } from '../lib/errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import type { HealthEngine } from '../health/engine.ts';
import type { Notifications } from '../notify/start.ts';
import { CanaryRunner, type CanaryRunnerDeps } from '../canary/runner.ts';
import type { CanaryConfig } from '../config/canaries.ts';

/**
 * What a reload of vigil.yaml (SIGHUP, `vigil reload`) changes in a running `vigil serve`, and what
 * needs a restart. Live: log_level, health rules and evaluate_every, notifications (channels,
 * filters, delivery settings), canaries. The listeners, the store, TLS, limits and the watcher API
 * are built into sockets and routes at start: a change there is named in one log line and kept
 * as it was until the next restart.
 */
const NEEDS_RESTART: Array<[key: string, pick: (c: VigilConfig) => unknown]> = [
  ['listen', (c) => c.listen],
  ['tls', (c) => c.tls],
  ['db', (c) => c.db],
  ['metrics_listen', (c) => c.metricsListen],
  ['admin_listen', (c) => c.adminListen],
  ['admin_session_ttl', (c) => c.adminSessionTtlMs],
  ['admin_trusted_proxies', (c) => c.adminTrustedProxies],
  ['decisions_sync_every', (c) => c.decisionsSyncEveryMs],
  ['activity_flush_every', (c) => c.activityFlushEveryMs],
  ['limits', (c) => c.limits],
  ['api/profiles', (c) => c.watcherApi],
  ['api.use_forwarded_for_headers/proxy_protocol/trusted_proxies', (c) => c.proxy],
  ['flush', (c) => c.flush],
];

export interface ReloadOutcome {
  /** False when the file was refused: the running configuration is kept whole. */
  applied: boolean;
  /** One line for the log and for `vigil reload`. */
  message: string;
  /** Settings changed in the file that only a restart applies (kept as they were). */
  needsRestart: string[];
  /** The running values of those settings, kept. */
  kept: Partial<VigilConfig>;
}

/** What the running server (or watch) lends a reload. */
export interface ReloadTarget {
  current: VigilConfig;
  next: VigilConfig;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  health: Pick<HealthEngine, 'reconfigure' | 'start' | 'stop'>;
  notifications: Notifications;
  /** Absent where canaries do not run (`vigil watch`). */
  replaceCanaries?: (list: CanaryConfig[]) => Promise<void>;
  /** Settings this process builds in at start beyond serve's own (watch: its `watch:` section). */
  alsoNeedsRestart?: Array<[key: string, pick: (c: VigilConfig) => unknown]>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Validates everything first (a channel's `${VAR}` unset refuses the whole reload, changing
 * nothing), then applies. Open issues, learnt cadences, the decision index and connections are
 * untouched: only the settings change.
 */
export async function applyReload(t: ReloadTarget): Promise<ReloadOutcome> {
  const { current, next, log } = t;
  const needsRestart = [...NEEDS_RESTART, ...(t.alsoNeedsRestart ?? [])].filter(([, pick]) => !same(pick(current), pick(next))).map(([key]) => key);
  const kept: Partial<VigilConfig> = {
    listen: current.listen,
    tls: current.tls,
    db: current.db,
    dbSource: current.dbSource,
    metricsListen: current.metricsListen,
    adminListen: current.adminListen,
    adminSessionTtlMs: current.adminSessionTtlMs,
    adminTrustedProxies: current.adminTrustedProxies,
    decisionsSyncEveryMs: current.decisionsSyncEveryMs,
    activityFlushEveryMs: current.activityFlushEveryMs,
    limits: current.limits,
    watcherApi: current.watcherApi,
    proxy: current.proxy,
    flush: current.flush,
  };
  const switchNotifications = same(current.notifications, next.notifications) ? null : t.notifications.prepare(next.notifications);
  const changed: string[] = [];
  if (current.logLevel !== next.logLevel) {
    log.level = next.logLevel;
    changed.push('log_level');
  }
  if (!same(current.health, next.health) || !same(current.canaries, next.canaries)) {
    t.health.reconfigure(healthRules(next.health), next.canaries);
    if (current.health.evaluateEveryMs !== next.health.evaluateEveryMs) {
      t.health.stop();
      if (next.health.evaluateEveryMs > 0) t.health.start(next.health.evaluateEveryMs);
    }
    if (!same(current.health, next.health)) changed.push('health');
  }
  if (switchNotifications) {
    await switchNotifications();
    changed.push('notifications');
  }
  if (t.replaceCanaries && !same(current.canaries, next.canaries)) {
    await t.replaceCanaries(next.canaries);
    changed.push('canaries');
  }
  const file = next.file ?? 'the configuration';
  const message = `reloaded ${file}: ${changed.length > 0 ? `applied ${changed.join(', ')}` : 'nothing changed'}${
    needsRestart.length > 0 ? `; ${needsRestart.join(', ')} changed: needs a restart (kept as running)` : ''
  }`;
  return { applied: true, message, needsRestart, kept };
}

/**
 * One reload: `load` re-reads and validates the file (the usual loader), then the server applies
 * it. A refused file (or a refused channel) keeps the running configuration; either way one line
 * is logged and the outcome returned for the run file (`vigil reload` reads it).
 */
export async function reloadFromFile(load: () => VigilConfig, apply: (next: VigilConfig) => Promise<ReloadOutcome>, log: Logger): Promise<ReloadOutcome> {
  let outcome: ReloadOutcome;
  try {
    outcome = await apply(load());
  } catch (e) {
    if (!isVigilError(e)) throw e;
    outcome = { applied: false, message: `reload refused, running configuration kept: ${e.message}`, needsRestart: [], kept: {} };
  }
  if (!outcome.applied) log.error({ reload: 'refused' }, outcome.message);
  else if (outcome.needsRestart.length > 0) log.warn({ reload: 'applied', needsRestart: outcome.needsRestart }, outcome.message);
  else log.info({ reload: 'applied' }, outcome.message);
  return outcome;
}

/** The canary runner for a list of canaries, started (each run evaluated at once). */
export function startCanaries(
  deps: {
    store: Store;
    clock: Clock;
    log: Logger;
    sync: CanaryRunnerDeps['sync'];
    lastPullSeen: CanaryRunnerDeps['lastPullSeen'];
    evaluate: () => Promise<unknown>;
  },
  canaries: CanaryConfig[],
): CanaryRunner {
  const runner = new CanaryRunner({
    store: deps.store,
    clock: deps.clock,
    log: deps.log,
    canaries,
    sync: deps.sync,
    lastPullSeen: deps.lastPullSeen,
    afterRun: () => deps.evaluate(),
  });
  runner.start();
  return runner;
}
