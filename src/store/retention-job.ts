import type { Clock } from '../lib/clock.ts';
import { planRetention, tablesDueForVacuum, VACUUM_AFTER_DELETED_ROWS, type RetentionCutoffs, type RetentionSettings } from '../core/retention/plan.ts';
import { purgeExpired, vacuumPurgedTables, type PurgeOptions, type RetentionOutcome } from './retention.ts';
import type { Store } from './store.ts';

/**
 * The retention purge on a schedule inside `vigil serve`: every `everyMs`, the cutoffs from the
 * clock and `flush:` (core/retention/plan.ts), then the batched purge (retention.ts). One run at a
 * time in this process; across replicas the purge's advisory lock lets one work and the others skip.
 */
/** A run's purge, and the tables it vacuumed after it (PostgreSQL; empty when none was due). */
export interface RetentionRun extends RetentionOutcome {
  vacuumed: string[];
  vacuumMs: number;
}

export class RetentionJob {
  #store: Store;
  #clock: Clock;
  #settings: RetentionSettings;
  #options: PurgeOptions;
  #first: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionRun | undefined> | undefined;
  #stopping = false;
  /** Rows this replica deleted per table since it last vacuumed the table. */
  #deletedSinceVacuum: Record<string, number> = {};
  #vacuumAfterRows: number;
  /** After each run that did something or was refused the lock (logs, metrics). */
  onRun: (outcome: RetentionRun, cutoffs: RetentionCutoffs) => void = () => {};
  onError: (e: unknown) => void = () => {};

  constructor(store: Store, clock: Clock, settings: RetentionSettings, options: PurgeOptions & { vacuumAfterRows?: number } = {}) {
    this.#vacuumAfterRows = options.vacuumAfterRows ?? VACUUM_AFTER_DELETED_ROWS;
    this.#store = store;
    this.#clock = clock;
    this.#settings = settings;
    this.#options = options;
  }

  /**
   * Runs first after `firstAfterMs` (by default 10 s, or `everyMs` if shorter: not while bouncers
   * reconnect to a server that just started, nor in the way of a start that fails), then every `everyMs`.
   */
  start(everyMs: number, firstAfterMs = Math.min(everyMs, 10_000)): void {
    this.#first = setTimeout(() => {
      void this.runOnce();
      this.#timer = setInterval(() => void this.runOnce(), everyMs);
      this.#timer.unref();
    }, firstAfterMs);
    this.#first.unref();
  }

  /** One purge at the clock's now; a call while one runs waits for that one instead of starting another. */
  runOnce(): Promise<RetentionRun | undefined> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<RetentionRun | undefined> {
    if (this.#stopping) return undefined;
    const cutoffs = planRetention(this.#clock.now(), this.#settings);
    try {
      const outcome = await purgeExpired(this.#store, cutoffs, { ...this.#options, stopping: () => this.#stopping });
      const run = { ...outcome, ...(await this.#vacuumIfDue(outcome)) };
      this.onRun(run, cutoffs);
      return run;
    } catch (e) {
      this.onError(e);
      return undefined;
    }
  }

  /**
   * After a purge that deleted rows: the tables whose deletions reached the threshold are vacuumed
   * (PostgreSQL), after the purge's transactions ended. A replica refused the purge's lock deleted
   * nothing and vacuums nothing; one refused the vacuum's lock keeps its count for its next run.
   */
  async #vacuumIfDue(outcome: RetentionOutcome): Promise<{ vacuumed: string[]; vacuumMs: number }> {
    let deleted = 0;
    for (const [table, n] of Object.entries(outcome.deleted)) {
      if (n > 0) this.#deletedSinceVacuum[table] = (this.#deletedSinceVacuum[table] ?? 0) + n;
      deleted += n;
    }
    if (deleted === 0) return { vacuumed: [], vacuumMs: 0 };
    const due = tablesDueForVacuum(this.#deletedSinceVacuum, this.#vacuumAfterRows);
    if (due.length === 0 || this.#stopping) return { vacuumed: [], vacuumMs: 0 };
    const started = performance.now();
    const result = await vacuumPurgedTables(this.#store, due);
    if (result === 'busy') return { vacuumed: [], vacuumMs: 0 };
    for (const table of due) delete this.#deletedSinceVacuum[table];
    return { vacuumed: result === 'vacuumed' ? due : [], vacuumMs: performance.now() - started };
  }

  /** Stops the schedule; a run in progress ends after its current batch. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#first);
    clearInterval(this.#timer);
    await this.#running;
  }
}
