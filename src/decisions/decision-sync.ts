import type { Store } from '../store/store.ts';
import type { Clock } from '../lib/clock.ts';
import { DecisionIndex } from '../core/decisions/decision-index.ts';

/**
 * Keeps a process's in-memory DecisionIndex equal to the store. Writers bump a store-wide
 * revision; this follows it, so decisions written by the CLI or another replica are seen within
 * one sync period, and nothing only this process knows is needed by the others.
 */
const SYNC_PAGE = 5_000;

export class DecisionSync {
  readonly index = new DecisionIndex();
  #store: Store;
  #clock: Clock;
  #rev = -1;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #lastPrune = 0;
  onError: (e: unknown) => void = () => {};

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  get rev(): number {
    return this.#rev;
  }

  /** Loads every active decision, then follows changes every `everyMs`. */
  async start(everyMs: number): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch((e) => this.onError(e));
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Brings the index up to date now (also called right after this process writes). */
  refresh(): Promise<void> {
    // Coalesce concurrent calls: one query in flight at a time.
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #refresh(): Promise<void> {
    const rev = await this.#store.decisionsRev();
    if (rev === this.#rev) return this.#maybePrune();
    const now = this.#clock.now();
    // Pages keep the transient rows small (a 100k import arrives as 100k changed rows). A row
    // changed again while we page is seen with its new state at the next refresh, since the
    // revision recorded is the one read before paging.
    let afterId = 0;
    for (;;) {
      const page = await this.#store.decisionsChangedSincePage(this.#rev, now, afterId, SYNC_PAGE);
      for (const d of page) this.index.upsert(d);
      if (page.length < SYNC_PAGE) break;
      afterId = page[page.length - 1]!.id;
    }
    this.#rev = rev;
    this.#maybePrune();
  }

  #maybePrune(): void {
    const now = this.#clock.now();
    // Expired decisions are never answered; dropping them once a minute keeps memory flat.
    if (now - this.#lastPrune > 60_000) {
      this.index.pruneExpired(now);
      this.#lastPrune = now;
    }
  }
}
