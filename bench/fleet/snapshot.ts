/**
 * Fleet state → what the health evaluator reads (FleetSnapshot), for all bouncers or for some; and
 * when a bouncer's findings can next change with no new input (its "wake"), so the simulation need
 * not evaluate every bouncer every 10 s (fleet.test.ts proves the findings are the same).
 *
 * Inputs the evaluator does not read yet, kept ready for rules being built (issue 25): each bouncer's
 * pulls per hour of the week (`SimBouncer.pullHours`), its usage reports (`lastUsageMetricsAt`, and
 * `reportEveryMs` for a report cadence), its refused summaries (fail-open), and Vigil's own downtime
 * (`FleetNoise.vigilDown`): `vigilDowntime()` below.
 */
import { cadenceThresholds } from '../../src/core/health/cadence.ts';
import { lastSignOfLife } from '../../src/core/health/evaluate.ts';
import type { BouncerHealthInput, FleetSnapshot, HealthRules } from '../../src/core/health/types.ts';
import type { RefusedSummary } from '../../src/core/model/records.ts';
import type { Fleet, SimBouncer } from './fleet.ts';
import type { Interval } from './noise.ts';

const D = 24 * 3600_000;

export function toHealthInput(b: SimBouncer): BouncerHealthInput {
  return {
    id: b.id,
    name: b.name,
    type: b.type,
    version: b.version,
    ipAddress: b.ip,
    kind: b.kind,
    revoked: false,
    createdAt: b.createdAt,
    lastPullAt: b.lastPullAt,
    lastRequestAt: b.lastRequestAt,
    pullCadenceMs: b.cadenceMs,
    lastUsageMetricsAt: b.lastUsageAt,
    autoCreated: false,
  };
}

/** The engine's look-back for evidence (health/engine.ts: max(2 × offline_after, 7 days)). */
export function lookbackMs(rules: HealthRules): number {
  return Math.max(2 * rules.offlineAfterMs, 7 * D);
}

/** What the engine would read from the store at `now`, for `bouncers` (all of them, or those being evaluated). */
export function snapshotOf(fleet: Fleet, bouncers: readonly SimBouncer[], now: number, rules: HealthRules): FleetSnapshot {
  const since = now - lookbackMs(rules);
  const refusedSummaries: RefusedSummary[] = [];
  for (const b of bouncers) for (const r of b.refused.values()) if (r.lastAt >= since) refusedSummaries.push({ ...r });
  return {
    bouncers: bouncers.map(toHealthInput),
    refused: [],
    refusedSummaries,
    lapiStarts: fleet.noise.lapiStarts.filter((s) => s >= since && s <= now),
    bouncerChanges: [],
  };
}

/** Pulls and live lookups Vigil recorded for `b` in the hour starting at `hourStart` (store/pull-history.ts's buckets). */
export function recordedPulls(fleet: Fleet, b: SimBouncer): (hourStart: number) => number {
  return (hourStart) => (hourStart < fleet.historyStart ? 0 : (b.pullHours[Math.floor((hourStart - fleet.historyStart) / 3600_000)] ?? 0));
}

/** The first hour with a recorded pull: the fleet's history starts then. */
export function firstRecordedHour(fleet: Fleet): number {
  return fleet.historyStart;
}

/** The period its usage reports announce (`window_size_seconds`), once one arrived; null: it sends none. */
export function usageReportPeriodMs(b: SimBouncer): number | null {
  return b.lastUsageAt === null ? null : b.reportEveryMs;
}

/** Vigil's downtime up to `now` (restarts, the upgrade): for rules that leave it out of a silence (h/grace). */
export function vigilDowntime(fleet: Fleet, now: number): Interval[] {
  return fleet.noise.vigilDown.list.filter((iv) => iv.from <= now).map((iv) => ({ from: iv.from, to: Math.min(iv.to, now) }));
}

/**
 * The earliest instant after `after` at which the evaluator's verdict on `b` can change with nothing
 * new recorded: a silence crossing one of its thresholds (evaluate.ts compares `now - x > threshold`,
 * so the verdict changes at the first evaluation past x + threshold). Infinity when none is left.
 */
export function wakeAt(b: SimBouncer, after: number, rules: HealthRules): number {
  const life = lastSignOfLife(toHealthInput(b));
  let best = Number.POSITIVE_INFINITY;
  const consider = (c: number) => {
    if (c >= after && c < best) best = c;
  };
  consider(life + rules.offlineAfterMs);
  const t = cadenceThresholds(b.cadenceMs, rules);
  if (t !== null && b.lastPullAt !== null) {
    consider(b.lastPullAt + t.issueLateMs);
    if (t.offlineMs !== null) {
      consider(b.lastPullAt + t.offlineMs);
      consider(life + t.offlineMs);
    }
  }
  return best;
}
