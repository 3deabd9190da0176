/**
 * Fleet state → what the health evaluator reads (FleetSnapshot), for all bouncers or for some, with
 * every input `vigil serve`'s engine gives it (health/engine.ts): each bouncer's record, a live
 * bouncer's usage-report period and learnt rhythm (health/live-signals.ts, with the real
 * `learnRhythm`), refused-request summaries, Vigil's starts and its downtime (from its runs, with the
 * real `downtimeFrom`). When a bouncer's findings can next change with nothing new recorded: wake.ts.
 */
import { learnRhythm } from '../../src/core/health/live-rhythm.ts';
import type { BouncerHealthInput, FleetSnapshot, HealthRules } from '../../src/core/health/types.ts';
import type { RefusedSummary } from '../../src/core/model/records.ts';
import type { Fleet } from './fleet.ts';
import type { SimBouncer } from './sim-bouncer.ts';
import { downtimeAt } from './vigil-runs.ts';

const D = 24 * 3600_000;
const H = 3600_000;

export function toHealthInput(fleet: Fleet, b: SimBouncer, now: number): BouncerHealthInput {
  const input: BouncerHealthInput = {
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
  const closed = connectionClosedAt(fleet, b, now);
  if (closed !== null) input.connectionClosedAt = closed;
  // As health/live-signals.ts annotates them: only bouncers in live mode (no cadence, pulled once).
  if (b.cadenceMs === null && b.lastPullAt !== null) {
    input.usageReportPeriodMs = usageReportPeriodMs(b);
    input.queryRhythm = rhythmOf(fleet, b, now);
  }
  return input;
}

/** Go's http.Transport closes a keep-alive connection idle this long (a slower stream bouncer closes it between pulls). */
export const GO_IDLE_CLOSE_MS = 90_000;

/**
 * The last time `b` closed its own connection to the Local API, as serve's connection watch records
 * it (server/connection-watch.ts, in memory: a Vigil start forgets it, and nothing is seen while Vigil
 * is down), or null. A stream bouncer keeps one keep-alive connection between pulls: its kernel closes
 * it when the process is killed or restarts (nightly); a bouncer pulling less often than Go's idle
 * timeout closes it itself 90 s after each pull. A network cut, a blip or a GC pause close nothing.
 * Live bouncers: their connections come and go with their clients, so the rule has nothing to read.
 */
export function connectionClosedAt(fleet: Fleet, b: SimBouncer, now: number): number | null {
  if (b.mode !== 'stream') return null;
  const seen = (at: number): number | null => {
    if (at > now || fleet.noise.vigilDown.contains(at)) return null;
    // A start after the close empties the recorder.
    for (const s of fleet.noise.lapiStarts) if (s > at && s <= now) return null;
    return at;
  };
  let closed: number | null = null;
  const later = (at: number | null) => {
    if (at !== null && (closed === null || at > closed)) closed = at;
  };
  for (const f of b.failures) if (f.kind === 'killed' && f.start <= now && now < f.end) later(seen(f.start));
  const restart = b.nightly.containing(now);
  if (restart) later(seen(restart.from));
  if (b.freqMs > GO_IDLE_CLOSE_MS && b.lastPullAt !== null) later(seen(b.lastPullAt + GO_IDLE_CLOSE_MS));
  return closed;
}

/** Its rhythm for the hour holding `now`, learnt once an hour (health/live-signals.ts) by the real `learnRhythm`. */
export function rhythmOf(fleet: Fleet, b: SimBouncer, now: number): BouncerHealthInput['queryRhythm'] {
  const hour = Math.floor(now / H) * H;
  if (b.rhythm?.hour !== hour) b.rhythm = { hour, value: learnRhythm(recordedPulls(fleet, b), b.createdAt, b.firstRecordedAt, now) };
  return b.rhythm.value;
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
    bouncers: bouncers.map((b) => toHealthInput(fleet, b, now)),
    refused: [],
    refusedSummaries,
    lapiStarts: fleet.noise.lapiStarts.filter((s) => s >= since && s <= now),
    downtime: downtimeAt(fleet.runs, since, now),
    bouncerChanges: [],
  };
}

/** Pulls and live lookups Vigil recorded for `b` in the hour starting at `hourStart` (store/pull-history.ts's buckets). */
export function recordedPulls(fleet: Fleet, b: SimBouncer): (hourStart: number) => number {
  return (hourStart) => (hourStart < fleet.historyStart ? 0 : (b.pullHours[Math.floor((hourStart - fleet.historyStart) / 3600_000)] ?? 0));
}

/** The period its usage reports announce (`window_size_seconds`), once one arrived; null: it sends none. */
export function usageReportPeriodMs(b: SimBouncer): number | null {
  return b.lastUsageAt === null ? null : b.reportEveryMs;
}
