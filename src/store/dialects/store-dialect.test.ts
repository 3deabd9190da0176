import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl, type TestDialect } from '../../../test/support/databases.ts';
import type { NewAlert, NewDecision } from '../decisions.ts';
import { createBouncer, createAutoBouncer, getBouncer } from '../bouncers.ts';
import { softDeleteDecisions, toDecision } from '../decisions.ts';
import { dbOf, dialectOf } from '../store-db.ts';
import { Store } from '../store.ts';
import { isUniqueViolationError } from './store-dialect.ts';
import { newAlert } from '../../../test/support/alert-builders.ts';
import { newDecision } from '../../../test/support/decision-builders.ts';

// The same operations through StoreDialect on SQLite and on PostgreSQL must give the same answers:
// the repositories rely on it when they call the dialect instead of asking which database it is.

const T0 = Date.UTC(2026, 10, 24, 4, 0, 0);
const KEY = 'a'.repeat(128);

const alert = (machineId: string): NewAlert => newAlert(T0, { machineId, leakspeed: '0' });
const decision = (value: string, until: number): NewDecision => newDecision(value, until, { createdAt: T0 });

/** Runs every operation of the interface on a fresh store and returns what each answered. */
async function exercise(store: Store): Promise<Record<string, unknown>> {
  const dialect = dialectOf(store);
  const out: Record<string, unknown> = {};
  // Rows of one key, created out of name order: the answer is oldest first either way.
  await createBouncer(store, { name: 'zeta', apiKeyHash: KEY, now: T0 });
  await createAutoBouncer(store, { name: 'zeta@192.0.2.9', apiKeyHash: KEY, ip: '192.0.2.9', now: T0 + 1, authType: 'api-key' });
  await createBouncer(store, { name: 'alpha', apiKeyHash: 'b'.repeat(128), now: T0 });
  out.byKey = (await dialect.bouncerRowsByKeyHash(KEY)).map((r) => [r.id, r.name, r.ip_address]);
  out.byUnknownKey = await dialect.bouncerRowsByKeyHash('c'.repeat(128));

  // Activity: times and revisions only move forward, absent fields keep their value, null clears the cadence.
  const zeta = (await getBouncer(store, 'zeta'))!;
  await dialect.applyBouncerActivity(
    [{ id: zeta.id, lastPullAt: T0 + 50, lastPullRev: 7, lastRequestAt: T0 + 50, ipAddress: '192.0.2.1', pullCadenceMs: 10_000 }],
    T0 + 60,
  );
  await dialect.applyBouncerActivity([{ id: zeta.id, lastPullAt: T0 + 20, lastPullRev: 3, type: 'crowdsec-firewall-bouncer', pullCadenceMs: null }], T0 + 70);
  const z = (await getBouncer(store, 'zeta'))!;
  out.activity = [z.lastPullAt, z.lastPullRev, z.lastRequestAt, z.ipAddress, z.type, z.pullCadenceMs, z.updatedAt];

  // Alert writes: a small one (grouped on SQLite) and a large one told by progress, each its own revision.
  const progress: number[] = [];
  const [small, other] = await Promise.all([
    dialect.writeAlerts([{ alert: alert('m1'), decisions: [decision('198.51.100.1', T0 + 1000)] }]),
    dialect.writeAlerts([{ alert: alert('m2'), decisions: [decision('198.51.100.2', T0 + 10)] }]),
  ]);
  const big = await dialect.writeAlerts(
    [{ alert: alert('m3'), decisions: Array.from({ length: 2500 }, (_, i) => decision(`203.0.113.${i % 250}`, T0 + 5 + (i % 3))) }],
    (n) => progress.push(n),
  );
  out.writes = [small, other].map((w) => ({ alertIds: w.alertIds, rev: w.rev, decisions: w.decisions }));
  out.big = { alertIds: big.alertIds, rev: big.rev, count: big.decisions.length, last: big.decisions.at(-1) };
  out.progressEnds = progress.at(-1);
  // Every decision returned carries the id its row got (PostgreSQL inserts column arrays: same order).
  const bigRows = await dbOf(store).selectFrom('decisions').select(['id', 'value', 'until']).where('alert_id', '=', big.alertIds[0]!).orderBy('id').execute();
  out.bigRoundTrip =
    bigRows.every((r, i) => Number(r.id) === big.decisions[i]!.id && r.value === big.decisions[i]!.value && Number(r.until) === big.decisions[i]!.until) &&
    bigRows.length === 2500;
  out.decisionsRev = await dialect.counter('decisions_rev');
  out.bouncersRev = typeof (await dialect.counter('bouncers_rev'));

  await softDeleteDecisions(store, [small.decisions[0]!.id], T0 + 6);
  out.expired = (await dialect.expiredDecisionRows(T0 + 7)).map((r) => [r.id, r.value, r.until, r.deleted_at, r.rev]);
  out.expiredSince = (await dialect.expiredDecisionRows(T0 + 7, T0 + 6)).map((r) => r.id);
  out.changedSince = (await dialect.decisionRowsChangedSince(big.rev - 1)).map((r) => [r.id, r.rev]);

  // The index's first load, a page at a time: strings that change from row to row (and back) read
  // as the rows hold them, whatever the previous page ended on.
  const mixed = Array.from({ length: 7 }, (_, i) => ({
    ...decision(`192.0.2.${100 + i}`, T0 + 2000 + i),
    origin: i % 2 === 0 ? 'cscli' : 'crowdsec',
    type: i % 3 === 0 ? 'captcha' : 'ban',
    scope: i === 4 ? 'Range' : 'Ip',
    scenario: `s${i % 4}`,
  }));
  await dialect.writeAlerts([{ alert: alert('m4'), decisions: mixed }]);
  const paged: unknown[] = [];
  for (let afterId = 0; ; ) {
    const page = await dialect.activeDecisionsPage(T0 + 7, afterId, 3);
    paged.push(...page);
    if (page.length < 3) break;
    afterId = page[page.length - 1]!.id;
  }
  const everyActive = (
    await dbOf(store)
      .selectFrom('decisions')
      .selectAll()
      .where('until', '>', T0 + 7)
      .orderBy('id')
      .execute()
  ).map(toDecision);
  out.activePagesAsRows = JSON.stringify(paged) === JSON.stringify(everyActive);
  out.activePages = paged;

  // Mirrored rows rewritten in place; greatest/max inside a query; a transaction holding a lock.
  const alpha = (await getBouncer(store, 'alpha'))!;
  await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      await dialect.lockForTransaction(trx, 42);
      await dialect.updateBouncerRows(
        trx,
        [{ id: alpha.id, revoked: 1, ip_address: '10.0.0.1', type: 't', version: 'v1', auth_type: 'tls', created_at: T0 - 5, last_pull_at: T0 + 3 }],
        T0 + 80,
      );
    });
  const a = (await getBouncer(store, 'alpha'))!;
  out.mirrored = [a.revoked, a.ipAddress, a.type, a.version, a.authType, a.createdAt, a.lastPullAt, a.updatedAt];
  const later = await dbOf(store)
    .selectFrom('bouncers')
    .select((eb) => [eb.ref('name').as('name'), dialect.later('last_pull_at', T0 + 40).as('later')])
    .orderBy('id')
    .execute();
  out.later = later.map((r) => [r.name, Number(r.later)]);

  // A real unique violation from each driver is recognised; another error is not.
  const dup = await dbOf(store)
    .insertInto('vigil_meta')
    .values([
      { key: 'k', value: '1' },
      { key: 'k', value: '2' },
    ])
    .execute()
    .catch((e: unknown) => e);
  out.uniqueViolation = isUniqueViolationError(dup);
  out.otherError = isUniqueViolationError(new Error('connection refused'));
  out.flags = { preparedReads: typeof dialect.preparedReads, groupsCommits: typeof dialect.groupsCommits };
  return out;
}

