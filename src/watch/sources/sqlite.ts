/**
 * CrowdSec's SQLite database, opened read-only per poll (never holding a read snapshot between
 * polls, so CrowdSec's WAL checkpoints proceed); a lock held past the busy timeout is a failure.
 */
import SqliteDatabase from 'better-sqlite3';
import { BOUNCER_COLUMNS, errorText, machinesQuery, metricsQuery, readImportRows, SourceError, toRead } from './source.ts';
import type { BouncerSource, CrowdsecImportRows, ImportPart, SourceRead } from './source.ts';

function sqliteColumns(db: SqliteDatabase.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
}

export class SqliteSource implements BouncerSource {
  readonly kind = 'sqlite';
  readonly description: string;
  #path: string;
  #busyTimeoutMs: number;

  constructor(path: string, opts: { busyTimeoutMs?: number } = {}) {
    this.#path = path;
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 2000;
    this.description = `sqlite:${path}`;
  }

  /** Read-only and never created: Vigil must not change CrowdSec's database in any way. */
  #open(): SqliteDatabase.Database {
    try {
      return new SqliteDatabase(this.#path, { readonly: true, fileMustExist: true, timeout: this.#busyTimeoutMs });
    } catch (e) {
      throw new SourceError(`${this.description}: cannot open (${errorText(e)}); check the path and that this user can read it and its -wal/-shm files`);
    }
  }

  async read(): Promise<SourceRead> {
    const db = this.#open();
    try {
      const columnsOf = (table: string) => sqliteColumns(db, table);
      const bouncerColumns = columnsOf('bouncers');
      if (bouncerColumns.size === 0) throw new SourceError(`${this.description}: no bouncers table; is this CrowdSec's database?`);
      const select = BOUNCER_COLUMNS.filter((c) => bouncerColumns.has(c)).map((c) => `"${c}"`);
      // One read transaction: bouncers and metrics from the same snapshot.
      const read = db.transaction(() => {
        const rows = db.prepare(`SELECT ${select.join(', ')} FROM bouncers ORDER BY id`).all() as Record<string, unknown>[];
        const mq = metricsQuery(columnsOf('metrics'), (id) => `"${id}"`);
        const metrics = mq ? (db.prepare(mq).all() as Record<string, unknown>[]) : [];
        const machq = machinesQuery(columnsOf('machines'), (id) => `"${id}"`);
        const machines = machq ? (db.prepare(machq).all() as Record<string, unknown>[]) : null;
        return { rows, metrics, machines };
      });
      const { rows, metrics, machines } = read();
      return toRead(rows, metrics, this.description, machines);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      const busy = /SQLITE_BUSY|locked/i.test(errorText(e));
      throw new SourceError(
        `${this.description}: ${busy ? `database is locked (SQLITE_BUSY after ${this.#busyTimeoutMs} ms)` : `read failed (${errorText(e)})`}`,
      );
    } finally {
      db.close();
    }
  }

  async readForImport(part: ImportPart = 'all'): Promise<CrowdsecImportRows> {
    const db = this.#open();
    try {
      const columnsOf = (table: string) => sqliteColumns(db, table);
      return await readImportRows(
        columnsOf,
        (sql) => db.prepare(sql).all() as Record<string, unknown>[],
        (id) => `"${id}"`,
        part,
      );
    } catch (e) {
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    } finally {
      db.close();
    }
  }

  async close(): Promise<void> {}
}
