/**
 * Issue 25's "a live bouncer with steady traffic", measured as the issue words it: at the moment of
 * the failure, the site's traffic learnt per hour of the week (what the Local API recorded of it,
 * the same history the rhythm rule reads) expects at least STEADY_EXPECTED uncached queries in the
 * next STEADY_WINDOW_MS, in each of the last weeks. It is a property of the site at that hour, not
 * of the rule: hours the rule treats as quiet still count here, so the rule's own floors cannot make
 * the row look better than it is.
 */
import { learnRhythm, queriesPerMinute, RHYTHM_MIN_WEEKS } from '../../src/core/health/live-rhythm.ts';
import type { Fleet } from './fleet.ts';
import type { SimBouncer } from './sim-bouncer.ts';
import { recordedPulls } from './snapshot.ts';

const MIN = 60_000;
const H = 60 * MIN;

/** The window after the failure that the goal is about (≤ 15 min to page). */
export const STEADY_WINDOW_MS = 15 * MIN;
/** At least one uncached query a minute on average over that window, in the quietest of the last weeks. */
export const STEADY_EXPECTED = 15;

/**
 * Uncached queries expected in [at, at + STEADY_WINDOW_MS] in the quietest of the last weeks (the
 * fewest recorded per hour of the week, read as a rate as the rule reads it); null with fewer than
 * RHYTHM_MIN_WEEKS weeks of history at that time of the week.
 */
export function expectedAfter(fleet: Fleet, b: SimBouncer, at: number): number | null {
  const end = at + STEADY_WINDOW_MS;
  // learnRhythm reads the same hours one to four weeks back: all of them history at the failure.
  const hours = learnRhythm(recordedPulls(fleet, b), b.createdAt, b.firstRecordedAt, end);
  let expected = 0;
  for (const h of hours) {
    const overlap = Math.min(end, h.hourStart + H) - Math.max(at, h.hourStart);
    if (overlap <= 0) continue;
    if (h.weeks < RHYTHM_MIN_WEEKS) return null;
    expected += (queriesPerMinute(h.fewest) * overlap) / MIN;
  }
  return expected;
}

/** Whether a live bouncer had steady traffic at `at` (see above). */
export function steadyAt(fleet: Fleet, b: SimBouncer, at: number): boolean {
  const e = expectedAfter(fleet, b, at);
  return e !== null && e >= STEADY_EXPECTED;
}
