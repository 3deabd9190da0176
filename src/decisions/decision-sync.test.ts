import { beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { ManualClock } from '../lib/clock.ts';
import type { NewAlert, NewDecision } from '../store/decisions.ts';
import type { Store } from '../store/store.ts';
import { DecisionSync } from './decision-sync.ts';
import { newAlert } from '../../test/support/alert-builders.ts';
import { activeDecisions, addAlerts, addDecisions, decisionsChangedSince, decisionsRev, softDeleteDecisions } from '../store/decisions.ts';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

const alert = (value: string): NewAlert =>
  newAlert(T0, {
    scenario: 'crowdsecurity/ssh-bf',
    message: `Ip ${value} performed 'crowdsecurity/ssh-bf' (6 events over 1s)`,
    machineId: 'agent',
    sourceValue: value,
    sourceIp: value,
    eventsCount: 6,
    leakspeed: '10s',
    extra: '{"labels":null,"events":null,"meta":null}',
  });
function ban(value: string): NewDecision {
  return { origin: 'crowdsec', type: 'ban', scope: 'Ip', value, scenario: 'crowdsecurity/ssh-bf', createdAt: T0, until: T0 + 4 * 3600_000, simulated: false };
}
const ids = (ds: Array<{ id: number }>) => ds.map((d) => d.id);

describeOnEachDialect('alerts written in one transaction, and the sync that follows them', (current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('stores a POST of alerts under one revision, all or nothing', async () => {
    const rev0 = await decisionsRev(store);
    const w = await addAlerts(store, [
      { alert: alert('192.0.2.1'), decisions: [ban('192.0.2.1')] },
      { alert: alert('192.0.2.2'), decisions: [ban('192.0.2.2'), { ...ban('192.0.2.2'), type: 'captcha' }] },
    ]);
    expect(w.rev).toBe(rev0 + 1);
    expect(await decisionsRev(store)).toBe(rev0 + 1);
    expect(w.alertIds).toHaveLength(2);
    // What addAlerts returns is what the store reads back.
    expect(await decisionsChangedSince(store, rev0)).toEqual(w.decisions);
    expect(w.decisions.map((d) => [d.alertId, d.value, d.type])).toEqual([
      [w.alertIds[0], '192.0.2.1', 'ban'],
      [w.alertIds[1], '192.0.2.2', 'ban'],
      [w.alertIds[1], '192.0.2.2', 'captcha'],
    ]);

    // A decision the database refuses (NOT NULL value) undoes the whole request.
    const broken = { ...ban('192.0.2.4'), value: null as unknown as string };
    await expect(
      addAlerts(store, [
        { alert: alert('192.0.2.3'), decisions: [ban('192.0.2.3')] },
        { alert: alert('192.0.2.4'), decisions: [broken] },
      ]),
    ).rejects.toThrow();
    expect(await decisionsRev(store)).toBe(rev0 + 1);
    expect(await decisionsChangedSince(store, rev0 + 1)).toEqual([]);
    expect((await activeDecisions(store, T0)).map((d) => d.value)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.2']);
  });

  it('takes its own writes without reading them back, and answers deltas from memory only at the store revision', async () => {
    const clock = new ManualClock(T0);
    const sync = new DecisionSync(store, clock);
    await sync.refresh();
    const rev0 = sync.rev;
    const w = await addAlerts(store, [{ alert: alert('198.51.100.1'), decisions: [ban('198.51.100.1')] }]);
    await sync.applyWritten(w);
    expect(sync.rev).toBe(w.rev);
    expect(ids(sync.index.byValue('198.51.100.1', T0))).toEqual(ids(w.decisions));
    expect(sync.changesSince(rev0, await decisionsRev(store))).toEqual(await decisionsChangedSince(store, rev0));

    // Someone else writes (the CLI, another replica): memory does not answer until the sync has read it.
    const other = await addDecisions(store, alert('198.51.100.2'), [ban('198.51.100.2')]);
    const storeRev = await decisionsRev(store);
    expect(sync.changesSince(rev0, storeRev)).toBeUndefined();
    // Our next write is then not the next revision: applyWritten catches up by reading the store.
    const mine = await addAlerts(store, [{ alert: alert('198.51.100.3'), decisions: [ban('198.51.100.3')] }]);
    await sync.applyWritten(mine);
    expect(sync.rev).toBe(mine.rev);
    expect(sync.index.byValue('198.51.100.2', T0).map((d) => d.id)).toEqual(other.decisionIds);

    // A soft delete arrives by refresh: the delta holds the decision's latest state once, as the store's does.
    await softDeleteDecisions(store, other.decisionIds, T0 + 1000);
    await sync.refresh();
    const latest = await decisionsRev(store);
    for (const since of [rev0, rev0 + 1, w.rev, mine.rev, latest]) {
      expect(sync.changesSince(since, latest)).toEqual(await decisionsChangedSince(store, since));
    }
    // Before the log begins (a cursor older than the first load), the store answers.
    expect(sync.changesSince(rev0 - 1, latest)).toBeUndefined();
  });

  it('takes a 12,000-decision import in slices and holds all of it', async () => {
    const clock = new ManualClock(T0);
    const sync = new DecisionSync(store, clock);
    await sync.refresh();
    const rev0 = sync.rev;
    const many = Array.from({ length: 12_000 }, (_, i) => ban(`10.0.${i >> 8}.${i & 255}`));
    const w = await addAlerts(store, [{ alert: alert('import'), decisions: many }]);
    expect(w.decisions).toHaveLength(12_000);
    await sync.applyWritten(w);
    expect(sync.index.active(T0)).toHaveLength(12_000);
    expect(ids(sync.changesSince(rev0, await decisionsRev(store))!)).toEqual(ids(await decisionsChangedSince(store, rev0)));
  });

  it('follows a 12,000-decision write it did not make (the CLI, another replica) a page per turn of the event loop', async () => {
    const clock = new ManualClock(T0);
    const sync = new DecisionSync(store, clock);
    await sync.refresh();
    const many = Array.from({ length: 12_000 }, (_, i) => ban(`10.1.${i >> 8}.${i & 255}`));
    const w = await addAlerts(store, [{ alert: alert('import'), decisions: many }]);
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    try {
      await sync.refresh();
    } finally {
      spinning = false;
    }
    expect(sync.rev).toBe(w.rev);
    expect(sync.index.active(T0)).toHaveLength(12_000);
    // Three pages of 5,000: on SQLite the queries answer without a turn, so only the sync can give them.
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});
