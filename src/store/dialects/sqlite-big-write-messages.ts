import type { NewAlertWithDecisions } from '../../core/model/records.ts';
import type { AlertsPush } from './store-dialect.ts';

/** What the event loop sends the big-write worker, per write (`id`). */
export type ToBigWriter =
  /** The next part of the batch, a few thousand rows: one structured clone of 250k decisions would block ~100 ms. */
  | { id: number; kind: 'alerts'; alerts: NewAlertWithDecisions[] }
  /** The batch is all there: write it. `queryOnly`: the event loop's connection refuses writes (a lost store). */
  | { id: number; kind: 'end'; pushed: AlertsPush | undefined; queryOnly: boolean }
  /** The stored decisions are built: COMMIT the write. */
  | { id: number; kind: 'commit' }
  /** The write was given up before its end (rolled back: nothing is written). */
  | { id: number; kind: 'drop' };

/** An error as it crosses the thread: its SQLite or Vigil `code` kept (507 for SQLITE_FULL, 503 for SQLITE_READONLY). */
export interface CrossedError {
  name: string;
  message: string;
  code: string | undefined;
  vigil: boolean;
}

/** What the worker answers. */
export type FromBigWriter =
  | { id: number; kind: 'progress'; done: number }
  /**
   * Inserted, not yet committed: the new ids, in the batch's order (decision ids as one transferred
   * array). The event loop builds its answer from them, then asks for the COMMIT.
   */
  | { id: number; kind: 'inserted'; alertIds: number[]; decisionIds: Float64Array; rev: number }
  /** COMMIT next (tests count the event loop's turns from here to `committed`). */
  | { id: number; kind: 'committing' }
  | { id: number; kind: 'committed' }
  /** Rolled back: nothing of it is in the store. */
  | { id: number; kind: 'failed'; error: CrossedError };
