import { beforeEach, describe, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import type { Store } from './store.ts';
import { HOUR_MS, recordPullHours } from './pull-history.ts';
import { WEEK_MS, queryRhythms, reportPeriodMs, usageReportPeriods } from './live-signals.ts';
import { recordUsageMetrics } from './usage-metrics.ts';

const NOW = Date.UTC(2026, 11, 7, 9, 20, 0); // Monday 09:20
const NINE = Date.UTC(2026, 11, 7, 9, 0, 0);

describe('reportPeriodMs', () => {
  it("reads the report's window_size_seconds (the longest), null when it has none", () => {
    expect(reportPeriodMs(JSON.stringify({ metrics: [{ meta: { window_size_seconds: 900, utc_now_timestamp: 1 }, items: [] }] }))).toBe(900_000);
    expect(reportPeriodMs(JSON.stringify({ metrics: [{ meta: { window_size_seconds: 600 } }, { meta: { window_size_seconds: 900 } }] }))).toBe(900_000);
    expect(reportPeriodMs(JSON.stringify({ metrics: null }))).toBeNull();
    expect(reportPeriodMs('{')).toBeNull();
  });
});

describeOnEachDialect('live-mode signals', (current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('reads the report period of the bouncers asked for', async () => {
    await recordUsageMetrics(store, 1, NOW - 60_000, { version: 'v1', metrics: [{ meta: { window_size_seconds: 900, utc_now_timestamp: 1 }, items: [] }] });
    await recordUsageMetrics(store, 2, NOW - 60_000, { version: 'v1', metrics: [] });
    await recordUsageMetrics(store, 3, NOW - 60_000, { version: 'v1', metrics: [{ meta: { window_size_seconds: 600, utc_now_timestamp: 1 }, items: [] }] });
    const got = await usageReportPeriods(store, [1, 2]);
    expect(got).toEqual(
      new Map([
        [1, { receivedAt: NOW - 60_000, periodMs: 900_000 }],
        [2, { receivedAt: NOW - 60_000, periodMs: null }],
      ]),
    );
  });

  it('gives the fewest queries of each hour of the week over the weeks the bouncer existed; a missing hour is none', async () => {
    // Bouncer 1: Monday 09:00 in the last 4 weeks had 50, 42, 55, 48; 08:00 had 30 in the last 3.
    await recordPullHours(store, [
      ...[50, 42, 55, 48].map((pulls, k) => ({ bouncerId: 1, hour: NINE - (k + 1) * WEEK_MS, pulls })),
      ...[30, 30, 30].map((pulls, k) => ({ bouncerId: 1, hour: NINE - HOUR_MS - (k + 1) * WEEK_MS, pulls })),
      // Bouncer 2 exists since 10 days: one week of history.
      { bouncerId: 2, hour: NINE - WEEK_MS, pulls: 57 },
      // Bouncer 3 was imported with an old creation date; its history begins 2 weeks ago (Vigil installed then).
      { bouncerId: 3, hour: NINE - 2 * WEEK_MS - 3 * HOUR_MS, pulls: 10 },
      { bouncerId: 3, hour: NINE - 2 * WEEK_MS, pulls: 40 },
      { bouncerId: 3, hour: NINE - WEEK_MS, pulls: 44 },
      // Not a past week's hour: ignored.
      { bouncerId: 1, hour: NINE - 24 * HOUR_MS, pulls: 60 },
    ]);
    const rhythms = await queryRhythms(
      store,
      [
        { id: 1, createdAt: NOW - 60 * 24 * HOUR_MS },
        { id: 2, createdAt: NOW - 10 * 24 * HOUR_MS },
        { id: 3, createdAt: NOW - 400 * 24 * HOUR_MS },
      ],
      NOW,
    );
    const one = rhythms.get(1)!;
    expect(one).toHaveLength(6);
    expect(one[0]).toEqual({ hourStart: NINE, fewest: 42, weeks: 4 });
    // 08:00 four weeks ago came before its first recorded hour (09:00 that day): 3 weeks count.
    expect(one[1]).toEqual({ hourStart: NINE - HOUR_MS, fewest: 30, weeks: 3 });
    expect(one[5]).toEqual({ hourStart: NINE - 5 * HOUR_MS, fewest: 0, weeks: 3 });
    expect(rhythms.get(2)![0]).toEqual({ hourStart: NINE, fewest: 57, weeks: 1 });
    // Weeks before its first recorded hour are not counted as silent ones.
    expect(rhythms.get(3)![0]).toEqual({ hourStart: NINE, fewest: 40, weeks: 2 });
    expect(rhythms.get(3)![4]).toEqual({ hourStart: NINE - 4 * HOUR_MS, fewest: 0, weeks: 1 });
  });
});
