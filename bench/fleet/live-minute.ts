/**
 * A live site's client lookups in one minute, and what Vigil records of them: the last one is the
 * bouncer's last request; the first at least LIVE_PULL_REFRESH_MS after the last recorded one moves
 * its last pull and counts in the pull history (server/bouncer-gate.ts: at most one a minute), which
 * is what its rhythm is learnt from (core/health/live-rhythm.ts).
 */
import { liveQueriesPerMin, type Traffic } from './noise.ts';
import type { Rng } from './random.ts';

const MIN = 60_000;
/** A live query moves the last pull at most once a minute (server/bouncer-gate.ts, LIVE_PULL_REFRESH_MS). */
export const LIVE_PULL_REFRESH_MS = 60_000;

export interface MinuteLookups {
  n: number;
  first: number;
  last: number;
  /** Lookups a minute (the Poisson rate this minute was drawn from). */
  rate: number;
}

/** The uncached lookups of the minute ending at `t` (Poisson), with the first and the last (min and max of n uniform times); null: none. */
export function minuteLookups(rng: Rng, traffic: Traffic, t: number): MinuteLookups | null {
  const rate = liveQueriesPerMin(traffic, t - MIN / 2);
  const n = rng.poisson(rate);
  if (n === 0) return null;
  const last = Math.floor(t - MIN + MIN * rng.float() ** (1 / n));
  const first = n === 1 ? last : Math.min(last, Math.floor(t - MIN + MIN * (1 - rng.float() ** (1 / n))));
  return { n, first, last, rate };
}

/**
 * The lookup that refreshes the last pull, given the last recorded one (`lastPullAt`): the first at
 * or after lastPullAt + LIVE_PULL_REFRESH_MS, or null. Between the first and the last lookup the
 * time of the first one past that instant is drawn as the Poisson process would give it
 * (memoryless: an exponential wait), capped by the last.
 */
export function refreshAt(rng: Rng, m: MinuteLookups, lastPullAt: number | null): number | null {
  if (lastPullAt === null) return m.first;
  const due = lastPullAt + LIVE_PULL_REFRESH_MS;
  if (m.first >= due) return m.first;
  if (m.last < due) return null;
  return Math.min(m.last, Math.floor(due + rng.exponential(MIN / m.rate)));
}
