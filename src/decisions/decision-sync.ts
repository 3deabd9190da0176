import type { Store } from '../store/store.ts';
import type { WrittenAlerts } from '../store/decisions.ts';
import type { Clock } from '../lib/clock.ts';
import type { Decision } from '../core/model/records.ts';
import { DecisionIndex } from '../core/decisions/decision-index.ts';
import { nextTurn } from '../lib/turns.ts';
import { activeDecisionsPage, countActiveDecisions, decisionChangesPage, decisionsRev } from '../store/decisions.ts';
import { Repeating } from '../lib/repeating.ts';
import { compactHeap } from '../lib/compact-heap.ts';

/**
 * Keeps a process's in-memory DecisionIndex equal to the store. Writers bump a store-wide
 * revision; this follows it, so decisions written by the CLI or another replica are seen within
 * one sync period, and nothing only this process knows is needed by the others.
 */
const SYNC_PAGE = 5_000;
/** A first load this large leaves enough garbage to be worth a compacting collection (lib/compact-heap.ts). */
const COMPACT_AFTER_LOADING = 100_000;
/** Decisions taken into the index between two turns of the event loop (a 100k import: 50 turns). */
const APPLY_SLICE = 2_000;
/** Changes kept for stream deltas: a bouncer further behind is answered from the store. */
const CHANGES_KEPT = 200_000;

