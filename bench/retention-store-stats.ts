// What the retention bench reads of the store's size each simulated month, and why it is that size:
// on SQLite the file, its WAL and its free pages (reused, never given back: auto_vacuum is off); on
// PostgreSQL the database, each purged table's heap and indexes, its dead tuples and how often
// (auto)vacuum ran, and the oldest snapshot a session holds (dead tuples newer than it stay).
import fs from 'node:fs';
import { sql } from 'kysely';
import { dbOf, dialectOf } from '../src/store/store-db.ts';
import type { Store } from '../src/store/store.ts';

export interface TableStats {
  liveRows: number;
  deadRows: number;
  heapBytes: number;
  indexBytes: number;
  vacuums: number;
  autovacuums: number;
}

export interface StoreStats {
  /** What the operator sees on disk: SQLite's file + WAL, PostgreSQL's pg_database_size. */
  bytes: number;
  /** SQLite: of `bytes`, the WAL's (its size moves with checkpoints, the file's does not). */
  walBytes?: number;
  /** SQLite: pages on the freelist (free space inside the file the next writes reuse). */
  freePages?: number;
  pageSize?: number;
  /** PostgreSQL: the purged tables. */
  tables?: Record<string, TableStats>;
  /** PostgreSQL: the oldest transaction id any session's snapshot still needs, as an age (0: none). */
  oldestSnapshotAge?: number;
}

const PG_TABLES = ['decisions', 'alerts'];

export async function storeStats(store: Store, dbUrl: string): Promise<StoreStats> {
  const db = dbOf(store);
  if (dialectOf(store).writesOnEventLoop) {
    const file = dbUrl.slice('sqlite:'.length);
    const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    const walBytes = size(`${file}-wal`);
    const bytes = size(file) + walBytes;
    const free = await sql<{ freelist_count: number }>`PRAGMA freelist_count`.execute(db);
    const page = await sql<{ page_size: number }>`PRAGMA page_size`.execute(db);
    return { bytes, walBytes, freePages: Number(free.rows[0]?.freelist_count ?? 0), pageSize: Number(page.rows[0]?.page_size ?? 0) };
  }
  const size = await sql<{ size: string }>`select pg_database_size(current_database()) as size`.execute(db);
  const { rows } = await sql<{
    relname: string;
    n_live_tup: string;
    n_dead_tup: string;
    heap: string;
    indexes: string;
    vacuum_count: string;
    autovacuum_count: string;
  }>`select relname, n_live_tup, n_dead_tup, pg_relation_size(relid) as heap, pg_indexes_size(relid) as indexes,
            vacuum_count, autovacuum_count
       from pg_stat_user_tables where relname in (${sql.join(PG_TABLES)})`.execute(db);
  const tables: Record<string, TableStats> = {};
  for (const r of rows) {
    tables[r.relname] = {
      liveRows: Number(r.n_live_tup),
      deadRows: Number(r.n_dead_tup),
      heapBytes: Number(r.heap),
      indexBytes: Number(r.indexes),
      vacuums: Number(r.vacuum_count),
      autovacuums: Number(r.autovacuum_count),
    };
  }
  const xmin = await sql<{ age: string | null }>`select max(age(backend_xmin)) as age from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid()`.execute(db);
  return { bytes: Number(size.rows[0]!.size), tables, oldestSnapshotAge: Number(xmin.rows[0]?.age ?? 0) };
}

/** One line of the month's table: free pages (SQLite) or dead tuples and vacuums of `decisions` (PostgreSQL). */
export function statsCell(s: StoreStats): string {
  if (s.freePages !== undefined) return `WAL ${((s.walBytes ?? 0) / 1e6).toFixed(0)} MB, ${((s.freePages * (s.pageSize ?? 0)) / 1e6).toFixed(0)} MB free`;
  const d = s.tables?.decisions;
  if (!d) return '–';
  return `heap ${(d.heapBytes / 1e6).toFixed(0)} + idx ${(d.indexBytes / 1e6).toFixed(0)} MB, dead ${d.deadRows.toLocaleString('en')}, vac ${d.vacuums}/${d.autovacuums} auto, xmin age ${s.oldestSnapshotAge}`;
}
