import type SqliteDatabase from 'better-sqlite3';
import type { NewAlertWithDecisions, NewDecision } from '../../core/model/records.ts';
import { VigilError } from '../../lib/errors.ts';
import { alertRow } from '../alert-rows.ts';
import type { AlertsPush } from './store-dialect.ts';

// The rows of one SQLite alert write, written once for the event loop's connection
// (sqlite-alert-writes.ts) and for the big-write worker's (sqlite-big-write-worker.ts).
// Imports types and pure modules only: the worker thread loads this file too.

/**
 * Rows an SQLite write inserts before it lets the event loop turn (a few ms of work: 5 indexes on
 * decisions). 1,000 took 10–15 ms of CPU beside a 250k-decision table (issue 27: no watcher
 * request may hold the bouncers' path for 50 ms).
 */
export const WRITE_SLICE = 500;
/** An alert's events count as one row per this many characters (an alert keeps up to 512 KiB of them). */
const ROW_CHARS = 1024;
/** Rows an alert and its decisions weigh in a write slice. */
export const rowsOf = (x: NewAlertWithDecisions): number => 1 + Math.floor((x.alert.extra?.length ?? 0) / ROW_CHARS) + x.decisions.length;

const INSERT_ALERT = `INSERT INTO alerts (created_at, scenario, message, machine_id, source_scope, source_value, source_ip, events_count, leakspeed,
  start_at, stop_at, simulated, capacity, scenario_hash, scenario_version, remediation, kind, extra)
VALUES (@created_at, @scenario, @message, @machine_id, @source_scope, @source_value, @source_ip, @events_count, @leakspeed,
  @start_at, @stop_at, @simulated, @capacity, @scenario_hash, @scenario_version, @remediation, @kind, @extra)`;
const INSERT_DECISION =
  'INSERT INTO decisions (alert_id, origin, type, scope, value, scenario, created_at, until, deleted_at, simulated, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)';

/** What an insert leaves for its caller to build the answer from. */
export interface InsertedAlerts {
  alertIds: number[];
  rev: number;
}

/**
 * The rows of one write, inside a transaction the caller holds on `db`: a new revision, the
 * machine's last push, the alerts and their decisions. `stored` is told each decision's new id (the
 * event loop builds the stored decision at once; the worker only keeps the id). Pauses (yields the
 * decisions written so far) every WRITE_SLICE rows.
 */
export function* insertAlerts(
  db: SqliteDatabase.Database,
  batch: readonly NewAlertWithDecisions[],
  pushed: AlertsPush | undefined,
  stored: (d: NewDecision, id: number, alertId: number) => void,
): Generator<number, InsertedAlerts> {
  const bumped = db.prepare("UPDATE vigil_counters SET value = value + 1 WHERE name = 'decisions_rev' RETURNING value").get() as { value: number } | undefined;
  if (!bumped) throw new VigilError('E_DB_SCHEMA', 'store: the decisions_rev counter is missing; the database was not migrated by this version');
  const rev = Number(bumped.value);
  if (pushed) db.prepare('UPDATE machines SET last_push_at = ? WHERE machine_id = ?').run(pushed.at, pushed.machineId);
  const insertAlert = db.prepare(INSERT_ALERT);
  const insertDecision = db.prepare(INSERT_DECISION);
  const alertIds: number[] = [];
  let done = 0;
  let slice = 0;
  for (const { alert, decisions } of batch) {
    const alertId = Number(insertAlert.run(alertRow(alert)).lastInsertRowid);
    alertIds.push(alertId);
    // Events (extra) weigh too: 1,000 alerts of 28 KB are 28 MB written, the same as ~28k decisions.
    slice += Math.floor((alert.extra?.length ?? 0) / ROW_CHARS);
    if (slice >= WRITE_SLICE) {
      slice = 0;
      yield done;
    }
    for (const d of decisions) {
      const r = insertDecision.run(alertId, d.origin, d.type, d.scope, d.value, d.scenario, d.createdAt, d.until, d.simulated ? 1 : 0, rev);
      stored(d, Number(r.lastInsertRowid), alertId);
      done++;
      if (++slice >= WRITE_SLICE) {
        slice = 0;
        yield done;
      }
    }
  }
  return { alertIds, rev };
}
