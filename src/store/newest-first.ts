import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** The tables whose rows are numbered by an `id` that only grows (so a larger id is a newer row). */
type NumberedTable = { [T in keyof Database]: Database[T] extends { id: unknown } ? T : never }[keyof Database];

/** The newest `limit` rows of `q`, newest first: how every "recent …" list (refused requests, canary runs, issues) reads. */
export function newestFirst<TB extends NumberedTable, O>(q: SelectQueryBuilder<Database, TB, O>, limit: number): Promise<O[]> {
  return q.orderBy(sql.ref('id'), 'desc').limit(limit).execute();
}
