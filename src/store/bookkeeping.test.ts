import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS, freshDbUrl } from '../../test/support/databases.ts';
import { applyBouncerActivity, claimBouncerAddress, listBouncers, newBouncerRow } from './bouncers.ts';
import { recordPullHours, pullHours, hourOf } from './pull-history.ts';
import { bookkeepingTransaction, dbOf } from './store-db.ts';
import { Store } from './store.ts';

// Bookkeeping (last pulls, addresses, pull counts) is written in batches that skip the WAL flush on
// PostgreSQL (issue 28): every row of a batch lands, two replicas flushing the same bouncers never
// deadlock, and nothing else (decisions, alerts, registrations) loses its durable commit.

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const N = 300;

for (const dialect of DIALECTS) {
  describe(`${dialect}: bookkeeping writes`, () => {
    let a: Store;
    let b: Store;
    let cleanup: () => Promise<void>;
    let ids: number[];
    beforeEach(async () => {
      const db = await freshDbUrl(dialect);
      cleanup = db.cleanup;
      a = await Store.open(db.url);
      b = await Store.open(db.url);
      await dbOf(a)
        .insertInto('bouncers')
        .values(Array.from({ length: N }, (_, i) => newBouncerRow({ name: `rc-${i}`, apiKeyHash: `${i}`.padStart(128, '0'), authType: 'api-key', now: T0 })))
        .execute();
      ids = (await listBouncers(a)).map((x) => x.id);
    });
    afterEach(async () => {
      await a.close();
      await b.close();
      await cleanup();
    });

    it('lands every bouncer of a batch: last pull, revision, last request, address, type, version, cadence', async () => {
      await applyBouncerActivity(
        a,
        ids.map((id, i) => ({
          id,
          lastPullAt: T0 + 1000 + i,
          lastPullRev: 7,
          lastRequestAt: T0 + 1000 + i,
          ipAddress: `192.0.2.${i % 250}`,
          type: 'crowdsec-firewall-bouncer',
          version: 'v0.0.25',
          pullCadenceMs: i % 2 ? 10_000 : undefined,
        })),
        T0 + 2000,
      );
      // A later batch that says less: absent fields keep their value, older times do not move back, null clears the cadence.
      await applyBouncerActivity(
        a,
        ids.map((id) => ({ id, lastPullAt: T0 + 500, pullCadenceMs: null })),
        T0 + 3000,
      );
      const rows = await listBouncers(a);
      expect(rows).toHaveLength(N);
      for (const [i, r] of rows.entries()) {
        expect([r.lastPullAt, r.lastPullRev, r.lastRequestAt, r.ipAddress, r.type, r.version, r.pullCadenceMs, r.updatedAt]).toEqual([
          T0 + 1000 + i,
          7,
          T0 + 1000 + i,
          `192.0.2.${i % 250}`,
          'crowdsec-firewall-bouncer',
          'v0.0.25',
          null,
          T0 + 3000,
        ]);
      }
    });

    // Replicas share a PostgreSQL; one SQLite file belongs to one server (two writers wait on its lock).
    it.runIf(dialect === 'postgres')(
      'two replicas flushing the same bouncers at once, in opposite orders, neither deadlocks and the latest pull wins',
      async () => {
        const rounds = 8;
        for (let round = 0; round < rounds; round++) {
          const at = T0 + round * 10_000;
          // Replica a saw every bouncer first, b last (and the reverse for the pull-hour counts): as
          // batches arrive, opposite orders are what would deadlock rows locked as they come.
          const fromA = ids.map((id, i) => ({ id, lastPullAt: at + i, lastRequestAt: at + i }));
          const fromB = [...ids].reverse().map((id, i) => ({ id, lastPullAt: at + N - i, lastRequestAt: at + N - i }));
          await Promise.all([
            applyBouncerActivity(a, fromA, at + 5000),
            applyBouncerActivity(b, fromB, at + 5000),
            recordPullHours(
              a,
              ids.map((id) => ({ bouncerId: id, hour: hourOf(at), pulls: 1 })),
            ),
            recordPullHours(
              b,
              [...ids].reverse().map((id) => ({ bouncerId: id, hour: hourOf(at), pulls: 1 })),
            ),
          ]);
        }
        const last = T0 + (rounds - 1) * 10_000;
        const rows = await listBouncers(a);
        for (const [i, r] of rows.entries()) expect(r.lastPullAt).toBe(Math.max(last + i, last + N - (N - 1 - i)));
        const hours = await pullHours(a, { since: T0 });
        expect(hours.reduce((s, h) => s + h.pulls, 0)).toBe(rounds * N * 2);
      },
    );

    it('an address claim is taken once, by the first replica', async () => {
      const [x, y] = await Promise.all([claimBouncerAddress(a, ids[0]!, '192.0.2.1', T0), claimBouncerAddress(b, ids[0]!, '192.0.2.2', T0)]);
      expect([x.claimed, y.claimed].sort()).toEqual([false, true]);
      expect(x.bouncer?.ipAddress).toBe(y.bouncer?.ipAddress);
    });

    if (dialect === 'postgres') {
      it('only bookkeeping skips the WAL flush: the setting ends with its transaction, every pooled connection commits durably after', async () => {
        const inside = await bookkeepingTransaction(
          a,
          async (trx) => (await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(trx)).rows[0]!.s,
        );
        expect(inside).toBe('off');
        await claimBouncerAddress(a, ids[1]!, '192.0.2.3', T0);
        await applyBouncerActivity(a, [{ id: ids[1]!, lastPullAt: T0 }], T0);
        // Ten at once (the pool's size): each holds its own connection, so every one is seen.
        const settings = await Promise.all(
          Array.from(
            { length: 10 },
            async () => (await sql<{ s: string }>`select current_setting('synchronous_commit') as s, pg_sleep(0.05)`.execute(dbOf(a))).rows[0]!.s,
          ),
        );
        expect(settings).toEqual(Array(10).fill('on'));
        // A transaction that is not bookkeeping (decisions, alerts, registrations use these) commits durably.
        const plain = await dbOf(a)
          .transaction()
          .execute(async (trx) => (await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(trx)).rows[0]!.s);
        expect(plain).toBe('on');
      });
    }
  });
}
