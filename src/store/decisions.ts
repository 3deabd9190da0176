import type { Decision, NewAlert, NewAlertWithDecisions, NewDecision } from '../core/model/records.ts';
import { INSERT_CHUNK, nextRev, toDecision } from './alert-rows.ts';
import { missingCounter } from './bouncers.ts';
import type { AlertsPush, WrittenAlerts } from './dialects/store-dialect.ts';
import { dbOf, dialectOf } from './store-db.ts';
import type { Store } from './store.ts';

// Decisions (bans, captchas…) and the revision bouncers follow: written with their alerts in one
// transaction, soft-deleted (CrowdSec's way), read as deltas by revision.

// The write types are the domain's (core/model): pure code builds them, the store writes them.
export type { AlertsPush, NewAlert, NewAlertWithDecisions, NewDecision, WrittenAlerts };
export { toDecision };

/** One alert and its decisions in one transaction (an import of 100k rows included). */
export async function addDecisions(
  store: Store,
  alert: NewAlert,
  decisions: NewDecision[],
  onProgress?: (done: number) => void,
): Promise<{ alertId: number; decisionIds: number[] }> {
  const written = await addAlerts(store, [{ alert, decisions }], onProgress);
  return { alertId: written.alertIds[0]!, decisionIds: written.decisions.map((d) => d.id) };
}

/**
 * Alerts and their decisions (one POST /v1/alerts) in one transaction: all or nothing, one
 * revision for all of them. Returns the alert ids in order, every decision as stored (alert by
 * alert, in order) and the revision, so this process's index can take them without a query.
 */
export async function addAlerts(
  store: Store,
  batch: readonly NewAlertWithDecisions[],
  onProgress?: (done: number) => void,
  pushed?: AlertsPush,
): Promise<WrittenAlerts> {
  return await dialectOf(store).writeAlerts(batch, onProgress, pushed);
}

/**
 * Soft-deletes active decisions: `until` moves to now (as CrowdSec does), so stream bouncers
 * receive them under `deleted` with a negative duration. Returns the decisions deleted.
 */
export async function softDeleteDecisions(store: Store, ids: number[], now: number): Promise<number> {
  if (ids.length === 0) return 0;
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const rev = await nextRev(trx);
      let n = 0;
      for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
        const res = await trx
          .updateTable('decisions')
          .set({ until: now, deleted_at: now, rev })
          .where('id', 'in', ids.slice(i, i + INSERT_CHUNK))
          .where('until', '>', now)
          .executeTakeFirst();
        n += Number(res.numUpdatedRows);
      }
      return n;
    });
}

export async function activeDecisions(store: Store, now: number): Promise<Decision[]> {
  const rows = await dbOf(store).selectFrom('decisions').selectAll().where('until', '>', now).orderBy('until').orderBy('id').execute();
  return rows.map(toDecision);
}

/** Decisions whose expiry is at or before now and still stored (stream startup's `deleted`). */
export async function expiredDecisions(store: Store, now: number, since?: number): Promise<Decision[]> {
  return (await dialectOf(store).expiredDecisionRows(now, since)).map(toDecision);
}

export async function decisionsCreatedAfter(store: Store, after: number, now: number): Promise<Decision[]> {
  const rows = await dbOf(store)
    .selectFrom('decisions')
    .selectAll()
    .where('created_at', '>', after)
    .where('until', '>', now)
    .orderBy('until')
    .orderBy('id')
    .execute();
  return rows.map(toDecision);
}

/** How many decisions are active at `now` (sizes a first load of the index). */
export async function countActiveDecisions(store: Store, now: number): Promise<number> {
  const row = await dbOf(store)
    .selectFrom('decisions')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('until', '>', now)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The revision of the decisions, moved by every write of them. */
export async function decisionsRev(store: Store): Promise<number> {
  const value = await dialectOf(store).counter('decisions_rev');
  if (value === undefined) throw missingCounter('decisions_rev');
  return value;
}

export async function decisionsChangedSince(store: Store, rev: number): Promise<Decision[]> {
  return (await dialectOf(store).decisionRowsChangedSince(rev)).map(toDecision);
}

/**
 * The same, one page at a time (ids above `afterId`, ascending), so following 100k new decisions
 * never holds 100k raw rows at once. `rev = -1` pages through every active decision.
 */
export async function decisionsChangedSincePage(store: Store, rev: number, now: number, afterId: number, limit: number): Promise<Decision[]> {
  return (await decisionChangesPage(store, rev, now, afterId, limit)).map((c) => c.decision);
}

/** Active decisions with ids above `afterId`, ascending, at most `limit` (the index's first load: strings not interned). */
export async function activeDecisionsPage(store: Store, now: number, afterId: number, limit: number): Promise<Decision[]> {
  return await dialectOf(store).activeDecisionsPage(now, afterId, limit);
}

/** The same, each decision with the revision that last changed it. */
export async function decisionChangesPage(
  store: Store,
  rev: number,
  now: number,
  afterId: number,
  limit: number,
): Promise<Array<{ rev: number; decision: Decision }>> {
  let q = dbOf(store).selectFrom('decisions').selectAll().where('id', '>', afterId);
  q = rev < 0 ? q.where('until', '>', now) : q.where('rev', '>', rev);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ rev: Number(r.rev), decision: toDecision(r) }));
}

/** Forgets decisions expired before `cutoff` (CrowdSec's flush max_age), with their empty alerts. */
export async function purgeExpiredDecisions(store: Store, cutoff: number): Promise<number> {
  const db = dbOf(store);
  const res = await db.deleteFrom('decisions').where('until', '<', cutoff).executeTakeFirst();
  await db
    .deleteFrom('alerts')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('decisions').select('id').whereRef('decisions.alert_id', '=', 'alerts.id'))))
    .execute();
  return Number(res.numDeletedRows);
}
