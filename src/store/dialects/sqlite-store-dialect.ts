import type SqliteDatabase from 'better-sqlite3';
import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Decision, NewAlertWithDecisions } from '../../core/model/records.ts';
import type { BouncersTable, Database, DecisionsTable } from '../schema.ts';
import { startCheckpointer, type Checkpointer } from './sqlite-checkpointer.ts';
import { openSqliteReader } from './sqlite.ts';
import { SqliteAlertWriter } from './sqlite-alert-writes.ts';
import type { AlertsPush, BouncerActivity, DialectDb, MirroredBouncerUpdate, StoreDialect, WrittenAlerts } from './store-dialect.ts';

/** applyBouncerActivity on SQLite: absent fields keep their value; times and revision only move forward. */
const ACTIVITY_UPDATE = `UPDATE bouncers SET
  updated_at = @now,
  last_pull_at = CASE WHEN @pull IS NULL THEN last_pull_at ELSE max(coalesce(last_pull_at, 0), @pull) END,
  last_pull_rev = CASE WHEN @rev IS NULL THEN last_pull_rev ELSE max(coalesce(last_pull_rev, 0), @rev) END,
  last_request_at = CASE WHEN @request IS NULL THEN last_request_at ELSE max(coalesce(last_request_at, 0), @request) END,
  ip_address = coalesce(@ip, ip_address),
  type = coalesce(@type, type),
  version = coalesce(@version, version),
  pull_cadence_ms = CASE WHEN @setCadence = 1 THEN @cadence ELSE pull_cadence_ms END
WHERE id = @id`;

/** The index's first load (activeDecisionsPage): a string equal to the one given reads as NULL. */
const ACTIVE_PAGE = `SELECT id, alert_id,
  CASE WHEN origin = ? THEN NULL ELSE origin END, CASE WHEN type = ? THEN NULL ELSE type END,
  CASE WHEN scope = ? THEN NULL ELSE scope END, value, CASE WHEN scenario = ? THEN NULL ELSE scenario END,
  created_at, until, deleted_at, simulated
FROM decisions WHERE id > ? AND until > ? ORDER BY id LIMIT ?`;

type ActivePageRow = [number, number | null, string | null, string | null, string | null, string, string | null, number, number, number | null, number];

/**
 * SQLite: one writer, one file. The hottest reads and the bulk writes skip Kysely's query building
 * and run prepared statements on the raw better-sqlite3 handle: same SQL, one cached statement, no
 * per-query garbage (bench/pull-load.bench.ts).
 */
export class SqliteStoreDialect implements StoreDialect {
  readonly name = 'sqlite' as const;
  readonly groupsCommits = true;
  readonly preparedReads = true;
  readonly writesOnEventLoop = true;
  readonly #db: DialectDb;
  readonly #sqlite: SqliteDatabase.Database;
  /** The connection the hottest reads use (sqlite.ts openSqliteReader); none for an in-memory store. */
  readonly #reader: SqliteDatabase.Database | undefined;
  /** The worker that checkpoints the WAL, when opened with `checkpointInBackground`. */
  readonly #checkpointer: Checkpointer | undefined;
  readonly #alerts: SqliteAlertWriter;
  /** The strings of the last row activeDecisionsPage read. */
  #lastStrings = { origin: '', type: '', scope: '', scenario: '' };

  constructor(db: DialectDb, sqlite: SqliteDatabase.Database, opts: { checkpointInBackground?: boolean; onWarning?: (message: string) => void } = {}) {
    this.#db = db;
    this.#sqlite = sqlite;
    this.#reader = openSqliteReader(sqlite);
    if (opts.checkpointInBackground && !sqlite.memory) this.#checkpointer = startCheckpointer(sqlite.name, opts.onWarning ?? (() => {}));
    this.#alerts = new SqliteAlertWriter(db, sqlite, { checkpointsInBackground: this.#checkpointer !== undefined });
  }

  later(column: string, value: number) {
    return sql<number>`max(coalesce(${sql.ref(column)}, 0), ${value})`;
  }

  async lockForTransaction(_trx: Transaction<Database>, _key: number): Promise<void> {}

  async skipWalFlush(): Promise<void> {
    // WAL with synchronous=NORMAL (sqlite.ts): no commit waits for an fsync already.
  }

  async tryLockForTransaction(_trx: Transaction<Database>, _key: number): Promise<boolean> {
    return true;
  }

  async deleteLimited(trx: Transaction<Database>, table: string, where: RawBuilder<unknown>, limit: number): Promise<number> {
    const t = sql.table(table);
    const res = await sql`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE ${where} LIMIT ${limit})`.execute(trx);
    return Number(res.numAffectedRows ?? 0n);
  }

  async vacuumTables(_tables: readonly string[], _lockKey: number): Promise<'not-needed'> {
    // The freelist takes the pages a purge emptied and the next writes reuse them; VACUUM would
    // rewrite the whole file under the write lock (docs/retention.md: offline, when shrinking).
    return 'not-needed';
  }

