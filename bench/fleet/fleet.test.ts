import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../../test/support/databases.ts';
import type { Told } from './bookkeeping.ts';
import { simulateWithStore } from './reference.ts';
import type { SimBouncer } from './sim-bouncer.ts';
import { simulate, type SimOptions } from './simulate.ts';
import { recordedPulls } from './snapshot.ts';
import { liveQueriesPerMin } from './noise.ts';
import { expectedAfter, STEADY_EXPECTED, STEADY_WINDOW_MS, steadyAt } from './steady-traffic.ts';

const H = 3600_000;
/** 20 bouncers for a day, failures and Vigil restarts brought close together so a day holds every kind. */
const SMALL: SimOptions = {
  bouncers: 20,
  days: 1,
  seed: 3,
  failures: { earliestAfterMs: H, windowMs: 6 * H, perBouncer: 2 },
  vigilRestartEveryMs: 4 * H,
};

const canonical = (told: readonly Told[]) => told.map((t) => `${t.at} ${t.channel} ${t.event} ${t.subject} ${t.kind} ${t.criticality} ${t.cause}`).sort();

describe('fleet simulation', () => {
  const sparse = simulate(SMALL);

  it('tells, judging only the bouncers whose findings can change, exactly what judging all every 10 s tells', () => {
    const every = simulate({ ...SMALL, mode: 'every-tick' });
    expect(canonical(sparse.told)).toEqual(canonical(every.told));
    // The run is not trivial: pages, escalations, cause changes and resolves, from failures and noise.
    const events = new Set(sparse.told.map((t) => `${t.channel}:${t.event}`));
    expect([...events].sort()).toEqual(expect.arrayContaining(['all:opened', 'all:resolved', 'all:updated', 'critical:opened', 'critical:resolved']));
    const failures = sparse.fleet.bouncers.flatMap((b) => b.failures);
    expect(new Set(failures.map((f) => f.kind)).size).toBe(4);
    expect(failures.filter((f) => f.firstPageAt !== null).length).toBeGreaterThan(3);
    expect(sparse.fleet.noise.lapiStarts.length).toBeGreaterThan(3);
    // Fleet-wide blips held bouncers (fleet-silence.ts), so both runs went through it; live rules and fail-open spoke.
    expect(sparse.fleetHeldTicks).toBeGreaterThan(0);
    expect(sparse.fleetHeldTicks).toBe(every.fleetHeldTicks);
    const causes = new Set(sparse.told.map((t) => t.cause));
    for (const c of ['fail_open', 'live_silent', 'stopped_or_network']) expect(causes).toContain(c);
    // …for a fraction of the work.
    expect(sparse.bouncersJudged * 20).toBeLessThan(every.bouncersJudged);
  });

  it('is deterministic: the same seed gives the same messages, another seed others', () => {
    expect(canonical(simulate(SMALL).told)).toEqual(canonical(sparse.told));
    expect(canonical(simulate({ ...SMALL, seed: 4 }).told)).not.toEqual(canonical(sparse.told));
  });

  it('records what rhythm rules learn from: steady stream pulls per hour, live lookups that follow the day and the week', () => {
    const fleet = simulate({ bouncers: 60, days: 14, seed: 5, failures: { perBouncer: 0 } }).fleet;
    const hourly = (b: SimBouncer, from: number, hours: number) => {
      const count = recordedPulls(fleet, b);
      let n = 0;
      for (let h = 0; h < hours; h++) n += count(from + h * H);
      return n;
    };
    const stream = fleet.bouncers.find((b) => b.mode === 'stream' && b.freqMs === 10_000)!;
    // 360 pulls an hour, less what blips, restarts and Vigil's downtime took: a week of it.
    const week = hourly(stream, fleet.start, 7 * 24);
    expect(week).toBeGreaterThan(0.97 * 7 * 24 * 360);
    expect(week).toBeLessThanOrEqual(7 * 24 * 370);
    let night = 0;
    let afternoon = 0;
    let saturday = 0;
    let tuesday = 0;
    let busiestHour = 0;
    for (const b of fleet.bouncers.filter((x) => x.mode === 'live')) {
      const local = (day: number, hour: number) => fleet.start + day * 24 * H + (hour - b.traffic!.utcOffsetH) * H;
      // The run starts on a Monday (UTC): day 1 is a Tuesday, day 5 a Saturday.
      night += hourly(b, local(1, 3), 2);
      afternoon += hourly(b, local(1, 14), 2);
      tuesday += hourly(b, local(1, 0), 24);
      saturday += hourly(b, local(5, 0), 24);
      for (let h = 0; h < 14 * 24; h++) busiestHour = Math.max(busiestHour, hourly(b, fleet.start + h * H, 1));
    }
    // Live queries are recorded at most once a minute (server/bouncer-gate.ts): a busy site's hours saturate at 60.
    expect(busiestHour).toBeLessThanOrEqual(60);
    expect(busiestHour).toBeGreaterThan(50);
    expect(night * 2).toBeLessThan(afternoon);
    expect(saturday).toBeLessThan(0.9 * tuesday);
    expect(saturday).toBeGreaterThan(0.5 * tuesday);
  });

  it("calls a live site steady at a failure (issue 25's goal row) only where each of its last weeks expects 15 queries in the next 15 min", () => {
    const fleet = simulate({ bouncers: 80, days: 1, seed: 6, failures: { perBouncer: 0 } }).fleet;
    let busy = 0;
    let quiet = 0;
    for (const b of fleet.bouncers.filter((x) => x.mode === 'live')) {
      // A Tuesday of the history (the run starts on a Monday): 14:00 and 03:00 the site's time.
      const local = (hour: number) => fleet.start - 6 * 24 * H + (hour - b.traffic!.utcOffsetH) * H;
      const truth = (t: number) => liveQueriesPerMin(b.traffic!, t + STEADY_WINDOW_MS / 2) * (STEADY_WINDOW_MS / 60_000);
      for (const t of [local(14), local(3)]) {
        const expected = expectedAfter(fleet, b, t)!;
        // Read from the fewest recorded an hour: never much above the truth (Poisson noise aside).
        expect(expected).toBeLessThan(truth(t) * 1.3 + 3);
        if (truth(t) >= 2 * STEADY_EXPECTED) {
          expect(steadyAt(fleet, b, t)).toBe(true);
          busy++;
        }
        if (truth(t) < STEADY_EXPECTED / 2) {
          expect(steadyAt(fleet, b, t)).toBe(false);
          quiet++;
        }
      }
    }
    expect(busy).toBeGreaterThan(3);
    expect(quiet).toBeGreaterThan(10);
  });

  for (const dialect of DIALECTS) {
    it(`tells what the real HealthEngine and Planner queue over ${dialect}, evaluating every 10 s`, async () => {
      const db = await freshDbUrl(dialect);
      try {
        const real = await simulateWithStore(SMALL, db.url);
        expect(canonical(real.told)).toEqual(canonical(sparse.told));
      } finally {
        await db.cleanup();
      }
    }, 600_000);
  }
});
