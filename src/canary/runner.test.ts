import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import type { CanaryConfig } from '../config/canaries.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { ManualClock } from '../lib/clock.ts';
import { canaryRuns } from '../store/canaries.ts';
import { CanaryRunner, canaryWaits, DEFAULT_CANARY_TIMINGS } from './runner.ts';
import { createBouncer } from '../store/bouncers.ts';
import { activeDecisions } from '../store/decisions.ts';

/**
 * The schedule without sleeping: a ManualClock, and a `sleep` that moves it. The site is a real
 * loopback server that never blocks; the bouncer never pulls, so each run fails at `wait` once the
 * clock has passed the timeout, and its decision is removed.
 */
const T0 = Date.UTC(2026, 10, 24, 4, 0, 0);
const silent = { info() {}, warn() {}, error() {} };

describe('canaryWaits', () => {
  const c = { everyMs: 300_000, timeoutMs: null } as CanaryConfig;
  it("3 × the bouncer's cadence, at least 30s, at most every; the decision outlives wait and settle", () => {
    expect(canaryWaits(c, 10_000, DEFAULT_CANARY_TIMINGS)).toEqual({ timeoutMs: 30_000, decisionDurationMs: 62_000 });
    expect(canaryWaits(c, 60_000, DEFAULT_CANARY_TIMINGS).timeoutMs).toBe(180_000);
    expect(canaryWaits(c, 3600_000, DEFAULT_CANARY_TIMINGS).timeoutMs).toBe(300_000);
    expect(canaryWaits({ ...c, timeoutMs: 5000 }, 60_000, DEFAULT_CANARY_TIMINGS).timeoutMs).toBe(5000);
  });
  it('never waits over 5 min nor keeps the decision over 10 min, whatever every, the cadence or the timings', () => {
    const slow = { everyMs: 6 * 3600_000, timeoutMs: null } as CanaryConfig;
    expect(canaryWaits(slow, 3600_000, DEFAULT_CANARY_TIMINGS)).toEqual({ timeoutMs: 300_000, decisionDurationMs: 332_000 });
    const long = canaryWaits({ ...slow, timeoutMs: 6 * 3600_000 }, null, { ...DEFAULT_CANARY_TIMINGS, settleMs: 3600_000 });
    expect(long).toEqual({ timeoutMs: 300_000, decisionDurationMs: 600_000 });
  });
});

describeOnEachDialect('the canary schedule, driven by the clock', (current) => {
  let site: http.Server;
  let url: string;
  beforeAll(async () => {
    site = http.createServer((_req, res) => res.end('page'));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => site.close(() => r())));

  it('runs when due, not before; the next run one interval later; each run stored and its decision removed', async () => {
    const store = current();
    await createBouncer(store, { name: 'silent', apiKeyHash: hashApiKey('k'.repeat(32)), now: T0 });
    const clock = new ManualClock(T0);
    const canary: CanaryConfig = {
      name: 'shop',
      url,
      bouncer: 'silent',
      expect: 'ban',
      everyMs: 120_000,
      address: '192.0.2.9',
      via: 'x-forwarded-for',
      timeoutMs: 20_000,
      origin: 'vigil-canary',
    };
    const after: number[] = [];
    const runner = new CanaryRunner({
      store,
      clock,
      log: silent,
      canaries: [canary],
      sleep: async (ms) => clock.advance(ms),
      afterRun: (r) => void after.push(r.id),
    });
    // The first run comes min(every, 60s) after start.
    expect(runner.nextRunAt('shop')).toBe(T0 + 60_000);
    expect(await runner.tick()).toEqual([]);
    clock.set(T0 + 59_999);
    expect(await runner.tick()).toEqual([]);
    clock.set(T0 + 60_000);
    const [first] = await runner.tick();
    expect(first).toMatchObject({ verdict: 'fail', failedStep: 'wait', decisionRemoved: true, startedAt: T0 + 60_000 });
    expect(first!.totalMs).toBeGreaterThanOrEqual(20_000);
    expect(runner.nextRunAt('shop')).toBe(T0 + 180_000);
    expect(await runner.tick()).toEqual([]);
    clock.set(T0 + 180_000);
    expect(await runner.tick()).toHaveLength(1);
    expect((await canaryRuns(store, { canary: 'shop' })).map((r) => r.startedAt)).toEqual([T0 + 180_000, T0 + 60_000]);
    expect(after).toHaveLength(2);
    expect((await activeDecisions(store, clock.now())).filter((d) => d.value === '192.0.2.9')).toEqual([]);
    await runner.stop();
    clock.set(T0 + 10 * 120_000);
    expect(await runner.tick()).toEqual([]);

    // A restart of vigil serve (a new runner on the same store) keeps the schedule: the next run
    // is one interval after the last stored one, not one start delay after the restart.
    clock.set(T0 + 200_000);
    const restarted = new CanaryRunner({ store, clock, log: silent, canaries: [canary], sleep: async (ms) => clock.advance(ms) });
    expect(restarted.nextRunAt('shop')).toBe(T0 + 260_000);
    expect(await restarted.tick()).toEqual([]);
    expect(restarted.nextRunAt('shop')).toBe(T0 + 300_000);
    clock.set(T0 + 299_999);
    expect(await restarted.tick()).toEqual([]);
    clock.set(T0 + 300_000);
    expect(await restarted.tick()).toHaveLength(1);
    await restarted.stop();
    // Back after a long downtime: the start delay, not a run at once.
    clock.set(T0 + 10 * 3600_000);
    const late = new CanaryRunner({ store, clock, log: silent, canaries: [canary], sleep: async (ms) => clock.advance(ms) });
    expect(await late.tick()).toEqual([]);
    expect(late.nextRunAt('shop')).toBe(T0 + 10 * 3600_000 + 60_000);
    await late.stop();
  });
});
