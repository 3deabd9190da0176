import { beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import {
  addAllowlistItems,
  allowlistItems,
  allowlistMatches,
  createAllowlist,
  deleteAllowlist,
  expireAllowlistedDecisions,
  getAllowlist,
  insertImportedAllowlists,
  listAllowlists,
  removeAllowlistItems,
  requireAllowlist,
} from './allowlists.ts';
import { activeDecisions, addDecisions, decisionsChangedSince, decisionsRev } from './decisions.ts';
import { manualAlert } from '../core/decisions/new-decisions.ts';
import type { Store } from './store.ts';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const HOUR = 3_600_000;

describeOnEachDialect('allowlists', (current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('creates a list, refuses a second of the same name in CrowdSec words, adds and removes values, deletes it with its values', async () => {
    const list = await createAllowlist(store, { name: 'office', description: 'Office', now: T0 });
    expect(list).toMatchObject({ name: 'office', description: 'Office', fromConsole: false, allowlistId: '', createdAt: T0, updatedAt: T0 });
    await expect(createAllowlist(store, { name: 'office', description: 'again', now: T0 })).rejects.toThrow("allowlist 'office' already exists");
    // Names are case-sensitive, as in CrowdSec (bats: `create Foo` after `create foo`).
    await createAllowlist(store, { name: 'Office', description: '', now: T0 });
    expect(
      await addAllowlistItems(
        store,
        list,
        [
          { value: '192.168.0.0/16', comment: '', expiresAt: null },
          { value: '10.1.2.3', comment: 'vpn', expiresAt: T0 + HOUR },
        ],
        T0 + 10,
      ),
    ).toBe(2);
    expect((await getAllowlist(store, 'office'))?.updatedAt).toBe(T0 + 10);
    expect((await allowlistItems(store, [list.id])).map((i) => [i.value, i.comment, i.expiresAt, i.createdAt])).toEqual([
      ['192.168.0.0/16', '', null, T0 + 10],
      ['10.1.2.3', 'vpn', T0 + HOUR, T0 + 10],
    ]);
    expect(await removeAllowlistItems(store, list, ['10.1.2.3', '8.8.8.8'], T0 + 20)).toBe(1);
    expect((await allowlistItems(store, [list.id])).map((i) => i.value)).toEqual(['192.168.0.0/16']);
    expect((await listAllowlists(store)).map((l) => l.name)).toEqual(['office', 'Office']);
    expect(await deleteAllowlist(store, 'office')).toBe(true);
    expect(await deleteAllowlist(store, 'office')).toBe(false);
    expect(await allowlistItems(store, [list.id])).toEqual([]);
    await expect(requireAllowlist(store, 'office')).rejects.toThrow("allowlist 'office' not found");
  });

  it('allowlistMatches: reasons by list name, an item counted until its expiry and not after', async () => {
    const a = await createAllowlist(store, { name: 'foo', description: '', now: T0 });
    const b = await createAllowlist(store, { name: 'bar', description: '', now: T0 });
    await addAllowlistItems(store, a, [{ value: '192.168.0.0/16', comment: '', expiresAt: null }], T0);
    await addAllowlistItems(store, b, [{ value: '192.168.1.0/24', comment: 'lab', expiresAt: T0 + HOUR }], T0);
    expect(await allowlistMatches(store, '192.168.1.7', T0)).toEqual(['192.168.1.0/24 from bar (lab)', '192.168.0.0/16 from foo']);
    expect(await allowlistMatches(store, '192.168.1.7', T0 + HOUR)).toEqual(['192.168.1.0/24 from bar (lab)', '192.168.0.0/16 from foo']);
    expect(await allowlistMatches(store, '192.168.1.7', T0 + HOUR + 1)).toEqual(['192.168.0.0/16 from foo']);
    expect(await allowlistMatches(store, '203.0.113.1', T0)).toEqual([]);
    await expect(allowlistMatches(store, 'nope', T0)).rejects.toThrow("invalid ip address 'nope'");
  });

  it('expires the active Ip/Range decisions an allowlist covers: until moves to now and the revision moves, so stream bouncers get them in deleted', async () => {
    const ban = (scope: string, value: string) => ({
      origin: 'cscli',
      type: 'ban',
      scope,
      value,
      scenario: 'test',
      createdAt: T0,
      until: T0 + 4 * HOUR,
      simulated: false,
    });
    await addDecisions(store, manualAlert({ now: T0, scenario: 'x', scope: 'Ip', value: '', count: 4, machineId: 'vigil' }), [
      ban('Ip', '172.16.0.5'),
      ban('Range', '172.16.8.0/24'),
      ban('Ip', '203.0.113.9'),
      ban('Country', 'FR'),
    ]);
    const list = await createAllowlist(store, { name: 'office', description: '', now: T0 });
    expect(await expireAllowlistedDecisions(store, T0 + 1000)).toBe(0);
    const rev = await decisionsRev(store);
    await addAllowlistItems(store, list, [{ value: '172.16.0.0/12', comment: '', expiresAt: null }], T0 + 1000);
    expect(await expireAllowlistedDecisions(store, T0 + 1000)).toBe(2);
    expect((await activeDecisions(store, T0 + 1000)).map((d) => d.value).sort()).toEqual(['203.0.113.9', 'FR']);
    const changed = await decisionsChangedSince(store, rev);
    expect(changed.map((d) => [d.value, d.until]).sort()).toEqual([
      ['172.16.0.5', T0 + 1000],
      ['172.16.8.0/24', T0 + 1000],
    ]);
    // An expired item expires nothing.
    await addAllowlistItems(store, list, [{ value: '203.0.113.9', comment: '', expiresAt: T0 + 1500 }], T0 + 1000);
    expect(await expireAllowlistedDecisions(store, T0 + 2000)).toBe(0);
  });

  it("imports CrowdSec's lists: a new list as it was, an existing one gains only the values it lacks", async () => {
    const mine = await createAllowlist(store, { name: 'office', description: 'mine', now: T0 });
    await addAllowlistItems(store, mine, [{ value: '10.0.0.1', comment: '', expiresAt: null }], T0);
    const res = await insertImportedAllowlists(
      store,
      [
        {
          name: 'office',
          description: 'theirs',
          fromConsole: false,
          allowlistId: '',
          createdAt: T0 - HOUR,
          items: [
            { value: '10.0.0.1', comment: '', expiresAt: null, createdAt: T0 - HOUR },
            { value: '10.0.0.2', comment: 'b', expiresAt: T0 + HOUR, createdAt: T0 - HOUR },
          ],
        },
        { name: 'console', description: 'from the Console', fromConsole: true, allowlistId: 'abc123', createdAt: T0 - HOUR, items: [] },
      ],
      T0,
    );
    expect(res).toEqual({ allowlists: ['office', 'console'], items: 1 });
    expect((await getAllowlist(store, 'office'))?.description).toBe('mine');
    expect((await allowlistItems(store, [mine.id])).map((i) => i.value)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(await getAllowlist(store, 'console')).toMatchObject({ fromConsole: true, allowlistId: 'abc123', createdAt: T0 - HOUR });
  });
});
