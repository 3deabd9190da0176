// A bouncer's state at a glance: its last sign of life, its cadence thresholds, and the status a
// list shows (healthy, late, offline…). evaluate.ts raises issues from the same rules.
import { cadenceThresholds, type CadenceThresholds } from './cadence.ts';
import { silenceSince, type Interval } from './downtime.ts';
import type { BouncerHealthInput, BouncerStatus, HealthRules } from './types.ts';

/** The Integration Late floor for a bouncer whose process closed its connection after its last pull (see DEFAULT_RULES). */
export const CLOSED_LATE_AFTER_MIN_MS = 75_000;

/** Whether it closed its own connection after its last pull (and so has not pulled since). */
function closedAfterLastPull(b: BouncerHealthInput): boolean {
  return b.connectionClosedAt !== undefined && b.lastPullAt !== null && b.connectionClosedAt >= b.lastPullAt;
}

/** The rules for one bouncer: the late floor is CLOSED_LATE_AFTER_MIN_MS (at most) once it closed its connection after its last pull. */
export function rulesFor(b: BouncerHealthInput, rules: HealthRules): HealthRules {
  if (!closedAfterLastPull(b)) return rules;
  return { ...rules, lateAfterMinMs: Math.min(rules.lateAfterMinMs, rules.closedLateAfterMinMs ?? CLOSED_LATE_AFTER_MIN_MS) };
}

/**
 * A bouncer's cadence thresholds (cadence.ts), counted from its last pull. Once it closed its own
 * connection after that pull, it is late CLOSED_LATE_AFTER_MIN_MS after the close at the latest,
 * whatever its cadence: a restarted bouncer reconnects and pulls at once (its startup pull), so a
 * 60 s bouncer need not miss 6 pulls to be known gone. Offline (Critical) keeps its cadence rule.
 */
export function bouncerThresholds(b: BouncerHealthInput, rules: HealthRules): CadenceThresholds | null {
  const t = cadenceThresholds(b.pullCadenceMs, rulesFor(b, rules));
  if (t === null || !closedAfterLastPull(b)) return t;
  const fromClose = b.connectionClosedAt! - b.lastPullAt! + (rules.closedLateAfterMinMs ?? CLOSED_LATE_AFTER_MIN_MS);
  return { ...t, issueLateMs: Math.min(t.issueLateMs, fromClose), statusLateMs: Math.min(t.statusLateMs, fromClose) };
}

/**
 * The bouncer's last sign of life: a pull, a usage-metrics report, or any request its key made
 * (a HEAD key check from an AppSec component or a probe); registration when none. The 24 h rule
 * counts from here, so live-mode and HEAD-only bouncers never look dead while they talk to us.
 */
export function lastSignOfLife(b: BouncerHealthInput): number {
  return Math.max(b.lastPullAt ?? b.createdAt, b.lastUsageMetricsAt ?? 0, b.lastRequestAt ?? 0);
}

/** Its pulls and usage reports: what the bouncer itself sends, as opposed to a key check or a probe made with its key. */
export function lastOwnTraffic(b: BouncerHealthInput): number {
  return Math.max(b.lastPullAt ?? b.createdAt, b.lastUsageMetricsAt ?? 0);
}

/**
 * The cadence rules' view of a bouncer: its thresholds and how long it has not pulled (less Vigil's
 * own downtime), or null when it has no steady cadence (or in console mode). A steady bouncer is
 * judged on its pulls: a usage report or a HEAD does not deliver it new decisions.
 */
export function steady(
  b: BouncerHealthInput,
  now: number,
  rules: HealthRules,
  downtime?: readonly Interval[],
): { t: CadenceThresholds; lastPull: number; pullSilence: number } | null {
  const t = bouncerThresholds(b, rules);
  if (t === null || b.lastPullAt === null) return null;
  return { t, lastPull: b.lastPullAt, pullSilence: silenceSince(b.lastPullAt, now, downtime) };
}

/**
 * Offline by cadence: no pull for the offline threshold, and nothing else heard either (a process
 * that still reports or makes requests is late, not gone: the Warning says so with its evidence).
 */
export function offlineByCadence(s: NonNullable<ReturnType<typeof steady>>, lifeSilence: number): boolean {
  return s.t.offlineMs !== null && s.pullSilence > s.t.offlineMs && lifeSilence > s.t.offlineMs;
}

/** The silence after which a steady bouncer raises Integration Late, or null when it has no steady cadence. */
export function lateAfter(b: BouncerHealthInput, rules: HealthRules): number | null {
  return bouncerThresholds(b, rules)?.issueLateMs ?? null;
}

/**
 * What a person reads at a glance in a list: healthy, late, offline, never pulled, revoked. A
 * steady bouncer is `late` once it missed STATUS_LATE_MISSED pulls, before any issue opens. Vigil's
 * own `downtime` is not counted as its silence.
 */
export function bouncerStatus(b: BouncerHealthInput, now: number, rules: HealthRules, downtime?: readonly Interval[]): BouncerStatus {
  if (b.revoked) return 'revoked';
  const lifeSilence = silenceSince(lastSignOfLife(b), now, downtime);
  if (lifeSilence > rules.offlineAfterMs) return 'offline';
  if (b.lastPullAt === null && b.lastUsageMetricsAt === null && b.lastRequestAt === null) return 'never_pulled';
  const s = steady(b, now, rules, downtime);
  if (s !== null) {
    if (offlineByCadence(s, lifeSilence)) return 'offline';
    if (s.pullSilence > s.t.statusLateMs) return 'late';
  }
  return 'healthy';
}
