import type { Clock } from '../lib/clock.ts';
import { planRetention, type RetentionCutoffs, type RetentionSettings } from '../core/retention/plan.ts';
import { purgeExpired, type PurgeOptions, type RetentionOutcome } from './retention.ts';
import type { Store } from './store.ts';

/**
 * The retention purge on a schedule inside `vigil serve`: every `everyMs`, the cutoffs from the
 * clock and `flush:` (core/retention/plan.ts), then the batched purge (retention.ts). One run at a
 * time in this process; across replicas the purge's advisory lock lets one work and the others skip.
 */
export class RetentionJob {
  #store: Store;
  #clock: Clock;
  #settings: RetentionSettings;
  #options: PurgeOptions;
  #first: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionOutcome | undefined> | undefined;
  #stopping = false;
  /** After each run that did something or was refused the lock (logs, metrics). */
  onRun: (outcome: RetentionOutcome, cutoffs: RetentionCutoffs) => void = () => {};
  onError: (e: unknown) => void = () => {};

  constructor(store: Store, clock: Clock, settings: RetentionSettings, options: PurgeOptions = {}) {
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
  runOnce(): Promise<RetentionOutcome | undefined> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<RetentionOutcome | undefined> {
    if (this.#stopping) return undefined;
    const cutoffs = planRetention(this.#clock.now(), this.#settings);
    try {
      const outcome = await purgeExpired(this.#store, cutoffs, { ...this.#options, stopping: () => this.#stopping });
      this.onRun(outcome, cutoffs);
      return outcome;
    } catch (e) {
      this.onError(e);
      return undefined;
    }
  }

  /** Stops the schedule; a run in progress ends after its current batch. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#first);
    clearInterval(this.#timer);
    await this.#running;
  }
}
