/** The bouncer's usage metrics, pushed to the Local API: the counters sent, then reset; a Local API without the route asked less often. */
import type { Clock } from '../lib/clock.ts';
import type { DecisionCache } from './decision-cache.ts';
import { type LapiClient, LapiError } from './lapi-client.ts';
import type { BouncerLogger, NormalizedOptions } from './options.ts';
import { type UsageCounters, usageMetricsPayload } from './usage-metrics.ts';
import type { PushResult } from './verdict.ts';

export interface UsagePushDeps {
  options: NormalizedOptions;
  client: LapiClient;
  clock: Clock;
  log: BouncerLogger;
  counters: UsageCounters;
  cache: DecisionCache;
  startedAt: number;
  /** The last successful pull (or live answer), reported as the bouncer's last pull. */
  lastPullAt: () => number | null;
}

export class UsagePush {
  /** The push interval is multiplied by this: 1, then doubled (up to 48) while the route is missing. */
  backoff = 1;
  readonly #d: UsagePushDeps;

  constructor(deps: UsagePushDeps) {
    this.#d = deps;
  }

  /** Pushes usage metrics now; a LAPI without the route (CrowdSec < 1.6.3) is backed off quietly. */
  async push(): Promise<PushResult> {
    const { options, client, clock, log, counters, cache } = this.#d;
    if (options.usageMetricsIntervalMs === 0) return 'disabled';
    const now = clock.now();
    const payload = usageMetricsPayload({
      counters,
      active: cache.active(now),
      now,
      startedAt: this.#d.startedAt,
      lastPullAt: this.#d.lastPullAt(),
      name: options.name,
    });
    try {
      await client.pushUsageMetrics(payload, 10_000);
      counters.reset(now);
      this.backoff = 1;
      return 'sent';
    } catch (e) {
      if (e instanceof LapiError && e.kind === 'not_found') {
        // CrowdSec before 1.6.3 has no such route: expected, so no warning; ask again less often.
        if (this.backoff === 1) log.info({}, 'the Local API does not accept usage metrics (CrowdSec older than 1.6.3?); will ask again later');
        this.backoff = Math.min(this.backoff * 2, 48);
        return 'unsupported';
      }
      log.warn({}, `usage metrics not sent (kept for the next push): ${(e as Error).message}`);
      return 'failed';
    }
  }
}
