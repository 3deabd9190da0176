import type SqliteDatabase from 'better-sqlite3';
import type { Decision, NewAlertWithDecisions } from '../../core/model/records.ts';
import { VigilError } from '../../lib/errors.ts';
import { nextTurn, runToEnd } from '../../lib/turns.ts';
import { alertRow, storedDecision } from '../alert-rows.ts';
import type { AlertsPush, DialectDb, WrittenAlerts } from './store-dialect.ts';

/**
 * Rows an SQLite write inserts before it lets the event loop turn (a few ms of work: 5 indexes on
 * decisions). 1,000 took 10–15 ms of CPU beside a 250k-decision table (issue 27: no watcher
 * request may hold the bouncers' path for 50 ms; its COMMIT, ~20 ms, gets a turn of its own).
 */
const WRITE_SLICE = 500;
/** A write of at most this many rows joins its turn's group commit instead of a transaction of its own. */
const GROUPED_ROWS = 1000;
/** An alert's events count as one row per this many characters (an alert keeps up to 512 KiB of them). */
const ROW_CHARS = 1024;
/** Rows an alert and its decisions weigh in a write slice. */
const rowsOf = (x: NewAlertWithDecisions): number => 1 + Math.floor((x.alert.extra?.length ?? 0) / ROW_CHARS) + x.decisions.length;

const INSERT_ALERT = `INSERT INTO alerts (created_at, scenario, message, machine_id, source_scope, source_value, source_ip, events_count, leakspeed,
  start_at, stop_at, simulated, capacity, scenario_hash, scenario_version, remediation, kind, extra)
VALUES (@created_at, @scenario, @message, @machine_id, @source_scope, @source_value, @source_ip, @events_count, @leakspeed,
  @start_at, @stop_at, @simulated, @capacity, @scenario_hash, @scenario_version, @remediation, @kind, @extra)`;
const INSERT_DECISION =
  'INSERT INTO decisions (alert_id, origin, type, scope, value, scenario, created_at, until, deleted_at, simulated, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)';

/** SQLite's default wal_autocheckpoint (pages), restored after a big commit. */
export const AUTOCHECKPOINT_PAGES = 1000;
/**
 * How long after a big commit the connection's own autocheckpoint stays off: the background worker
 * (sqlite-checkpointer.ts, every 50 ms) copies the big write's frames meanwhile, on its thread.
 */
export const AUTOCHECKPOINT_PAUSE_MS = 2000;

interface QueuedWrite {
  batch: readonly NewAlertWithDecisions[];
  pushed: AlertsPush | undefined;
  resolve: (w: WrittenAlerts) => void;
  reject: (e: unknown) => void;
}

/**
 * SQLite's alert writes: prepared statements on Kysely's one connection, held for the whole
 * transaction so no other query runs inside it. A large write (a 100k import: one alert from
 * `cscli decisions import`) goes in slices with a turn of the event loop between them: all or
 * nothing, and pulls answered from memory still get through meanwhile. Small ones (every agent's
 * POST) are committed together with the others of the same turn (the group commit).
 */
export class SqliteAlertWriter {
  readonly #db: DialectDb;
  readonly #sqlite: SqliteDatabase.Database;
  /** Small writes waiting for this turn's group commit. */
  #writeGroup: QueuedWrite[] = [];
  /** A background worker checkpoints this file (serve): a big commit may leave its frames to it. */
  readonly #checkpointsInBackground: boolean;
  /** Restores the autocheckpoint after a big commit; replaced by each one. */
  #resume: NodeJS.Timeout | undefined;

  constructor(db: DialectDb, sqlite: SqliteDatabase.Database, opts: { checkpointsInBackground?: boolean } = {}) {
    this.#db = db;
    this.#sqlite = sqlite;
    this.#checkpointsInBackground = opts.checkpointsInBackground ?? false;
  }

