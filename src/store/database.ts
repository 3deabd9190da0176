import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { VigilError } from '../lib/errors.ts';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { LEGACY_MIGRATION_NAMES, migrationProvider } from './migrations/index.ts';
import { redactSecretsOf, redactUrl } from '../lib/redact-url.ts';

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
    if (p === '') throw new VigilError('E_BAD_DB', `${field} "sqlite:": give a file path, e.g. sqlite:/var/lib/vigil/vigil.db`);
    return { dialect: 'sqlite', target: p };
  }
  throw new VigilError(
    'E_BAD_DB',
    `${field} "${redactUrl(text)}": use sqlite:PATH (e.g. sqlite:/var/lib/vigil/vigil.db) or postgres://USER:PASSWORD@HOST:5432/DB`,
  );
}

/** For logs and messages: never show a password (the one shared rule, src/lib/redact-url.ts). */
export { redactUrl };

// pg returns BIGINT (int8) as strings; every BIGINT here is an epoch-ms time, id or counter (< 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  location: StoreLocation;
  /** The SQLite handle under Kysely, for the few bulk paths that reuse one prepared statement. */
  sqlite?: SqliteDatabase.Database;
  /** True when this open created the SQLite file (the caller says so to the operator). */
  created: boolean;
  /** Store files other users can read (e.g. `/x/vigil.db (mode 0644)`), when `othersCanRead` is 'report'. */
  readableByOthers: string[];
}

export interface OpenOptions {
  migrate?: boolean;
  /** false: a SQLite file that does not exist is an error (read commands), never a new empty store. */
  create?: boolean;
  /** Says where the db setting came from in the "no store" error, e.g. `--db` or `default`. */
  source?: string;
  /**
   * A store file other users can read exposes the session signing key and the fingerprint secret:
   * 'refuse' (vigil serve, vigil watch) fails naming the chmod, 'report' lists the files in
   * `readableByOthers`. Default 'refuse'.
   */
  othersCanRead?: 'refuse' | 'report';
  /** The server's bound on one PostgreSQL query or connection attempt (limits.store_timeout); none for the CLI. */
  timeoutMs?: number;
}

/** Waits this long for a PostgreSQL server that does not answer (closed port, black hole); libpq's `connect_timeout` (seconds) in the URL overrides it. */
export const PG_CONNECT_TIMEOUT_MS = 5000;

export async function openDatabase(location: StoreLocation, opts: OpenOptions = {}): Promise<OpenedDatabase> {
  let db: Kysely<Database>;
  let sqliteHandle: SqliteDatabase.Database | undefined;
  let created = false;
  let readableByOthers: string[] = [];
  if (location.dialect === 'sqlite') {
    const file = path.resolve(location.target);
    const shown = `sqlite:${location.target}`;
    if (!fs.existsSync(file)) {
      if (opts.create === false) {
        throw new VigilError(
          'E_NO_STORE',
          `no Vigil store at ${file}${opts.source ? ` (db from ${opts.source})` : ''}: run "vigil serve" or "vigil bouncers add" first, or pass --db`,
        );
      }
      makeStoreDirectory(path.dirname(file), shown);
      createPrivateFile(file, shown);
      created = true;
    }
    readableByOthers = storeFilesReadableByOthers(file);
    if (readableByOthers.length > 0 && (opts.othersCanRead ?? 'refuse') === 'refuse') {
      throw new VigilError('E_STORE_MODE', readableByOthersMessage(file, readableByOthers));
    }
    let sqlite: SqliteDatabase.Database;
    try {
      sqlite = new SqliteDatabase(file);
      // WAL: the CLI and the server share the file; readers never block the writer.
      sqlite.pragma('journal_mode = WAL');
    } catch (e) {
      throw new VigilError('E_DB_OPEN', `db "${shown}": cannot open (${(e as Error).message}); check the path and its permissions`);
    }
    // SQLite gives -wal/-shm the database file's mode; a new store's are made private whatever the umask.
    if (created) for (const extra of [`${file}-wal`, `${file}-shm`]) chmodIfPresent(extra, 0o600);
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
      connectionTimeoutMillis: timeoutMs ?? pgConnectTimeoutMs(location.target),
      // The server's bounded waits (the CLI's long imports keep none): a frozen or unreachable
      // server fails calls after timeoutMs instead of holding them.
      ...(timeoutMs ? { query_timeout: timeoutMs, statement_timeout: timeoutMs, idle_in_transaction_session_timeout: Math.max(10_000, 2 * timeoutMs) } : {}),
    });
    // An idle connection the server closes (restart, failover) must not crash the process;
    // the pool replaces it and the next query reports any real problem.
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
    } catch (e) {
      await db.destroy();
      const why = redactSecretsOf(location.target, (e as Error).message || (e as NodeJS.ErrnoException).code || String(e));
      throw new VigilError('E_DB_OPEN', `db "${redactUrl(location.target)}": cannot connect (${why})`);
    }
  }
  const opened: OpenedDatabase = { db, dialect: location.dialect, location, sqlite: sqliteHandle, created, readableByOthers };
  if (opts.migrate !== false) {
    try {
      await migrate(opened);
    } catch (e) {
      await db.destroy();
      if (e instanceof VigilError && location.dialect === 'postgres') throw new VigilError(e.code, redactSecretsOf(location.target, e.message));
      throw e;
    }
  }
  return opened;
}

