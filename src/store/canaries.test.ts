import { expect, it } from 'vitest';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import {
  CANARY_RUNS_KEPT,
  DRIFT_OBSERVATIONS_KEPT,
  canaryRuns,
  driftObservations,
  recordCanaryRun,
  recordDriftObservation,
  recordStreamFilters,
  streamFilters,
  type NewCanaryRun,
} from './canaries.ts';
import { passedCanaryRun } from '../../test/support/health-issues.ts';

const T0 = Date.UTC(2026, 10, 24, 4, 0, 0);

/** A failed run (the page still served, the decision pulled 412.6 ms in): fractional times are rounded when stored. */
const run = (over: Partial<NewCanaryRun> = {}): NewCanaryRun => {
  const { id: _, ...failed } = passedCanaryRun(T0, {
    finishedAt: T0 + 2500,
    verdict: 'fail',
    failedStep: 'check',
    summary: 'still serves',
    fix: 'check auth_request',
    decisionId: '12',
    answerStatus: 200,
    pulledAfterMs: 412.6,
    enforcedAfterMs: null,
    totalMs: 2500.4,
    steps: [{ step: 'check', ok: false, ms: 2000, detail: 'GET … → 200' }],
  });
  return { ...failed, ...over };
};

describeOnEachDialect('canary runs, stream filters, drift observations', (current) => {
  it('stores a run as given (times rounded) and lists newest first, per canary or per bouncer', async () => {
    const store = current();
    const id = await recordCanaryRun(store, run());
    await recordCanaryRun(store, run({ startedAt: T0 + 60_000, verdict: 'pass', failedStep: null, fix: null, answerStatus: 403, enforcedAfterMs: 500 }));
    await recordCanaryRun(store, run({ canary: 'other', bouncerName: 'caddy' }));
    const shop = await canaryRuns(store, { canary: 'shop' });
    expect(shop.map((r) => r.verdict)).toEqual(['pass', 'fail']);
    expect(shop[1]).toEqual({ ...run(), id, pulledAfterMs: 413, totalMs: 2500 });
    expect((await canaryRuns(store, { bouncerName: 'caddy' })).map((r) => r.canary)).toEqual(['other']);
    expect(await canaryRuns(store, { canary: 'shop', limit: 1 })).toHaveLength(1);
  });

  it(`keeps the newest ${CANARY_RUNS_KEPT} runs of a canary`, async () => {
    const store = current();
    for (let i = 0; i < CANARY_RUNS_KEPT + 3; i++) await recordCanaryRun(store, run({ startedAt: T0 + i }));
    await recordCanaryRun(store, run({ canary: 'other' }));
    const kept = await canaryRuns(store, { canary: 'shop', limit: 10_000 });
    expect(kept).toHaveLength(CANARY_RUNS_KEPT);
    expect(kept.at(-1)!.startedAt).toBe(T0 + 3);
    expect(await canaryRuns(store, { canary: 'other' })).toHaveLength(1);
  });

  it('stream filters: one row per bouncer, the latest wins', async () => {
    const store = current();
    await recordStreamFilters(store, [{ bouncerId: 1, seenAt: T0, filters: { scopes: ['ip', 'range'], dedup: true } }]);
    await recordStreamFilters(store, [
      { bouncerId: 1, seenAt: T0 + 1, filters: { scopes: ['ip'], origins: ['crowdsec'], dedup: true } },
      { bouncerId: 2, seenAt: T0 + 1, filters: { scopes: ['ip', 'range'], dedup: false } },
    ]);
    const f = await streamFilters(store);
    expect(f.get(1)).toEqual({ seenAt: T0 + 1, filters: { scopes: ['ip'], origins: ['crowdsec'], dedup: true } });
    expect(f.get(2)!.filters.dedup).toBe(false);
  });

  it(`drift: one observation per report, newest first, the newest ${DRIFT_OBSERVATIONS_KEPT} kept, deleted bouncers left out`, async () => {
    const store = current();
    const obs = (bouncerId: number, reportAt: number, reported: number) => ({
      bouncerId,
      bouncerName: '',
      reportAt,
      reported,
      expected: 9,
      byOrigin: { cscli: { reported: 0, expected: 5 } },
    });
    for (let i = 0; i < DRIFT_OBSERVATIONS_KEPT + 2; i++) await recordDriftObservation(store, obs(1, T0 + i, i), T0 + i + 10);
    // The same report again (two replicas): ignored.
    await recordDriftObservation(store, obs(1, T0 + DRIFT_OBSERVATIONS_KEPT + 1, 99), T0);
    await recordDriftObservation(store, obs(2, T0, 1), T0);
    await recordDriftObservation(store, obs(3, T0, 1), T0);
    const all = await driftObservations(
      store,
      new Map([
        [1, 'fw'],
        [2, 'nginx'],
      ]),
    );
    expect(all.map((l) => l[0]!.bouncerName)).toEqual(['fw', 'nginx']);
    expect(all[0]).toHaveLength(DRIFT_OBSERVATIONS_KEPT);
    expect(all[0]![0]).toEqual({ ...obs(1, T0 + DRIFT_OBSERVATIONS_KEPT + 1, DRIFT_OBSERVATIONS_KEPT + 1), bouncerName: 'fw' });
    expect(all[0]!.at(-1)!.reportAt).toBe(T0 + 2);
    expect((await driftObservations(store, new Map([[1, 'fw']]), 1))[0]).toHaveLength(1);
  });
});
