import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { VigilError } from '../errors.ts';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { migrationProvider } from './migrations/index.ts';

export interface StoreLocation {
  dialect: Dialect;
  /** File path for SQLite, connection string for PostgreSQL. */
  target: string;
}

/** `sqlite:PATH`, `sqlite://PATH`, a bare path ending in .db, or `postgres://…`/`postgresql://…`. */
export function parseStoreUrl(url: string, field = 'db'): StoreLocation {
  const text = url.trim();
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) {
    try {
      new URL(text);
    } catch {
      throw new VigilError('E_BAD_DB', `${field} "${redactUrl(text)}": not a valid PostgreSQL URL; use postgres://USER:PASSWORD@HOST:5432/DB`);
    }
    return { dialect: 'postgres', target: text };
  }
  if (text.startsWith('sqlite:')) {
    const p = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (p === '') throw new VigilError('E_BAD_DB', `${field} "sqlite:": give a file path, e.g. sqlite:./data/vigil.db`);
    return { dialect: 'sqlite', target: p };
  }
  throw new VigilError('E_BAD_DB', `${field} "${redactUrl(text)}": use sqlite:PATH (e.g. sqlite:./data/vigil.db) or postgres://USER:PASSWORD@HOST:5432/DB`);
}

/** For logs and messages: never show a password. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

// pg returns BIGINT (int8) as strings; every BIGINT here is an epoch-ms time, id or counter (< 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  location: StoreLocation;
  /** The SQLite handle under Kysely, for the few bulk paths that reuse one prepared statement. */
  sqlite?: SqliteDatabase.Database;
}

export async function openDatabase(location: StoreLocation, opts: { migrate?: boolean; timeoutMs?: number } = {}): Promise<OpenedDatabase> {
  let db: Kysely<Database>;
  let sqliteHandle: SqliteDatabase.Database | undefined;
  if (location.dialect === 'sqlite') {
    const dir = path.dirname(path.resolve(location.target));
    fs.mkdirSync(dir, { recursive: true });
    let sqlite: SqliteDatabase.Database;
    try {
      sqlite = new SqliteDatabase(location.target);
    } catch (e) {
      throw new VigilError('E_DB_OPEN', `db "sqlite:${location.target}": cannot open (${(e as Error).message}); check the path and its permissions`);
    }
    // WAL: the CLI and the server share the file; readers never block the writer.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    cachePreparedStatements(sqlite);
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    sqliteHandle = sqlite;
  } else {
    const timeoutMs = opts.timeoutMs;
    const pool = new pg.Pool({
      connectionString: location.target,
      max: 10,
      keepAlive: true,
      // The server's bounded waits (the CLI's long imports keep none): a frozen or unreachable
      // server fails calls after timeoutMs instead of holding them.
      ...(timeoutMs
        ? { connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs, idle_in_transaction_session_timeout: Math.max(10_000, 2 * timeoutMs) }
        : {}),
    });
    // An idle connection the server closes (restart, failover) must not crash the process;
    // the pool replaces it and the next query reports any real problem.
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
    } catch (e) {
      await db.destroy();
      throw new VigilError('E_DB_OPEN', `db "${redactUrl(location.target)}": cannot connect (${(e as Error).message})`);
    }
  }
  const opened: OpenedDatabase = { db, dialect: location.dialect, location, sqlite: sqliteHandle };
  if (opts.migrate !== false) {
    try {
      await migrate(opened);
    } catch (e) {
      await db.destroy();
      throw e;
    }
  }
  return opened;
}

export async function migrate({ db, dialect }: OpenedDatabase): Promise<void> {
  // Migration numbers are handed out to work landing in parallel: 004 may reach a store after 006.
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), allowUnorderedMigrations: true });
  // Never throws; the error is in the result (Kysely's contract), so check it.
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new VigilError('E_MIGRATION', `database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}

/**
 * Kysely prepares every query it runs; on better-sqlite3 that is a full SQLite compile each time,
 * the largest cost of a stream pull under load (bench/pull-load.bench.ts). Queries of one shape
 * compile to one SQL text, so a small cache of prepared statements keyed by that text removes it.
 * Safe because Kysely runs a statement to completion (all/run) before the next use.
 */
function cachePreparedStatements(sqlite: SqliteDatabase.Database, size = 256): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SqliteDatabase.Statement>();
  sqlite.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (stmt === undefined) {
      stmt = prepare(source);
      if (cache.size >= size) cache.delete(cache.keys().next().value!);
      cache.set(source, stmt);
    }
    return stmt;
  }) as typeof sqlite.prepare;
}
