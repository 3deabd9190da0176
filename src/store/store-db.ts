import type { Kysely, Transaction } from 'kysely';
import type { StoreDialect } from './dialects/store-dialect.ts';
import type { Database } from './schema.ts';

/**
 * The Kysely handle and the dialect under a Store, for the repositories in src/store/ only (the
 * boundary check refuses this module anywhere else): a Store has no public `db`, so no query can
 * be written outside the store's own modules.
 */
const handles = new WeakMap<object, { db: Kysely<Database>; dialect: StoreDialect }>();

export function attachDb(store: object, db: Kysely<Database>, dialect: StoreDialect): void {
  handles.set(store, { db, dialect });
}

export function dbOf(store: object): Kysely<Database> {
  return handleOf(store).db;
}

/** What differs between SQLite and PostgreSQL (dialects/store-dialect.ts): repositories call it instead of asking which one they are on. */
export function dialectOf(store: object): StoreDialect {
  return handleOf(store).dialect;
}

/**
 * A transaction of bookkeeping (last pulls and requests, addresses, pull counts, refusals, probes):
 * its COMMIT does not wait for the WAL flush on PostgreSQL (StoreDialect.skipWalFlush), so 1,000
 * pulls/s never queue behind the disk, and a crash loses at most the last fraction of a second of
 * it (docs/operations.md, "What a crash can lose"). Decisions, alerts and registrations never go
 * through here: they keep durable commits.
 */
export async function bookkeepingTransaction<T>(store: object, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const { db, dialect } = handleOf(store);
  return await db.transaction().execute(async (trx) => {
    await dialect.skipWalFlush(trx);
    return await fn(trx);
  });
}

function handleOf(store: object): { db: Kysely<Database>; dialect: StoreDialect } {
  const handle = handles.get(store);
  if (!handle) throw new Error('not an open Vigil store');
  return handle;
}
