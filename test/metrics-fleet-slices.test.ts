import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from './support/databases.ts';
import { turnsDuring } from './support/event-loop-turns.ts';
import { hashApiKey } from '../src/core/bouncers/api-key.ts';
import { DEFAULT_RULES } from '../src/core/health/evaluate.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { registerFleetGauges } from '../src/server/metrics-fleet.ts';
import { createBouncer } from '../src/store/bouncers.ts';

/**
 * A /metrics scrape of a big fleet lets the event loop turn while it makes the per-bouncer series
 * (issue 27 item 5): with 2,000 bouncers, making them in one piece held every bouncer's pull for
 * ~60 ms at each scrape. The series themselves are the same as before.
 */
const T0 = Date.UTC(2026, 11, 8, 3, 0, 0);
const BOUNCERS = 1_200;

for (const dialect of DIALECTS) {
  describe(`${dialect}: fleet gauges at scrape time`, () => {
    const store = useFreshStore(dialect);

    it('a scrape of 1,200 bouncers makes their series across turns of the event loop, every bouncer in them', async () => {
      for (let i = 0; i < BOUNCERS; i++) await createBouncer(store(), { name: `rc-${i}`, apiKeyHash: hashApiKey(String(i).padStart(32, '0')), now: T0 });
      const registry = new Registry();
      // The clock stands still: the second scrape reuses the first one's store read (one read per second), so every turn counted is the gauges' own.
      registerFleetGauges(registry, { store: store(), clock: new ManualClock(T0), rules: () => DEFAULT_RULES, read: (fn) => fn() });
      const first = await registry.getSingleMetricAsString('vigil_bouncer_status');

      const { result: second, turns } = await turnsDuring(() => registry.getSingleMetricAsString('vigil_bouncer_status'));

      expect(second).toBe(first);
      const series = second.split('\n').filter((l) => l.startsWith('vigil_bouncer_status{'));
      expect(series).toHaveLength(BOUNCERS * 6);
      expect(series).toContain('vigil_bouncer_status{bouncer="rc-1199",type="",status="never_pulled"} 1');
      // One turn at least every 250 bouncers; in one piece there were none.
      expect(turns).toBeGreaterThanOrEqual(Math.floor(BOUNCERS / 250));
    });
  });
}
