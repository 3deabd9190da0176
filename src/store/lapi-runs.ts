import type { LapiRun } from '../core/health/downtime.ts';
import { sql } from 'kysely';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Local API runs (`lapi_starts`, migration 014's `alive_until`): when each `vigil serve` process
// started and the last time it said it was alive. The gaps between them are Vigil's own downtime.

/** Records that the run of `instance` (its `lapi_starts` row) was alive at `at`. */
export async function markLapiAlive(store: Store, instance: string, at: number): Promise<void> {
  await dbOf(store).updateTable('lapi_starts').set({ alive_until: at }).where('instance', '=', instance).execute();
}

/** Every run alive at or after `since` (or started then), oldest first. */
export async function lapiRuns(store: Store, since: number): Promise<Array<LapiRun & { instance: string }>> {
  const rows = await dbOf(store)
    .selectFrom('lapi_starts')
    .select(['at', 'alive_until', 'instance'])
    .where((eb) => eb.or([eb('at', '>=', since), eb('alive_until', '>=', since)]))
    .orderBy('at')
    .execute();
  return rows.map((r) => ({ instance: r.instance, startedAt: Number(r.at), aliveUntil: r.alive_until === null ? null : Number(r.alive_until) }));
}

/** Records that a `vigil serve` process started (its `lapi_starts` row), keeping a month of them. */
export async function recordLapiStart(store: Store, at: number, instance: string): Promise<void> {
  const db = dbOf(store);
  await db.insertInto('lapi_starts').values({ at, instance }).execute();
  // Keep a month of runs: enough to explain any silence the engine looks at. A run counts from its
  // last alive mark, so another replica started over a month ago and still serving keeps its row.
  await db
    .deleteFrom('lapi_starts')
    .where(sql<boolean>`coalesce(alive_until, at) < ${at - 30 * 24 * 3600_000}`)
    .execute();
}

/** When each `vigil serve` process started since `since`, oldest first. */
export async function lapiStarts(store: Store, since: number): Promise<number[]> {
  const rows = await dbOf(store).selectFrom('lapi_starts').select('at').where('at', '>=', since).orderBy('at').execute();
  return rows.map((r) => Number(r.at));
}
