import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';
import type { Kysely } from 'kysely';
import type { Database, EndedSessionsTable } from './schema.ts';

/** Logged-out dashboard sessions (migration 007); its own table type, so store.ts stays untouched. */

type Db = Kysely<Database & { dashboard_ended_sessions: EndedSessionsTable }>;

const table = (db: Kysely<Database>): Db => db;

/** Records a logout (again is harmless: replicas or a double click) and prunes those expired by `now`. */
export async function recordEndedSession(store: Store, idSha256: string, expiresAt: number, now: number): Promise<void> {
  const db = dbOf(store);
  const t = table(db);
  await t
    .insertInto('dashboard_ended_sessions')
    .values({ session_id_sha256: idSha256, expires_at: expiresAt })
    .onConflict((oc) => oc.column('session_id_sha256').doNothing())
    .execute();
  await t.deleteFrom('dashboard_ended_sessions').where('expires_at', '<=', now).execute();
}

export async function isSessionEnded(store: Store, idSha256: string): Promise<boolean> {
  const db = dbOf(store);
  const row = await table(db).selectFrom('dashboard_ended_sessions').select('expires_at').where('session_id_sha256', '=', idSha256).executeTakeFirst();
  return row !== undefined;
}
