/**
 * The noise model of the fleet simulation: everything that makes a healthy fleet look less than
 * perfect. Each number is written once here; bench/fleet.bench.ts prints them and docs/benchmarks.md
 * ("Fleet simulation") states them. Times in ms.
 */
import type { Rng } from './random.ts';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

export const NOISE = {
  /** Fleet mix: the share of stream bouncers (the rest are live), and of those at update_frequency 10 s (the rest 60 s). */
  streamShare: 0.7,
  stream10sShare: 0.75,
  /** Each pull interval is update_frequency × (1 ± this), uniformly: scheduling and request latency. */
  pullJitter: 0.1,
  /** This share of pulls is held by a pause (GC, a stalled container) of up to gcPauseMaxMs. */
  gcPauseChance: 0.02,
  gcPauseMaxMs: 5 * S,
  /** Per bouncer: network blips at this mean rate, 30–90 s each: nothing it sends arrives. */
  bouncerBlipEveryMs: 3 * D,
  blipMinMs: 30 * S,
  blipMaxMs: 90 * S,
  /** Fleet-wide blips (a switch, the Local API's uplink): this many over the run, 30–90 s each. */
  fleetBlips: 4,
  /** Each bouncer restarts every night (logrotate, reload) between 03:00 and 04:00 its time: 5–30 s without requests. */
  nightlyRestartMinMs: 5 * S,
  nightlyRestartMaxMs: 30 * S,
  /** Vigil restarts at this mean interval, down 5–20 s each; and one upgrade of 10 min halfway. */
  vigilRestartEveryMs: 3 * D,
  vigilRestartMinMs: 5 * S,
  vigilRestartMaxMs: 20 * S,
  upgradeMs: 10 * MIN,
  /** Live bouncers: clients per minute at the daily peak, log-uniform between these (a quiet shop to a busy site). */
  livePeakMinPerMin: 0.5,
  livePeakMaxPerMin: 100,
  /** Share of client lookups answered from the bouncer's cache (its TTL), per site, uniform in this range. */
  cacheHitMin: 0.3,
  cacheHitMax: 0.9,
  /** Traffic at night (02:00–06:00 local) as a share of the peak; weekends run at this share of a weekday. */
  nightFloor: 0.05,
  weekendFactor: 0.5,
  /** Usage-metrics reports: share of live and of stream bouncers that send them, and their periods. */
  liveReportShare: 0.6,
  streamReportShare: 0.5,
  reportPeriodsMs: [15 * MIN, 30 * MIN],
} as const;

export interface Interval {
  from: number;
  to: number;
}

/** Sorted, non-overlapping intervals; `contains` by binary search (a few dozen per list at most). */
export class Intervals {
  readonly list: Interval[];
  constructor(list: Interval[]) {
    this.list = merge(list);
  }
  contains(t: number): boolean {
    return this.containing(t) !== null;
  }
  /** The interval holding `t` (or null), and where the next one begins (Infinity: none). */
  around(t: number): { inside: Interval | null; next: number } {
    let lo = 0;
    let hi = this.list.length;
    // The first interval that is not over at t.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.to <= t) lo = mid + 1;
      else hi = mid;
    }
    const iv = this.list[lo];
    if (iv === undefined) return { inside: null, next: Number.POSITIVE_INFINITY };
    return t >= iv.from ? { inside: iv, next: iv.to } : { inside: null, next: iv.from };
  }
  /** The interval holding `t`, or null. */
  containing(t: number): Interval | null {
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const iv = this.list[mid]!;
      if (t < iv.from) hi = mid - 1;
      else if (t >= iv.to) lo = mid + 1;
      else return iv;
    }
    return null;
  }
}

function merge(list: Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => a.from - b.from);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.from <= last.to) last.to = Math.max(last.to, iv.to);
    else out.push({ ...iv });
  }
  return out;
}