function pgConnectTimeoutMs(url: string): number {
  try {
    const s = new URL(url).searchParams.get('connect_timeout');
    if (s !== null && /^\d+$/.test(s) && Number(s) > 0) return Number(s) * 1000;
  } catch {
    // parseStoreUrl validated it already
  }
  return PG_CONNECT_TIMEOUT_MS;
}

/**
 * Creates the store's missing directories one level at a time, each 0700. Not mkdirSync's
 * `recursive`: under /proc it loops for ever (mkdir says ENOENT for a parent that exists), which
 * hung `--db sqlite:/proc/x/vigil.db`. An existing directory is left as it is.
 */
function makeStoreDirectory(dir: string, shown: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!fs.existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (code === 'EEXIST') continue;
      throw new VigilError('E_DB_OPEN', `db "${shown}": cannot create directory ${d} (${code}); choose a writable path with --db or VIGIL_DB`);
    }
  }
}

/** The file exists before SQLite opens it, 0600 whatever the umask: it will hold the installation's secrets. */
function createPrivateFile(file: string, shown: string): void {
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    if (code === 'EEXIST') return;
    throw new VigilError('E_DB_OPEN', `db "${shown}": cannot create ${file} (${code}); choose a writable path with --db or VIGIL_DB`);
  }
}

function chmodIfPresent(file: string, mode: number): void {
  try {
    fs.chmodSync(file, mode);
  } catch {
    // not there (yet): SQLite creates it with the database file's mode
  }
}

/** The store file and its -wal/-shm companions that other users may read, as `PATH (mode 0644)`. */
export function storeFilesReadableByOthers(file: string): string[] {
  const found: string[] = [];
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let mode: number;
    try {
      mode = fs.statSync(f).mode & 0o777;
    } catch {
      continue;
    }
    if (mode & 0o004) found.push(`${f} (mode 0${mode.toString(8)})`);
  }
  return found;
}

export function readableByOthersMessage(file: string, files: string[]): string {
  const paths = files.map((f) => f.replace(/ \(mode \d+\)$/, ''));
  const mode = /\(mode (\d+)\)$/.exec(files[0]!)?.[1] ?? '';
  const which = files.length === 1 && paths[0] === file ? `store ${file}` : `store ${file} (${files.join(', ')})`;
  return `${which} is readable by other users${files.length === 1 ? ` (mode ${mode})` : ''}: run chmod 600 ${paths.join(' ')}`;
}

export async function migrate({ db, dialect }: OpenedDatabase): Promise<void> {
  await renameLegacyMigrations(db);
  // Migration numbers are handed out to work landing in parallel: one may reach a store after a later one.
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

/** A store migrated before a renumbering records the old names; give them their current ones. */
async function renameLegacyMigrations(db: Kysely<Database>): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return;
  for (const [old, current] of Object.entries(LEGACY_MIGRATION_NAMES)) {
    await sql`UPDATE kysely_migration SET name = ${current} WHERE name = ${old}`.execute(db);
  }
}
