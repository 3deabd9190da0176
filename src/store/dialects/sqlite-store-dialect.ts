import type SqliteDatabase from 'better-sqlite3';
import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { NewAlertWithDecisions } from '../../core/model/records.ts';
import type { BouncersTable, Database, DecisionsTable } from '../schema.ts';
import { startCheckpointer, type Checkpointer } from './sqlite-checkpointer.ts';
import { openSqliteReader } from './sqlite.ts';
import { SqliteAlertWriter } from './sqlite-alert-writes.ts';
import {
  isUniqueViolationError,
  type AlertsPush,
  type BouncerActivity,
  type DialectDb,
  type MirroredBouncerUpdate,
  type StoreDialect,
  type WrittenAlerts,
} from './store-dialect.ts';

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

  isUniqueViolation(e: unknown): boolean {
    return isUniqueViolationError(e);
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
    this.#alerts.close();
    await this.#checkpointer?.stop();
    this.#reader?.close();
  }
}
