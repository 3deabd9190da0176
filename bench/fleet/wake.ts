/**
 * When a bouncer's findings can next change with nothing new recorded (its "wake"), so the
 * simulation need not evaluate every bouncer every 10 s (fleet.test.ts proves the findings are the
 * same). Each time threshold of the evaluator is here: the 24 h rule and the cadence thresholds
 * (cadence.ts) with Vigil's downtime left out of a silence (downtime.ts), and a live bouncer's
 * missed usage reports and rhythm silence (live-rhythm.ts). Fail-open needs none: it turns on a
 * refused request, which flags the bouncer at once. A wake may be early (a sign of life, a later
 * Local API start or more downtime only push thresholds later), never late.
 */
import type { Interval } from '../../src/core/health/downtime.ts';
import { bouncerThresholds, lastSignOfLife } from '../../src/core/health/evaluate.ts';
import {
  REPORT_PERIOD_MAX_MS,
  REPORT_PERIOD_MIN_MS,
  REPORTS_MISSED,
  REPORTS_SLACK_MS,
  RHYTHM_EXPECTED,
  RHYTHM_EXPECTED_WITH_REPORT,
  RHYTHM_MIN_SILENCE_MS,
  RHYTHM_MIN_WEEKS,
  RHYTHM_STEADY_HOURLY,
  isLive,
  queriesPerMinute,
  type RhythmHour,
} from '../../src/core/health/live-rhythm.ts';
import type { HealthRules } from '../../src/core/health/types.ts';
import type { Fleet } from './fleet.ts';
import type { SimBouncer } from './sim-bouncer.ts';
import { lookbackMs, toHealthInput } from './snapshot.ts';
import { downtimeAt } from './vigil-runs.ts';

const H = 3600_000;
/** A wake this much before a threshold met with `>=` (the rhythm's) or computed in floating point: one evaluation too many, never one too few. */
const EARLY_MS = 1000;

/**
 * The first instant at which `silenceSince(from, t, downtime)` reaches `threshold`: the time since
 * `from` less the downtime in it (downtime intervals sorted, not overlapping).
 */
export function atSilence(from: number, threshold: number, downtime: readonly Interval[]): number {
  let t = from + threshold;
  for (const d of downtime) {
    if (d.to <= from) continue;
    if (d.from >= t) break;
    t += d.to - Math.max(d.from, from);
  }
  return t;
}

/** The earliest instant ≥ `after` at which the evaluator's verdict on `b` can change with nothing new recorded; Infinity when none is left. */
export function wakeAt(fleet: Fleet, b: SimBouncer, after: number, rules: HealthRules): number {
  const input = toHealthInput(fleet, b, after);
  const downtime = downtimeAt(fleet.runs, after - lookbackMs(rules), after);
  const life = lastSignOfLife(input);
  let best = Number.POSITIVE_INFINITY;
  const consider = (c: number) => {
    if (c >= after && c < best) best = c;
  };
  // evaluate.ts compares `silence > threshold`: the verdict changes at the first evaluation past the crossing.
  consider(atSilence(life, rules.offlineAfterMs, downtime));
  // A bouncer that closed its connection after its last pull is late sooner (evaluate.ts bouncerThresholds).
  const t = bouncerThresholds(input, rules);
  if (t !== null && b.lastPullAt !== null) {
    consider(atSilence(b.lastPullAt, t.issueLateMs, downtime));
    if (t.offlineMs !== null) {
      consider(atSilence(b.lastPullAt, t.offlineMs, downtime));
      consider(atSilence(life, t.offlineMs, downtime));
      consider(atSilence(Math.max(b.lastPullAt, b.lastUsageAt ?? 0), t.offlineMs, downtime));
    }
  }
  if (isLive(input)) {
    // live-rhythm.ts counts a live bouncer's silence from its last sign of life or the latest Local API start after it.
    let from = Math.max(input.lastPullAt ?? 0, input.lastRequestAt ?? 0, input.lastUsageMetricsAt ?? 0);
    for (const s of fleet.noise.lapiStarts) if (s > from && s <= after) from = s;
    const period = input.usageReportPeriodMs;
    if (period != null && input.lastUsageMetricsAt !== null && period >= REPORT_PERIOD_MIN_MS && period <= REPORT_PERIOD_MAX_MS) {
      consider(from + REPORTS_MISSED * period + REPORTS_SLACK_MS);
      // One report missed (live-rhythm.ts oneMissedVerdict): due a period after the last report or a later Local API start.
      let reportFrom = input.lastUsageMetricsAt;
      for (const s of fleet.noise.lapiStarts) if (s > reportFrom && s <= after) reportFrom = s;
      consider(reportFrom + period + REPORTS_SLACK_MS);
    }
    const rhythm = input.queryRhythm;
    if (rhythm) {
      for (const threshold of [RHYTHM_EXPECTED, RHYTHM_EXPECTED_WITH_REPORT]) {
        const c = rhythmCrossing(rhythm, from, after, threshold);
        if (c !== null && c >= after) consider(Math.max(after, c - EARLY_MS));
      }
      // The next hour brings another rhythm (another hour of the week): judged again then.
      if (rhythm.some((h) => h.weeks >= RHYTHM_MIN_WEEKS && h.fewest >= RHYTHM_STEADY_HOURLY)) consider(Math.floor(after / H) * H + H);
    }
  }
  return best;
}

/**
 * Within the hour holding `after` (its rhythm holds until the hour ends), the instant the expected
 * queries over the silence since `from` reach `threshold` (liveSilence's RHYTHM_EXPECTED, oneMissedVerdict's RHYTHM_EXPECTED_WITH_REPORT), or null.
 */
function rhythmCrossing(rhythm: readonly RhythmHour[], from: number, after: number, threshold: number): number | null {
  const hourStart = Math.floor(after / H) * H;
  let fixed = 0;
  let rate = 0;
  for (const h of rhythm) {
    if (h.weeks < RHYTHM_MIN_WEEKS || h.fewest < RHYTHM_STEADY_HOURLY) continue;
    const r = queriesPerMinute(h.fewest);
    if (h.hourStart === hourStart) rate = r;
    else if (h.hourStart < hourStart) fixed += (r * Math.max(0, h.hourStart + H - Math.max(from, h.hourStart))) / 60_000;
  }
  let c: number;
  if (fixed >= threshold) c = Math.max(from, hourStart);
  else if (rate > 0) c = Math.max(from, hourStart) + ((threshold - fixed) * 60_000) / rate;
  else return null;
  c = Math.max(c, from + RHYTHM_MIN_SILENCE_MS);
  return c < hourStart + H ? c : null;
}
