import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';
import { HOUR_MS } from './pull-history.ts';
import { learnRhythm, rhythmSourceHours, type RhythmHour } from '../core/health/live-rhythm.ts';

/*
 * What the health engine needs to judge a live-mode bouncer (core/health/live-rhythm.ts), read from
 * what is already stored: the period of its usage-metrics reports (migration 003) and its live
 * queries per hour (migration 005, kept 29 days).
 */

export const WEEK_MS = 7 * 24 * HOUR_MS;
// Bound values per query: far below SQLite's and PostgreSQL's limits.
const CHUNK = 500;

/**
 * The period each bouncer states in its latest usage-metrics report (`metrics[].meta.window_size_seconds`,
 * the longest when several), by bouncer id; null when the report has none. Only for `ids`.
 */
export async function usageReportPeriods(store: Store, ids: readonly number[]): Promise<Map<number, { receivedAt: number; periodMs: number | null }>> {
  const db = dbOf(store);
  const out = new Map<number, { receivedAt: number; periodMs: number | null }>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('bouncer_usage_metrics')
      .select(['bouncer_id', 'received_at', 'report'])
      .where('bouncer_id', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(Number(r.bouncer_id), { receivedAt: Number(r.received_at), periodMs: reportPeriodMs(r.report) });
  }
  return out;
}

/** `window_size_seconds` of a stored report (the remediation component item, JSON), in ms; null when absent or unreadable. */
export function reportPeriodMs(report: string): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(report);
  } catch {
    return null;
  }
  const metrics = (parsed as { metrics?: unknown })?.metrics;
  if (!Array.isArray(metrics)) return null;
  let longest = 0;
  for (const m of metrics) {
    const w = (m as { meta?: { window_size_seconds?: unknown } })?.meta?.window_size_seconds;
    if (typeof w === 'number' && Number.isFinite(w) && w > longest) longest = w;
  }
  return longest > 0 ? Math.round(longest * 1000) : null;
}

/**
 * Each bouncer's rhythm for the hour holding `now` and the RHYTHM_HOURS − 1 before it: for each,
 * the fewest live queries recorded in that hour of the week over the last RHYTHM_MAX_WEEKS weeks
 * it existed and had history (an hour with no row then recorded none). Only for `bouncers`.
 */
export async function queryRhythms(store: Store, bouncers: ReadonlyArray<{ id: number; createdAt: number }>, now: number): Promise<Map<number, RhythmHour[]>> {
  const db = dbOf(store);
  const hours = rhythmSourceHours(now);
  const counts = new Map<string, number>();
  // The first hour recorded for each: before it nothing was recorded (Vigil not installed yet, or the
  // bouncer imported from CrowdSec with an older creation date), which is not "no queries".
  const firstRecorded = new Map<number, number>();
  for (let i = 0; i < bouncers.length; i += CHUNK) {
    const ids = bouncers.slice(i, i + CHUNK).map((b) => b.id);
    const firsts = await db
      .selectFrom('bouncer_pull_hours')
      .select((eb) => ['bouncer_id', eb.fn.min('hour').as('first')])
      .where('bouncer_id', 'in', ids)
      .groupBy('bouncer_id')
      .execute();
    for (const r of firsts) firstRecorded.set(Number(r.bouncer_id), Number(r.first));
    const rows = await db
      .selectFrom('bouncer_pull_hours')
      .select(['bouncer_id', 'hour', 'pulls'])
      .where('hour', 'in', hours)
      .where('bouncer_id', 'in', ids)
      .execute();
    for (const r of rows) counts.set(`${Number(r.bouncer_id)}:${Number(r.hour)}`, Number(r.pulls));
  }
  const out = new Map<number, RhythmHour[]>();
  for (const b of bouncers)
    out.set(
      b.id,
      learnRhythm((h) => counts.get(`${b.id}:${h}`) ?? 0, b.createdAt, firstRecorded.get(b.id) ?? null, now),
    );
  return out;
}
