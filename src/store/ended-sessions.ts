import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Logged-out dashboard sessions (migration 007; table type in schema.ts): recorded at logout, checked per request.

/** Records a logout (again is harmless: replicas or a double click) and prunes those expired by `now`. */
export async function recordEndedSession(store: Store, idSha256: string, expiresAt: number, now: number): Promise<void> {
  const db = dbOf(store);
  await db
    .insertInto('dashboard_ended_sessions')
    .values({ session_id_sha256: idSha256, expires_at: expiresAt })
    .onConflict((oc) => oc.column('session_id_sha256').doNothing())
    .execute();
  await db.deleteFrom('dashboard_ended_sessions').where('expires_at', '<=', now).execute();
}

export async function isSessionEnded(store: Store, idSha256: string): Promise<boolean> {
  const db = dbOf(store);
  const row = await db.selectFrom('dashboard_ended_sessions').select('expires_at').where('session_id_sha256', '=', idSha256).executeTakeFirst();
  return row !== undefined;
}
