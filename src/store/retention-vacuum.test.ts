import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, useFreshStore } from '../../test/support/databases.ts';
import { DEFAULT_RETENTION } from '../core/retention/plan.ts';
import type { NewAlert, NewDecision } from '../core/model/records.ts';
import { ManualClock } from '../lib/clock.ts';
import { addAlerts } from './decisions.ts';
import { RETENTION_LOCK, vacuumPurgedTables } from './retention.ts';
import { RetentionJob } from './retention-job.ts';
import { dbOf } from './store-db.ts';
import { Store } from './store.ts';

// After a purge, PostgreSQL's purged tables are vacuumed by the replica that holds the purge's
// lock, outside any transaction (VACUUM refuses to run in one), once enough rows were deleted:
// without it the database grew month after month over a simulated year (docs/benchmarks.md).

const DAY = 24 * 3600_000;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

const alert = (createdAt: number): NewAlert => ({
  createdAt,
  scenario: 's',
  message: '',
  machineId: 'm',
  sourceScope: 'Ip',
  sourceValue: '192.0.2.1',
  sourceIp: '192.0.2.1',
  eventsCount: 1,
  leakspeed: '',
  startAt: createdAt,
  stopAt: createdAt,
  simulated: false,
});
const decision = (value: string, until: number): NewDecision => ({
  origin: 'cscli',
  type: 'ban',
  scope: 'Ip',
  value,
  scenario: 's',
  createdAt: until - 3600_000,
  until,
  simulated: false,
});

/** `count` decisions expired a month before NOW (past every window), under one alert. */
async function addExpired(store: Store, prefix: string, count: number): Promise<void> {
  const past = NOW - 30 * DAY;
  await addAlerts(store, [{ alert: alert(past), decisions: Array.from({ length: count }, (_, i) => decision(`10.${prefix}.${i >> 8}.${i & 255}`, past)) }]);
}

/** Manual VACUUMs of `decisions` so far (PostgreSQL's statistics; autovacuum counts apart). */
async function manualVacuums(store: Store): Promise<number> {
  const { rows } = await sql<{ n: string }>`select vacuum_count as n from pg_stat_user_tables where relname = 'decisions'`.execute(dbOf(store));
  return Number(rows[0]?.n ?? 0);
}

/** Holds the purge's lock from another store's session (another replica) until `release` is called. */
async function holdLock(other: Store): Promise<{ release: () => Promise<void> }> {
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
        const lock = await holdLock(two);
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
