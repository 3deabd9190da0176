import type { Kysely, RawBuilder, Selectable, Transaction } from 'kysely';
import type { Decision, NewAlertWithDecisions } from '../../core/model/records.ts';
import type { Dialect } from '../dialect.ts';
import type { BouncersTable, Database, DecisionsTable } from '../schema.ts';

/**
 * What differs between SQLite and PostgreSQL, behind one interface (Kysely's DialectAdapter is the
 * model: capability flags and the few operations that differ). The repositories in src/store/ call
 * these and never ask which database they are on; sqlite-store-dialect.ts and
 * postgres-store-dialect.ts answer alike (store-dialect.test.ts runs the same operations on both).
 */
export interface StoreDialect {
  readonly name: Dialect;
  /** Small alert writes of one event-loop turn share one COMMIT (SQLite's single writer). */
  readonly groupsCommits: boolean;
  /** The hottest reads run as cached prepared statements on a second, read-only connection. */
  readonly preparedReads: boolean;
  /**
   * Statements run synchronously on the event loop (better-sqlite3): a long write stalls every
   * request, so long jobs (the retention purge) keep each transaction short and pause between them.
   */
  readonly writesOnEventLoop: boolean;

  /** The larger of a column (null read as 0) and a value: `greatest` on PostgreSQL, scalar `max` on SQLite. */
  later(column: string, value: number): RawBuilder<number>;
  /**
   * Inside `trx`, waits for every other transaction holding `key` (another replica's planner) to end:
   * an advisory lock on PostgreSQL; nothing on SQLite, which has one writer already.
   */
  lockForTransaction(trx: Transaction<Database>, key: number): Promise<void>;
  /**
   * Inside `trx` (bookkeeping only: last pulls, addresses, pull counts, refusals), lets its COMMIT
   * return before the WAL reaches the disk: `SET LOCAL synchronous_commit = off` on PostgreSQL;
   * nothing on SQLite, whose WAL with synchronous=NORMAL already commits without an fsync. Never
   * for decisions, alerts or registrations (store-db.ts `bookkeepingTransaction`).
   */
  skipWalFlush(trx: Transaction<Database>): Promise<void>;
  /**
   * Inside `trx`, takes `key` unless another transaction holds it (false then, without waiting):
   * `pg_try_advisory_xact_lock` on PostgreSQL; always true on SQLite (one writer).
   */
  tryLockForTransaction(trx: Transaction<Database>, key: number): Promise<boolean>;
  /**
   * Inside `trx`, deletes at most `limit` rows of `table` matching `where` and returns how many
   * (SQLite by rowid, PostgreSQL by ctid: neither has DELETE … LIMIT by default).
   */
  deleteLimited(trx: Transaction<Database>, table: string, where: RawBuilder<unknown>, limit: number): Promise<number>;
  /**
   * After a purge, makes the space its deletions freed reusable: on PostgreSQL, unless another
   * session holds `lockKey` (another replica purging or vacuuming: 'busy', without waiting), a
   * plain `VACUUM (ANALYZE, SKIP_LOCKED)` of `tables` outside any transaction (never VACUUM FULL,
   * which locks the table). SQLite reuses freed pages by itself: 'not-needed'.
   */
  vacuumTables(tables: readonly string[], lockKey: number): Promise<'vacuumed' | 'busy' | 'not-needed'>;

  /**
   * Gives a row with no address yet (`''`) this one, unless someone claimed it first; the row as it
   * now is. Bookkeeping: its COMMIT does not wait for the WAL flush (skipWalFlush).
   */
  claimBouncerAddress(id: number, ip: string, now: number): Promise<{ claimed: boolean; row: Selectable<BouncersTable> | undefined }>;
  /** Every bouncer row of an API key, oldest first (every pull of a key not seen for a second). */
  bouncerRowsByKeyHash(apiKeyHash: string): Promise<Selectable<BouncersTable>[]>;
  /** Decisions with `since <= until <= now` (no lower bound without `since`), by expiry then id. */
  expiredDecisionRows(now: number, since?: number): Promise<Selectable<DecisionsTable>[]>;
  /**
   * Active decisions (until > now) with ids above `afterId`, ascending, at most `limit`: the
   * decision index's first load, a page at a time. Their strings are not interned (the index keeps codes).
   */
  activeDecisionsPage(now: number, afterId: number, limit: number): Promise<Decision[]>;
  /** Decisions changed by a revision above `rev`, by id. */
  decisionRowsChangedSince(rev: number): Promise<Selectable<DecisionsTable>[]>;
  /** A row of vigil_counters, undefined when the store was not migrated by this version. */
  counter(name: 'decisions_rev' | 'bouncers_rev'): Promise<number | undefined>;

  /** Writes a burst of bouncer activity in one transaction; times and revisions only move forward. */
  applyBouncerActivity(batch: readonly BouncerActivity[], now: number): Promise<void>;
  /** Alerts and their decisions in one transaction under one new revision, and the machine's last push. */
  writeAlerts(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts>;
  /** Rewrites mirrored bouncer rows (vigil watch) inside `trx`. */
  updateBouncerRows(trx: Transaction<Database>, updates: readonly MirroredBouncerUpdate[], now: number): Promise<void>;

  /** Ends what the dialect opened beside Kysely (reader connection, checkpointer); the Store then destroys Kysely. */
  close(): Promise<void>;
}

/** The dialect's Kysely handle is the Store's; what a dialect is built from. */
export type DialectDb = Kysely<Database>;

/** What a burst of authenticated requests changed about one bouncer (written in batches). */
export interface BouncerActivity {
  id: number;
  lastPullAt?: number;
  lastPullRev?: number;
  lastRequestAt?: number;
  ipAddress?: string;
  type?: string;
  version?: string;
  /** null clears it (no steady cadence any more). */
  pullCadenceMs?: number | null;
}

/** The machine whose POST /v1/alerts this is: its last push is recorded in the same transaction. */
export interface AlertsPush {
  machineId: string;
  at: number;
}

/** What addAlerts stored: alert ids in order, the decisions as stored, and their revision. */
export interface WrittenAlerts {
  alertIds: number[];
  decisions: Decision[];
  rev: number;
}

/** A mirrored bouncer's row as CrowdSec's database has it now (store/bouncer-mirror.ts). */
export type MirroredBouncerUpdate = { id: number } & Pick<
  BouncersTable,
  'revoked' | 'ip_address' | 'type' | 'version' | 'auth_type' | 'created_at' | 'last_pull_at'
>;

/** Unique violations as each driver reports them (PostgreSQL's SQLSTATE, better-sqlite3's code). */
export function isUniqueViolationError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(err?.message ?? '');
}
