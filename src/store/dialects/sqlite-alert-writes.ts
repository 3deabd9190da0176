import type SqliteDatabase from 'better-sqlite3';
import type { Decision, NewAlertWithDecisions } from '../../core/model/records.ts';
import { nextTurn, runToEnd } from '../../lib/turns.ts';
import { storedDecision } from '../alert-rows.ts';
import { insertAlerts, rowsOf } from './sqlite-alert-insert.ts';
import { type BigWriteHooks, SqliteBigWriter } from './sqlite-big-writer.ts';
import type { AlertsPush, DialectDb, WrittenAlerts } from './store-dialect.ts';

/** A write of at most this many rows joins its turn's group commit instead of a transaction of its own. */
const GROUPED_ROWS = 1000;

/** SQLite's default wal_autocheckpoint (pages), restored after a big commit. */
export const AUTOCHECKPOINT_PAGES = 1000;
/**
 * How long after a big commit the connection's own autocheckpoint stays off: the background worker
 * (sqlite-checkpointer.ts, every 50 ms) copies the big write's frames meanwhile, on its thread.
 */
export const AUTOCHECKPOINT_PAUSE_MS = 2000;

interface QueuedWrite {
  batch: readonly NewAlertWithDecisions[];
  pushed: AlertsPush | undefined;
  resolve: (w: WrittenAlerts) => void;
  reject: (e: unknown) => void;
}

/**
 * SQLite's alert writes: prepared statements on Kysely's one connection, held for the whole
 * transaction so no other query runs inside it. A large write (a 100k import: one alert from
 * `cscli decisions import`) goes in slices with a turn of the event loop between them: all or
 * nothing, and pulls answered from memory still get through meanwhile. Small ones (every agent's
 * POST) are committed together with the others of the same turn (the group commit). In vigil serve
 * (a background checkpointer) a large write runs on a worker thread's connection instead
 * (sqlite-big-writer.ts): its COMMIT was the last long stall of the event loop.
 */
export class SqliteAlertWriter {
  readonly #db: DialectDb;
  readonly #sqlite: SqliteDatabase.Database;
  /** Small writes waiting for this turn's group commit. */
  #writeGroup: QueuedWrite[] = [];
  /** A background worker checkpoints this file (serve): a big commit may leave its frames to it. */
  readonly #checkpointsInBackground: boolean;
  /** Restores the autocheckpoint after a big commit; replaced by each one. */
  #resume: NodeJS.Timeout | undefined;
  /** Where big writes run with a background checkpointer (serve): a worker thread (sqlite-big-writer.ts). */
  readonly #bigWriter: SqliteBigWriter | undefined;
  /** For tests: told when a big write in the worker is about to COMMIT. */
  bigWriteHooks: BigWriteHooks = {};

  constructor(db: DialectDb, sqlite: SqliteDatabase.Database, opts: { checkpointsInBackground?: boolean } = {}) {
    this.#db = db;
    this.#sqlite = sqlite;
    this.#checkpointsInBackground = opts.checkpointsInBackground ?? false;
    if (this.#checkpointsInBackground && !sqlite.memory) {
      this.#bigWriter = new SqliteBigWriter(sqlite.name, Number(sqlite.pragma('busy_timeout', { simple: true })));
    }
  }

  /**
   * COMMIT of a big write (a 250k-decision import: 60 MB of WAL) ran the connection's autocheckpoint
   * inside the COMMIT call, copying the whole WAL into the database on the event loop that answers
   * bouncers: 80–180 ms in one piece (issue 27 item 5). With a background checkpointer the
   * autocheckpoint is paused around that commit and for AUTOCHECKPOINT_PAUSE_MS after it, so the
   * worker copies those frames on its own thread; the autocheckpoint then comes back as the WAL's
   * bound (it finds little left to copy). Without a worker (the CLI) nothing changes. The big write
   * itself then runs on the big-write worker, but the next small commit on this connection would
   * still checkpoint its frames: the pause covers it too.
   */
  #pauseAutocheckpoint(): void {
    this.#sqlite.pragma('wal_autocheckpoint = 0');
    clearTimeout(this.#resume);
  }

