import { dbOf } from './store-db.ts';
import { sql } from 'kysely';
import { NotifyStore } from './notify-store.ts';
import type { Store } from './store.ts';

/**
 * Cheap summaries of what changed (counts and latest times of bouncers, issues, silences and
 * acknowledgements): the dashboard's live updates compare them instead of re-reading every page.
 */
export async function fleetDigestRows(store: Store) {
  const db = dbOf(store);
  const b = await db
    .selectFrom('bouncers')
    .select([sql<number>`count(*)`.as('n'), sql<number>`max(updated_at)`.as('u'), sql<number>`max(coalesce(last_pull_at, 0))`.as('p')])
    .executeTakeFirstOrThrow();
  const i = await db
    .selectFrom('health_issues')
    .select([
      sql<number>`count(*)`.as('n'),
      sql<number>`max(id)`.as('m'),
      sql<number>`max(last_seen_at)`.as('s'),
      sql<number>`max(coalesce(resolved_at, 0))`.as('r'),
    ])
    .executeTakeFirstOrThrow();
  return { b, i };
}

/** Changes to silences and acknowledgements, for the live-update digest. */
export async function issueMarksDigest(store: Store): Promise<string> {
  const db = new NotifyStore(store).db;
  const s = await db
    .selectFrom('notify_silences')
    .select([sql<number>`count(*)`.as('n'), sql<number>`max(id)`.as('m'), sql<number>`max(coalesce(removed_at, 0))`.as('r')])
    .executeTakeFirstOrThrow();
  const a = await db
    .selectFrom('notify_acks')
    .select([sql<number>`count(*)`.as('n'), sql<number>`max(created_at)`.as('m')])
    .executeTakeFirstOrThrow();
  return [s.n, s.m, s.r, a.n, a.m].join(':');
}