export class DecisionSync {
  readonly index = new DecisionIndex();
  /** What changed lately, by revision: a stream delta computed from memory (changesSince). */
  readonly #changes = new ChangeLog(CHANGES_KEPT);
  #store: Store;
  #clock: Clock;
  #rev = -1;
  #running: Promise<void> | undefined;
  #lastPrune = 0;
  readonly #timer = new Repeating(() => this.refresh());
  /** A scheduled refresh that failed (the store is down: serve's store health hears it). */
  readonly failed = this.#timer.failed;

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
    this.#timer.start(everyMs);
  }

  stop(): void {
    this.#timer.stop();
  }

  /** Brings the index up to date now (also called right after this process writes). */
  refresh(): Promise<void> {
    // Coalesce concurrent calls: one query in flight at a time.
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Takes what this process just wrote (addAlerts, store/decisions.ts) without reading it back, when it is the
   * only change since the index's revision (the revision is the next one); otherwise refreshes
   * until the index has it. Either way the index holds the write when this resolves.
   */
  applyWritten(w: WrittenAlerts): Promise<void> {
    if (w.rev <= this.#rev) return Promise.resolve();
    if (this.#running !== undefined || this.#rev < 0 || w.rev !== this.#rev + 1) return this.#catchUp(w.rev);
    if (w.decisions.length <= APPLY_SLICE) {
      this.#take(w.rev, w.decisions, 0, w.decisions.length);
      this.#rev = w.rev;
      return Promise.resolve();
    }
    // A large import goes in slices; refreshes meanwhile wait for it (they would read it anyway).
    this.#running = (async () => {
      for (let i = 0; i < w.decisions.length; i += APPLY_SLICE) {
        if (i > 0) await nextTurn();
        this.#take(w.rev, w.decisions, i, Math.min(w.decisions.length, i + APPLY_SLICE));
      }
      this.#rev = w.rev;
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Every decision changed after `rev` as it is now, by id (what `decisionsChangedSince(store, rev)`
   * returns), when the index is at the store's revision `storeRev` and remembers that far back;
   * undefined otherwise (ask the store).
   */
  changesSince(rev: number, storeRev: number): Decision[] | undefined {
    if (storeRev !== this.#rev || this.#running !== undefined) return undefined;
    return this.#changes.since(rev);
  }

  #take(rev: number, decisions: readonly Decision[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const d = decisions[i]!;
      this.index.upsert(d);
      this.#changes.add(rev, rev, d);
    }
  }

  async #catchUp(rev: number): Promise<void> {
    // A refresh already running may have read the revision before this write: refresh again.
    while (this.#rev < rev) await this.refresh();
  }

  async #refresh(): Promise<void> {
    const rev = await decisionsRev(this.#store);
    if (rev === this.#rev) return this.#maybePrune();
    const now = this.#clock.now();
    const since = this.#rev;
    // Pages keep the transient rows small (a 100k import arrives as 100k changed rows). A row
    // changed again while we page is seen with its new state at the next refresh, since the
    // revision recorded is the one read before paging.
    if (since < 0) {
      await this.#load(now);
    } else {
      await this.#follow(since, rev, now);
    }
    // The first load holds no changes: deltas start from here.
    if (since < 0) this.#changes.reset(rev);
    this.#rev = rev;
    this.#maybePrune();
  }

  /** The first load: every active decision, a page at a time, in id order. */
  async #load(now: number): Promise<void> {
    const count = await countActiveDecisions(this.#store, now);
    this.index.reserve(count);
    let afterId = 0;
    for (;;) {
      const page = await activeDecisionsPage(this.#store, now, afterId, SYNC_PAGE);
      for (const d of page) this.index.upsert(d);
      if (page.length < SYNC_PAGE) break;
      afterId = page[page.length - 1]!.id;
    }
    // The pages' garbage would otherwise hold ~110 MB of pages at 1M until V8 notices the process idle.
    if (count >= COMPACT_AFTER_LOADING) compactHeap();
  }

  /** Every decision changed after `since` (the index is at `since`, the store at `rev`). */
  async #follow(since: number, rev: number, now: number): Promise<void> {
    let afterId = 0;
    for (let first = true; ; first = false) {
      // A turn between pages: on SQLite the queries answer without one, and following a 250k-decision
      // write made on another connection (the CLI's import) held the event loop ~470 ms in one piece.
      if (!first) await nextTurn();
      const page = await decisionChangesPage(this.#store, since, now, afterId, SYNC_PAGE);
      for (const c of page) {
        this.index.upsert(c.decision);
        this.#changes.add(c.rev, rev, c.decision);
      }
      if (page.length < SYNC_PAGE) break;
      afterId = page[page.length - 1]!.decision.id;
    }
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

/**
 * Decisions in the order the index took them, each with the revision that changed it (`rev`) and
 * the index's revision once it was taken (`upTo`, never decreasing, so searchable). Holds every
 * change above `base`; the oldest are dropped past `kept`.
 */
export class ChangeLog {
  #revs: number[] = [];
  #upTo: number[] = [];
  #decisions: Decision[] = [];
  #base = Number.POSITIVE_INFINITY;
  readonly #kept: number;

  constructor(kept: number) {
    this.#kept = kept;
  }

  reset(base: number): void {
    this.#revs = [];
    this.#upTo = [];
    this.#decisions = [];
    this.#base = base;
  }

  add(rev: number, upTo: number, d: Decision): void {
    this.#revs.push(rev);
    this.#upTo.push(upTo);
    this.#decisions.push(d);
    if (this.#decisions.length > 2 * this.#kept) {
      // Drop the oldest in one go (amortised): changes up to the last one dropped are no longer held.
      const cut = this.#decisions.length - this.#kept;
      this.#base = Math.max(this.#base, this.#upTo[cut - 1]!);
      this.#revs.splice(0, cut);
      this.#upTo.splice(0, cut);
      this.#decisions.splice(0, cut);
    }
  }

  /** The latest state of each decision changed after `rev`, by id; undefined when not held that far back. */
  since(rev: number): Decision[] | undefined {
    if (rev < this.#base) return undefined;
    // The first entry taken after the index passed `rev`; nothing before it can be newer.
    let lo = 0;
    let hi = this.#upTo.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#upTo[mid]! <= rev) lo = mid + 1;
      else hi = mid;
    }
    const latest = new Map<number, Decision>();
    for (let i = lo; i < this.#decisions.length; i++) {
      if (this.#revs[i]! > rev) latest.set(this.#decisions[i]!.id, this.#decisions[i]!);
    }
    return [...latest.values()].sort((a, b) => a.id - b.id);
  }
}
