import type { Selectable } from 'kysely';
import type { Alert, AlertDetails, AlertWithDecisions, Decision } from '../core/model/records.ts';
import type { AlertsTable } from './schema.ts';
import { dbOf } from './store-db.ts';
import { toAlert, toDecision } from './alert-rows.ts';
import type { Store } from './store.ts';
import { softDeleteDecisions } from './decisions.ts';

// Alerts as the watcher API reads and deletes them (table in 001, CrowdSec's details in 008).
// Writing goes through addAlerts/addDecisions (decisions.ts), which bumps the decisions revision bouncers follow.

export type StoredAlert = Alert & AlertDetails;

const CHUNK = 1000;

/** One page of alerts by id, newest first (`desc`) or oldest first, after the cursor `afterId`. */
export async function alertsPage(store: Store, opts: { sort: 'asc' | 'desc'; afterId: number | null; limit: number }): Promise<StoredAlert[]> {
  let q = dbOf(store).selectFrom('alerts').selectAll();
  if (opts.afterId !== null) q = q.where('id', opts.sort === 'desc' ? '<' : '>', opts.afterId);
  const rows = await q.orderBy('id', opts.sort).limit(opts.limit).execute();
  return rows.map(toStoredAlert);
}

/** Alerts by id, in the order asked (missing ones skipped). */
export async function alertsByIds(store: Store, ids: readonly number[]): Promise<StoredAlert[]> {
  const found = new Map<number, StoredAlert>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await dbOf(store)
      .selectFrom('alerts')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) found.set(Number(r.id), toStoredAlert(r));
  }
  return ids.map((id) => found.get(id)).filter((a): a is StoredAlert => a !== undefined);
}

export async function getAlert(store: Store, id: number): Promise<StoredAlert | undefined> {
  const row = await dbOf(store).selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toStoredAlert(row) : undefined;
}

/** Every decision of these alerts, expired and deleted ones included (CrowdSec shows them all), by alert. */
export async function decisionsOfAlerts(store: Store, alertIds: readonly number[]): Promise<Map<number, Decision[]>> {
  const out = new Map<number, Decision[]>();
  for (let i = 0; i < alertIds.length; i += CHUNK) {
    const rows = await dbOf(store)
      .selectFrom('decisions')
      .selectAll()
      .where('alert_id', 'in', alertIds.slice(i, i + CHUNK))
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const d = toDecision(r);
      let list = out.get(d.alertId!);
      if (!list) out.set(d.alertId!, (list = []));
      list.push(d);
    }
  }
  return out;
}

/**
 * Deletes alerts. Their active decisions are soft-deleted first (so stream bouncers receive them
 * under `deleted`, which CrowdSec's hard delete does not do), then detached and left for the
 * expiry purge; the alert rows go. Returns the alerts deleted.
 */
export async function deleteAlerts(store: Store, alertIds: readonly number[], now: number): Promise<number> {
  if (alertIds.length === 0) return 0;
  const db = dbOf(store);
  for (let i = 0; i < alertIds.length; i += CHUNK) {
    const chunk = alertIds.slice(i, i + CHUNK);
    const active = await db.selectFrom('decisions').select('id').where('alert_id', 'in', chunk).where('until', '>', now).execute();
    await softDeleteDecisions(
      store,
      active.map((r) => Number(r.id)),
      now,
    );
  }
  let n = 0;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < alertIds.length; i += CHUNK) {
      const chunk = alertIds.slice(i, i + CHUNK);
      await trx.updateTable('decisions').set({ alert_id: null }).where('alert_id', 'in', chunk).execute();
      const res = await trx.deleteFrom('alerts').where('id', 'in', chunk).executeTakeFirst();
      n += Number(res.numDeletedRows);
    }
  });
  return n;
}

/** The alerts of these ids, by id. */
export async function alertsFor(store: Store, alertIds: readonly number[]): Promise<Map<number, Alert>> {
  const out = new Map<number, Alert>();
  for (let i = 0; i < alertIds.length; i += CHUNK) {
    const rows = await dbOf(store)
      .selectFrom('alerts')
      .selectAll()
      .where('id', 'in', alertIds.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(r.id, toAlert(r));
  }
  return out;
}

/** Groups decisions under their alerts, newest alert first, as `cscli decisions list` shows them. */
export async function withAlerts(store: Store, decisions: readonly Decision[]): Promise<AlertWithDecisions[]> {
  const alertIds = [...new Set(decisions.map((d) => d.alertId).filter((id): id is number => id !== null))];
  const alerts = await alertsFor(store, alertIds);
  const groups = new Map<number, AlertWithDecisions>();
  for (const d of decisions) {
    const alert = d.alertId !== null ? alerts.get(d.alertId) : undefined;
    if (!alert) continue;
    let g = groups.get(alert.id);
    if (!g) groups.set(alert.id, (g = { alert, decisions: [] }));
    g.decisions.push(d);
  }
  return [...groups.values()].sort((a, b) => b.alert.id - a.alert.id);
}

export function toStoredAlert(r: Selectable<AlertsTable>): StoredAlert {
  return {
    ...toAlert(r),
    capacity: Number(r.capacity),
    scenarioHash: r.scenario_hash,
    scenarioVersion: r.scenario_version,
    remediation: Number(r.remediation) === 1,
    kind: r.kind,
    extra: r.extra,
  };
}
