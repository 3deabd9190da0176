import { sql, type Selectable } from 'kysely';
import type { Alert, AlertDetails, AlertWithDecisions, Decision } from '../core/model/records.ts';
import { fairTurn } from '../lib/turns.ts';
import type { AlertsTable } from './schema.ts';
import { dbOf } from './store-db.ts';
import { toAlert, toDecision } from './alert-rows.ts';
import type { Store } from './store.ts';
import { softDeleteDecisions } from './decisions.ts';

// Alerts as the watcher API reads and deletes them (table in 001, CrowdSec's details in 008).
// Writing goes through addAlerts/addDecisions (decisions.ts), which bumps the decisions revision bouncers follow.

export type StoredAlert = Alert & AlertDetails;

const CHUNK = 1000;
/** Decisions read per query of decisionsOfAlerts: a 250k import's alert is read in slices, pulls answered between. */
const DECISIONS_PAGE = 5000;
/** Every column but `extra` (events, meta, labels: what only an answer needs, up to 512 KiB an alert). */
const SEARCH_COLUMNS = [
  'id',
  'created_at',
  'scenario',
  'message',
  'machine_id',
  'source_scope',
  'source_value',
  'source_ip',
  'events_count',
  'leakspeed',
  'start_at',
  'stop_at',
  'simulated',
  'capacity',
  'scenario_hash',
  'scenario_version',
  'remediation',
  'kind',
] as const;

/** What an alert search asks of the alerts' own columns (core/alerts/query.ts alertMatches checks the rest). */
export interface AlertColumnsFilter {
  scenario?: string;
  scope?: string;
  value?: string;
  kind?: string;
  since?: number;
  until?: number;
  /** Simulated alerts included. */
  simulated: boolean;
  /** Only alerts with a decision still active at this time. */
  activeAt?: number;
}

/** The lowest and highest alert ids, or undefined when there is none. */
export async function alertIdBounds(store: Store): Promise<{ min: number; max: number } | undefined> {
  const r = await dbOf(store)
    .selectFrom('alerts')
    .select((eb) => [eb.fn.min('id').as('min'), eb.fn.max('id').as('max')])
    .executeTakeFirst();
  return r?.min == null || r.max == null ? undefined : { min: Number(r.min), max: Number(r.max) };
}

/**
 * The alerts with ids in [fromId, toId] that pass `f`, in `sort` order, without `extra` (left empty:
 * {@link alertExtras} reads it for the ones answered). A window of ids bounds what one query reads,
 * however many alerts there are and whatever the filter (issue 27: a scan of 21k alerts held the
 * event loop for seconds).
 */
export async function alertsInIdWindow(store: Store, fromId: number, toId: number, f: AlertColumnsFilter, sort: 'asc' | 'desc'): Promise<StoredAlert[]> {
  let q = dbOf(store).selectFrom('alerts').select(SEARCH_COLUMNS).where('id', '>=', fromId).where('id', '<=', toId);
  if (f.scenario !== undefined) q = q.where('scenario', '=', f.scenario);
  if (f.scope !== undefined) q = q.where('source_scope', '=', f.scope);
  if (f.value !== undefined) q = q.where('source_value', '=', f.value);
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
  if (f.until !== undefined) q = q.where('created_at', '<=', f.until);
  if (!f.simulated) q = q.where('simulated', '=', 0);
  const activeAt = f.activeAt;
  if (activeAt !== undefined)
    q = q.where(({ exists, selectFrom }) =>
      exists(selectFrom('decisions').select('decisions.id').whereRef('decisions.alert_id', '=', 'alerts.id').where('decisions.until', '>', activeAt)),
    );
  const rows = await q.orderBy('id', sort).execute();
  return rows.map((r) => toStoredAlert({ ...r, extra: '' }));
}

/** The `extra` column of these alerts, by id. */
export async function alertExtras(store: Store, ids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await dbOf(store)
      .selectFrom('alerts')
      .select(['id', 'extra'])
      .where('id', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(Number(r.id), r.extra);
  }
  return out;
}

export async function getAlert(store: Store, id: number): Promise<StoredAlert | undefined> {
  const row = await dbOf(store).selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toStoredAlert(row) : undefined;
}

/**
 * Every decision of these alerts, expired and deleted ones included (CrowdSec shows them all), by
 * alert, in id order. Read {@link DECISIONS_PAGE} at a time with a turn of the event loop between
 * pages: an imported alert of 250k decisions never holds the loop.
 */
export async function decisionsOfAlerts(store: Store, alertIds: readonly number[]): Promise<Map<number, Decision[]>> {
  const out = new Map<number, Decision[]>();
  for (let i = 0; i < alertIds.length; i += CHUNK) {
    const chunk = alertIds.slice(i, i + CHUNK);
    let after: { alertId: number; id: number } | undefined;
    for (;;) {
      let q = dbOf(store).selectFrom('decisions').selectAll().where('alert_id', 'in', chunk);
      // (alert_id, id): the order of the decisions_alert_id index (its rows end with the id), so each page is a range.
      if (after) q = q.where(sql<boolean>`(alert_id, id) > (${after.alertId}, ${after.id})`);
      const rows = await q.orderBy('alert_id').orderBy('id').limit(DECISIONS_PAGE).execute();
      for (const r of rows) {
        const d = toDecision(r);
        let list = out.get(d.alertId!);
        if (!list) out.set(d.alertId!, (list = []));
        list.push(d);
      }
      if (rows.length < DECISIONS_PAGE) break;
      const last = rows[rows.length - 1]!;
      after = { alertId: Number(last.alert_id), id: Number(last.id) };
      await fairTurn();
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