  /**
   * COMMIT of a big write (a 250k-decision import: 60 MB of WAL) ran the connection's autocheckpoint
   * inside the COMMIT call, copying the whole WAL into the database on the event loop that answers
   * bouncers: 80–180 ms in one piece (issue 27 item 5). With a background checkpointer the
   * autocheckpoint is paused around that commit and for AUTOCHECKPOINT_PAUSE_MS after it, so the
   * worker copies those frames on its own thread; the autocheckpoint then comes back as the WAL's
   * bound (it finds little left to copy). Without a worker (the CLI) nothing changes.
   */
  #commitBig(): void {
    const db = this.#sqlite;
    if (!this.#checkpointsInBackground) {
      db.exec('COMMIT');
      return;
    }
    db.pragma('wal_autocheckpoint = 0');
    clearTimeout(this.#resume);
    try {
      db.exec('COMMIT');
    } finally {
      this.#resume = setTimeout(() => {
        this.#resume = undefined;
        if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      }, AUTOCHECKPOINT_PAUSE_MS);
      this.#resume.unref();
    }
  }

  /** Whether the connection's autocheckpoint is paused after a big commit (for tests). */
  get autocheckpointPaused(): boolean {
    return this.#resume !== undefined;
  }

  /** Stops the pending restore (the store is closing). */
  close(): void {
    clearTimeout(this.#resume);
    this.#resume = undefined;
  }

  async write(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts> {
    let rows = 0;
    for (const x of batch) rows += rowsOf(x);
    if (onProgress === undefined && rows <= GROUPED_ROWS) return this.#grouped(batch, pushed);
    const db = this.#sqlite;
    return await this.#db.connection().execute(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const steps = this.#insert(batch, pushed);
        let reported = 0;
        let step = steps.next();
        for (; !step.done; step = steps.next()) {
          onProgress?.((reported = step.value));
          // Not fairTurn: the transaction holds the connection (every other query waits), so it goes first.
          await nextTurn();
        }
        const written = step.value;
        if (written.decisions.length !== reported) onProgress?.(written.decisions.length);
        // The COMMIT of a big write (~20 ms) in a turn of its own, not after the last slice.
        await nextTurn();
        this.#commitBig();
        return written;
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  /**
   * Group commit: the small writes queued during one turn of the event loop share one transaction,
   * each in its own savepoint, so each is still all or nothing (a failing one is rolled back alone
   * and only its caller gets the error) and each has its own revision, in order. One COMMIT per
   * turn instead of one per POST: at 1,000 single-alert POSTs a second, COMMIT was a quarter of
   * the server's CPU (bench:alerts ALERTS_PER_POST=1).
   */
  #grouped(batch: readonly NewAlertWithDecisions[], pushed: AlertsPush | undefined): Promise<WrittenAlerts> {
    return new Promise((resolve, reject) => {
      this.#writeGroup.push({ batch, pushed, resolve, reject });
      if (this.#writeGroup.length === 1) setImmediate(() => void this.#commitGroup());
    });
  }

  async #commitGroup(): Promise<void> {
    const group = this.#writeGroup;
    this.#writeGroup = [];
    let outcomes: Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }>;
    try {
      outcomes = await this.#db.connection().execute(async () => this.#runGroup(group));
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    // In revision order, so each caller's index update follows the one before (DecisionSync.applyWritten).
    for (const [i, w] of group.entries()) {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.written);
      else w.reject(o.error);
    }
  }

  #runGroup(group: readonly QueuedWrite[]): Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }> {
    const db = this.#sqlite;
    const outcomes: Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }> = [];
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const w of group) {
        db.exec('SAVEPOINT vigil_post');
        try {
          const written = runToEnd(this.#insert(w.batch, w.pushed));
          db.exec('RELEASE vigil_post');
          outcomes.push({ ok: true, written });
        } catch (error) {
          db.exec('ROLLBACK TO vigil_post');
          db.exec('RELEASE vigil_post');
          outcomes.push({ ok: false, error });
        }
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
    return outcomes;
  }

  /**
   * The rows of one write, inside a transaction the caller holds: a new revision, the machine's
   * last push, the alerts and their decisions. Pauses (yields the decisions written so far) every
   * WRITE_SLICE rows; returns what was written.
   */
  *#insert(batch: readonly NewAlertWithDecisions[], pushed: AlertsPush | undefined): Generator<number, WrittenAlerts> {
    const db = this.#sqlite;
    const bumped = db.prepare("UPDATE vigil_counters SET value = value + 1 WHERE name = 'decisions_rev' RETURNING value").get() as
      | { value: number }
      | undefined;
    if (!bumped) throw new VigilError('E_DB_SCHEMA', 'store: the decisions_rev counter is missing; the database was not migrated by this version');
    const rev = Number(bumped.value);
    if (pushed) db.prepare('UPDATE machines SET last_push_at = ? WHERE machine_id = ?').run(pushed.at, pushed.machineId);
    const insertAlert = db.prepare(INSERT_ALERT);
    const insertDecision = db.prepare(INSERT_DECISION);
    const alertIds: number[] = [];
    const stored: Decision[] = [];
    let slice = 0;
    for (const { alert, decisions } of batch) {
      const alertId = Number(insertAlert.run(alertRow(alert)).lastInsertRowid);
      alertIds.push(alertId);
      // Events (extra) weigh too: 1,000 alerts of 28 KB are 28 MB written, the same as ~28k decisions.
      slice += Math.floor((alert.extra?.length ?? 0) / ROW_CHARS);
      if (slice >= WRITE_SLICE) {
        slice = 0;
        yield stored.length;
      }
      for (const d of decisions) {
        const r = insertDecision.run(alertId, d.origin, d.type, d.scope, d.value, d.scenario, d.createdAt, d.until, d.simulated ? 1 : 0, rev);
        stored.push(storedDecision(d, Number(r.lastInsertRowid), alertId));
        if (++slice >= WRITE_SLICE) {
          slice = 0;
          yield stored.length;
        }
      }
    }
    return { alertIds, decisions: stored, rev };
  }
}