  #resumeAutocheckpointLater(): void {
    const db = this.#sqlite;
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    }, AUTOCHECKPOINT_PAUSE_MS);
    this.#resume.unref();
  }

  #commitBig(): void {
    const db = this.#sqlite;
    if (!this.#checkpointsInBackground) {
      db.exec('COMMIT');
      return;
    }
    this.#pauseAutocheckpoint();
    try {
      db.exec('COMMIT');
    } finally {
      this.#resumeAutocheckpointLater();
    }
  }

  /** Whether the connection's autocheckpoint is paused after a big commit (for tests). */
  get autocheckpointPaused(): boolean {
    return this.#resume !== undefined;
  }

  /** Ends the big-write worker and stops the pending restore (the store is closing). */
  async close(): Promise<void> {
    clearTimeout(this.#resume);
    this.#resume = undefined;
    await this.#bigWriter?.close();
  }

  /** Ends the big-write worker as a crash would (tests). */
  async crashBigWriterForTest(): Promise<void> {
    await this.#bigWriter?.crashForTest();
  }

  async write(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts> {
    let rows = 0;
    for (const x of batch) rows += rowsOf(x);
    if (onProgress === undefined && rows <= GROUPED_ROWS) return this.#grouped(batch, pushed);
    const big = this.#bigWriter;
    if (big) return await this.#db.connection().execute(async () => this.#writeInWorker(big, batch, onProgress, pushed));
    const db = this.#sqlite;
    return await this.#db.connection().execute(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const steps = this.#insert(batch, pushed);
        let reported = 0;
        let step = steps.next();
        for (; !step.done; step = steps.next()) {
          onProgress?.((reported = step.value));
          // Not fairTurn: the transaction holds the connection (every other query waits), so it goes first.
          await nextTurn();
        }
        const written = step.value;
        if (written.decisions.length !== reported) onProgress?.(written.decisions.length);
        // The COMMIT of a big write (~20 ms) in a turn of its own, not after the last slice.
        await nextTurn();
        this.#commitBig();
        return written;
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  /**
   * A big write on the worker's connection, while the caller holds this one (nothing else writes
   * on it meanwhile: a write here would wait busy_timeout for the worker's lock, on the event loop).
   */
  async #writeInWorker(
    big: SqliteBigWriter,
    batch: readonly NewAlertWithDecisions[],
    onProgress: ((done: number) => void) | undefined,
    pushed: AlertsPush | undefined,
  ): Promise<WrittenAlerts> {
    // A store refusing writes (store.ts refuseWrites: lost) refuses this one as well, in the worker.
    const queryOnly = Number(this.#sqlite.pragma('query_only', { simple: true })) === 1;
    this.#pauseAutocheckpoint();
    try {
      return await big.write(batch, { onProgress, pushed, queryOnly, hooks: this.bigWriteHooks });
    } finally {
      this.#resumeAutocheckpointLater();
    }
  }

  /**
   * Group commit: the small writes queued during one turn of the event loop share one transaction,
   * each in its own savepoint, so each is still all or nothing (a failing one is rolled back alone
   * and only its caller gets the error) and each has its own revision, in order. One COMMIT per
   * turn instead of one per POST: at 1,000 single-alert POSTs a second, COMMIT was a quarter of
   * the server's CPU (bench:alerts ALERTS_PER_POST=1).
   */
  #grouped(batch: readonly NewAlertWithDecisions[], pushed: AlertsPush | undefined): Promise<WrittenAlerts> {
    return new Promise((resolve, reject) => {
      this.#writeGroup.push({ batch, pushed, resolve, reject });
      if (this.#writeGroup.length === 1) setImmediate(() => void this.#commitGroup());
    });
  }

  async #commitGroup(): Promise<void> {
    const group = this.#writeGroup;
    this.#writeGroup = [];
    let outcomes: Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }>;
    try {
      outcomes = await this.#db.connection().execute(async () => this.#runGroup(group));
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    // In revision order, so each caller's index update follows the one before (DecisionSync.applyWritten).
    for (const [i, w] of group.entries()) {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.written);
      else w.reject(o.error);
    }
  }

  #runGroup(group: readonly QueuedWrite[]): Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }> {
    const db = this.#sqlite;
    const outcomes: Array<{ ok: true; written: WrittenAlerts } | { ok: false; error: unknown }> = [];
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const w of group) {
        db.exec('SAVEPOINT vigil_post');
        try {
          const written = runToEnd(this.#insert(w.batch, w.pushed));
          db.exec('RELEASE vigil_post');
          outcomes.push({ ok: true, written });
        } catch (error) {
          db.exec('ROLLBACK TO vigil_post');
          db.exec('RELEASE vigil_post');
          outcomes.push({ ok: false, error });
        }
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
    return outcomes;
  }

  /** The rows of one write on the event loop's connection (sqlite-alert-insert.ts), inside a transaction the caller holds. */
  *#insert(batch: readonly NewAlertWithDecisions[], pushed: AlertsPush | undefined): Generator<number, WrittenAlerts> {
    const stored: Decision[] = [];
    const { alertIds, rev } = yield* insertAlerts(this.#sqlite, batch, pushed, (d, id, alertId) => stored.push(storedDecision(d, id, alertId)));
    return { alertIds, decisions: stored, rev };
  }
}
