import type SqliteDatabase from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { openPostgres } from './dialects/postgres.ts';
import { openSqlite } from './dialects/sqlite.ts';
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
  /**
   * SQLite file: checkpoint the WAL on a worker thread (dialects/sqlite-checkpointer.ts), for a
   * long-running server; its failures are told to `onWarning`. The CLI's short opens don't.
   */
  checkpointInBackground?: boolean;
  onWarning?: (message: string) => void;
  /**
   * SQLite: how long a write waits for another process's transaction (busy_timeout). 5 s by default:
   * the server's event loop waits with it. The CLI waits longer: a command that fails with "database
   * is locked" because serve was busy for a moment helps nobody.
   */
  busyTimeoutMs?: number;
}

export async function openDatabase(location: StoreLocation, opts: OpenOptions = {}): Promise<OpenedDatabase> {
  const d =
    location.dialect === 'sqlite'
      ? openSqlite(location.target, opts)
      : { db: await openPostgres(location.target, opts), sqlite: undefined, created: false, readableByOthers: [] as string[] };
  const db = d.db;
  const opened: OpenedDatabase = { db, dialect: location.dialect, location, sqlite: d.sqlite, created: d.created, readableByOthers: d.readableByOthers };
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

/** A store migrated before a renumbering records the old names; give them their current ones. */
async function renameLegacyMigrations(db: Kysely<Database>): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return;
  for (const [old, current] of Object.entries(LEGACY_MIGRATION_NAMES)) {
    await sql`UPDATE kysely_migration SET name = ${current} WHERE name = ${old}`.execute(db);
  }
}