/** Events at a mean interval over [start, end), each lasting between min and max. */
export function randomIntervals(rng: Rng, start: number, end: number, meanEveryMs: number, minMs: number, maxMs: number): Interval[] {
  const out: Interval[] = [];
  for (let t = start + rng.exponential(meanEveryMs); t < end && out.length < 10_000; t += rng.exponential(meanEveryMs)) {
    out.push({ from: Math.floor(t), to: Math.floor(t + rng.between(minMs, maxMs)) });
  }
  return out;
}

/** What happens to the whole fleet: Vigil's restarts and upgrade (no pulls recorded), and fleet-wide blips. */
export interface FleetNoise {
  /** Vigil not running: nothing is recorded and nothing evaluated. */
  vigilDown: Intervals;
  /** When Vigil (the Local API) started: at the beginning, and at the end of each downtime. */
  lapiStarts: number[];
  fleetBlips: Intervals;
}

export function fleetNoise(rng: Rng, start: number, end: number, restartEveryMs: number = NOISE.vigilRestartEveryMs): FleetNoise {
  const down = randomIntervals(rng, start + H, end, restartEveryMs, NOISE.vigilRestartMinMs, NOISE.vigilRestartMaxMs);
  // The upgrade: halfway, on a weekday afternoon (14:00 UTC).
  const mid = start + Math.floor((end - start) / 2 / D) * D + 14 * H;
  if (mid + NOISE.upgradeMs < end) down.push({ from: mid, to: mid + NOISE.upgradeMs });
  const vigilDown = new Intervals(down);
  const blips: Interval[] = [];
  for (let i = 0; i < NOISE.fleetBlips; i++) {
    const from = Math.floor(rng.between(start + H, end - H));
    blips.push({ from, to: from + Math.floor(rng.between(NOISE.blipMinMs, NOISE.blipMaxMs)) });
  }
  return { vigilDown, lapiStarts: [start, ...vigilDown.list.map((iv) => iv.to)], fleetBlips: new Intervals(blips) };
}

/** A live site's traffic: clients per minute at the peak, its cache's hit share, its time zone. */
export interface Traffic {
  peakPerMin: number;
  cacheHit: number;
  /** Hours added to UTC for the site's local time. */
  utcOffsetH: number;
}

export function randomTraffic(rng: Rng, utcOffsetH: number): Traffic {
  const lo = Math.log(NOISE.livePeakMinPerMin);
  const hi = Math.log(NOISE.livePeakMaxPerMin);
  return { peakPerMin: Math.exp(rng.between(lo, hi)), cacheHit: rng.between(NOISE.cacheHitMin, NOISE.cacheHitMax), utcOffsetH };
}

/** Local hour (fractional) and whether it is a weekend, for a site. */
export function localTime(t: number, utcOffsetH: number): { hour: number; weekend: boolean } {
  const local = t + utcOffsetH * H;
  const hour = (local % D) / H;
  // 1970-01-01 was a Thursday: day 0 → Thursday, so (days + 4) % 7 gives 0 = Sunday.
  const dow = (Math.floor(local / D) + 4) % 7;
  return { hour, weekend: dow === 0 || dow === 6 };
}

/**
 * Uncached live queries per minute at `t`: the day curve (a floor at night, the peak mid-afternoon),
 * halved on weekends, less what the cache answers.
 */
export function liveQueriesPerMin(tr: Traffic, t: number): number {
  const { hour, weekend } = localTime(t, tr.utcOffsetH);
  const day = hour < 6 ? 0 : Math.sin((Math.PI * (hour - 6)) / 18) ** 2;
  const shape = NOISE.nightFloor + (1 - NOISE.nightFloor) * day;
  return tr.peakPerMin * shape * (weekend ? NOISE.weekendFactor : 1) * (1 - tr.cacheHit);
}

/** Pulls until the next one a pause holds: geometric with mean 1 / gcPauseChance. */
export function pullsToNextPause(rng: Rng): number {
  return 1 + Math.floor(Math.log(1 - rng.float()) / Math.log(1 - NOISE.gcPauseChance));
}