  /**
   * The reads still take Kysely's connection when there is no reader, so they never see another
   * caller's transaction half done; the reader sees committed state only, so it is never queued
   * behind a long write on the main connection.
   */
  #read<T>(read: (db: SqliteDatabase.Database) => T): Promise<T> {
    const reader = this.#reader;
    if (reader) {
      try {
        return Promise.resolve(read(reader));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#db.connection().execute(async () => read(this.#sqlite));
  }

  async claimBouncerAddress(id: number, ip: string, now: number): Promise<{ claimed: boolean; row: Selectable<BouncersTable> | undefined }> {
    const res = await this.#db
      .updateTable('bouncers')
      .set({ ip_address: ip, updated_at: now })
      .where('id', '=', id)
      .where('ip_address', '=', '')
      .executeTakeFirst();
    const row = await this.#db.selectFrom('bouncers').selectAll().where('id', '=', id).executeTakeFirst();
    return { claimed: Number(res.numUpdatedRows) === 1, row };
  }

  async bouncerRowsByKeyHash(apiKeyHash: string): Promise<Selectable<BouncersTable>[]> {
    // Sorted here: with ORDER BY id the same index search costs SQLite 3.54 five times as much
    // (45 µs against 9 µs for 10k bouncers), and it runs on every pull of a key not seen for a second.
    const rows = await this.#read((db) => db.prepare('SELECT * FROM bouncers WHERE api_key_hash = ?').all(apiKeyHash));
    return (rows as Selectable<BouncersTable>[]).sort((a, b) => Number(a.id) - Number(b.id));
  }

  async expiredDecisionRows(now: number, since?: number): Promise<Selectable<DecisionsTable>[]> {
    const rows = await this.#read((db) =>
      db.prepare('SELECT * FROM decisions WHERE until <= ? AND until >= ? ORDER BY until, id').all(now, since ?? Number.MIN_SAFE_INTEGER),
    );
    return rows as Selectable<DecisionsTable>[];
  }

  async activeDecisionsPage(now: number, afterId: number, limit: number): Promise<Decision[]> {
    // Rows as arrays, and NULL for a string equal to the one given (the last page's last row's: a 1M
    // import shares one of each): no object per row and four strings fewer from the driver (the
    // index's first load at 1M: ~0.5 s of CPU less).
    const given = this.#lastStrings;
    const rows = (await this.#read((db) =>
      db.prepare(ACTIVE_PAGE).raw(true).all(given.origin, given.type, given.scope, given.scenario, afterId, now, limit),
    )) as ActivePageRow[];
    const out = new Array<Decision>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = {
        id: r[0],
        alertId: r[1],
        origin: r[2] ?? given.origin,
        type: r[3] ?? given.type,
        scope: r[4] ?? given.scope,
        value: r[5],
        scenario: r[6] ?? given.scenario,
        createdAt: r[7],
        until: r[8],
        deletedAt: r[9],
        simulated: r[10] === 1,
      };
    }
    const end = out[out.length - 1];
    if (end !== undefined) this.#lastStrings = { origin: end.origin, type: end.type, scope: end.scope, scenario: end.scenario };
    return out;
  }

  async decisionRowsChangedSince(rev: number): Promise<Selectable<DecisionsTable>[]> {
    return (await this.#read((db) => db.prepare('SELECT * FROM decisions WHERE rev > ? ORDER BY id').all(rev))) as Selectable<DecisionsTable>[];
  }

  async counter(name: 'decisions_rev' | 'bouncers_rev'): Promise<number | undefined> {
    const found = await this.#read((db) => db.prepare('SELECT value FROM vigil_counters WHERE name = ?').get(name) as { value: number } | undefined);
    return found ? Number(found.value) : undefined;
  }

  async applyBouncerActivity(batch: readonly BouncerActivity[], now: number): Promise<void> {
    if (batch.length === 0) return;
    // 10k bouncers pulling every 10 s is 1,000 rows a second: one prepared statement, one
    // transaction, a few ms, so pulls waiting on the connection are not held up.
    const sqlite = this.#sqlite;
    const update = sqlite.prepare(ACTIVITY_UPDATE);
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
  }

  writeAlerts(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts> {
    return this.#alerts.write(batch, onProgress, pushed);
  }

  async updateBouncerRows(trx: Transaction<Database>, updates: readonly MirroredBouncerUpdate[], now: number): Promise<void> {
    // Prepared statements inside one transaction cost microseconds each.
    for (const { id, ...values } of updates) {
      await trx
        .updateTable('bouncers')
        .set({ ...values, updated_at: now })
        .where('id', '=', id)
        .execute();
    }
  }

  async close(): Promise<void> {
    await this.#alerts.close();
    await this.#checkpointer?.stop();
    this.#reader?.close();
  }
}
