import type { Store } from '../store/store.ts';
import type { BouncerHealthInput } from '../core/health/types.ts';
import type { RhythmHour } from '../core/health/live-rhythm.ts';
import { queryRhythms, usageReportPeriods } from '../store/live-signals.ts';
import { hourOf } from '../store/pull-history.ts';

/**
 * Adds a live-mode bouncer's report period and learnt rhythm to its health input
 * (core/health/live-rhythm.ts). Both change rarely, so they are read again only when they can have
 * changed: a report's period when a new report arrived, the rhythm once an hour.
 */
export class LiveSignals {
  #periods = new Map<number, { receivedAt: number; periodMs: number | null }>();
  #rhythm: { hour: number; byId: Map<number, RhythmHour[]> } = { hour: Number.NaN, byId: new Map() };

  async annotate(store: Store, inputs: BouncerHealthInput[], now: number): Promise<void> {
    // Live mode: it pulled (live queries refresh the last pull) and has no steady stream cadence.
    const live = inputs.filter((b) => !b.revoked && b.pullCadenceMs === null && b.lastPullAt !== null);
    const ids = new Set(live.map((b) => b.id));
    for (const id of this.#periods.keys()) if (!ids.has(id)) this.#periods.delete(id);
    const newReports = live.filter((b) => b.lastUsageMetricsAt !== null && this.#periods.get(b.id)?.receivedAt !== b.lastUsageMetricsAt).map((b) => b.id);
    if (newReports.length > 0) for (const [id, p] of await usageReportPeriods(store, newReports)) this.#periods.set(id, p);
    const hour = hourOf(now);
    if (this.#rhythm.hour !== hour) this.#rhythm = { hour, byId: new Map() };
    const unknown = live.filter((b) => !this.#rhythm.byId.has(b.id));
    if (unknown.length > 0) for (const [id, r] of await queryRhythms(store, unknown, now)) this.#rhythm.byId.set(id, r);
    for (const b of live) {
      b.usageReportPeriodMs = this.#periods.get(b.id)?.periodMs ?? null;
      b.queryRhythm = this.#rhythm.byId.get(b.id) ?? null;
    }
  }
}
