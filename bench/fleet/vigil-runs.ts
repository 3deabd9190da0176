/**
 * Vigil's runs in the simulation as the store records them (health/lapi-alive.ts), and the downtime
 * the evaluator is given from them (core/health/downtime.ts): the real `downtimeFrom`, so a silence
 * is shortened exactly as `vigil serve` shortens it, mark granularity included.
 */
import { downtimeFrom, type Interval, type LapiRun } from '../../src/core/health/downtime.ts';
import { ALIVE_MARK_EVERY_MS } from '../../src/health/lapi-alive.ts';
import type { FleetNoise } from './noise.ts';

/** Each start, and the last "alive" mark (every ALIVE_MARK_EVERY_MS from its start) before it stopped; the last run's end is open. */
export function vigilRuns(noise: FleetNoise): LapiRun[] {
  return noise.lapiStarts.map((startedAt, i) => {
    const stop = noise.vigilDown.list[i]?.from;
    return { startedAt, aliveUntil: stop === undefined ? null : startedAt + Math.floor((stop - startedAt) / ALIVE_MARK_EVERY_MS) * ALIVE_MARK_EVERY_MS };
  });
}

/**
 * The downtime `vigilDowntime` (health/lapi-alive.ts) hands the evaluator at `now`: downtimeFrom over
 * the runs recorded since `since`, the one running now alive until now.
 */
export function downtimeAt(runs: readonly LapiRun[], since: number, now: number): Interval[] {
  const seen: LapiRun[] = [];
  for (const r of runs) {
    if (r.startedAt > now) break;
    const alive = r.aliveUntil === null || r.aliveUntil > now ? now : r.aliveUntil;
    if (r.startedAt >= since || alive >= since) seen.push({ startedAt: r.startedAt, aliveUntil: alive });
  }
  return downtimeFrom(seen);
}

/** How many of the (sorted) starts are at or before `t`. */
export function startsUpTo(starts: readonly number[], t: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
