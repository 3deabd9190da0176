import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/**
 * The Kysely handle under a Store, for the repositories in src/store/ only (the boundary check
 * refuses this module anywhere else): a Store has no public `db`, so no query can be written
 * outside the store's own modules.
 */
const handles = new WeakMap<object, Kysely<Database>>();

export function attachDb(store: object, db: Kysely<Database>): void {
  handles.set(store, db);
}

export function dbOf(store: object): Kysely<Database> {
  const db = handles.get(store);
  if (!db) throw new Error('not an open Vigil store');
  return db;
}
