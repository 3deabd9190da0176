import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../../test/support/databases.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { ManualClock } from '../lib/clock.ts';
import { Store } from '../store/store.ts';
import { BouncerAuth } from './auth.ts';
import { dialectOf } from '../store/store-db.ts';
import {
  applyBouncerActivity,
  bouncersRev,
  claimBouncerAddress,
  createBouncer,
  deleteBouncers,
  getBouncer,
  setBouncerKind,
  setBouncerRevoked,
} from '../store/bouncers.ts';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const IP = '192.0.2.10';

for (const dialect of DIALECTS) {
  describe(`${dialect}: bouncer keys trusted while the bouncers revision holds`, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    let store: Store;
    /** Another process on the same database: the CLI, or another replica. */
    let other: Store;
    let clock: ManualClock;
    let auth: BouncerAuth;
    let lookups: number;

    beforeEach(async () => {
      ({ url, cleanup } = await freshDbUrl(dialect));
      store = await Store.open(url);
      other = await Store.open(url);
      clock = new ManualClock(T0);
      lookups = 0;
      // Counts the store's key lookups (the dialect answers every bouncersByKeyHash).
      const storeDialect = dialectOf(store);
      const byKeyHash = storeDialect.bouncerRowsByKeyHash.bind(storeDialect);
      storeDialect.bouncerRowsByKeyHash = (h: string) => {
        lookups++;
        return byKeyHash(h);
      };
      auth = new BouncerAuth(store, clock);
      await createBouncer(other, { name: 'nginx', apiKeyHash: hashApiKey('key-1'), now: T0 });
      await auth.confirmRevision();
      expect(await auth.authenticate('key-1', IP, 'GET')).toMatchObject({ ok: true, bouncer: { name: 'nginx', ipAddress: IP } });
    });

    afterEach(async () => {
      auth.stop();
      await store.close();
      await other.close();
      await cleanup();
    });

    it('answers a steady bouncer from memory long after the first second, with no key lookup', async () => {
      const before = lookups;
      for (let i = 0; i < 5; i++) {
        clock.advance(10_000);
        await auth.confirmRevision();
        expect(auth.cached('key-1', IP, 'GET')).toMatchObject({ ok: true });
      }
      expect(lookups).toBe(before);
      // Pulls recorded for it (last pull, last request) and its address claim do not move the revision.
      await applyBouncerActivity(other, [{ id: (await getBouncer(other, 'nginx'))!.id, lastPullAt: clock.now(), lastRequestAt: clock.now() }], clock.now());
      await auth.confirmRevision();
      expect(auth.cached('key-1', IP, 'GET')).toMatchObject({ ok: true });
    });

    it('refuses a key revoked, or deleted, by another process once the revision is read', async () => {
      clock.advance(10_000);
      await setBouncerRevoked(other, 'nginx', true, clock.now());
      await auth.confirmRevision();
      expect(auth.cached('key-1', IP, 'GET')).toBeUndefined();
      expect(await auth.authenticate('key-1', IP, 'GET')).toMatchObject({ ok: false, reason: 'revoked' });
      await setBouncerRevoked(other, 'nginx', false, clock.now());
      clock.advance(10_000);
      await auth.confirmRevision();
      expect(await auth.authenticate('key-1', IP, 'GET')).toMatchObject({ ok: true });
      await deleteBouncers(other, ['nginx']);
      clock.advance(10_000);
      await auth.confirmRevision();
      expect(await auth.authenticate('key-1', IP, 'GET')).toMatchObject({ ok: false, reason: 'unknown' });
    });

    it('accepts a key added by another process after it was refused', async () => {
      expect(await auth.authenticate('key-2', IP, 'GET')).toMatchObject({ ok: false, reason: 'unknown' });
      clock.advance(10_000);
      await createBouncer(other, { name: 'traefik', apiKeyHash: hashApiKey('key-2'), now: clock.now() });
      await auth.confirmRevision();
      expect(await auth.authenticate('key-2', IP, 'GET')).toMatchObject({ ok: true, bouncer: { name: 'traefik' } });
    });

    it('stops trusting the cache when the revision has not been read for a second (store down, timer stopped)', async () => {
      clock.advance(1001);
      expect(auth.cached('key-1', IP, 'GET')).toBeUndefined();
      const before = lookups;
      expect(await auth.authenticate('key-1', IP, 'GET')).toMatchObject({ ok: true });
      expect(lookups).toBe(before + 1);
    });

    it('moves the revision on every change that decides authentication, and on none other', async () => {
      const rev = () => bouncersRev(other);
      const id = (await getBouncer(other, 'nginx'))!.id;
      let last = await rev();
      const moved = async () => {
        const now = await rev();
        const did = now !== last;
        last = now;
        return did;
      };
      await applyBouncerActivity(other, [{ id, lastPullAt: T0 + 1, lastPullRev: 3, type: 'crowdsec-nginx-bouncer', version: 'v1.0.8' }], T0 + 1);
      expect(await moved()).toBe(false);
      await setBouncerKind(other, 'nginx', 'firewall', T0 + 2);
      expect(await moved()).toBe(false);
      await setBouncerRevoked(other, 'nginx', true, T0 + 3);
      expect(await moved()).toBe(true);
      await createBouncer(other, { name: 'caddy', apiKeyHash: hashApiKey('key-3'), now: T0 + 4 });
      expect(await moved()).toBe(true);
      // Filling in a new row's address ('' → IP): a cached key without that address asks the store anyway.
      const caddy = (await getBouncer(other, 'caddy'))!;
      await claimBouncerAddress(other, caddy.id, IP, T0 + 5);
      expect(await moved()).toBe(false);
      await applyBouncerActivity(other, [{ id: caddy.id, ipAddress: '192.0.2.99' }], T0 + 6);
      expect(await moved()).toBe(true);
      await deleteBouncers(other, ['caddy']);
      expect(await moved()).toBe(true);
    });
  });
}
