import crypto from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import { lapiRuns, markLapiAlive, recordLapiStart } from '../store/lapi-runs.ts';
import { downtimeFrom, type Interval } from '../core/health/downtime.ts';
import type { HealthRules } from '../core/health/types.ts';

/**
 * How often a running `vigil serve` marks itself alive. A crash is known to within this much: the
 * gap from its last mark to the next start is downtime, so up to this much of its last uptime may
 * be forgiven to a bouncer, never the reverse. One small UPDATE per replica per interval.
 */
export const ALIVE_MARK_EVERY_MS = 10_000;

/** The run this process serves on each open store: alive now, whatever its last mark says (it lags by up to a mark interval). */
const liveRuns = new WeakMap<Store, string>();

/**
 * This process's run of the Local API in the store: its start (which also explains silences that
 * begin just before it: "did not reconnect") and a periodic "alive until" mark, written once more
 * when it stops. Whatever no run covered is Vigil's own downtime (core/health/downtime.ts).
 */
export class LapiAlive {
  readonly instance = crypto.randomUUID();
  #store: Store;
  #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  onError: (e: unknown) => void = () => {};

  private constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Records the start, marks it alive, and keeps marking every `everyMs`. */
  static async start(store: Store, clock: Clock, everyMs = ALIVE_MARK_EVERY_MS): Promise<LapiAlive> {
    const run = new LapiAlive(store, clock);
    const at = clock.now();
    await recordLapiStart(store, at, run.instance);
    await markLapiAlive(store, run.instance, at);
    liveRuns.set(store, run.instance);
    run.#timer = setInterval(() => void run.mark(), everyMs);
    run.#timer.unref();
    return run;
  }

  /** Marks this run alive now; a failure (store down) is reported and the next tick tries again. */
  async mark(): Promise<void> {
    try {
      await markLapiAlive(this.#store, this.instance, this.#clock.now());
    } catch (e) {
      this.onError(e);
    }
  }

  /** The last mark, so a clean stop's downtime starts exactly when it stopped. Before the store closes. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    if (liveRuns.get(this.#store) === this.instance) liveRuns.delete(this.#store);
    await this.mark();
  }
}

/**
 * Vigil's own downtime since `since` (core/health/downtime.ts), for the evaluator and for every view
 * that shows a status (CLI, admin API, dashboard). The run this process serves, if any, is alive now:
 * a replica that started after its last mark is no gap.
 */
export async function vigilDowntime(store: Store, since: number, now: number): Promise<Interval[]> {
  const runs = await lapiRuns(store, since);
  const liveInstance = liveRuns.get(store);
  return downtimeFrom(runs.map((r) => (r.instance === liveInstance ? { ...r, aliveUntil: now } : r)));
}

/** How far back a status or an evaluation looks for downtime: as far as its longest rule (the 24 h rule, twice) or a week. */
export function downtimeLookback(now: number, rules: HealthRules): number {
  return now - Math.max(2 * rules.offlineAfterMs, 7 * 24 * 3600_000);
}
