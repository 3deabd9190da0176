import { beforeEach, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { ManualClock } from '../lib/clock.ts';
import { parseStreamQuery } from '../core/decisions/query.ts';
import { startupBodyJson } from '../core/decisions/startup-body.ts';
import { manualAlert } from '../core/decisions/new-decisions.ts';
import type { Store } from '../store/store.ts';
import { addDecisions, type NewDecision } from '../store/decisions.ts';
import { DecisionSync } from './decision-sync.ts';
import { StartupBodies } from './startup-bodies.ts';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const q = parseStreamQuery(new URLSearchParams('startup=true'));

function ban(value: string, until = T0 + 3600_000): NewDecision {
  return { origin: 'cscli', type: 'ban', scope: 'Ip', value, scenario: 'test', createdAt: T0, until, simulated: false };
}

async function add(store: Store, ...ds: NewDecision[]): Promise<void> {
  await addDecisions(store, manualAlert({ now: T0, scenario: 'test', scope: 'Ip', value: ds[0]!.value, count: ds.length, machineId: 't' }), ds);
}

describeOnEachDialect('startup bodies shared per revision', (current) => {
  let store: Store;
  let sync: DecisionSync;
  beforeEach(async () => {
    store = current();
    sync = new DecisionSync(store, new ManualClock(T0));
    await add(store, ban('192.0.2.1'), ban('192.0.2.2'));
    await sync.refresh();
  });

  it('builds once for startups arriving together, again for a new revision', async () => {
    const bodies = new StartupBodies(sync, store);
    const together = await Promise.all([1, 2, 3, 4].map(() => bodies.get(q, sync.rev, T0)));
    expect(bodies.builds).toBe(1);
    expect(new Set(together).size).toBe(1);
    expect(JSON.parse(startupBodyJson(together[0]!, T0)).new).toHaveLength(2);
    // Same revision, later: the same body.
    expect(await bodies.get(q, sync.rev, T0 + 5_000)).toBe(together[0]);

    await add(store, ban('192.0.2.3'));
    await sync.refresh();
    const next = await bodies.get(q, sync.rev, T0 + 6_000);
    expect(bodies.builds).toBe(2);
    expect(JSON.parse(startupBodyJson(next, T0 + 6_000)).new.map((d: { value: string }) => d.value)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    bodies.clear();
  });

  it('rebuilds a body older than maxAge, and one per set of filters', async () => {
    const bodies = new StartupBodies(sync, store, { maxAgeMs: 10_000 });
    const first = await bodies.get(q, sync.rev, T0);
    expect(await bodies.get(q, sync.rev, T0 + 10_000)).toBe(first);
    expect(await bodies.get(q, sync.rev, T0 + 10_001)).not.toBe(first);
    expect(bodies.builds).toBe(2);
    await bodies.get(parseStreamQuery(new URLSearchParams('startup=true&origins=crowdsec')), sync.rev, T0 + 10_001);
    expect(bodies.builds).toBe(3);
    bodies.clear();
  });
});
