import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { newAlert } from '../../test/support/alert-builders.ts';
import { DIALECTS, freshDbUrl, useFreshStore } from '../../test/support/databases.ts';
import { newDecision } from '../../test/support/decision-builders.ts';
import { holdRetentionLock } from '../../test/support/retention-lock.ts';
import { DEFAULT_RETENTION } from '../core/retention/plan.ts';
import { ManualClock } from '../lib/clock.ts';
import { addAlerts } from './decisions.ts';
import { vacuumPurgedTables } from './retention.ts';
import { RetentionJob } from './retention-job.ts';
import { dbOf } from './store-db.ts';
import { Store } from './store.ts';

// After a purge, PostgreSQL's purged tables are vacuumed by the replica that holds the purge's
// lock, outside any transaction (VACUUM refuses to run in one), once enough rows were deleted:
// without it the database grew month after month over a simulated year (docs/benchmarks.md).

const DAY = 24 * 3600_000;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

/** `count` decisions expired a month before NOW (past every window), under one alert. */
async function addExpired(store: Store, prefix: string, count: number): Promise<void> {
  const past = NOW - 30 * DAY;
  const decisions = Array.from({ length: count }, (_, i) => newDecision(`10.${prefix}.${i >> 8}.${i & 255}`, past));
  await addAlerts(store, [{ alert: newAlert(past), decisions }]);
}

/** Manual VACUUMs of `decisions` so far (PostgreSQL's statistics; autovacuum counts apart). */
async function manualVacuums(store: Store): Promise<number> {
  const { rows } = await sql<{ n: string }>`select vacuum_count as n from pg_stat_user_tables where relname = 'decisions'`.execute(dbOf(store));
  return Number(rows[0]?.n ?? 0);
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: vacuum after the retention purge`, () => {
    const current = useFreshStore(dialect);

    it(
      dialect === 'postgres'
        ? 'vacuums a table once the purge deleted enough rows from it, counting across runs, and only after a run that deleted rows'
        : 'never vacuums: SQLite reuses the pages a purge frees',
      async () => {
        const store = current();
        const job = new RetentionJob(store, new ManualClock(NOW), DEFAULT_RETENTION, { vacuumAfterRows: 100 });
        await addExpired(store, '1', 60);
        const first = await job.runOnce();
        expect(first?.deleted.decisions).toBe(60);
        expect(first?.vacuumed).toEqual([]);

        await addExpired(store, '2', 60);
        const second = await job.runOnce();
        expect(second?.deleted.decisions).toBe(60);
        if (dialect === 'sqlite') {
          expect(second?.vacuumed).toEqual([]);
          return;
        }
        // 120 rows deleted since the last vacuum: `decisions` is due; its 2 alerts are not.
        expect(second?.vacuumed).toEqual(['decisions']);
        expect(await manualVacuums(store)).toBe(1);
        const { rows } = await sql<{ dead: string }>`select n_dead_tup as dead from pg_stat_user_tables where relname = 'decisions'`.execute(dbOf(store));
        expect(Number(rows[0]?.dead)).toBe(0);

        // Nothing left to delete: no vacuum, whatever was vacuumed before.
        const third = await job.runOnce();
        expect(third?.deleted.decisions).toBe(0);
        expect(third?.vacuumed).toEqual([]);
        expect(await manualVacuums(store)).toBe(1);
      },
    );

    it.runIf(dialect === 'postgres')('a replica that finds the lock taken neither purges nor vacuums; once it is free, it does both', async () => {
      const { url, cleanup } = await freshDbUrl(dialect);
      const [one, two] = [await Store.open(url), await Store.open(url)];
      try {
        await addExpired(one, '3', 150);
        const job = new RetentionJob(one, new ManualClock(NOW), DEFAULT_RETENTION, { vacuumAfterRows: 100 });
        const lock = await holdRetentionLock(two);
        try {
          const refused = await job.runOnce();
          expect(refused).toMatchObject({ busy: true, vacuumed: [] });
          expect(refused?.deleted.decisions).toBe(0);
          // Between two purges, another replica vacuuming (or purging) makes this one step aside at once.
          expect(await vacuumPurgedTables(one, ['decisions'])).toBe('busy');
          expect(await manualVacuums(one)).toBe(0);
        } finally {
          await lock.release();
        }
        const done = await job.runOnce();
        expect(done).toMatchObject({ busy: false, vacuumed: ['decisions'] });
        expect(done?.deleted.decisions).toBe(150);
        expect(await manualVacuums(one)).toBe(1);
      } finally {
        await one.close();
        await two.close();
        await cleanup();
      }
    });
  });
}
