import crypto from 'node:crypto';
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import { VigilError } from '../lib/errors.ts';
import type {
  Alert,
  AlertWithDecisions,
  Bouncer,
  BouncerChange,
  BouncerKind,
  Decision,
  NewAlert,
  NewAlertWithDecisions,
  NewDecision,
  RefusedRequest,
} from '../core/model/records.ts';
import type { HealthIssue, NewHealthIssue } from '../core/model/health-issue.ts';
import type { AlertsTable, BouncersTable, Database, DecisionsTable, HealthIssuesTable, RefusedRequestsTable } from './schema.ts';
import { openDatabase, parseStoreUrl, type OpenedDatabase, type OpenOptions } from './database.ts';
import { attachDb } from './store-db.ts';
import { claimStoreRole, type StoreRole } from './store-role.ts';
import { redactUrl } from '../lib/redact-url.ts';
import type { Dialect } from './dialect.ts';
import { openSqliteReader } from './dialects/sqlite.ts';
import { startCheckpointer, type Checkpointer } from './dialects/sqlite-checkpointer.ts';
import { nextTurn, runToEnd } from '../lib/turns.ts';

/** What a burst of authenticated requests changed about one bouncer (written in batches). */
export interface BouncerActivity {
  id: number;
  lastPullAt?: number;
  lastPullRev?: number;
  lastRequestAt?: number;
  ipAddress?: string;
  type?: string;
  version?: string;
  /** null clears it (no steady cadence any more). */
  pullCadenceMs?: number | null;
}

// The write types are the domain's (core/model): pure code builds them, the store writes them.
export type { NewAlert, NewAlertWithDecisions, NewDecision };
export type NewRefusedRequest = Omit<RefusedRequest, 'id'>;
/** What addAlerts stored: alert ids in order, the decisions as stored, and their revision. */
/** The machine whose POST /v1/alerts this is: its last push is recorded in the same transaction. */
export interface AlertsPush {
  machineId: string;
  at: number;
}

export interface WrittenAlerts {
  alertIds: number[];
  decisions: Decision[];
  rev: number;
}

/** Keep the refused-request record bounded: enough to explain a silence, never a disk filler. */
export const REFUSED_REQUESTS_KEPT = 10_000;

// SQLite allows 32766 bound variables per statement and PostgreSQL 65535; 12 columns × 1000 rows fits both.
const INSERT_CHUNK = 1000;
/** Rows an SQLite write inserts before it lets the event loop turn (a few ms of work: 5 indexes on decisions). */
const SQLITE_WRITE_SLICE = 1000;
/** An alert's events count as one row per this many characters (an alert keeps up to 512 KiB of them). */
const SQLITE_ROW_CHARS = 1024;
/** Rows an alert and its decisions weigh in an SQLite write slice. */
const sqliteRowsOf = (x: NewAlertWithDecisions): number => 1 + Math.floor((x.alert.extra?.length ?? 0) / SQLITE_ROW_CHARS) + x.decisions.length;
/** Rows per page of a full listing (listBouncers). */
const LIST_PAGE = 1000;

const SQLITE_INSERT_ALERT = `INSERT INTO alerts (created_at, scenario, message, machine_id, source_scope, source_value, source_ip, events_count, leakspeed,
  start_at, stop_at, simulated, capacity, scenario_hash, scenario_version, remediation, kind, extra)
VALUES (@created_at, @scenario, @message, @machine_id, @source_scope, @source_value, @source_ip, @events_count, @leakspeed,
  @start_at, @stop_at, @simulated, @capacity, @scenario_hash, @scenario_version, @remediation, @kind, @extra)`;
const SQLITE_INSERT_DECISION =
  'INSERT INTO decisions (alert_id, origin, type, scope, value, scenario, created_at, until, deleted_at, simulated, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)';

/** applyBouncerActivity on SQLite: absent fields keep their value; times and revision only move forward. */
const SQLITE_ACTIVITY_UPDATE = `UPDATE bouncers SET
  updated_at = @now,
  last_pull_at = CASE WHEN @pull IS NULL THEN last_pull_at ELSE max(coalesce(last_pull_at, 0), @pull) END,
  last_pull_rev = CASE WHEN @rev IS NULL THEN last_pull_rev ELSE max(coalesce(last_pull_rev, 0), @rev) END,
  last_request_at = CASE WHEN @request IS NULL THEN last_request_at ELSE max(coalesce(last_request_at, 0), @request) END,
  ip_address = coalesce(@ip, ip_address),
  type = coalesce(@type, type),
  version = coalesce(@version, version),
  pull_cadence_ms = CASE WHEN @setCadence = 1 THEN @cadence ELSE pull_cadence_ms END
WHERE id = @id`;

export class Store {
  readonly #db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly description: string;
  readonly #sqlite: OpenedDatabase['sqlite'];
  /** SQLite: the connection the hottest reads use (dialects/sqlite.ts openSqliteReader). */
  readonly #reader: OpenedDatabase['sqlite'];
  /** This open created the SQLite file. */
  readonly created: boolean;
  /** Store files other users can read (only when opened with `othersCanRead: 'report'`). */
  readonly readableByOthers: string[];

