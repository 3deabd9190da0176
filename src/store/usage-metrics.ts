import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Bouncers' usage-metrics reports (`POST /v1/usage-metrics`, migration 003): the latest one per bouncer.

/** Keeps the latest usage-metrics report of a bouncer. */
export async function recordUsageMetrics(store: Store, bouncerId: number, receivedAt: number, report: unknown): Promise<void> {
  const row = { bouncer_id: bouncerId, received_at: receivedAt, report: JSON.stringify(report) };
  await dbOf(store)
    .insertInto('bouncer_usage_metrics')
    .values(row)
    .onConflict((oc) => oc.column('bouncer_id').doUpdateSet({ received_at: row.received_at, report: row.report }))
    .execute();
}

/** When each bouncer last reported usage metrics, by bouncer id. */
export async function usageMetricsReceivedAt(store: Store): Promise<Map<number, number>> {
  const rows = await dbOf(store).selectFrom('bouncer_usage_metrics').select(['bouncer_id', 'received_at']).execute();
  return new Map(rows.map((r) => [Number(r.bouncer_id), Number(r.received_at)]));
}

/** The latest report of one bouncer, as received. */
export async function latestUsageMetrics(store: Store, bouncerId: number): Promise<{ receivedAt: number; report: unknown } | undefined> {
  const row = await dbOf(store).selectFrom('bouncer_usage_metrics').selectAll().where('bouncer_id', '=', bouncerId).executeTakeFirst();
  return row ? { receivedAt: Number(row.received_at), report: JSON.parse(row.report) } : undefined;
}

/** Every bouncer's latest report, by bouncer id (the per-bouncer Prometheus series read them at scrape time). */
export async function latestUsageMetricsByBouncer(store: Store): Promise<Map<number, { receivedAt: number; report: unknown }>> {
  const rows = await dbOf(store).selectFrom('bouncer_usage_metrics').selectAll().execute();
  const out = new Map<number, { receivedAt: number; report: unknown }>();
  for (const r of rows) {
    try {
      out.set(Number(r.bouncer_id), { receivedAt: Number(r.received_at), report: JSON.parse(r.report) });
    } catch {
      // A row that is not JSON (never written by this version) has no counters to show.
    }
  }
  return out;
}
