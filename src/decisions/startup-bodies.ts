import type { Store } from '../store/store.ts';
import type { StreamQuery } from '../core/decisions/query.ts';
import { buildStartupBody, type StartupBody } from '../core/decisions/startup-body.ts';
import { runInTurns } from '../lib/turns.ts';
import { expiredDecisions } from '../store/decisions.ts';
import { DEFAULT_RETENTION, expiredSentSince } from '../core/retention/plan.ts';
import type { DecisionSync } from './decision-sync.ts';

/**
 * Startup stream bodies shared by every bouncer asking at the same store revision with the same
 * filters (core/decisions/startup-body.ts): built once, in slices (live queries are answered in
 * between), by the first bouncer; those arriving meanwhile wait for the same build.
 */
export interface StartupBodiesOptions {
  /**
   * A body older than this is rebuilt even at the same revision: the expired decisions it holds
   * were read from the store when it was built, and a flush may have removed some since.
   */
  maxAgeMs?: number;
  /** A body nobody asked for this long is dropped (at 1M decisions it is ~100 MB). */
  idleMs?: number;
  /** `flush.max_age` (docs/retention.md): how long after expiry a decision is still sent under `deleted`. */
  expiredKeptMs?: number;
  /** Bodies kept at once (one per distinct set of filters). */
  maxBodies?: number;
}

interface Held {
  readonly rev: number;
  /** The request time it was built at (the LAPI's clock). */
  readonly builtAt: number;
  readonly body: Promise<StartupBody>;
  /** Wall time of its last use, for dropping idle bodies. */
  lastUsed: number;
}

export class StartupBodies {
  readonly #held = new Map<string, Held>();
  readonly #sync: DecisionSync;
  readonly #store: Store;
  readonly #maxAgeMs: number;
  readonly #idleMs: number;
  readonly #maxBodies: number;
  /** `flush.max_age`: expired decisions are sent under `deleted` this long after they expire. */
  readonly #expiredKeptMs: number;
  #sweep: NodeJS.Timeout | undefined;
  /** Bodies built so far (tests: concurrent startups share one build). */
  builds = 0;

  constructor(sync: DecisionSync, store: Store, opts: StartupBodiesOptions = {}) {
    this.#sync = sync;
    this.#store = store;
    this.#maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.#idleMs = opts.idleMs ?? 30_000;
    this.#maxBodies = opts.maxBodies ?? 16;
    this.#expiredKeptMs = opts.expiredKeptMs ?? DEFAULT_RETENTION.maxAgeMs;
  }

  /**
   * The body for these filters at the index's revision `rev` (the caller brought the index up to
   * the store first), built at `now` if none fits. `call` wraps the store read (store health).
   */
  get(q: StreamQuery, rev: number, now: number, call: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn()): Promise<StartupBody> {
    const key = filterKey(q);
    const held = this.#held.get(key);
    if (held !== undefined && held.rev === rev && Math.abs(now - held.builtAt) <= this.#maxAgeMs) {
      held.lastUsed = Date.now();
      return held.body;
    }
    const body = this.#build(q, now, call);
    const entry: Held = { rev, builtAt: now, body, lastUsed: Date.now() };
    this.#held.delete(key);
    this.#held.set(key, entry);
    // A failed build is not kept: the next startup tries again.
    body.catch(() => {
      if (this.#held.get(key) === entry) this.#held.delete(key);
    });
    while (this.#held.size > this.#maxBodies) this.#held.delete(this.#held.keys().next().value!);
    this.#scheduleSweep();
    return body;
  }

  /** Drops every body (on stop; tests). */
  clear(): void {
    this.#held.clear();
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweep = undefined;
  }

  async #build(q: StreamQuery, now: number, call: <T>(fn: () => Promise<T>) => Promise<T>): Promise<StartupBody> {
    this.builds++;
    const index = this.#sync.index;
    const active = index.activeList(now);
    // CrowdSec's startup sends every expired decision still stored; here those within the retention window.
    const expired = await call(() => expiredDecisions(this.#store, now, expiredSentSince(now, { maxAgeMs: this.#expiredKeptMs })));
    return await runInTurns(buildStartupBody(active, expired, index, q, now));
  }

  #scheduleSweep(): void {
    if (this.#sweep !== undefined) return;
    // Memory hygiene only (answers never depend on it): real time and a real timer, unref'd.
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = Date.now();
      for (const [key, held] of this.#held) if (now - held.lastUsed >= this.#idleMs) this.#held.delete(key);
      if (this.#held.size > 0) this.#scheduleSweep();
    }, this.#idleMs);
    this.#sweep.unref();
  }
}

/** The filters that change a startup body (startup itself does not: it is always a startup here). */
function filterKey(q: StreamQuery): string {
  return JSON.stringify([q.dedup, q.scopes, q.origins ?? null, q.scenariosContaining ?? null, q.scenariosNotContaining ?? null]);
}
