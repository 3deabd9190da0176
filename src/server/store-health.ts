import fs from 'node:fs';
import type { Logger } from 'pino';
import { VigilError } from '../lib/errors.ts';
import { isDiskFull } from '../lib/disk-full.ts';
import { systemClock, type Clock } from '../lib/clock.ts';

/** What /health and /metrics say of the store (README "Security and limits"). */
export type StoreState =
  | { store: 'up' }
  | { store: 'degraded'; reason: 'unreachable' | 'disk full' }
  | { store: 'lost'; reason: 'store file deleted' | 'store file replaced' };

/** How long "disk full" is reported after the last write refused for lack of space. */
export const DISK_FULL_REPORTED_MS = 60_000;
/** How long a bulk read may take before the store counts as degraded (callBulk). */
export const BULK_READ_DEADLINE_MS = 15_000;

/**
 * Whether the store answers, as the request path sees it. A bouncer request never waits on a
 * slow store longer than `requestDeadlineMs`: past it that request is answered from memory; on an
 * error, or when a trivial probe is late too, the store is "degraded": requests are answered from
 * memory without asking it, and a probe every `probeEveryMs` brings it back once it answers again
 * (a frozen PostgreSQL, a restart, a failover). Issue 15.
 *
 * Two more states (issue 27): "disk full" while writes are refused for lack of space (reads still
 * answer, so bouncers are served as usual), and "lost" when the SQLite file this server opened was
 * deleted or replaced (its device and inode changed, checked every `fileCheckEveryMs`). Lost is for
 * good: the server keeps writing into an orphaned inode no one will open again, so from then on it
 * answers from memory, acknowledges no write, and only a restart on a restored file ends it.
 */
export class StoreHealth {
  #up = true;
  #since = 0;
  #log: Logger;
  #probe: () => Promise<unknown>;
  #requestDeadlineMs: number;
  #bulkDeadlineMs: number;
  #probeEveryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  /** A probe runs after a late call, to tell a slow query from a slow store (#late). */
  #confirming = false;
  #clock: Clock;
  #lost: Extract<StoreState, { store: 'lost' }> | null = null;
  #diskFullAt: number | null = null;
  #fileTimer: NodeJS.Timeout | undefined;
  /** Errors and timeouts seen (the metric vigil_store_errors_total). */
  errors = 0;
  /** Called once when the store file is found deleted or replaced (serve refuses writes, saves a copy). */
  onLost: (state: Extract<StoreState, { store: 'lost' }>) => void = () => {};

  constructor(deps: {
    log: Logger;
    probe: () => Promise<unknown>;
    requestDeadlineMs?: number;
    /** For bulk reads (callBulk): a large answer is slow by its size, not because the store is. */
    bulkDeadlineMs?: number;
    probeEveryMs?: number;
    clock?: Clock;
    /** The SQLite file to watch for deletion or replacement; none on PostgreSQL. */
    file?: string | null;
    fileCheckEveryMs?: number;
  }) {
    this.#log = deps.log;
    this.#probe = deps.probe;
    this.#requestDeadlineMs = deps.requestDeadlineMs ?? 500;
    this.#bulkDeadlineMs = deps.bulkDeadlineMs ?? BULK_READ_DEADLINE_MS;
    this.#probeEveryMs = deps.probeEveryMs ?? 1_000;
    this.#clock = deps.clock ?? systemClock;
    if (deps.file) this.#watchFile(deps.file, deps.fileCheckEveryMs ?? 1_000);
  }

  /** False while requests must be answered from memory: the store is unreachable, slow or lost. */
  get up(): boolean {
    return this.#up && this.#lost === null;
  }

  get lost(): boolean {
    return this.#lost !== null;
  }

