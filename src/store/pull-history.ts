import { bookkeepingTransaction, dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Pulls per bouncer per hour (migration 005; table type in schema.ts), for the dashboard's timelines
// and a live-mode bouncer's rhythm per hour of the week (live-signals.ts).

export const HOUR_MS = 3600_000;
/**
 * 4 weeks for a live bouncer's rhythm (the same hour of the week in each of the last 4 weeks:
 * core/health/live-rhythm.ts), plus a day so the oldest bucket read is always complete; the
 * dashboard's longest timeline is 7 days. About 700 small rows per bouncer.
 */
export const PULL_HISTORY_KEPT_MS = 29 * 24 * HOUR_MS;
// Three bound values per row: far below SQLite's and PostgreSQL's limits.
const UPSERT_CHUNK = 1000;

export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Pull counts gathered in memory between two activity flushes: one entry per (bouncer, hour). */
export class PullHourCounts {
  #counts = new Map<string, { bouncerId: number; hour: number; pulls: number }>();

  add(bouncerId: number, at: number, pulls = 1): void {
    const hour = hourOf(at);
    const key = `${bouncerId}:${hour}`;
    const found = this.#counts.get(key);
    if (found) found.pulls += pulls;
    else this.#counts.set(key, { bouncerId, hour, pulls });
  }

  get size(): number {
    return this.#counts.size;
  }

  /** Hands over what was gathered and starts afresh. */
  take(): Array<{ bouncerId: number; hour: number; pulls: number }> {
    const out = [...this.#counts.values()];
    this.#counts = new Map();
    return out;
  }

  /** Puts counts back after a failed write, so the next flush retries them. */
  restore(rows: Array<{ bouncerId: number; hour: number; pulls: number }>): void {
    for (const r of rows) this.add(r.bouncerId, r.hour, r.pulls);
  }
}

/**
 * Adds the counts to the hourly buckets and forgets buckets older than the retention. Several
 * replicas may write the same bucket: the upsert adds, it never overwrites.
 */
export async function recordPullHours(store: Store, rows: Array<{ bouncerId: number; hour: number; pulls: number }>): Promise<void> {
  if (rows.length === 0) return;
  // Retention counts from the newest bucket written (times come from the server's Clock).
  const newest = rows.reduce((m, r) => Math.max(m, r.hour), 0);
  // In key order: two replicas adding to the same buckets lock them in the same order (no deadlock).
  rows = [...rows].sort((a, b) => a.bouncerId - b.bouncerId || a.hour - b.hour);
  await bookkeepingTransaction(store, async (trx) => {
    for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
      await trx
        .insertInto('bouncer_pull_hours')
        .values(rows.slice(i, i + UPSERT_CHUNK).map((r) => ({ bouncer_id: r.bouncerId, hour: r.hour, pulls: r.pulls })))
        .onConflict((oc) => oc.columns(['bouncer_id', 'hour']).doUpdateSet((eb) => ({ pulls: eb('bouncer_pull_hours.pulls', '+', eb.ref('excluded.pulls')) })))
        .execute();
    }
    // Cheap with the hour index; runs once per flush that had pulls.
    await trx
      .deleteFrom('bouncer_pull_hours')
      .where('hour', '<', newest - PULL_HISTORY_KEPT_MS)
      .execute();
  });
}

/** Hourly pull counts from `since`, oldest first: of one bouncer, of some, or of all when neither is given. */
export async function pullHours(
  store: Store,
  opts: { since: number; bouncerId?: number; bouncerIds?: readonly number[] },
): Promise<Array<{ bouncerId: number; hour: number; pulls: number }>> {
  const db = dbOf(store);
  const ids = opts.bouncerId !== undefined ? [opts.bouncerId] : opts.bouncerIds;
  const out: Array<{ bouncerId: number; hour: number; pulls: number }> = [];
  // Chunks keep the IN list within SQLite's bound-variable limit.
  for (let i = 0; i < (ids ? ids.length : 1); i += UPSERT_CHUNK) {
    let q = db.selectFrom('bouncer_pull_hours').select(['bouncer_id', 'hour', 'pulls']).where('hour', '>=', hourOf(opts.since));
    if (ids) q = q.where('bouncer_id', 'in', ids.slice(i, i + UPSERT_CHUNK));
    for (const r of await q.orderBy('hour').execute()) out.push({ bouncerId: Number(r.bouncer_id), hour: Number(r.hour), pulls: Number(r.pulls) });
  }
  return ids && ids.length > UPSERT_CHUNK ? out.sort((a, b) => a.hour - b.hour) : out;
}
