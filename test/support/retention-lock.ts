import { sql } from 'kysely';
import { RETENTION_LOCK } from '../../src/store/retention.ts';
import { dbOf } from '../../src/store/store-db.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * Holds the retention purge's PostgreSQL advisory lock from `other`'s session (another replica)
 * until `release` is called: the purge and the vacuum on this replica find it taken.
 */
export async function holdRetentionLock(other: Store): Promise<{ release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holder = dbOf(other)
    .connection()
    .execute(async (conn) => {
      await sql`select pg_advisory_lock(${RETENTION_LOCK})`.execute(conn);
      locked();
      await released;
      await sql`select pg_advisory_unlock(${RETENTION_LOCK})`.execute(conn);
    });
  await isLocked;
  return {
    release: async () => {
      release();
      await holder;
    },
  };
}
