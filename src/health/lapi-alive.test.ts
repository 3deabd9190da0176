import { expect, it } from 'vitest';
import { freshDbUrl } from '../../test/support/databases.ts';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { Store } from '../store/store.ts';
import { ManualClock } from '../lib/clock.ts';
import { hashApiKey } from '../core/bouncers/api-key.ts';
import { DEFAULT_RULES } from '../core/health/evaluate.ts';
import { lapiRuns, recordLapiStart } from '../store/lapi-runs.ts';
import { LapiAlive } from './lapi-alive.ts';
import { HealthEngine } from './engine.ts';
import { applyBouncerActivity, createBouncer, listBouncers } from '../store/bouncers.ts';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const S = 1000;
const MIN = 60_000;

describeOnEachDialect("Local API runs and Vigil's own downtime", (current, dialect) => {
  it('each run marks itself alive; the gap to the next start is downtime, none while a replica was alive', async () => {
    const store = current();
    const clock = new ManualClock(T0);
    // Replica A, and replica B started a minute later on the same store.
    const a = await LapiAlive.start(store, clock, 3600_000);
    clock.advance(MIN);
    const b = await LapiAlive.start(store, clock, 3600_000);
    clock.advance(MIN);
    await a.mark();
    await a.stop(); // A restarts; B still serves
    clock.advance(30 * S);
    const a2 = await LapiAlive.start(store, clock, 3600_000);
    clock.advance(MIN);
    await a2.stop();
    await b.stop(); // both stopped at T0 + 3.5 min
    clock.advance(12 * MIN);
    const a3 = await LapiAlive.start(store, clock, 3600_000);
    try {
      expect((await lapiRuns(store, T0)).map(({ startedAt, aliveUntil }) => ({ startedAt, aliveUntil }))).toEqual([
        { startedAt: T0, aliveUntil: T0 + 2 * MIN },
        { startedAt: T0 + MIN, aliveUntil: T0 + 3 * MIN + 30 * S },
        { startedAt: T0 + 2 * MIN + 30 * S, aliveUntil: T0 + 3 * MIN + 30 * S },
        { startedAt: T0 + 15 * MIN + 30 * S, aliveUntil: T0 + 15 * MIN + 30 * S },
      ]);
      const engine = new HealthEngine(store, clock, DEFAULT_RULES);
      expect((await engine.snapshot(clock.now())).downtime).toEqual([{ from: T0 + 3 * MIN + 30 * S, to: T0 + 15 * MIN + 30 * S }]);
      // The run this process serves is alive now, whatever its last mark says: another replica
      // starting an hour after that mark is no gap.
      clock.advance(3600_000);
      await recordLapiStart(store, clock.now(), 'another-replica');
      expect((await engine.snapshot(clock.now())).downtime).toEqual([{ from: T0 + 3 * MIN + 30 * S, to: T0 + 15 * MIN + 30 * S }]);
    } finally {
      await a3.stop();
    }
  });

  it('two replicas, each with its own connection to one database: a restart of one while the other serves forgives nothing', async () => {
    const { url, cleanup } = await freshDbUrl(dialect);
    const [storeA, storeB] = [await Store.open(url), await Store.open(url)];
    const clock = new ManualClock(T0);
    try {
      const a = await LapiAlive.start(storeA, clock, 3600_000);
      const b = await LapiAlive.start(storeB, clock, 3600_000);
      const bouncer = await createBouncer(storeA, { name: 'custom', apiKeyHash: hashApiKey('k'), now: T0 });
      await applyBouncerActivity(storeA, [{ id: bouncer.id, lastPullAt: T0, pullCadenceMs: 10_000 }], T0);
      // A is upgraded (down 5 min) while B serves: the bouncer, which pulls from A, is judged by the wall clock.
      clock.set(T0 + 5 * S);
      await a.stop();
      clock.set(T0 + 5 * MIN);
      const a2 = await LapiAlive.start(storeA, clock, 3600_000);
      await b.mark();
      const engine = new HealthEngine(storeA, clock, DEFAULT_RULES);
      expect((await engine.evaluateNow()).opened.map((i) => i.kind)).toEqual(['integration_late']);
      // Then both are down for 20 min: only that is downtime.
      clock.set(T0 + 6 * MIN);
      await a2.stop();
      await b.stop();
      clock.set(T0 + 26 * MIN);
      const a3 = await LapiAlive.start(storeA, clock, 3600_000);
      expect((await engine.snapshot(clock.now())).downtime).toEqual([{ from: T0 + 6 * MIN, to: T0 + 26 * MIN }]);
      await a3.stop();
    } finally {
      await storeA.close();
      await storeB.close();
      await cleanup();
    }
  });

  it('a 10 s bouncer whose last pull was just before a 12 min outage raises nothing after the start, and is raised if it stays silent', async () => {
    const store = current();
    const clock = new ManualClock(T0);
    const run = await LapiAlive.start(store, clock, 3600_000);
    const bouncer = await createBouncer(store, { name: 'custom', apiKeyHash: hashApiKey('k'), now: T0 });
    await applyBouncerActivity(store, [{ id: bouncer.id, lastPullAt: T0 + 2 * MIN, pullCadenceMs: 10_000 }], T0 + 2 * MIN);
    clock.set(T0 + 2 * MIN + 5 * S);
    await run.stop();
    clock.set(T0 + 14 * MIN);
    const next = await LapiAlive.start(store, clock, 3600_000);
    try {
      const engine = new HealthEngine(store, clock, DEFAULT_RULES);
      clock.advance(10 * S);
      expect((await engine.evaluateNow()).opened).toEqual([]);
      expect((await listBouncers(store))[0]!.pullCadenceMs).toBe(10_000);
      // Still silent: 5 s before the outage + 116 s after it is past the 2 min late threshold.
      clock.set(T0 + 14 * MIN + 115 * S);
      expect((await engine.evaluateNow()).opened).toEqual([]);
      clock.set(T0 + 14 * MIN + 116 * S);
      expect((await engine.evaluateNow()).opened.map((i) => `${i.kind}:${i.since}`)).toEqual([`integration_late:${T0 + 2 * MIN}`]);
    } finally {
      await next.stop();
    }
  });
});
