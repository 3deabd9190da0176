import fs from 'node:fs';
import type { Decision, NewAlertWithDecisions } from '../../core/model/records.ts';
import { VigilError, type VigilErrorCode } from '../../lib/errors.ts';
import { nextTurn } from '../../lib/turns.ts';
import { OnDemandWorker } from '../../lib/on-demand-worker.ts';
import { storedDecision } from '../alert-rows.ts';
import { rowsOf } from './sqlite-alert-insert.ts';
import type { CrossedError, FromBigWriter, ToBigWriter } from './sqlite-big-write-messages.ts';
import type { AlertsPush, WrittenAlerts } from './store-dialect.ts';

/** The worker's module beside this one: .ts in a checkout (type stripping), .js in the built package. */
const WORKER_FILE = new URL(import.meta.url.endsWith('.ts') ? './sqlite-big-write-worker.ts' : './sqlite-big-write-worker.js', import.meta.url);

/** Rows (sqlite-alert-insert.ts rowsOf) handed to the worker per turn: a millisecond or two to clone. */
const HAND_OVER_ROWS = 4000;
/** Stored decisions built per turn from the ids the worker sends back. */
const BUILD_SLICE = 5000;

/** Hooks for tests: the worker reports it is about to COMMIT, then that it has committed. */
export interface BigWriteHooks {
  committing?: () => void;
  committed?: () => void;
}

/**
 * Big SQLite alert writes (an import, 1,000 × 250 decisions) run on a worker thread with its own
 * connection to the store file, BEGIN IMMEDIATE to COMMIT: on the event loop their COMMIT alone
 * took 20–160 ms of CPU in one call (issue 27 item 5). The caller holds Kysely's connection
 * meanwhile, so nothing else writes on the event loop's connection (it would wait busy_timeout for
 * the worker's lock, blocking the loop). The batch goes over a few thousand rows per turn; the
 * answer comes back as ids. A worker that dies fails the write in it (500) and the next write
 * starts a new one.
 */
export class SqliteBigWriter {
  readonly #file: string;
  readonly #busyTimeoutMs: number;
  /** The store file as the event loop's connection opened it: a worker connects only to that one. */
  readonly #identity: { dev: number; ino: number };
  readonly #thread: OnDemandWorker<ToBigWriter, FromBigWriter>;
  #nextId = 1;
  /** The write in the worker (the caller's held connection makes it one at a time). */
  #waiting: { id: number; onMessage: (m: FromBigWriter) => void; fail: (e: Error) => void } | undefined;

  constructor(file: string, busyTimeoutMs: number) {
    this.#file = file;
    this.#busyTimeoutMs = busyTimeoutMs;
    const st = fs.statSync(file);
    this.#identity = { dev: st.dev, ino: st.ino };
    this.#thread = new OnDemandWorker({
      name: 'store big-write worker',
      file: WORKER_FILE,
      options: { workerData: { file: this.#file, busyTimeoutMs: this.#busyTimeoutMs, identity: this.#identity } },
      onMessage: (m) => {
        if (this.#waiting?.id === m.id) this.#waiting.onMessage(m);
      },
      onEnd: (e) => {
        this.#waiting?.fail(e);
        this.#waiting = undefined;
      },
    });
  }

  /**
   * Writes the batch in one transaction on the worker (all or nothing). `queryOnly`: the event
   * loop's connection refuses writes (store.ts refuseWrites), so the worker's does too.
   */
  async write(
    batch: readonly NewAlertWithDecisions[],
    opts: { onProgress?: (done: number) => void; pushed?: AlertsPush; queryOnly: boolean; hooks?: BigWriteHooks },
  ): Promise<WrittenAlerts> {
    const id = this.#nextId++;
    const worker = this.#thread.started();
    let reported = 0;
    // Held while a write is in it, never when idle (`vigil serve` ends when its server does).
    worker.ref();
    const inserted = Promise.withResolvers<Extract<FromBigWriter, { kind: 'inserted' }>>();
    const committed = Promise.withResolvers<void>();
    const fail = (e: Error) => {
      inserted.reject(e);
      committed.reject(e);
    };
    this.#waiting = {
      id,
      fail,
      onMessage: (m) => {
        if (m.kind === 'progress') opts.onProgress?.((reported = m.done));
        else if (m.kind === 'inserted') inserted.resolve(m);
        else if (m.kind === 'committing') opts.hooks?.committing?.();
        else if (m.kind === 'committed') {
          opts.hooks?.committed?.();
          committed.resolve();
        } else fail(rebuilt(m.error));
      },
    };
    // Not rejected unhandled while the hand-over still runs: the error is thrown below.
    inserted.promise.catch(() => {});
    committed.promise.catch(() => {});
    try {
      let part: NewAlertWithDecisions[] = [];
      let rows = 0;
      for (const x of batch) {
        part.push(x);
        rows += rowsOf(x);
        if (rows < HAND_OVER_ROWS) continue;
        this.#thread.post(worker, { id, kind: 'alerts', alerts: part }, 'write');
        part = [];
        rows = 0;
        // Not fairTurn: the caller holds the connection (every other query waits), so it goes first.
        await nextTurn();
      }
      if (part.length > 0) this.#thread.post(worker, { id, kind: 'alerts', alerts: part }, 'write');
      this.#thread.post(worker, { id, kind: 'end', pushed: opts.pushed, queryOnly: opts.queryOnly }, 'write');
      const written = await inserted.promise;
      const decisions: Decision[] = [];
      for (const [i, { decisions: sent }] of batch.entries()) {
        const alertId = written.alertIds[i]!;
        for (const d of sent) {
          decisions.push(storedDecision(d, written.decisionIds[decisions.length]!, alertId));
          if (decisions.length % BUILD_SLICE === 0) await nextTurn();
        }
      }
      if (decisions.length !== reported) opts.onProgress?.(decisions.length);
      // Built before the COMMIT, so the answer goes back in the turn the COMMIT is heard of: a
      // periodic refresh of the decision index (decision-sync.ts) that saw the new revision first
      // would read all of it back from the store (a 250k-decision write: 470 ms in one piece).
      this.#thread.post(worker, { id, kind: 'commit' }, 'write');
      await committed.promise;
      return { alertIds: written.alertIds, decisions, rev: written.rev };
    } catch (e) {
      if (this.#thread.isCurrent(worker)) worker.postMessage({ id, kind: 'drop' } satisfies ToBigWriter);
      throw e;
    } finally {
      if (this.#waiting?.id === id) this.#waiting = undefined;
      worker.unref();
    }
  }

  /** Ends the worker (the store is closing); a write still in it fails, its transaction rolled back. */
  async close(): Promise<void> {
    await this.#thread.close();
  }

  /** Ends the worker as a crash would (tests: the write in it fails, the next one starts a new worker). */
  async crashForTest(): Promise<void> {
    await this.#thread.close();
  }
}

/** The worker's error on this thread, its code kept: http-errors.ts and lib/disk-full.ts map by code. */
function rebuilt(e: CrossedError): Error {
  if (e.vigil && e.code !== undefined) return new VigilError(e.code as VigilErrorCode, e.message);
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}
