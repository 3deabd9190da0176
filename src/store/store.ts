import fs from 'node:fs';
import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { openDatabase, parseStoreUrl, type OpenedDatabase, type OpenOptions } from './database.ts';
import { attachDb } from './store-db.ts';
import { claimStoreRole, type StoreRole } from './store-role.ts';
import { redactUrl } from '../lib/redact-url.ts';
import type { Dialect } from './dialect.ts';
import type { StoreDialect } from './dialects/store-dialect.ts';
import { SqliteStoreDialect } from './dialects/sqlite-store-dialect.ts';
import { PostgresStoreDialect } from './dialects/postgres-store-dialect.ts';

/**
 * An open store: SQLite or PostgreSQL through Kysely, migrated, with what differs between the two
 * behind a StoreDialect (dialects/store-dialect.ts). The queries live in one repository module per
 * table (bouncers.ts, decisions.ts, health-issues.ts…), functions that take a Store; a Store itself
 * only opens, claims its role and closes (docs/architecture.md, "where a new table goes").
 */
export class Store {
  readonly #db: Kysely<Database>;
  readonly #dialect: StoreDialect;
  readonly dialect: Dialect;
  readonly description: string;
  /** This open created the SQLite file. */
  readonly created: boolean;
  /** Store files other users can read (only when opened with `othersCanRead: 'report'`). */
  readonly readableByOthers: string[];
  /** The SQLite file, resolved; null on PostgreSQL and in memory. */
  readonly file: string | null;
  readonly #sqlite: SqliteDatabase.Database | undefined;

  constructor(opened: OpenedDatabase, description: string, opts: Pick<OpenOptions, 'checkpointInBackground' | 'onWarning'> = {}) {
    this.#db = opened.db;
    this.#dialect = opened.sqlite ? new SqliteStoreDialect(opened.db, opened.sqlite, opts) : new PostgresStoreDialect(opened.db);
    attachDb(this, opened.db, this.#dialect);
    this.dialect = opened.dialect;
    this.description = description;
    this.created = opened.created;
    this.readableByOthers = opened.readableByOthers;
    this.#sqlite = opened.sqlite;
    this.file = opened.sqlite && !opened.sqlite.memory ? path.resolve(opened.sqlite.name) : null;
  }

  /**
   * From now on every write on this SQLite connection fails (query_only); reads still answer. For a
   * store whose file was deleted or replaced: a write would be acknowledged and lost with the orphan.
   */
  refuseWrites(): void {
    this.#sqlite?.pragma('query_only = ON');
  }

  /**
   * Copies the open SQLite database, its WAL included, to `dest` (a new file, 0600): SQLite's online
   * backup reads through this connection, so it still finds what a deleted file held.
   */
  async copyTo(dest: string): Promise<void> {
    if (!this.#sqlite) throw new Error('copyTo: not a SQLite store');
    fs.closeSync(fs.openSync(dest, 'wx', 0o600));
    await this.#sqlite.backup(dest);
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

  async close(): Promise<void> {
    await this.#dialect.close();
    await this.#db.destroy();
  }
}
