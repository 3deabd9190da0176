import { beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import type { Store } from './store.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import type { NewAlert, NewDecision } from './decisions.ts';
import { withAlerts } from './alerts.ts';
import { applyBouncerActivity, createBouncer, deleteBouncers, findBouncerByKeyHash, getBouncer, listBouncers, staleBouncers } from './bouncers.ts';
import { activeDecisions, addAlerts, addDecisions, decisionsChangedSince, decisionsRev, expiredDecisions, softDeleteDecisions } from './decisions.ts';
import { secret } from './meta.ts';
import { recordRefused, refusedRequests } from './refused-requests.ts';
import { newAlert } from '../../test/support/alert-builders.ts';
import { newDecision } from '../../test/support/decision-builders.ts';

const T0 = Date.UTC(2026, 10, 24, 4, 0, 0);

const alert = (eventsCount: number): NewAlert => newAlert(T0, { scenario: 'test', message: 'test', machineId: 'vigil', eventsCount, leakspeed: '0' });
const decision = (value: string, scope = 'Ip', untilOffset = 3600_000): NewDecision =>
  newDecision(value, T0 + untilOffset, { scope, scenario: 'test', createdAt: T0 });

describeOnEachDialect('store', (current, dialect) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('writes POSTs of the same turn each all or nothing, with their own revisions in order (group commit on SQLite)', async () => {
    const before = await decisionsRev(store);
    const bad = { ...decision('198.51.100.66'), value: null as unknown as string };
    const results = await Promise.allSettled([
      addAlerts(store, [{ alert: alert(1), decisions: [decision('198.51.100.1')] }]),
      addAlerts(store, [{ alert: alert(2), decisions: [decision('198.51.100.2'), bad] }]),
      addAlerts(store, [{ alert: alert(3), decisions: [decision('198.51.100.3')] }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const revs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.rev] : []));
    // Each its own revision; in the order of the calls on SQLite (one group), in any order on
    // PostgreSQL (each call its own transaction, running at once on the pool).
    expect([...revs].sort((x, y) => x - y)).toEqual([before + 1, before + 2]);
    if (dialect === 'sqlite') expect(revs).toEqual([before + 1, before + 2]);
    expect(await decisionsRev(store)).toBe(before + 2);
    // The failed POST left nothing behind, not even its first decision.
    expect((await activeDecisions(store, T0)).map((d) => d.value).sort()).toEqual(['198.51.100.1', '198.51.100.3']);
  });

  it('lists every bouncer in id order across pages, including after a gap of deleted ids', async () => {
    for (let i = 0; i < 2003; i++) await createBouncer(store, { name: `b${i}`, apiKeyHash: hashApiKey(`k${i}`), now: T0 });
    await deleteBouncers(store, ['b999', 'b1000']);
    const listed = await listBouncers(store);
    expect(listed).toHaveLength(2001);
    expect(listed.map((b) => b.name)).toEqual(Array.from({ length: 2003 }, (_, i) => `b${i}`).filter((n) => n !== 'b999' && n !== 'b1000'));
    expect(listed.every((b, i) => i === 0 || b.id > listed[i - 1]!.id)).toBe(true);
  });

  it('creates, finds by key hash, refuses a duplicate name and deletes bouncers', async () => {
    const b = await createBouncer(store, { name: 'nginx', apiKeyHash: hashApiKey('k1'), now: T0 });
    expect(b).toMatchObject({ name: 'nginx', revoked: false, ipAddress: '', type: '', version: '', authType: 'api-key', lastPullAt: null, createdAt: T0 });
    expect((await findBouncerByKeyHash(store, hashApiKey('k1')))?.name).toBe('nginx');
    expect(await findBouncerByKeyHash(store, hashApiKey('nope'))).toBeUndefined();
    await expect(createBouncer(store, { name: 'nginx', apiKeyHash: hashApiKey('k2'), now: T0 })).rejects.toThrow(
      'unable to create bouncer: bouncer nginx already exists',
    );
    // The failed create harmed nothing.
    expect((await listBouncers(store)).map((x) => x.apiKeyHash)).toEqual([hashApiKey('k1')]);
    await expect(deleteBouncers(store, ['nginx', 'ghost'])).rejects.toThrow("unable to delete bouncer 'ghost'");
    expect(await listBouncers(store)).toHaveLength(1);
    await deleteBouncers(store, ['nginx']);
    expect(await listBouncers(store)).toHaveLength(0);
  });

  it('records activity with last pull moving only forward', async () => {
    const b = await createBouncer(store, { name: 'fw', apiKeyHash: hashApiKey('k'), now: T0 });
    await applyBouncerActivity(
      store,
      [{ id: b.id, lastPullAt: T0 + 2000, lastRequestAt: T0 + 2000, ipAddress: '127.0.0.1', type: 'crowdsec-firewall-bouncer', version: '-' }],
      T0 + 2000,
    );
    await applyBouncerActivity(store, [{ id: b.id, lastPullAt: T0 + 1000, lastRequestAt: T0 + 3000 }], T0 + 3000);
    const got = await getBouncer(store, 'fw');
    expect(got).toMatchObject({ lastPullAt: T0 + 2000, lastRequestAt: T0 + 3000, ipAddress: '127.0.0.1', type: 'crowdsec-firewall-bouncer', version: '-' });
  });

  it('selects stale bouncers as cscli prune does', async () => {
    const a = await createBouncer(store, { name: 'old-never', apiKeyHash: hashApiKey('a'), now: T0 });
    const b = await createBouncer(store, { name: 'fresh', apiKeyHash: hashApiKey('b'), now: T0 });
    await createBouncer(store, { name: 'new-never', apiKeyHash: hashApiKey('c'), now: T0 + 7200_000 });
    await applyBouncerActivity(store, [{ id: b.id, lastPullAt: T0 + 7000_000 }], T0);
    void a;
    expect((await staleBouncers(store, T0 + 3600_000)).map((x) => x.name)).toEqual(['old-never']);
  });

  it('adds decisions under an alert, follows revisions and soft-deletes', async () => {
    const rev0 = await decisionsRev(store);
    const { alertId, decisionIds } = await addDecisions(store, alert(2), [decision('192.0.2.1'), decision('198.51.100.0/24', 'Range')]);
    expect(decisionIds).toHaveLength(2);
    const rev1 = await decisionsRev(store);
    expect(rev1).toBeGreaterThan(rev0);
    expect((await decisionsChangedSince(store, rev0)).map((d) => d.value)).toEqual(['192.0.2.1', '198.51.100.0/24']);
    expect(await decisionsChangedSince(store, rev1)).toEqual([]);
    const now = T0 + 60_000;
    expect(await softDeleteDecisions(store, [decisionIds[0]!], now)).toBe(1);
    // Deleting again changes nothing: it is no longer active.
    expect(await softDeleteDecisions(store, [decisionIds[0]!], now + 1)).toBe(0);
    expect((await activeDecisions(store, now)).map((d) => d.value)).toEqual(['198.51.100.0/24']);
    const expired = await expiredDecisions(store, now);
    expect(expired).toMatchObject([{ value: '192.0.2.1', until: now, deletedAt: now, alertId }]);
    const changed = await decisionsChangedSince(store, rev1);
    expect(changed.map((d) => d.id)).toEqual([decisionIds[0]]);
    const grouped = await withAlerts(store, await activeDecisions(store, now));
    expect(grouped).toHaveLength(1);
    expect(grouped[0]!.alert.eventsCount).toBe(2);
  });

  it('imports 5,500 decisions in one transaction, telling its progress', async () => {
    const many = Array.from({ length: 5500 }, (_, i) => decision(`10.0.${i >> 8}.${i & 255}`));
    const progress: number[] = [];
    const { decisionIds } = await addDecisions(store, alert(5500), many, (done) => progress.push(done));
    expect(decisionIds).toHaveLength(5500);
    // At most 1,000 rows apart (SQLite reports each 500-row slice), rising, ending at the total.
    expect(progress.at(-1)).toBe(5500);
    expect(progress.every((n, i) => n > (progress[i - 1] ?? 0) && n - (progress[i - 1] ?? 0) <= 1000)).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(6);
    expect(await activeDecisions(store, T0)).toHaveLength(5500);
  });

  it('keeps the refused-request record and a stable secret', async () => {
    await recordRefused(store, [
      { at: T0, peerIp: '127.0.0.1', userAgent: 'curl/8', method: 'GET', path: '/v1/decisions', reason: 'unknown', keyFingerprint: 'abcd', bouncerName: '' },
    ]);
    expect(await refusedRequests(store)).toMatchObject([{ peerIp: '127.0.0.1', reason: 'unknown', keyFingerprint: 'abcd' }]);
    const s1 = await secret(store, 'fingerprint');
    const s2 = await secret(store, 'fingerprint');
    expect(s1.equals(s2)).toBe(true);
    expect(s1.length).toBe(32);
  });
});