async function answersOf(dialect: TestDialect): Promise<Record<string, unknown>> {
  const { url, cleanup } = await freshDbUrl(dialect);
  const store = await Store.open(url);
  try {
    return await exercise(store);
  } finally {
    await store.close();
    await cleanup();
  }
}

describe('StoreDialect', () => {
  it('answers alike on SQLite and PostgreSQL', async () => {
    const answers = new Map<TestDialect, Record<string, unknown>>();
    for (const d of DIALECTS) answers.set(d, await answersOf(d));
    const first = answers.get(DIALECTS[0]!)!;
    // What both must say, spelled out once, so the comparison below is not two equal wrongs.
    expect(first.byKey).toEqual([
      [1, 'zeta', ''],
      [2, 'zeta@192.0.2.9', '192.0.2.9'],
    ]);
    expect(first.byUnknownKey).toEqual([]);
    expect(first.activity).toEqual([T0 + 50, 7, T0 + 50, '192.0.2.1', 'crowdsec-firewall-bouncer', null, T0 + 70]);
    expect(first.progressEnds).toBe(2500);
    expect(first.bigRoundTrip).toBe(true);
    expect(first.mirrored).toEqual([true, '10.0.0.1', 't', 'v1', 'tls', T0 - 5, T0 + 3, T0 + 80]);
    expect(first.uniqueViolation).toBe(true);
    expect(first.otherError).toBe(false);
    expect(first.activePagesAsRows).toBe(true);
    // m2's (until T0 + 10) and the seven mixed ones: the rest expired or were deleted by T0 + 7.
    expect((first.activePages as unknown[]).length).toBe(1 + 7);
    for (const [d, a] of answers) expect(a, d).toEqual(first);
  }, 120_000);
});
