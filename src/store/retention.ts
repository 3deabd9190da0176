import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { RetentionCutoffs } from '../core/retention/plan.ts';
import type { Database } from './schema.ts';
import { dbOf, dialectOf } from './store-db.ts';
import type { Store } from './store.ts';

// The retention purge (CrowdSec's db_config.flush, and Vigil's own tables): what
// core/retention/plan.ts names past its window goes, a small batch per transaction.

/** Arbitrary constant naming "the retention purge" among PostgreSQL advisory locks (the planner's is 'vign'). */
export const RETENTION_LOCK = 0x76_69_67_72; // 'vigr'
/** Rows per transaction: a batch holds SQLite's write lock (or PostgreSQL's row locks) for a few ms, never long enough to stall pulls. */
export const RETENTION_BATCH = 1000;
/** Batches per run at most; a larger backlog is taken up by the next runs. */
const MAX_BATCHES_PER_RUN = 1000;
/**
 * On SQLite, a batch that took longer than this halves the next one (down to MIN_BATCH), one that
 * took under half of it doubles it (up to `batch`): on a busy host its single writer, which runs on
 * the event loop, then never keeps a pull waiting much longer than this.
 */
const TARGET_BATCH_MS = 20;
const MIN_BATCH = 50;

/** The tables the purge trims, as the job reports them. */
export const RETENTION_TABLES = [
  'decisions',
  'alerts',
  'health_issues',
  'bouncer_changes',
  'bouncer_pull_hours',
  'refused_summaries',
  'machine_usage_windows',
  'lapi_starts',
  'notify_outbox',
  'notify_issue_state',
  'notify_silences',
  'dashboard_ended_sessions',
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

export interface RetentionOutcome {
  /** Rows deleted per table by this run. */
  deleted: Record<RetentionTable, number>;
  /** Another replica held the purge: this one stopped at once, leaving the rest to it. */
  busy: boolean;
  /** False when the run stopped at its batch cap with rows still past their window. */
  complete: boolean;
  batches: number;
  /** The longest single batch (transaction), ms: what a pull could have waited behind on SQLite. */
  longestBatchMs: number;
}

export interface PurgeOptions {
  batch?: number;
  maxBatches?: number;
  /**
   * Between batches, given how long the last one took: lets pulls and writes waiting on the store go
   * first. Default: a timer as long as the batch (at most 50 ms), so the purge holds SQLite's writer
   * (and the event loop it runs on) at most half the time; a pull needs a few turns to be answered.
   */
  pause?: (tookMs: number) => Promise<void>;
  /** Milliseconds for longestBatchMs (performance.now by default). */
  now?: () => number;
  /** Batches are resized to take about this long (TARGET_BATCH_MS); Infinity keeps `batch`. */
  targetBatchMs?: number;
  /** Asked before each batch: true ends the run there (serve is stopping). */
  stopping?: () => boolean;
}

type Trx = Transaction<Database>;
/** Deletes at most `limit` rows of one table's expired part; returns how many (0: that part is done). */
type Step = (trx: Trx, limit: number) => Promise<number>;

/**
 * Deletes everything past `cutoffs`, table by table, at most `batch` rows per transaction, with
 * `pause` between transactions. Each transaction first tries the purge's advisory lock: on
 * PostgreSQL one replica purges at a time and another that finds it taken stops at once (no
 * waiting, no double work, no deadlock between two purges: crowdsecurity/crowdsec#3233, #4432).
 */
export async function purgeExpired(store: Store, cutoffs: RetentionCutoffs, opts: PurgeOptions = {}): Promise<RetentionOutcome> {
  const db = dbOf(store);
  const dialect = dialectOf(store);
  // PostgreSQL runs beside the event loop and its readers never wait for a delete (MVCC): full
  // batches, one turn between them. SQLite's statements run on the event loop: short ones, paused.
  const onLoop = dialect.writesOnEventLoop;
  const batch = opts.batch ?? RETENTION_BATCH;
  const target = opts.targetBatchMs ?? (onLoop ? TARGET_BATCH_MS : Number.POSITIVE_INFINITY);
  let size = batch;
  const maxBatches = opts.maxBatches ?? MAX_BATCHES_PER_RUN;
  const pause =
    opts.pause ?? ((took: number) => new Promise<void>((resolve) => (onLoop ? setTimeout(resolve, Math.min(Math.max(took, 1), 50)) : setImmediate(resolve))));
  const clock = opts.now ?? (() => performance.now());
  const deleted = Object.fromEntries(RETENTION_TABLES.map((t) => [t, 0])) as Record<RetentionTable, number>;
  const outcome: RetentionOutcome = { deleted, busy: false, complete: true, batches: 0, longestBatchMs: 0 };
  // CrowdSec's max_items: alerts below the newest N ids (ids only grow) go once they hold no decision.
  const newest = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  const alertIdAtMost = newest?.id == null ? 0 : Number(newest.id) - cutoffs.alertsMaxItems;

  const steps = planSteps(cutoffs, alertIdAtMost, (table, where) => (trx, limit) => dialect.deleteLimited(trx, table, where, limit));
  for (const [table, step] of steps) {
    for (;;) {
      if (outcome.batches >= maxBatches || opts.stopping?.()) {
        outcome.complete = false;
        return outcome;
      }
      const started = clock();
      const n = await db.transaction().execute(async (trx) => {
        if (!(await dialect.tryLockForTransaction(trx, RETENTION_LOCK))) return -1;
        return await step(trx, size);
      });
      const took = clock() - started;
      outcome.longestBatchMs = Math.max(outcome.longestBatchMs, took);
      if (n < 0) {
        outcome.busy = true;
        return outcome;
      }
      outcome.batches++;
      deleted[table] += n;
      if (n < size) break;
      if (took > target) size = Math.max(MIN_BATCH, Math.floor(size / 2));
      else if (took < target / 2) size = Math.min(batch, size * 2);
      await pause(took);
    }
  }
  return outcome;
}

/** Each table's step, in order: decisions before alerts, so the alerts they emptied go in the same run. */
function planSteps(c: RetentionCutoffs, alertIdAtMost: number, limited: (table: string, where: RawBuilder<unknown>) => Step): Array<[RetentionTable, Step]> {
  const noDecisionLeft = sql`NOT EXISTS (SELECT 1 FROM decisions WHERE decisions.alert_id = alerts.id)`;
  return [
    // Expired for longer than max_age: every bouncer that pulled since has had it under `deleted`.
    ['decisions', limited('decisions', sql`until <= ${c.decisionsExpiredBy}`)],
    // CrowdSec deletes an alert with its expired decisions (a cascade); here an alert waits for its
    // last decision to leave the window, so no bouncer misses a deletion because an alert was old.
    ['alerts', limited('alerts', sql`created_at <= ${c.alertsCreatedBy} AND ${noDecisionLeft}`)],
    ['alerts', limited('alerts', sql`id <= ${alertIdAtMost} AND ${noDecisionLeft}`)],
    ['health_issues', (trx, limit) => deleteResolvedIssues(trx, c.resolvedIssuesBy, limit)],
    ['bouncer_changes', limited('bouncer_changes', sql`at <= ${c.bouncerChangesBy}`)],
    ['bouncer_pull_hours', limited('bouncer_pull_hours', sql`hour < ${c.pullHoursBefore}`)],
    ['refused_summaries', limited('refused_summaries', sql`last_at < ${c.refusedSummariesBefore}`)],
    ['machine_usage_windows', limited('machine_usage_windows', sql`received_at < ${c.usageWindowsBefore}`)],
    // A run still alive (this one) keeps its row whatever its start.
    ['lapi_starts', limited('lapi_starts', sql`coalesce(alive_until, at) < ${c.lapiRunsBefore}`)],
    // As the notification planner prunes (src/notify/planner.ts), also when no channel runs it.
    ['notify_outbox', limited('notify_outbox', sql`status <> 'pending' AND created_at < ${c.notificationsBefore}`)],
    ['notify_issue_state', limited('notify_issue_state', sql`resolve_queued_at < ${c.notificationsBefore}`)],
    ['notify_silences', limited('notify_silences', sql`ends_at < ${c.notificationsBefore}`)],
    ['dashboard_ended_sessions', limited('dashboard_ended_sessions', sql`expires_at <= ${c.endedSessionsBy}`)],
  ];
}

/** Resolved issues past the history window, with their acknowledgements and announcement state. */
async function deleteResolvedIssues(trx: Trx, resolvedBy: number, limit: number): Promise<number> {
  const ids = (
    await trx
      .selectFrom('health_issues')
      .select('id')
      .where('resolved_at', 'is not', null)
      .where('resolved_at', '<=', resolvedBy)
      .orderBy('id')
      .limit(limit)
      .execute()
  ).map((r) => Number(r.id));
  if (ids.length === 0) return 0;
  await trx.deleteFrom('notify_acks').where('issue_id', 'in', ids).execute();
  await trx.deleteFrom('notify_issue_state').where('issue_id', 'in', ids).execute();
  const res = await trx.deleteFrom('health_issues').where('id', 'in', ids).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Vacuums purged `tables` (PostgreSQL) on the replica that gets the purge's lock, outside any
 * transaction: 'busy' when another replica holds it, 'not-needed' on SQLite (the freelist reuses
 * the pages). Without it the dead rows and emptied index pages of a steady purge wait for
 * autovacuum's 20 % threshold and the database keeps growing (docs/retention.md).
 */
export async function vacuumPurgedTables(store: Store, tables: readonly string[]): Promise<'vacuumed' | 'busy' | 'not-needed'> {
  return await dialectOf(store).vacuumTables(tables, RETENTION_LOCK);
}

/** Rows per table now: what the retention bench prints and the purge tests compare. */
export async function retentionRowCounts(store: Store): Promise<Record<RetentionTable, number>> {
  const db = dbOf(store);
  const out = {} as Record<RetentionTable, number>;
  for (const t of RETENTION_TABLES) {
    const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(t)}`.execute(db);
    out[t] = Number(rows[0]?.n ?? 0);
  }
  return out;
}
