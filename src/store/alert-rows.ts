import type { Insertable, Selectable, Transaction } from 'kysely';
import type { Alert, Decision, NewAlert, NewDecision } from '../core/model/records.ts';
import type { AlertsTable, Database, DecisionsTable } from './schema.ts';

// Alert and decision rows as both dialects write and read them (the decisions repository and the
// dialects' alert writes share them, so a decision reads back exactly as it was written).

// SQLite allows 32766 bound variables per statement and PostgreSQL 65535; 12 columns × 1000 rows fits both.
export const INSERT_CHUNK = 1000;

export async function nextRev(trx: Transaction<Database>): Promise<number> {
  // The row lock taken by this UPDATE orders concurrent writers on PostgreSQL: a replica that
  // has seen rev N can never later miss a commit carrying a rev below N.
  const row = await trx
    .updateTable('vigil_counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', 'decisions_rev')
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export function alertRow(alert: NewAlert): Insertable<AlertsTable> {
  return {
    created_at: alert.createdAt,
    scenario: alert.scenario,
    message: alert.message,
    machine_id: alert.machineId,
    source_scope: alert.sourceScope,
    source_value: alert.sourceValue,
    source_ip: alert.sourceIp,
    events_count: alert.eventsCount,
    leakspeed: alert.leakspeed,
    start_at: alert.startAt,
    stop_at: alert.stopAt,
    simulated: alert.simulated ? 1 : 0,
    // The columns' defaults (migration 008) for the CLI's own alerts, spelled out for the prepared insert.
    capacity: alert.capacity ?? 0,
    scenario_hash: alert.scenarioHash ?? '',
    scenario_version: alert.scenarioVersion ?? '',
    remediation: alert.remediation ? 1 : 0,
    kind: alert.kind ?? '',
    extra: alert.extra ?? '{}',
  };
}

export function decisionRow(d: NewDecision, alertId: number, rev: number): Insertable<DecisionsTable> {
  return {
    alert_id: alertId,
    origin: d.origin,
    type: d.type,
    scope: d.scope,
    value: d.value,
    scenario: d.scenario,
    created_at: d.createdAt,
    until: d.until,
    deleted_at: null,
    simulated: d.simulated ? 1 : 0,
    rev,
  };
}

/** A decision just written, as toDecision would read it back (same interned strings). */
export function storedDecision(d: NewDecision, id: number, alertId: number): Decision {
  return {
    id,
    alertId,
    origin: intern(d.origin),
    type: intern(d.type),
    scope: intern(d.scope),
    value: d.value,
    scenario: intern(d.scenario),
    createdAt: d.createdAt,
    until: d.until,
    deletedAt: null,
    simulated: d.simulated,
  };
}

/**
 * Origin, type, scope and scenario repeat across 100k decisions (an import shares one of each);
 * the driver returns a fresh string per row. One shared copy keeps the in-memory index small.
 */
const interned = new Map<string, string>();
function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size >= 20_000) interned.clear();
  interned.set(s, s);
  return s;
}

export function toDecision(r: Selectable<DecisionsTable>): Decision {
  return {
    id: Number(r.id),
    alertId: r.alert_id === null ? null : Number(r.alert_id),
    origin: intern(r.origin),
    type: intern(r.type),
    scope: intern(r.scope),
    value: r.value,
    scenario: intern(r.scenario),
    createdAt: Number(r.created_at),
    until: Number(r.until),
    deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
    simulated: Number(r.simulated) === 1,
  };
}

export function toAlert(r: Selectable<AlertsTable>): Alert {
  return {
    id: Number(r.id),
    createdAt: Number(r.created_at),
    scenario: r.scenario,
    message: r.message,
    machineId: r.machine_id,
    sourceScope: r.source_scope,
    sourceValue: r.source_value,
    sourceIp: r.source_ip,
    eventsCount: Number(r.events_count),
    leakspeed: r.leakspeed,
    startAt: Number(r.start_at),
    stopAt: Number(r.stop_at),
    simulated: Number(r.simulated) === 1,
  };
}
