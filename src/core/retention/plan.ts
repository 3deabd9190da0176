/**
 * What the store keeps, and for how long: CrowdSec's `db_config.flush` (`max_age`, `max_items`)
 * for decisions and alerts, and Vigil's own bounds for the tables only Vigil has. Pure: the clock
 * and the settings in, the cutoffs out; src/store/retention.ts deletes what they name, in batches.
 */

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** `flush:` in vigil.yaml (src/config/flush.ts), in milliseconds. */
export interface RetentionSettings {
  /** CrowdSec's `flush.max_age`: decisions expired longer ago, and alerts created longer ago (once they hold no decision), go. */
  maxAgeMs: number;
  /** CrowdSec's `flush.max_items`: alerts beyond the newest N go once they hold no decision. */
  maxItems: number;
  /** Vigil's history: resolved health issues (their acknowledgements) and bouncers' address/version changes. */
  historyMaxAgeMs: number;
}

/** CrowdSec's shipped config.yaml (`max_items: 5000`, `max_age: 7d`; docs/reference/crowdsec-wire-protocol.md §1). */
export const DEFAULT_RETENTION: RetentionSettings = { maxAgeMs: 7 * DAY_MS, maxItems: 5000, historyMaxAgeMs: 30 * DAY_MS };

/**
 * The health engine looks back max(2 × offline_after, 7 d) at changes and issues
 * (src/health/engine.ts): history kept shorter would hide the evidence it explains silences with.
 */
export const MIN_HISTORY_MAX_AGE_MS = 7 * DAY_MS;

/**
 * Bounds the writers already keep and that the job also applies by the clock, so a table stops
 * holding old rows even when nothing new is written to it (src/store/*.ts name the same numbers).
 */
export const FIXED_BOUNDS = {
  /** Hourly pull counts (src/store/pull-history.ts PULL_HISTORY_KEPT_MS): cadences learn from 4 weeks. */
  pullHoursMs: 29 * DAY_MS,
  /** Refused-request summaries not updated for this long (src/store/refused-summaries.ts). */
  refusedSummariesMs: 30 * DAY_MS,
  /** Agents' usage-report windows (src/store/usage-log-processors.ts WINDOWS_KEPT_MS). */
  usageWindowsMs: 7 * DAY_MS,
  /** Runs of `vigil serve` not alive for this long (src/store/lapi-runs.ts keeps a month). */
  lapiRunsMs: 30 * DAY_MS,
  /** Delivered or given-up notifications, ended silences, announcements of resolved issues (src/notify/planner.ts KEEP_MS). */
  notificationsMs: 30 * DAY_MS,
} as const;

/** Every table the job trims, each with the time (epoch ms) before which its rows go. */
export interface RetentionCutoffs {
  /** Decisions whose `until` is at or before this: expired for longer than max_age. */
  decisionsExpiredBy: number;
  /** Alerts created at or before this, once no decision row refers to them. */
  alertsCreatedBy: number;
  /** Alerts beyond the newest this many, once no decision row refers to them. */
  alertsMaxItems: number;
  resolvedIssuesBy: number;
  bouncerChangesBy: number;
  pullHoursBefore: number;
  refusedSummariesBefore: number;
  usageWindowsBefore: number;
  lapiRunsBefore: number;
  notificationsBefore: number;
  /** Logged-out dashboard sessions whose session would have ended by now anyway. */
  endedSessionsBy: number;
}

export function planRetention(now: number, s: RetentionSettings): RetentionCutoffs {
  return {
    decisionsExpiredBy: now - s.maxAgeMs,
    alertsCreatedBy: now - s.maxAgeMs,
    alertsMaxItems: s.maxItems,
    resolvedIssuesBy: now - s.historyMaxAgeMs,
    bouncerChangesBy: now - s.historyMaxAgeMs,
    pullHoursBefore: now - FIXED_BOUNDS.pullHoursMs,
    refusedSummariesBefore: now - FIXED_BOUNDS.refusedSummariesMs,
    usageWindowsBefore: now - FIXED_BOUNDS.usageWindowsMs,
    lapiRunsBefore: now - FIXED_BOUNDS.lapiRunsMs,
    notificationsBefore: now - FIXED_BOUNDS.notificationsMs,
    endedSessionsBy: now,
  };
}

/**
 * The oldest expiry a startup stream still sends under `deleted`: what the store keeps, as
 * CrowdSec's startup sends "all expired decisions still in the DB" (docs/reference/crowdsec-1.6-1.7.md
 * §4.1). Computed from the clock, not from the last purge, so the answer does not depend on when
 * the job last ran (nor on which replica ran it).
 */
export function expiredSentSince(now: number, s: Pick<RetentionSettings, 'maxAgeMs'>): number {
  return now - s.maxAgeMs;
}

/**
 * Deleted rows a purged table collects before the purge vacuums it (PostgreSQL). Autovacuum's
 * default waits for 20 % of a table to be dead (155k rows of a 775k-row `decisions`), and a
 * batched purge leaves index pages it has emptied unusable until a vacuum: measured over a
 * simulated year in bench/retention-year.bench.ts (docs/benchmarks.md).
 */
export const VACUUM_AFTER_DELETED_ROWS = 10_000;

/** The purged tables whose deletions since their last vacuum reached `afterRows`, in the order given. */
export function tablesDueForVacuum(deletedSinceVacuum: Readonly<Record<string, number>>, afterRows = VACUUM_AFTER_DELETED_ROWS): string[] {
  return Object.entries(deletedSinceVacuum)
    .filter(([, n]) => n >= afterRows)
    .map(([table]) => table);
}
