import type { Decision } from '../core/model/records.ts';
import { decisionsRev, expiredDecisions } from '../store/decisions.ts';
import type { Store } from '../store/store.ts';

/**
 * Requests that arrive together share one store read: while a read runs, newcomers wait for the
 * next one, which starts after they all arrived, so every answer is as fresh as a read of its own.
 * On PostgreSQL a delta pull was two round trips (the decisions revision, the decisions expired
 * since its last pull): 1,000 pulls/s were 2,000 queries/s through a pool of 10 (issue 28).
 */
export class BatchedRead<A, R> {
  readonly #run: (args: A[]) => Promise<R[]>;
  #queue: Array<{ arg: A; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  #running = false;

  /** `run` answers every argument of one batch, in order. */
  constructor(run: (args: A[]) => Promise<R[]>) {
    this.#run = run;
  }

  read(arg: A): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ arg, resolve, reject });
      if (!this.#running) void this.#next();
    });
  }

  async #next(): Promise<void> {
    // Bounded: each turn takes the whole queue; it ends when a read finds nobody waiting.
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      this.#running = true;
      try {
        const out = await this.#run(batch.map((b) => b.arg));
        for (const [i, b] of batch.entries()) b.resolve(out[i]!);
      } catch (e) {
        for (const b of batch) b.reject(e);
      } finally {
        this.#running = false;
      }
    }
  }
}

/** What a delta pull reads from the store, shared between the pulls in flight (PostgreSQL). */
export interface PullReads {
  decisionsRev(): Promise<number>;
  /** Decisions that expired within [since, at]. */
  expiredSince(at: number, since: number): Promise<Decision[]>;
}

/**
 * The pull reads, each through a BatchedRead. `call` bounds each read (the store's health deadline).
 * The expired decisions of a batch are read once over the widest window and each pull keeps its own.
 */
export function sharedPullReads(store: Store, call: <T>(fn: () => Promise<T>) => Promise<T>): PullReads {
  const rev = new BatchedRead<void, number>(async (args) => {
    const value = await call(() => decisionsRev(store));
    return args.map(() => value);
  });
  const expired = new BatchedRead<{ at: number; since: number }, Decision[]>(async (args) => {
    let at = -Infinity;
    let since = Infinity;
    for (const a of args) {
      at = Math.max(at, a.at);
      since = Math.min(since, a.since);
    }
    const rows = await call(() => expiredDecisions(store, at, since));
    return args.length === 1 ? [rows] : args.map((a) => rows.filter((d) => d.until >= a.since && d.until <= a.at));
  });
  return {
    decisionsRev: () => rev.read(),
    expiredSince: (at, since) => expired.read({ at, since }),
  };
}

/** The same reads, one query each (SQLite: a prepared statement answers in microseconds). */
export function ownPullReads(store: Store, call: <T>(fn: () => Promise<T>) => Promise<T>): PullReads {
  return {
    decisionsRev: () => call(() => decisionsRev(store)),
    expiredSince: (at, since) => call(() => expiredDecisions(store, at, since)),
  };
}
