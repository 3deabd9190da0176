import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, Kysely, SqliteDialect, type SqliteDialectConfig, SqliteDriver } from 'kysely';
import { VigilError } from '../../lib/errors.ts';
import type { Database } from '../schema.ts';
import type { OpenOptions } from '../database.ts';

/**
 * SQLite, the default store: one file (0600, in a 0700 directory Vigil creates), WAL so the CLI and
 * the server share it, a cache of prepared statements. What differs from PostgreSQL lives here.
 */
export function openSqlite(
  target: string,
  opts: OpenOptions,
): { db: Kysely<Database>; sqlite: SqliteDatabase.Database; created: boolean; readableByOthers: string[] } {
  let created = false;
  const file = path.resolve(target);
  const shown = `sqlite:${target}`;
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
  const readableByOthers = storeFilesReadableByOthers(file);
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
  sqlite.pragma(`busy_timeout = ${Math.round(opts.busyTimeoutMs ?? 5000)}`);
  sqlite.pragma('foreign_keys = ON');
  cachePreparedStatements(sqlite);
  return { db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) }), sqlite, created, readableByOthers };
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

/**
 * A second connection to the same file for the hottest reads (every pull's key lookup, the
 * decisions revision and deltas): WAL lets it read the last committed state while the main
 * connection is inside a long write (a 100k import), so pulls are not queued behind it. Reads
 * only; undefined for an in-memory database (a second connection would be another database).
 */
export function openSqliteReader(sqlite: SqliteDatabase.Database): SqliteDatabase.Database | undefined {
  if (sqlite.memory) return undefined;
  const reader = new SqliteDatabase(sqlite.name, { fileMustExist: true });
  reader.pragma('busy_timeout = 5000');
  reader.pragma('query_only = ON');
  cachePreparedStatements(reader);
  return reader;
}

/**
 * Transactions begin IMMEDIATE: they take the write lock at BEGIN, where busy_timeout waits for
 * another process's transaction. A deferred one (Kysely's `begin`) reads first and fails at once with
 * "database is locked" when it then writes after vigil serve committed in between (SQLite does not
 * call the busy handler for that upgrade): `vigil bouncers add` right after serve started did.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
