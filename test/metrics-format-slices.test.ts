import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DIALECTS, useFreshStore } from './support/databases.ts';
import { turnsDuring } from './support/event-loop-turns.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { LapiMetrics } from '../src/server/metrics.ts';

/**
 * The Local API's /metrics writes a big metric's text across turns of the event loop (issue 27
 * item 5): prom-client wrote the 12,000 series of 2,000 bouncers' `vigil_bouncer_status` in one
 * piece, ~35 ms of CPU that every pull waited behind at each scrape. The text is the same.
 */
const SERIES = 12_000;

for (const dialect of DIALECTS) {
  describe(`${dialect}: /metrics text of a big metric`, () => {
    const store = useFreshStore(dialect);

    it('12,000 series are written across turns of the event loop, as prom-client writes them', async () => {
      const metrics = new LapiMetrics(store(), new ManualClock(Date.UTC(2026, 11, 8, 3, 0, 0)), null);
      const plain = new Registry();
      // One gauge in both registries; its get() has no pause of its own, so every turn counted is the writing's.
      const gauge = new Gauge({
        name: 'test_fleet_series',
        help: 'Series of a big fleet:\nback\\slash',
        labelNames: ['bouncer', 'status'],
        registers: [metrics.registry, plain],
      });
      for (let i = 0; i < SERIES / 6; i++)
        for (const status of ['healthy', 'late', 'offline', 'never_pulled', 'revoked', 'failing'])
          gauge.set({ bouncer: `rc-${i} "quoted"\n`, status }, status === 'late' ? 1 : i / 7);

      const { result: sliced, turns } = await turnsDuring(() => metrics.registry.getSingleMetricAsString('test_fleet_series'));

      expect(sliced).toBe(await plain.getSingleMetricAsString('test_fleet_series'));
      expect(sliced.split('\n').filter((l) => l.startsWith('test_fleet_series{'))).toHaveLength(SERIES);
      // One turn at least every 1,000 series; in one piece there were none.
      expect(turns).toBeGreaterThanOrEqual(SERIES / 1000 - 1);
      // The whole answer too: the gauge once, between the others.
      const all = await metrics.registry.metrics();
      expect(all.split('# HELP test_fleet_series ')).toHaveLength(2);
      expect(all).toContain(`${sliced}\n`);
    });
  });
}
