/**
 * Drift (docs/canaries.md): after each usage-metrics report, what the bouncer says it holds
 * (`active_decisions`, docs/reference/crowdsec-1.6-1.7.md §6) against what the Local API holds for
 * the scopes and scenario filters of its last stream pull, all origins included. One observation per report is stored; the health engine
 * raises remediation_drift when two in a row disagree (core/health/enforcement.ts).
 */
import { driftObservation, expectedActiveDecisions, reportedActiveDecisions } from '../core/health/enforcement.ts';
import type { Decision } from '../core/model/records.ts';
import type { Clock } from '../lib/clock.ts';
import { driftObservations, recordDriftObservation, streamFilters } from '../store/canaries.ts';
import type { Store } from '../store/store.ts';
import { Topic } from '../lib/topic.ts';
import { listBouncers } from '../store/bouncers.ts';
import { activeDecisions } from '../store/decisions.ts';
import { latestUsageMetrics, usageMetricsReceivedAt } from '../store/usage-metrics.ts';
import { Repeating } from '../lib/repeating.ts';

/** Records an observation for each report not observed yet; the number recorded. */
export async function observeDrift(store: Store, now: number): Promise<number> {
  const filters = await streamFilters(store);
  if (filters.size === 0) return 0;
  const received = await usageMetricsReceivedAt(store);
  const bouncers = await listBouncers(store);
  const names = new Map(bouncers.map((b) => [b.id, b.name]));
  const observed = new Map((await driftObservations(store, names, 1)).map(([o]) => [o!.bouncerId, o!.reportAt]));
  let active: Decision[] | undefined;
  let recorded = 0;
  for (const b of bouncers) {
    const f = filters.get(b.id);
    const at = received.get(b.id);
    if (!f || at === undefined || (observed.get(b.id) ?? -1) >= at) continue;
    const report = await latestUsageMetrics(store, b.id);
    // A report without active_decisions (older bouncers send only processed/dropped) proves nothing,
    // unless this bouncer sent them before: a gauge with no series left is 0 (Integration Pulling Zero IPs).
    const reported = report ? (reportedActiveDecisions(report.report) ?? (observed.has(b.id) ? new Map<string, number>() : null)) : null;
    if (!report || reported === null) continue;
    active ??= await activeDecisions(store, now);
    // Every origin counts: decisions its own origins filter leaves out are decisions the Local API
    // holds that this bouncer never enforces (cs #2014, cloudflare-worker #81); they are marked so.
    const expected = expectedActiveDecisions(active, { ...f.filters, origins: undefined });
    await recordDriftObservation(store, driftObservation(b, report.receivedAt, reported, expected, f.filters.origins), now);
    recorded++;
  }
  return recorded;
}

export class DriftObserver {
  #store: Store;
  #clock: Clock;
  #running: Promise<number> | undefined;
  readonly #timer = new Repeating(() => this.observeNow());
  /** An observation that failed. */
  readonly failed = this.#timer.failed;
  /** Observations were recorded (how many): the health engine evaluates. */
  readonly observed = new Topic<number>();

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  observeNow(): Promise<number> {
    this.#running ??= (async () => {
      const n = await observeDrift(this.#store, this.#clock.now());
      if (n > 0) this.observed.publish(n);
      return n;
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  start(everyMs: number): void {
    this.#timer.start(everyMs);
  }

  async stop(): Promise<void> {
    this.#timer.stop();
    await this.#running?.catch(() => {});
  }
}
