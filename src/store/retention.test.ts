import { beforeEach, describe, expect, it } from 'vitest';
import { freshDbUrl } from '../../test/support/databases.ts';
import { describeOnEachDialect } from '../../test/support/store-suites.ts';
import { DEFAULT_RETENTION, FIXED_BOUNDS, planRetention, type RetentionSettings } from '../core/retention/plan.ts';
import type { NewAlert, NewDecision } from '../core/model/records.ts';
import { addAlerts, expiredDecisions } from './decisions.ts';
import { purgeExpired, retentionRowCounts } from './retention.ts';
import { dbOf } from './store-db.ts';
import { Store } from './store.ts';
import { recordLapiStart } from './lapi-runs.ts';
import { PULL_HISTORY_KEPT_MS } from './pull-history.ts';
import { REFUSED_SUMMARIES_KEPT_MS } from './refused-summaries.ts';
import { WINDOWS_KEPT_MS } from './usage-log-processors.ts';
import { newAlert } from '../../test/support/alert-builders.ts';
import { newDecision } from '../../test/support/decision-builders.ts';
import { holdRetentionLock } from '../../test/support/retention-lock.ts';

const DAY = 24 * 3600_000;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const S: RetentionSettings = DEFAULT_RETENTION; // max_age 7d, max_items 5000, history 30d

const alert = (createdAt: number, scenario = 's'): NewAlert => newAlert(createdAt, { scenario, message: '' });
/** Two `vigil serve` runs started 90 days ago: `ended` stopped 60 days ago, `alive` still marks itself alive. */
const twoOldServeRuns = (store: Store, ended: string, alive: string) =>
  dbOf(store)
    .insertInto('lapi_starts')
    .values([
      { at: NOW - 90 * DAY, instance: ended, alive_until: NOW - 60 * DAY },
      { at: NOW - 90 * DAY, instance: alive, alive_until: NOW - 5_000 },
    ])
    .execute();
const decision = (value: string, until: number, createdAt = until - 3600_000): NewDecision => newDecision(value, until, { createdAt });

async function alertIds(store: Store): Promise<number[]> {
  return (await dbOf(store).selectFrom('alerts').select('id').orderBy('id').execute()).map((r) => Number(r.id));
}
async function decisionValues(store: Store): Promise<string[]> {
  return (await dbOf(store).selectFrom('decisions').select('value').orderBy('value').execute()).map((r) => r.value);
}

describe('fixed bounds', () => {
  it('the purge applies the same bounds as the writers that keep them', () => {
    expect(FIXED_BOUNDS.pullHoursMs).toBe(PULL_HISTORY_KEPT_MS);
    expect(FIXED_BOUNDS.refusedSummariesMs).toBe(REFUSED_SUMMARIES_KEPT_MS);
    expect(FIXED_BOUNDS.usageWindowsMs).toBe(WINDOWS_KEPT_MS);
  });
});

