/**
 * Vigil's own downtime: while no Local API process ran, no bouncer could pull and no agent could
 * send a heartbeat, so that time is never counted as their silence (docs/health.md, "When Vigil
 * itself was down"). Pure: the store hands over the runs, the evaluator subtracts the gaps.
 */

/** A span of time, `from` inclusive, `to` exclusive, in ms. */
export interface Interval {
  from: number;
  to: number;
}

/**
 * One Local API process's run as the store recorded it: when it started and the last time it
 * marked itself alive. `aliveUntil` null: a run from before the marks were recorded, whose end is
 * unknown; it is taken to have lasted until the next start, so no downtime is claimed for it.
 */
export interface LapiRun {
  startedAt: number;
  aliveUntil: number | null;
}

/**
 * The intervals when NO run was alive, between the earliest run and the latest start: the union of
 * every replica's [start, last alive mark], and the holes in it. Time after the last mark of every
 * run is not downtime (the process that asks is alive now; its next mark is not written yet).
 * A run's last mark can be up to one mark interval before it really stopped: that much uptime may
 * be counted as downtime, never the reverse.
 */
export function downtimeFrom(runs: readonly LapiRun[]): Interval[] {
  const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  const gaps: Interval[] = [];
  let reach = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r.startedAt > reach && reach !== Number.NEGATIVE_INFINITY) gaps.push({ from: reach, to: r.startedAt });
    // Unknown end: alive until the next start (or, for the last run, until now: no gap after it).
    const end = r.aliveUntil ?? sorted[i + 1]?.startedAt ?? Number.POSITIVE_INFINITY;
    reach = Math.max(reach, end, r.startedAt);
  }
  return gaps;
}

/** How long [since, now] overlaps the downtime intervals. */
export function downtimeWithin(since: number, now: number, downtime: readonly Interval[]): number {
  let total = 0;
  for (const d of downtime) {
    const from = Math.max(d.from, since);
    const to = Math.min(d.to, now);
    if (to > from) total += to - from;
  }
  return total;
}

/** The silence since `since` that counts against a component: the time since, less Vigil's own downtime in it. */
export function silenceSince(since: number, now: number, downtime: readonly Interval[] | undefined): number {
  const silent = now - since;
  return downtime === undefined || downtime.length === 0 ? silent : silent - downtimeWithin(since, now, downtime);
}