  /** SQLite: small writes waiting for this turn's group commit (#addAlertsGrouped). */
  #writeGroup: Array<{
    batch: readonly NewAlertWithDecisions[];
    pushed: AlertsPush | undefined;
    resolve: (w: WrittenAlerts) => void;
    reject: (e: unknown) => void;
  }> = [];
  /** SQLite: the worker that checkpoints the WAL, when opened with `checkpointInBackground`. */
  readonly #checkpointer: Checkpointer | undefined;

  constructor(opened: OpenedDatabase, description: string, opts: Pick<OpenOptions, 'checkpointInBackground' | 'onWarning'> = {}) {
    this.#db = opened.db;
    attachDb(this, opened.db);
    this.#sqlite = opened.sqlite;
    this.#reader = opened.sqlite ? openSqliteReader(opened.sqlite) : undefined;
    if (opts.checkpointInBackground && opened.sqlite && !opened.sqlite.memory) {
      this.#checkpointer = startCheckpointer(opened.sqlite.name, opts.onWarning ?? (() => {}));
    }
    this.dialect = opened.dialect;
    this.description = description;
    this.created = opened.created;
    this.readableByOthers = opened.readableByOthers;
  }

  /**
   * `role`: the process that owns the store (vigil serve or vigil watch); a store owned by the
   * other one is refused before anything is written (src/store/store-role.ts). `timeoutMs`: how long
   * one PostgreSQL query or connection attempt may take (limits.store_timeout).
   */
  static async open(url: string, opts: OpenOptions & { role?: StoreRole } = {}): Promise<Store> {
    const location = parseStoreUrl(url);
    const opened = await openDatabase(location, opts);
    const description = location.dialect === 'sqlite' ? `sqlite:${location.target}` : redactUrl(location.target);
    const store = new Store(opened, description, opts);
    if (opts.role) {
      try {
        await claimStoreRole(store, opts.role);
      } catch (e) {
        await store.close();
        throw e;
      }
    }
    return store;
  }

  /**
   * The hottest reads (every pull) skip Kysely's query building on SQLite: same SQL, one cached
   * prepared statement, no per-query garbage. They still take Kysely's connection, so they never
   * see another caller's transaction half done.
   */
  #sqliteRead<T>(read: (db: NonNullable<OpenedDatabase['sqlite']>) => T): Promise<T> {
    // On its own connection (committed state only): never queued behind a long write on the main one.
    if (this.#reader) {
      try {
        return Promise.resolve(read(this.#reader));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const db = this.#sqlite!;
    return this.#db.connection().execute(async () => read(db));
  }

  async close(): Promise<void> {
    await this.#checkpointer?.stop();
    this.#reader?.close();
    await this.#db.destroy();
  }

  // ---------------------------------------------------------------- bouncers

  async createBouncer(input: { name: string; apiKeyHash: string; now: number; authType?: 'api-key' | 'tls' }): Promise<Bouncer> {
    return await this.#db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('bouncers').select('id').where('name', '=', input.name).executeTakeFirst();
      if (existing) {
        throw new VigilError('E_BOUNCER_EXISTS', `unable to create bouncer: bouncer ${input.name} already exists`);
      }
      // One key, one bouncer: a shared key authenticates as whichever row comes first, so the other
      // never shows a pull and its health is wrong. (Mirrored rows from vigil watch carry no key.)
      if (input.apiKeyHash !== '') {
        const sameKey = await trx.selectFrom('bouncers').select('name').where('api_key_hash', '=', input.apiKeyHash).executeTakeFirst();
        if (sameKey) {
          throw new VigilError(
            'E_KEY_IN_USE',
            `unable to create bouncer: this API key is already used by bouncer ${sameKey.name}; give ${input.name} its own key (omit --key for a random one)`,
          );
        }
      }
      const row = await trx
        .insertInto('bouncers')
        .values(newBouncerRow({ name: input.name, apiKeyHash: input.apiKeyHash, authType: input.authType ?? 'api-key', now: input.now }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toBouncer(row);
    });
  }

  /**
   * Every bouncer, oldest first, read in pages with a turn of the event loop between them: the
   * health engine reads them all every 10 s, and 10k rows in one query held a server's loop ~30 ms.
   */
  async listBouncers(): Promise<Bouncer[]> {
    const out: Bouncer[] = [];
    for (let after = 0; ; ) {
      const rows = await this.#db.selectFrom('bouncers').selectAll().where('id', '>', after).orderBy('id').limit(LIST_PAGE).execute();
      for (const r of rows) out.push(toBouncer(r));
      if (rows.length < LIST_PAGE) return out;
      after = Number(rows[rows.length - 1]!.id);
      await nextTurn();
    }
  }

  async getBouncer(name: string): Promise<Bouncer | undefined> {
    const row = await this.#db.selectFrom('bouncers').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toBouncer(row) : undefined;
  }

  async findBouncerByKeyHash(apiKeyHash: string): Promise<Bouncer | undefined> {
    if (this.#sqlite) {
      return (await this.bouncersByKeyHash(apiKeyHash))[0];
    }
    const row = await this.#db.selectFrom('bouncers').selectAll().where('api_key_hash', '=', apiKeyHash).orderBy('id').executeTakeFirst();
    return row ? toBouncer(row) : undefined;
  }

  /**
   * Every row of an API key, oldest first: the key's own row and the `NAME@IP` rows the Local API
   * created for its other addresses (key sharing, docs/reference/crowdsec-1.6-1.7.md §1).
   */
  async bouncersByKeyHash(apiKeyHash: string): Promise<Bouncer[]> {
    if (this.#sqlite) {
      // Sorted here: with ORDER BY id the same index search costs SQLite 3.54 five times as much
      // (45 µs against 9 µs for 10k bouncers), and it runs on every pull of a key not seen for a second.
      const rows = await this.#sqliteRead((db) => db.prepare('SELECT * FROM bouncers WHERE api_key_hash = ?').all(apiKeyHash));
      return (rows as Selectable<BouncersTable>[]).map(toBouncer).sort((a, b) => a.id - b.id);
    }
    const rows = await this.#db.selectFrom('bouncers').selectAll().where('api_key_hash', '=', apiKeyHash).orderBy('id').execute();
    return rows.map(toBouncer);
  }

  /**
   * Gives a freshly added key's row (no address yet) its first address, unless someone claimed it
   * first (another request, another replica): written at once, not batched, because the next
   * request from that address is matched by it. Returns the row as it now is.
   */
  async claimBouncerAddress(id: number, ip: string, now: number): Promise<{ claimed: boolean; bouncer: Bouncer | undefined }> {
    const res = await this.#db
      .updateTable('bouncers')
      .set({ ip_address: ip, updated_at: now })
      .where('id', '=', id)
      .where('ip_address', '=', '')
      .executeTakeFirst();
    const row = await this.#db.selectFrom('bouncers').selectAll().where('id', '=', id).executeTakeFirst();
    return { claimed: Number(res.numUpdatedRows) === 1, bouncer: row ? toBouncer(row) : undefined };
  }

  /**
   * Creates a row the Local API decided on (`NAME@IP` for a shared key, `CN@IP` for a client
   * certificate). The unique name decides a race between requests or replicas: the loser gets the
   * winner's row and `created: false`.
   */
  async createAutoBouncer(input: {
    name: string;
    apiKeyHash: string;
    ip: string;
    now: number;
    authType: 'api-key' | 'tls';
  }): Promise<{ created: boolean; bouncer: Bouncer }> {
    const values = newBouncerRow({
      name: input.name,
      apiKeyHash: input.apiKeyHash,
      authType: input.authType,
      now: input.now,
      ipAddress: input.ip,
      autoCreated: true,
    });
    const inserted = await this.#db
      .insertInto('bouncers')
      .values(values)
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { created: true, bouncer: toBouncer(inserted) };
    const row = await this.#db.selectFrom('bouncers').selectAll().where('name', '=', input.name).executeTakeFirstOrThrow();
    return { created: false, bouncer: toBouncer(row) };
  }

  /** Deletes every named bouncer or none: an unknown name fails the whole call. */
  async deleteBouncers(names: string[]): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      for (const name of names) {
        const row = await trx.deleteFrom('bouncers').where('name', '=', name).returning('id').executeTakeFirst();
        if (!row) {
          throw new VigilError('E_NO_BOUNCER', `unable to delete bouncer '${name}': bouncer doesn't exist`);
        }
        await trx.deleteFrom('bouncer_usage_metrics').where('bouncer_id', '=', row.id).execute();
        await trx.deleteFrom('bouncer_probes').where('bouncer_id', '=', row.id).execute();
      }
    });
  }

  async setBouncerRevoked(name: string, revoked: boolean, now: number): Promise<void> {
    const res = await this.#db
      .updateTable('bouncers')
      .set({ revoked: revoked ? 1 : 0, updated_at: now })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw noBouncer(name);
  }

  async setBouncerKind(name: string, kind: BouncerKind | null, now: number): Promise<void> {
    const res = await this.#db.updateTable('bouncers').set({ kind_override: kind, updated_at: now }).where('name', '=', name).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw noBouncer(name);
  }

  /** Bouncers idle since before `cutoff` (never-pulled ones count from registration), as cscli prune selects them. */
  async staleBouncers(cutoff: number): Promise<Bouncer[]> {
    const rows = await this.#db
      .selectFrom('bouncers')
      .selectAll()
      .where((eb) => eb.or([eb('last_pull_at', '<', cutoff), eb.and([eb('last_pull_at', 'is', null), eb('created_at', '<', cutoff)])]))
      .orderBy('id')
      .execute();
    return rows.map(toBouncer);
  }

  async applyBouncerActivity(batch: BouncerActivity[], now: number): Promise<void> {
    if (batch.length === 0) return;
    if (this.#sqlite) {
      // 10k bouncers pulling every 10 s is 1,000 rows a second: one prepared statement, one
      // transaction, a few ms, so pulls waiting on the connection are not held up.
      const sqlite = this.#sqlite;
      const update = sqlite.prepare(SQLITE_ACTIVITY_UPDATE);
      // Holding Kysely's (single, mutex-guarded) connection: no Kysely transaction is open meanwhile.
      await this.#db.connection().execute(async () =>
        sqlite.transaction(() => {
          for (const a of batch) {
            update.run({
              now,
              pull: a.lastPullAt ?? null,
              rev: a.lastPullRev ?? null,
              request: a.lastRequestAt ?? null,
              ip: a.ipAddress ?? null,
              type: a.type ?? null,
              version: a.version ?? null,
              setCadence: a.pullCadenceMs === undefined ? 0 : 1,
              cadence: a.pullCadenceMs ?? null,
              id: a.id,
            });
          }
        })(),
      );
      return;
    }
    await this.#db.transaction().execute(async (trx) => {
      for (const a of batch) {
        // Another replica may have recorded a later pull already: times only move forward.
        const greatest = this.dialect === 'postgres' ? 'greatest' : 'max';
        const later = (col: 'last_pull_at' | 'last_request_at', v: number) => sql<number>`${sql.raw(greatest)}(coalesce(${sql.ref(col)}, 0), ${v})`;
        const set: Record<string, unknown> = { updated_at: now };
        if (a.lastPullAt !== undefined) set.last_pull_at = later('last_pull_at', a.lastPullAt);
        if (a.lastPullRev !== undefined) set.last_pull_rev = sql<number>`${sql.raw(greatest)}(coalesce(last_pull_rev, 0), ${a.lastPullRev})`;
        if (a.lastRequestAt !== undefined) set.last_request_at = later('last_request_at', a.lastRequestAt);
        if (a.ipAddress !== undefined) set.ip_address = a.ipAddress;
        if (a.type !== undefined) set.type = a.type;
        if (a.version !== undefined) set.version = a.version;
        if (a.pullCadenceMs !== undefined) set.pull_cadence_ms = a.pullCadenceMs;
        const q = trx
          .updateTable('bouncers')
          .set(set as never)
          .where('id', '=', a.id);
        await q.execute();
      }
    });
  }

  // ---------------------------------------------------------------- decisions

  /** One alert and its decisions in one transaction (an import of 100k rows included). */
  async addDecisions(alert: NewAlert, decisions: NewDecision[], onProgress?: (done: number) => void): Promise<{ alertId: number; decisionIds: number[] }> {
    const written = await this.addAlerts([{ alert, decisions }], onProgress);
    return { alertId: written.alertIds[0]!, decisionIds: written.decisions.map((d) => d.id) };
  }

  /**
   * Alerts and their decisions (one POST /v1/alerts) in one transaction: all or nothing, one
   * revision for all of them. Returns the alert ids in order, every decision as stored (alert by
   * alert, in order) and the revision, so this process's index can take them without a query.
   */
  async addAlerts(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts> {
    if (this.#sqlite) return this.#addAlertsSqlite(batch, onProgress, pushed);
    return await this.#db.transaction().execute(async (trx) => {
      const rev = await nextRev(trx);
      if (pushed) await trx.updateTable('machines').set({ last_push_at: pushed.at }).where('machine_id', '=', pushed.machineId).execute();
      const alertIds: number[] = [];
      const stored: Decision[] = [];
      for (const { alert, decisions } of batch) {
        const a = await trx.insertInto('alerts').values(alertRow(alert)).returning('id').executeTakeFirstOrThrow();
        alertIds.push(a.id);
        for (let i = 0; i < decisions.length; i += INSERT_CHUNK) {
          const chunk = decisions.slice(i, i + INSERT_CHUNK);
          const rows = await trx
            .insertInto('decisions')
            .values(chunk.map((d) => decisionRow(d, a.id, rev)))
            .returning('id')
            .execute();
          for (const [j, r] of rows.entries()) stored.push(storedDecision(chunk[j]!, Number(r.id), a.id));
          onProgress?.(stored.length);
        }
      }
      return { alertIds, decisions: stored, rev };
    });
  }

  /**
   * SQLite: prepared statements on Kysely's one connection, held for the whole transaction so no
   * other query runs inside it. A large write (a 100k import: one alert from `cscli decisions
   * import`) goes in slices with a turn of the event loop between them: all or nothing, and pulls
   * answered from memory still get through meanwhile. Small ones (every agent's POST) are committed
   * together with the others of the same turn (`#addAlertsGrouped`).
   */
  async #addAlertsSqlite(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts> {
    let rows = 0;
    for (const x of batch) rows += sqliteRowsOf(x);
    if (onProgress === undefined && rows <= SQLITE_WRITE_SLICE) return this.#addAlertsGrouped(batch, pushed);
    const db = this.#sqlite!;
    return await this.#db.connection().execute(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const steps = this.#insertAlertsSqlite(batch, pushed);
        let reported = 0;
        let step = steps.next();
        for (; !step.done; step = steps.next()) {
          onProgress?.((reported = step.value));
          // Not fairTurn: the transaction holds the connection (every other query waits), so it goes first.
          await nextTurn();
        }
        const written = step.value;
        if (written.decisions.length !== reported) onProgress?.(written.decisions.length);
        db.exec('COMMIT');
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
  #addAlertsGrouped(batch: readonly NewAlertWithDecisions[], pushed: AlertsPush | undefined): Promise<WrittenAlerts> {
    return new Promise((resolve, reject) => {
      this.#writeGroup.push({ batch, pushed, resolve, reject });
      if (this.#writeGroup.length === 1) setImmediate(() => void this.#commitGroup());
    });
  }

  async #commitGroup(): Promise<void> {
    const group = this.#writeGroup;
    this.#writeGroup = [];
    const db = this.#sqlite!;
    const outcomes: Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }> = [];
    try {
      await this.#db.connection().execute(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          for (const w of group) {
            db.exec('SAVEPOINT vigil_post');
            try {
              const written = runToEnd(this.#insertAlertsSqlite(w.batch, w.pushed));
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
      });
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

  /**
   * The rows of one write, inside a transaction the caller holds: a new revision, the machine's
   * last push, the alerts and their decisions. Pauses (yields the decisions written so far) every
   * SQLITE_WRITE_SLICE rows; returns what was written.
   */
  *#insertAlertsSqlite(batch: readonly NewAlertWithDecisions[], pushed: AlertsPush | undefined): Generator<number, WrittenAlerts> {
    const db = this.#sqlite!;
    const bumped = db.prepare("UPDATE vigil_counters SET value = value + 1 WHERE name = 'decisions_rev' RETURNING value").get() as
      | { value: number }
      | undefined;
    if (!bumped) throw new VigilError('E_DB_SCHEMA', 'store: the decisions_rev counter is missing; the database was not migrated by this version');
    const rev = Number(bumped.value);
    if (pushed) db.prepare('UPDATE machines SET last_push_at = ? WHERE machine_id = ?').run(pushed.at, pushed.machineId);
    const insertAlert = db.prepare(SQLITE_INSERT_ALERT);
    const insertDecision = db.prepare(SQLITE_INSERT_DECISION);
    const alertIds: number[] = [];
    const stored: Decision[] = [];
    let slice = 0;
    for (const { alert, decisions } of batch) {
      const alertId = Number(insertAlert.run(alertRow(alert)).lastInsertRowid);
      alertIds.push(alertId);
      // Events (extra) weigh too: 1,000 alerts of 28 KB are 28 MB written, the same as ~28k decisions.
      slice += Math.floor((alert.extra?.length ?? 0) / SQLITE_ROW_CHARS);
      if (slice >= SQLITE_WRITE_SLICE) {
        slice = 0;
        yield stored.length;
      }
      for (const d of decisions) {
        const r = insertDecision.run(alertId, d.origin, d.type, d.scope, d.value, d.scenario, d.createdAt, d.until, d.simulated ? 1 : 0, rev);
        stored.push(storedDecision(d, Number(r.lastInsertRowid), alertId));
        if (++slice >= SQLITE_WRITE_SLICE) {
          slice = 0;
          yield stored.length;
        }
      }
    }
    return { alertIds, decisions: stored, rev };
  }

  /**
   * Soft-deletes active decisions: `until` moves to now (as CrowdSec does), so stream bouncers
   * receive them under `deleted` with a negative duration. Returns the decisions deleted.
   */
  async softDeleteDecisions(ids: number[], now: number): Promise<number> {
    if (ids.length === 0) return 0;
    return await this.#db.transaction().execute(async (trx) => {
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

  async activeDecisions(now: number): Promise<Decision[]> {
    const rows = await this.#db.selectFrom('decisions').selectAll().where('until', '>', now).orderBy('until').orderBy('id').execute();
    return rows.map(toDecision);
  }

  /** Decisions whose expiry is at or before now and still stored (stream startup's `deleted`). */
  async expiredDecisions(now: number, since?: number): Promise<Decision[]> {
    if (this.#sqlite) {
      const found = await this.#sqliteRead((db) =>
        db.prepare('SELECT * FROM decisions WHERE until <= ? AND until >= ? ORDER BY until, id').all(now, since ?? Number.MIN_SAFE_INTEGER),
      );
      return (found as Selectable<DecisionsTable>[]).map(toDecision);
    }
    let q = this.#db.selectFrom('decisions').selectAll().where('until', '<=', now);
    if (since !== undefined) q = q.where('until', '>=', since);
    const rows = await q.orderBy('until').orderBy('id').execute();
    return rows.map(toDecision);
  }

  async decisionsCreatedAfter(after: number, now: number): Promise<Decision[]> {
    const rows = await this.#db
      .selectFrom('decisions')
      .selectAll()
      .where('created_at', '>', after)
      .where('until', '>', now)
      .orderBy('until')
      .orderBy('id')
      .execute();
    return rows.map(toDecision);
  }

  decisionsRev(): Promise<number> {
    return this.#counter('decisions_rev');
  }

  /** The revision of what authenticates bouncers, moved by triggers on every change of it (migration 012). */
  bouncersRev(): Promise<number> {
    return this.#counter('bouncers_rev');
  }

  async #counter(name: 'decisions_rev' | 'bouncers_rev'): Promise<number> {
    const missing = () => new VigilError('E_DB_SCHEMA', `store: the ${name} counter is missing; the database was not migrated by this version`);
    if (this.#sqlite) {
      const found = await this.#sqliteRead((db) => db.prepare('SELECT value FROM vigil_counters WHERE name = ?').get(name) as { value: number } | undefined);
      if (!found) throw missing();
      return Number(found.value);
    }
    const row = await this.#db.selectFrom('vigil_counters').select('value').where('name', '=', name).executeTakeFirst();
    if (!row) throw missing();
    return Number(row.value);
  }

  async decisionsChangedSince(rev: number): Promise<Decision[]> {
    if (this.#sqlite) {
      const found = await this.#sqliteRead((db) => db.prepare('SELECT * FROM decisions WHERE rev > ? ORDER BY id').all(rev));
      return (found as Selectable<DecisionsTable>[]).map(toDecision);
    }
    const rows = await this.#db.selectFrom('decisions').selectAll().where('rev', '>', rev).orderBy('id').execute();
    return rows.map(toDecision);
  }

  /**
   * The same, one page at a time (ids above `afterId`, ascending), so following 100k new decisions
   * never holds 100k raw rows at once. `rev = -1` pages through every active decision.
   */
  async decisionsChangedSincePage(rev: number, now: number, afterId: number, limit: number): Promise<Decision[]> {
    return (await this.decisionChangesPage(rev, now, afterId, limit)).map((c) => c.decision);
  }

  /** The same, each decision with the revision that last changed it. */
  async decisionChangesPage(rev: number, now: number, afterId: number, limit: number): Promise<Array<{ rev: number; decision: Decision }>> {
    let q = this.#db.selectFrom('decisions').selectAll().where('id', '>', afterId);
    q = rev < 0 ? q.where('until', '>', now) : q.where('rev', '>', rev);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ rev: Number(r.rev), decision: toDecision(r) }));
  }

  async alertsFor(alertIds: number[]): Promise<Map<number, Alert>> {
    const out = new Map<number, Alert>();
    for (let i = 0; i < alertIds.length; i += INSERT_CHUNK) {
      const rows = await this.#db
        .selectFrom('alerts')
        .selectAll()
        .where('id', 'in', alertIds.slice(i, i + INSERT_CHUNK))
        .execute();
      for (const r of rows) out.set(r.id, toAlert(r));
    }
    return out;
  }

  /** Groups decisions under their alerts, newest alert first, as `cscli decisions list` shows them. */
  async withAlerts(decisions: Decision[]): Promise<AlertWithDecisions[]> {
    const alertIds = [...new Set(decisions.map((d) => d.alertId).filter((id): id is number => id !== null))];
    const alerts = await this.alertsFor(alertIds);
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

  /** Forgets decisions expired before `cutoff` (CrowdSec's flush max_age), with their empty alerts. */
  async purgeExpiredDecisions(cutoff: number): Promise<number> {
    const res = await this.#db.deleteFrom('decisions').where('until', '<', cutoff).executeTakeFirst();
    await this.#db
      .deleteFrom('alerts')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('decisions').select('id').whereRef('decisions.alert_id', '=', 'alerts.id'))))
      .execute();
    return Number(res.numDeletedRows);
  }

  // ---------------------------------------------------------------- refused requests

  async recordRefused(batch: NewRefusedRequest[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('refused_requests')
        .values(
          batch.map((r) => ({
            at: r.at,
            peer_ip: r.peerIp,
            user_agent: r.userAgent.slice(0, 256),
            method: r.method,
            path: r.path.slice(0, 256),
            reason: r.reason,
            key_fingerprint: r.keyFingerprint,
            bouncer_name: r.bouncerName,
          })),
        )
        .execute();
      const cut = await trx.selectFrom('refused_requests').select('id').orderBy('id', 'desc').offset(REFUSED_REQUESTS_KEPT).limit(1).executeTakeFirst();
      if (cut) await trx.deleteFrom('refused_requests').where('id', '<=', cut.id).execute();
    });
  }

  /**
   * Refused requests that concern a bouncer: with its (revoked) key, from its last address, or with
   * its exact User-Agent. Newest first.
   */
  async refusedRequestsFor(b: Bouncer, limit: number): Promise<RefusedRequest[]> {
    const ua = b.type ? `${b.type}/${b.version}` : null;
    const rows = await this.#db
      .selectFrom('refused_requests')
      .selectAll()
      .where((eb) =>
        eb.or([eb('bouncer_name', '=', b.name), ...(b.ipAddress ? [eb('peer_ip', '=', b.ipAddress)] : []), ...(ua ? [eb('user_agent', '=', ua)] : [])]),
      )
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRefused);
  }

  async refusedRequests(opts: { since?: number; limit?: number } = {}): Promise<RefusedRequest[]> {
    let q = this.#db.selectFrom('refused_requests').selectAll();
    if (opts.since !== undefined) q = q.where('at', '>=', opts.since);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 100)
      .execute();
    return rows.map(toRefused);
  }

  // ---------------------------------------------------------------- usage metrics

  /** Keeps the latest usage-metrics report of a bouncer (`POST /v1/usage-metrics`). */
  async recordUsageMetrics(bouncerId: number, receivedAt: number, report: unknown): Promise<void> {
    const row = { bouncer_id: bouncerId, received_at: receivedAt, report: JSON.stringify(report) };
    await this.#db
      .insertInto('bouncer_usage_metrics')
      .values(row)
      .onConflict((oc) => oc.column('bouncer_id').doUpdateSet({ received_at: row.received_at, report: row.report }))
      .execute();
  }

  /** When each bouncer last reported usage metrics, by bouncer id. */
  async usageMetricsReceivedAt(): Promise<Map<number, number>> {
    const rows = await this.#db.selectFrom('bouncer_usage_metrics').select(['bouncer_id', 'received_at']).execute();
    return new Map(rows.map((r) => [Number(r.bouncer_id), Number(r.received_at)]));
  }

  /** The latest report of one bouncer, as received. */
  async latestUsageMetrics(bouncerId: number): Promise<{ receivedAt: number; report: unknown } | undefined> {
    const row = await this.#db.selectFrom('bouncer_usage_metrics').selectAll().where('bouncer_id', '=', bouncerId).executeTakeFirst();
    return row ? { receivedAt: Number(row.received_at), report: JSON.parse(row.report) } : undefined;
  }

  // ---------------------------------------------------------------- health

  async recordLapiStart(at: number, instance: string): Promise<void> {
    await this.#db.insertInto('lapi_starts').values({ at, instance }).execute();
    // Keep a month of starts: enough to explain any silence the engine looks at.
    await this.#db
      .deleteFrom('lapi_starts')
      .where('at', '<', at - 30 * 24 * 3600_000)
      .execute();
  }

  async lapiStarts(since: number): Promise<number[]> {
    const rows = await this.#db.selectFrom('lapi_starts').select('at').where('at', '>=', since).orderBy('at').execute();
    return rows.map((r) => Number(r.at));
  }

  async recordBouncerChanges(changes: BouncerChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.#db
      .insertInto('bouncer_changes')
      .values(
        changes.map((c) => ({ bouncer_id: c.bouncerId, at: c.at, field: c.field, old_value: c.oldValue.slice(0, 256), new_value: c.newValue.slice(0, 256) })),
      )
      .execute();
  }

  async bouncerChanges(since: number): Promise<BouncerChange[]> {
    const rows = await this.#db.selectFrom('bouncer_changes').selectAll().where('at', '>=', since).orderBy('at').execute();
    return rows.map((r) => ({
      bouncerId: Number(r.bouncer_id),
      at: Number(r.at),
      field: r.field as BouncerChange['field'],
      oldValue: r.old_value,
      newValue: r.new_value,
    }));
  }

  async openHealthIssues(): Promise<HealthIssue[]> {
    const rows = await this.#db.selectFrom('health_issues').selectAll().where('resolved_at', 'is', null).orderBy('id').execute();
    return rows.map(toHealthIssue);
  }

  async healthIssues(opts: { includeResolved?: boolean; limit?: number } = {}): Promise<HealthIssue[]> {
    let q = this.#db.selectFrom('health_issues').selectAll();
    if (!opts.includeResolved) q = q.where('resolved_at', 'is', null);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 1000)
      .execute();
    return rows.map(toHealthIssue);
  }

  async healthIssue(id: number): Promise<HealthIssue | undefined> {
    const row = await this.#db.selectFrom('health_issues').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toHealthIssue(row) : undefined;
  }

  /** How many times an issue of this kind and subject opened since `since` (flapping). */
  async issueOpenCounts(since: number): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('health_issues')
      .select(['kind', 'subject', (eb) => eb.fn.countAll<number>().as('n')])
      .where('opened_at', '>=', since)
      .groupBy(['kind', 'subject'])
      .execute();
    return new Map(rows.map((r) => [`${r.kind}|${r.subject}`, Number(r.n)]));
  }

  /**
   * Opens an issue unless another replica already has it open (the partial unique index decides).
   * Returns the new issue, or undefined when it was already open.
   */
  async openHealthIssue(issue: NewHealthIssue): Promise<HealthIssue | undefined> {
    try {
      const row = await this.#db
        .insertInto('health_issues')
        .values({
          kind: issue.kind,
          criticality: issue.criticality,
          subject: issue.subject,
          bouncer_name: issue.bouncerName,
          opened_at: issue.openedAt,
          last_seen_at: issue.openedAt,
          resolved_at: null,
          since: issue.since,
          summary: issue.summary,
          evidence: JSON.stringify(issue.evidence),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toHealthIssue(row);
    } catch (e) {
      if (isUniqueViolation(e)) return undefined;
      throw e;
    }
  }

  /**
   * Refreshes an open issue; with `kind` and `criticality`, moves it to another stage of its incident
   * (late → offline, health/engine.ts). Returns false when that stage is already open for the subject
   * (another replica opened it: the partial unique index decides).
   */
  async touchHealthIssue(
    id: number,
    update: { lastSeenAt: number; summary: string; since: number; evidence: unknown; kind?: string; criticality?: string },
  ): Promise<boolean> {
    const stage = update.kind !== undefined && update.criticality !== undefined ? { kind: update.kind, criticality: update.criticality } : {};
    try {
      await this.#db
        .updateTable('health_issues')
        .set({ last_seen_at: update.lastSeenAt, summary: update.summary, since: update.since, evidence: JSON.stringify(update.evidence), ...stage })
        .where('id', '=', id)
        .where('resolved_at', 'is', null)
        .execute();
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async resolveHealthIssue(id: number, at: number): Promise<boolean> {
    const res = await this.#db.updateTable('health_issues').set({ resolved_at: at }).where('id', '=', id).where('resolved_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  // ---------------------------------------------------------------- meta

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.#db.selectFrom('vigil_meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  /** Writes a meta row unless one exists: replicas racing on a first value agree on the winner's. */
  async setMetaIfAbsent(key: string, value: string): Promise<void> {
    await this.#db
      .insertInto('vigil_meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.#db
      .insertInto('vigil_meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  /** A random per-installation secret (shared by replicas through the store), created on first use. */
  async secret(name: string): Promise<Buffer> {
    const key = `secret:${name}`;
    const found = await this.#db.selectFrom('vigil_meta').select('value').where('key', '=', key).executeTakeFirst();
    if (found) return Buffer.from(found.value, 'hex');
    const value = crypto.randomBytes(32).toString('hex');
    await this.#db
      .insertInto('vigil_meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await this.#db.selectFrom('vigil_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    return Buffer.from(row.value, 'hex');
  }
}

/** A bouncer row as it is first written: never pulled, no cadence, no override. */
export function newBouncerRow(b: {
  name: string;
  apiKeyHash: string;
  authType: 'api-key' | 'tls';
  now: number;
  ipAddress?: string;
  type?: string;
  version?: string;
  revoked?: boolean;
  autoCreated?: boolean;
}): Insertable<BouncersTable> {
  return {
    name: b.name,
    api_key_hash: b.apiKeyHash,
    revoked: b.revoked ? 1 : 0,
    ip_address: b.ipAddress ?? '',
    type: b.type ?? '',
    version: b.version ?? '',
    auth_type: b.authType,
    created_at: b.now,
    updated_at: b.now,
    last_pull_at: null,
    last_pull_rev: null,
    last_request_at: null,
    kind_override: null,
    pull_cadence_ms: null,
    auto_created: b.autoCreated ? 1 : 0,
  };
}

async function nextRev(trx: Transaction<Database>): Promise<number> {
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

function alertRow(alert: NewAlert): Insertable<AlertsTable> {
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

function decisionRow(d: NewDecision, alertId: number, rev: number): Insertable<DecisionsTable> {
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
function storedDecision(d: NewDecision, id: number, alertId: number): Decision {
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

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(err?.message ?? '');
}

export function toHealthIssue(r: Selectable<HealthIssuesTable>): HealthIssue {
  return {
    id: Number(r.id),
    kind: r.kind,
    criticality: r.criticality,
    subject: r.subject,
    bouncerName: r.bouncer_name,
    openedAt: Number(r.opened_at),
    lastSeenAt: Number(r.last_seen_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
    since: Number(r.since),
    summary: r.summary,
    evidence: JSON.parse(r.evidence),
  };
}

function noBouncer(name: string): VigilError {
  return new VigilError('E_NO_BOUNCER', `bouncer '${name}' doesn't exist (see: vigil bouncers list)`);
}

export function toBouncer(r: Selectable<BouncersTable>): Bouncer {
  return {
    id: Number(r.id),
    name: r.name,
    apiKeyHash: r.api_key_hash,
    revoked: Number(r.revoked) === 1,
    ipAddress: r.ip_address,
    type: r.type,
    version: r.version,
    authType: r.auth_type === 'tls' ? 'tls' : 'api-key',
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastPullAt: r.last_pull_at === null ? null : Number(r.last_pull_at),
    lastPullRev: r.last_pull_rev === null ? null : Number(r.last_pull_rev),
    lastRequestAt: r.last_request_at === null ? null : Number(r.last_request_at),
    kindOverride: r.kind_override === 'firewall' || r.kind_override === 'remediation' ? r.kind_override : null,
    pullCadenceMs: r.pull_cadence_ms === null ? null : Number(r.pull_cadence_ms),
    autoCreated: Number(r.auto_created ?? 0) === 1,
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

export function toRefused(r: Selectable<RefusedRequestsTable>): RefusedRequest {
  return {
    id: Number(r.id),
    at: Number(r.at),
    peerIp: r.peer_ip,
    userAgent: r.user_agent,
    method: r.method,
    path: r.path,
    reason: r.reason,
    keyFingerprint: r.key_fingerprint,
    bouncerName: r.bouncer_name,
  };
}
