import { expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { ManualClock } from '../lib/clock.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { DEFAULT_RULES } from '../core/health/evaluate.ts';
import { HealthEngine } from './engine.ts';
import { recordPullHours } from '../store/pull-history.ts';
import { WEEK_MS } from '../store/live-signals.ts';
import { applyBouncerActivity, createBouncer } from '../store/bouncers.ts';
import { recordUsageMetrics } from '../store/usage-metrics.ts';

/** The engine reads a live bouncer's rhythm and report period from the store (issue 25 item 3). */
const MONDAY_9 = Date.UTC(2026, 11, 7, 9, 0, 0);
const M = 60_000;
const H = 3600_000;

describeOnEachDialect('health engine over live-mode bouncers', (current) => {
  it('a live bouncer busy on Monday mornings for 3 weeks, silent now: Integration Late after 5 min; not on a Sunday night', async () => {
    const store = current();
    const clock = new ManualClock(MONDAY_9 + 10 * M);
    const engine = new HealthEngine(store, clock, DEFAULT_RULES);
    const b = await createBouncer(store, { name: 'shop', apiKeyHash: hashApiKey('k'), now: MONDAY_9 - 60 * 24 * H });
    // 50 recorded live queries (≈ 5 a minute) in each Monday 04:00–09:59 of the last 3 weeks; Sunday nights quiet.
    const rows = [];
    for (let k = 1; k <= 3; k++) for (let j = 0; j < 6; j++) rows.push({ bouncerId: b.id, hour: MONDAY_9 - j * H - k * WEEK_MS, pulls: 50 });
    await recordPullHours(store, rows);
    await applyBouncerActivity(
      store,
      [{ id: b.id, lastPullAt: MONDAY_9 + 10 * M, lastRequestAt: MONDAY_9 + 10 * M, ipAddress: '10.0.0.5', type: 'nodejs-cs-bouncer' }],
      clock.now(),
    );
    clock.set(MONDAY_9 + 15 * M - 1000);
    expect((await engine.evaluateNow()).opened).toEqual([]);
    clock.set(MONDAY_9 + 15 * M);
    const [issue] = (await engine.evaluateNow()).opened;
    expect(issue).toMatchObject({ kind: 'integration_late', subject: 'bouncer:shop', criticality: 'warning' });
    expect((issue!.evidence.causes[0] as { cause: string }).cause).toBe('live_silent');
    // Its next query resolves it.
    await applyBouncerActivity(store, [{ id: b.id, lastRequestAt: clock.now() }], clock.now());
    expect((await engine.evaluateNow()).resolved.map((i) => i.subject)).toEqual(['bouncer:shop']);

    // Sunday 23:00, silent for 3 h: those hours were quiet every week, so no verdict.
    const sunday = MONDAY_9 - 10 * H;
    const quiet = new ManualClock(sunday);
    const other = await createBouncer(store, { name: 'night', apiKeyHash: hashApiKey('n'), now: MONDAY_9 - 60 * 24 * H });
    await recordPullHours(
      store,
      [1, 2, 3].map((k) => ({ bouncerId: other.id, hour: sunday - k * WEEK_MS, pulls: 3 })),
    );
    await applyBouncerActivity(store, [{ id: other.id, lastPullAt: sunday - 3 * H, lastRequestAt: sunday - 3 * H }], sunday);
    const nightEngine = new HealthEngine(store, quiet, DEFAULT_RULES);
    const opened = (await nightEngine.evaluateNow()).opened.map((i) => i.subject);
    expect(opened).not.toContain('bouncer:night');
  });

  it('reads the report period from the latest report: late after two missed 15-min reports', async () => {
    const store = current();
    const clock = new ManualClock(MONDAY_9);
    const engine = new HealthEngine(store, clock, DEFAULT_RULES);
    const b = await createBouncer(store, { name: 'lua', apiKeyHash: hashApiKey('l'), now: MONDAY_9 - 2 * H });
    await applyBouncerActivity(store, [{ id: b.id, lastPullAt: MONDAY_9 - H, lastRequestAt: MONDAY_9 - H }], clock.now());
    await recordUsageMetrics(store, b.id, MONDAY_9, {
      version: 'v1.0.8',
      metrics: [{ meta: { window_size_seconds: 900, utc_now_timestamp: 1 }, items: [] }],
    });
    clock.set(MONDAY_9 + 31 * M);
    expect((await engine.evaluateNow()).opened).toEqual([]);
    clock.set(MONDAY_9 + 31 * M + 1000);
    expect((await engine.evaluateNow()).opened.map((i) => `${i.kind}:${i.subject}`)).toEqual(['integration_late:bouncer:lua']);
  });
});
