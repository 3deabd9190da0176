import type { CanaryRun, CanaryStep, DriftObservation, StreamFilters } from '../core/health/enforcement.ts';
import { sql, type Kysely, type Selectable } from 'kysely';
import { newestFirst } from './newest-first.ts';
import type { CanaryRunsTable, Database } from './schema.ts';
import { bookkeepingTransaction, dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Proof of enforcement (migration 010; table types in schema.ts): canary runs, bouncers' stream
// filters, drift observations.

/** Runs kept per canary: at every 5 min, a week is ~2,000; the dashboard shows the latest. */
export const CANARY_RUNS_KEPT = 500;
/** Drift observations kept per bouncer: enough for a streak and a short history. */
export const DRIFT_OBSERVATIONS_KEPT = 20;

/**
 * Deletes the rows of one canary (or bouncer) past its newest `kept`: one statement on both
 * dialects (a subquery with no row compares with NULL and deletes nothing).
 */
async function keepNewest(
  db: Kysely<Database>,
  t: { table: 'canary_runs' | 'bouncer_drift_observations'; of: [column: string, value: string | number]; newestBy: string; kept: number },
): Promise<void> {
  const [column, value] = t.of;
  const where = sql`${sql.ref(column)} = ${value}`;
  await sql`DELETE FROM ${sql.table(t.table)} WHERE ${where} AND ${sql.ref(t.newestBy)} <= (
    SELECT ${sql.ref(t.newestBy)} FROM ${sql.table(t.table)} WHERE ${where} ORDER BY ${sql.ref(t.newestBy)} DESC LIMIT 1 OFFSET ${t.kept}
  )`.execute(db);
}

export type NewCanaryRun = Omit<CanaryRun, 'id'>;

export async function recordCanaryRun(store: Store, r: NewCanaryRun): Promise<number> {
  const db = dbOf(store);
  const row = await db
    .insertInto('canary_runs')
    .values({
      canary: r.canary,
      bouncer_name: r.bouncerName,
      url: r.url,
      address: r.address,
      expect: r.expect,
      started_at: r.startedAt,
      finished_at: r.finishedAt,
      verdict: r.verdict,
      failed_step: r.failedStep,
      summary: r.summary,
      fix: r.fix,
      decision_id: r.decisionId,
      decision_removed: r.decisionRemoved ? 1 : 0,
      answer_status: r.answerStatus,
      pulled_after_ms: r.pulledAfterMs === null ? null : Math.round(r.pulledAfterMs),
      enforced_after_ms: r.enforcedAfterMs === null ? null : Math.round(r.enforcedAfterMs),
      total_ms: Math.round(r.totalMs),
      steps: JSON.stringify(r.steps),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await keepNewest(db, { table: 'canary_runs', of: ['canary', r.canary], newestBy: 'id', kept: CANARY_RUNS_KEPT });
  return Number(row.id);
}

type RunRow = Selectable<CanaryRunsTable>;

const num = (v: number | null) => (v === null ? null : Number(v));

function toRun(r: RunRow): CanaryRun {
  return {
    id: Number(r.id),
    canary: r.canary,
    bouncerName: r.bouncer_name,
    url: r.url,
    address: r.address,
    expect: r.expect as CanaryRun['expect'],
    startedAt: Number(r.started_at),
    finishedAt: Number(r.finished_at),
    verdict: r.verdict as CanaryRun['verdict'],
    failedStep: r.failed_step as CanaryStep | null,
    summary: r.summary,
    fix: r.fix,
    decisionId: r.decision_id,
    decisionRemoved: Number(r.decision_removed) === 1,
    answerStatus: num(r.answer_status),
    pulledAfterMs: num(r.pulled_after_ms),
    enforcedAfterMs: num(r.enforced_after_ms),
    totalMs: Number(r.total_ms),
    steps: JSON.parse(r.steps) as CanaryRun['steps'],
  };
}

/** Newest first: one canary's runs, or every canary's of one bouncer. */
export async function canaryRuns(store: Store, where: { canary?: string; bouncerName?: string; limit?: number }): Promise<CanaryRun[]> {
  let q = dbOf(store).selectFrom('canary_runs').selectAll();
  if (where.canary !== undefined) q = q.where('canary', '=', where.canary);
  if (where.bouncerName !== undefined) q = q.where('bouncer_name', '=', where.bouncerName);
  const rows = await newestFirst(q, where.limit ?? 50);
  return rows.map(toRun);
}

/** The filters of each bouncer's last stream pull, recorded when they change. */
export async function recordStreamFilters(store: Store, rows: { bouncerId: number; seenAt: number; filters: StreamFilters }[]): Promise<void> {
  if (rows.length === 0) return;
  // By bouncer: two replicas writing the same bouncers lock them in the same order (no deadlock).
  const sorted = [...rows].sort((a, b) => a.bouncerId - b.bouncerId);
  await bookkeepingTransaction(store, async (trx) => {
    await trx
      .insertInto('bouncer_stream_filters')
      .values(sorted.map((r) => ({ bouncer_id: r.bouncerId, seen_at: r.seenAt, filters: JSON.stringify(r.filters) })))
      .onConflict((oc) => oc.column('bouncer_id').doUpdateSet((eb) => ({ seen_at: eb.ref('excluded.seen_at'), filters: eb.ref('excluded.filters') })))
      .execute();
  });
}

export async function streamFilters(store: Store): Promise<Map<number, { seenAt: number; filters: StreamFilters }>> {
  const rows = await dbOf(store).selectFrom('bouncer_stream_filters').selectAll().execute();
  return new Map(rows.map((r) => [Number(r.bouncer_id), { seenAt: Number(r.seen_at), filters: JSON.parse(r.filters) as StreamFilters }]));
}

/** One observation per report (again for the same report: ignored); keeps the newest DRIFT_OBSERVATIONS_KEPT. */
export async function recordDriftObservation(store: Store, o: DriftObservation, observedAt: number): Promise<void> {
  const db = dbOf(store);
  await db
    .insertInto('bouncer_drift_observations')
    .values({
      bouncer_id: o.bouncerId,
      report_at: o.reportAt,
      observed_at: observedAt,
      reported: o.reported,
      expected: o.expected,
      by_origin: JSON.stringify(o.byOrigin),
    })
    .onConflict((oc) => oc.columns(['bouncer_id', 'report_at']).doNothing())
    .execute();
  await keepNewest(db, { table: 'bouncer_drift_observations', of: ['bouncer_id', o.bouncerId], newestBy: 'report_at', kept: DRIFT_OBSERVATIONS_KEPT });
}

/** Every bouncer's latest observations, newest first; `names` gives each its current name. */
export async function driftObservations(store: Store, names: Map<number, string>, perBouncer = DRIFT_OBSERVATIONS_KEPT): Promise<DriftObservation[][]> {
  const rows = await dbOf(store).selectFrom('bouncer_drift_observations').selectAll().orderBy('bouncer_id').orderBy('report_at', 'desc').execute();
  const out = new Map<number, DriftObservation[]>();
  for (const r of rows) {
    const id = Number(r.bouncer_id);
    const name = names.get(id);
    // A deleted bouncer's observations raise nothing.
    if (name === undefined) continue;
    let list = out.get(id);
    if (!list) out.set(id, (list = []));
    if (list.length >= perBouncer) continue;
    list.push({
      bouncerId: id,
      bouncerName: name,
      reportAt: Number(r.report_at),
      reported: Number(r.reported),
      expected: Number(r.expected),
      byOrigin: JSON.parse(r.by_origin),
    });
  }
  return [...out.values()];
}