describeOnEachDialect('retention purge', (current, dialect) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  it('deletes decisions expired longer than max_age, and alerts past max_age with no decision left; nothing else', async () => {
    const cut = NOW - S.maxAgeMs;
    const written = await addAlerts(store, [
      // 0: old, its only decision expired at the cutoff exactly → both go.
      { alert: alert(cut - 2 * DAY), decisions: [decision('10.0.0.1', cut)] },
      // 1: old, its decision expired 1 ms after the cutoff (inside the window) → both stay.
      { alert: alert(cut - 2 * DAY), decisions: [decision('10.0.0.2', cut + 1)] },
      // 2: old, one decision long gone and one still active → the active one keeps the alert.
      { alert: alert(cut - 30 * DAY), decisions: [decision('10.0.0.3', cut - DAY), decision('10.0.0.4', NOW + DAY)] },
      // 3: old, no decision at all (an agent's alert without remediation) → goes.
      { alert: alert(cut - 1), decisions: [] },
      // 4: recent, no decision → stays (younger than max_age).
      { alert: alert(cut + 1), decisions: [] },
    ]);
    const outcome = await purgeExpired(store, planRetention(NOW, S));
    expect(outcome.busy).toBe(false);
    expect(outcome.complete).toBe(true);
    expect(outcome.deleted.decisions).toBe(2);
    expect(outcome.deleted.alerts).toBe(2);
    expect(await decisionValues(store)).toEqual(['10.0.0.2', '10.0.0.4']);
    const [a0, a1, a2, a3, a4] = written.alertIds;
    expect(await alertIds(store)).toEqual([a1, a2, a4]);
    expect([a0, a3]).not.toContain(a1);
    // A second run finds nothing more.
    const again = await purgeExpired(store, planRetention(NOW, S));
    expect(Object.values(again.deleted).every((n) => n === 0)).toBe(true);
  });

  it('max_items: alerts beyond the newest N go once no decision refers to them', async () => {
    const recent = NOW - 3600_000;
    const written = await addAlerts(store, [
      { alert: alert(recent), decisions: [] },
      { alert: alert(recent), decisions: [decision('10.0.1.1', NOW + DAY)] },
      { alert: alert(recent), decisions: [] },
      { alert: alert(recent), decisions: [] },
      { alert: alert(recent), decisions: [] },
    ]);
    const outcome = await purgeExpired(store, planRetention(NOW, { ...S, maxItems: 2 }));
    const ids = written.alertIds;
    // The newest two stay; of the older three, the one with an active decision stays too.
    expect(await alertIds(store)).toEqual([ids[1], ids[3], ids[4]]);
    expect(outcome.deleted.alerts).toBe(2);
  });

  it("trims Vigil's own tables to their bounds, keeping the running serve's row and what is inside each window", async () => {
    const db = dbOf(store);
    const hist = NOW - S.historyMaxAgeMs;
    const issue = (id: number, resolvedAt: number | null) => ({
      id,
      kind: 'k',
      criticality: 'warning',
      subject: `s${id}`,
      bouncer_name: null,
      opened_at: NOW - 60 * DAY,
      last_seen_at: NOW - 60 * DAY,
      resolved_at: resolvedAt,
      since: NOW - 60 * DAY,
      summary: '',
      evidence: '[]',
    });
    await db
      .insertInto('health_issues')
      .values([issue(1, hist - 1), issue(2, hist + 1), issue(3, null)])
      .execute();
    await db
      .insertInto('notify_acks')
      .values([1, 2].map((id) => ({ issue_id: id, reason: 'r', created_by: 'u', created_at: NOW - 40 * DAY })))
      .execute();
    const change = (at: number) => ({ bouncer_id: 1, at, field: 'version', old_value: 'a', new_value: 'b' });
    await db
      .insertInto('bouncer_changes')
      .values([change(hist), change(hist + 1)])
      .execute();
    await db
      .insertInto('bouncer_pull_hours')
      .values([
        { bouncer_id: 1, hour: NOW - FIXED_BOUNDS.pullHoursMs - 3600_000, pulls: 1 },
        { bouncer_id: 1, hour: NOW - FIXED_BOUNDS.pullHoursMs, pulls: 1 },
      ])
      .execute();
    const summary = (id: number, lastAt: number) => ({
      id,
      peer_ip: `192.0.2.${id}`,
      user_agent: 'ua',
      reason: 'bad-key',
      key_fingerprint: '',
      several_keys: 0,
      bouncer_name: '',
      method: 'GET',
      path: '/',
      first_at: lastAt,
      last_at: lastAt,
      count: 1,
    });
    await db
      .insertInto('refused_summaries')
      .values([summary(1, NOW - FIXED_BOUNDS.refusedSummariesMs - 1), summary(2, NOW - FIXED_BOUNDS.refusedSummariesMs)])
      .execute();
    const win = (receivedAt: number) => ({
      machine_id: 1,
      received_at: receivedAt,
      window_seconds: 1800,
      lines_read: 1,
      lines_parsed: 1,
      lines_unparsed: 0,
      sources: '{}',
    });
    await db
      .insertInto('machine_usage_windows')
      .values([win(NOW - FIXED_BOUNDS.usageWindowsMs - 1), win(NOW - FIXED_BOUNDS.usageWindowsMs)])
      .execute();
    // A serve started 90 days ago and still running: its row stays.
    await twoOldServeRuns(store, 'old', 'running');
    const outbox = (status: string, createdAt: number) => ({
      delivery_id: `${status}-${createdAt}`,
      channel: 'c',
      event: 'opened',
      content: '{}',
      created_at: createdAt,
      status,
      attempts: 1,
      next_attempt_at: createdAt,
      lease_owner: null,
      lease_until: null,
      last_error: null,
      answer: null,
      sent_at: null,
    });
    const old = NOW - FIXED_BOUNDS.notificationsMs - 1;
    await db
      .insertInto('notify_outbox')
      .values([outbox('sent', old), outbox('given_up', old), outbox('pending', old), outbox('sent', NOW - DAY)])
      .execute();
    await db
      .insertInto('dashboard_ended_sessions')
      .values([
        { session_id_sha256: 'a', expires_at: NOW },
        { session_id_sha256: 'b', expires_at: NOW + 1 },
      ])
      .execute();

    const outcome = await purgeExpired(store, planRetention(NOW, S));
    expect(outcome.deleted).toMatchObject({
      health_issues: 1,
      bouncer_changes: 1,
      bouncer_pull_hours: 1,
      refused_summaries: 1,
      machine_usage_windows: 1,
      lapi_starts: 1,
      notify_outbox: 2,
      dashboard_ended_sessions: 1,
    });
    expect((await db.selectFrom('health_issues').select('id').orderBy('id').execute()).map((r) => Number(r.id))).toEqual([2, 3]);
    expect((await db.selectFrom('notify_acks').select('issue_id').execute()).map((r) => Number(r.issue_id))).toEqual([2]);
    expect((await db.selectFrom('lapi_starts').select('instance').execute()).map((r) => r.instance)).toEqual(['running']);
    expect((await db.selectFrom('notify_outbox').select('status').orderBy('status').execute()).map((r) => r.status)).toEqual(['pending', 'sent']);
    const counts = await retentionRowCounts(store);
    expect(counts).toMatchObject({ bouncer_changes: 1, bouncer_pull_hours: 1, refused_summaries: 1, machine_usage_windows: 1, dashboard_ended_sessions: 1 });
  });

  it("a serve start prunes old runs but not another replica's run started over a month ago and still alive", async () => {
    const db = dbOf(store);
    await twoOldServeRuns(store, 'gone', 'still-serving');
    await recordLapiStart(store, NOW, 'new');
    expect((await db.selectFrom('lapi_starts').select('instance').orderBy('instance').execute()).map((r) => r.instance)).toEqual(['new', 'still-serving']);
  });

  it('works in batches of at most `batch` rows, pausing between them, and stops at its batch cap', async () => {
    const past = NOW - 30 * DAY;
    await addAlerts(store, [{ alert: alert(past), decisions: Array.from({ length: 250 }, (_, i) => decision(`10.1.${i >> 8}.${i & 255}`, past)) }]);
    let pauses = 0;
    const capped = await purgeExpired(store, planRetention(NOW, S), {
      batch: 100,
      targetBatchMs: Number.POSITIVE_INFINITY,
      maxBatches: 2,
      pause: async () => {
        pauses++;
      },
    });
    expect(capped).toMatchObject({ complete: false, batches: 2 });
    expect(capped.deleted.decisions).toBe(200);
    expect(pauses).toBe(2);
    const rest = await purgeExpired(store, planRetention(NOW, S), { batch: 100, targetBatchMs: Number.POSITIVE_INFINITY });
    expect(rest.complete).toBe(true);
    expect(rest.deleted.decisions).toBe(50);
    expect(rest.deleted.alerts).toBe(1);
  });

  it('a startup stream sends expired decisions only within max_age (as the purge keeps them)', async () => {
    await addAlerts(store, [{ alert: alert(NOW - 20 * DAY), decisions: [decision('10.2.0.1', NOW - 8 * DAY), decision('10.2.0.2', NOW - 6 * DAY)] }]);
    const sent = await expiredDecisions(store, NOW, NOW - S.maxAgeMs);
    expect(sent.map((d) => d.value)).toEqual(['10.2.0.2']);
  });

  it('a batch slower than its target halves the next one, a fast one doubles it (within 50 … batch)', async () => {
    const past = NOW - 30 * DAY;
    await addAlerts(store, [{ alert: alert(past), decisions: Array.from({ length: 700 }, (_, i) => decision(`10.5.${i >> 8}.${i & 255}`, past)) }]);
    // A fake stopwatch: every batch "takes" 30 ms against a 20 ms target.
    let t = 0;
    const outcome = await purgeExpired(store, planRetention(NOW, S), { batch: 400, targetBatchMs: 20, now: () => (t += 30) });
    // 400, 200, 100, then 50 (finding none): four batches where a fixed size takes two (400 + 300);
    // the twelve other steps take one each.
    expect(outcome.deleted.decisions).toBe(700);
    expect(outcome.batches).toBe(4 + 12);
    expect(outcome.longestBatchMs).toBe(30);
  });

  it.runIf(dialect === 'postgres')('while another replica holds the purge, this one stops at once and deletes nothing', async () => {
    const { url, cleanup } = await freshDbUrl(dialect);
    const [one, two] = [await Store.open(url), await Store.open(url)];
    try {
      await addAlerts(one, [{ alert: alert(NOW - 30 * DAY), decisions: [decision('10.4.0.1', NOW - 30 * DAY)] }]);
      const lock = await holdRetentionLock(two);
      const skipped = await purgeExpired(one, planRetention(NOW, S));
      expect(skipped).toMatchObject({ busy: true, batches: 0 });
      expect(skipped.deleted.decisions).toBe(0);
      await lock.release();
      const done = await purgeExpired(one, planRetention(NOW, S));
      expect(done).toMatchObject({ busy: false, complete: true });
      expect(done.deleted).toMatchObject({ decisions: 1, alerts: 1 });
    } finally {
      await one.close();
      await two.close();
      await cleanup();
    }
  });

  // Replicas share PostgreSQL only: a SQLite store belongs to one `vigil serve` (store_role).
  it.runIf(dialect === 'postgres')('two stores on the same database purging at once: each row deleted once, no error, no deadlock', async () => {
    const { url, cleanup } = await freshDbUrl(dialect);
    const [one, two] = [await Store.open(url), await Store.open(url)];
    try {
      const past = NOW - 30 * DAY;
      const rows = 5000;
      // Many alerts as well, so both steps (decisions, then alerts) see the two purges race.
      await addAlerts(
        one,
        Array.from({ length: 50 }, (_, a) => ({
          alert: alert(past),
          decisions: Array.from({ length: rows / 50 }, (_, i) => decision(`10.3.${a}.${i}`, past)),
        })),
      );
      const cutoffs = planRetention(NOW, S);
      const [a, b] = await Promise.all([purgeExpired(one, cutoffs, { batch: 200 }), purgeExpired(two, cutoffs, { batch: 200 })]);
      // Exactly once between them: a batch runs under the purge's lock, a purge that finds it taken stops.
      expect(a.deleted.decisions + b.deleted.decisions).toBe(rows);
      expect(a.deleted.alerts + b.deleted.alerts).toBe(50);
      expect(await retentionRowCounts(one)).toMatchObject({ decisions: 0, alerts: 0 });
    } finally {
      await one.close();
      await two.close();
      await cleanup();
    }
  });
});
