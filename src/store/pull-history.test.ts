import { beforeEach, describe, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import type { Store } from './store.ts';
import { HOUR_MS, PULL_HISTORY_KEPT_MS, PullHourCounts, hourOf, pullHours, recordPullHours } from './pull-history.ts';

const T0 = Date.UTC(2026, 10, 24, 4, 0, 0);

describe('PullHourCounts', () => {
  it('counts pulls per bouncer and hour, hands them over once, and takes failed ones back', () => {
    const c = new PullHourCounts();
    c.add(1, T0 + 10);
    c.add(1, T0 + HOUR_MS - 1);
    c.add(1, T0 + HOUR_MS);
    c.add(2, T0 + 5);
    const taken = c.take();
    expect(taken).toEqual([
      { bouncerId: 1, hour: T0, pulls: 2 },
      { bouncerId: 1, hour: T0 + HOUR_MS, pulls: 1 },
      { bouncerId: 2, hour: T0, pulls: 1 },
    ]);
    expect(c.size).toBe(0);
    c.add(2, T0 + 7);
    c.restore(taken);
    expect(c.take().find((r) => r.bouncerId === 2)).toEqual({ bouncerId: 2, hour: T0, pulls: 2 });
  });
});

describeOnEachDialect('pull history', (current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('adds to the same hourly bucket across writes (replicas add, never overwrite) and keeps PULL_HISTORY_KEPT_MS (29 days)', async () => {
    await recordPullHours(store, [
      { bouncerId: 1, hour: T0, pulls: 3 },
      { bouncerId: 2, hour: T0, pulls: 1 },
    ]);
    await recordPullHours(store, [{ bouncerId: 1, hour: T0, pulls: 4 }]);
    expect(await pullHours(store, { since: T0, bouncerId: 1 })).toEqual([{ bouncerId: 1, hour: T0, pulls: 7 }]);
    expect(await pullHours(store, { since: T0 + 5 })).toHaveLength(2); // `since` rounds down to its hour
    const later = hourOf(T0 + PULL_HISTORY_KEPT_MS + HOUR_MS);
    await recordPullHours(store, [{ bouncerId: 1, hour: later, pulls: 1 }]);
    expect(await pullHours(store, { since: 0 })).toEqual([{ bouncerId: 1, hour: later, pulls: 1 }]);
  });
});