  /** For /health and /metrics: the worst of lost, unreachable, disk full. */
  state(): StoreState {
    if (this.#lost) return this.#lost;
    if (!this.#up) return { store: 'degraded', reason: 'unreachable' };
    if (this.#diskFullAt !== null && this.#clock.now() - this.#diskFullAt < DISK_FULL_REPORTED_MS) return { store: 'degraded', reason: 'disk full' };
    return { store: 'up' };
  }

  /**
   * A write refused for lack of space. Reads still answer, so the store is not marked down (pulls
   * stay live); "disk full" is reported until no write has been refused for DISK_FULL_REPORTED_MS.
   */
  diskFull(err: unknown): void {
    this.errors++;
    const now = this.#clock.now();
    const wasFull = this.#diskFullAt !== null && now - this.#diskFullAt < DISK_FULL_REPORTED_MS;
    this.#diskFullAt = now;
    if (!wasFull) this.#log.error({ err }, "store full: writes are refused (507) for lack of space; free disk space on the store's disk");
  }

  /** A write went through: space was freed, "disk full" is over. */
  wrote(): void {
    if (this.#diskFullAt === null) return;
    this.#diskFullAt = null;
    this.#log.warn('store writes succeed again: disk space was freed');
  }

  /** A store call failed or timed out somewhere (sync, activity flush, a request). */
  failed(err: unknown): void {
    if (isDiskFull(err)) {
      this.diskFull(err);
      return;
    }
    this.errors++;
    if (!this.#up || this.#lost) return;
    this.#up = false;
    this.#since = Date.now();
    // One line when it happens, one when it is over: not one per failed call.
    this.#log.error({ err }, 'store unreachable or slow: answering bouncers from memory until it recovers');
    this.#startProbe();
  }

  #recovered(): void {
    if (this.#up) return;
    this.#up = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#log.warn({ downForMs: Date.now() - this.#since }, `store answering again after ${Math.round((Date.now() - this.#since) / 1000)} s`);
  }

  #startProbe(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#probing) return;
      this.#probing = true;
      withDeadline(this.#probe(), this.#probeEveryMs * 5)
        .then(
          () => this.#recovered(),
          () => this.errors++,
        )
        .finally(() => (this.#probing = false));
    }, this.#probeEveryMs);
    this.#timer.unref();
  }

  /**
   * Runs a request-path store call, bounded by the request deadline. Throws E_STORE_DOWN at once
   * when the store is degraded, or when this call fails or runs late (the caller answers from memory).
   */
  call<T>(fn: () => Promise<T>): Promise<T> {
    return this.#bounded(fn, this.#requestDeadlineMs);
  }

  /**
   * A bulk read on the request path (a startup body's expired decisions: 560k rows at a year of
   * retention, seconds on PostgreSQL), bounded by `bulkDeadlineMs`: its size makes it slow, which
   * says nothing of the store, so only a failure or that longer deadline makes the store degraded.
   */
  callBulk<T>(fn: () => Promise<T>): Promise<T> {
    return this.#bounded(fn, this.#bulkDeadlineMs);
  }

  async #bounded<T>(fn: () => Promise<T>, deadlineMs: number): Promise<T> {
    if (!this.#up) throw storeDown();
    try {
      return await withDeadline(fn(), deadlineMs);
    } catch (e) {
      if (e === LATE) {
        this.#late();
        throw storeDown();
      }
      if (isStoreDown(e) || !(e instanceof VigilError)) {
        this.failed(e);
        throw storeDown();
      }
      throw e;
    }
  }

  /**
   * One call ran past its deadline: answered from memory, but the store counts as degraded only when a
   * trivial probe is late too. One slow query (a large read beside a purge and its VACUUM on a loaded
   * host) says nothing of the store, and degrading it made every startup stream go out without its
   * `deleted` list until the next probe (the PostgreSQL year bench, issue 28).
   */
  #late(): void {
    this.errors++;
    if (this.#confirming || !this.#up) return;
    this.#confirming = true;
    withDeadline(this.#probe(), this.#requestDeadlineMs)
      .then(
        () => {},
        (e) => this.failed(e === LATE ? storeDown() : e),
      )
      .finally(() => (this.#confirming = false));
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#fileTimer) clearInterval(this.#fileTimer);
    this.#fileTimer = undefined;
  }

  /** A stat a second: the file this server opened must keep its device and inode. */
  #watchFile(file: string, everyMs: number): void {
    let first: fs.Stats;
    try {
      first = fs.statSync(file);
    } catch {
      return;
    }
    this.#fileTimer = setInterval(() => {
      let now: fs.Stats | null = null;
      try {
        now = fs.statSync(file);
      } catch (e) {
        // Another error (EACCES on a parent, EIO) says nothing of the file's identity: checked again next time.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') return;
      }
      if (now !== null && now.dev === first.dev && now.ino === first.ino) return;
      this.#storeLost(file, now === null ? 'store file deleted' : 'store file replaced');
    }, everyMs);
    this.#fileTimer.unref();
  }

  #storeLost(file: string, reason: Extract<StoreState, { store: 'lost' }>['reason']): void {
    if (this.#fileTimer) clearInterval(this.#fileTimer);
    this.#fileTimer = undefined;
    if (this.#lost) return;
    this.#lost = { store: 'lost', reason };
    this.#log.error(
      { store: file, reason },
      `store file ${file} was ${reason === 'store file deleted' ? 'deleted' : 'replaced by another file'} under this running server: ` +
        'writes are refused (503) and bouncers are answered from memory from now on. Restore the store from a backup ' +
        '(or the rescue copy, when one is logged next), then restart vigil serve; do not let anything create a new empty store there (every bouncer would get 403)',
    );
    this.onLost(this.#lost);
  }
}

export function storeLost(): VigilError {
  return new VigilError(
    'E_STORE_LOST',
    "store lost: the server's store file was deleted or replaced; nothing is written until it is restored from a backup and vigil serve restarted",
  );
}

function storeDown(): VigilError {
  return new VigilError('E_STORE_DOWN', 'store unavailable: retry shortly');
}

export function isStoreDown(e: unknown): boolean {
  return e instanceof VigilError && e.code === 'E_STORE_DOWN';
}

/** What withDeadline rejects with when the deadline passes first. */
const LATE = new VigilError('E_STORE_DOWN', 'store call ran past its deadline');

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(LATE), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
