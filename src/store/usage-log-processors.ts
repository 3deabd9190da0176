import type { LogProcessorUsageInput, LogProcessorWindow } from '../core/health/log-processors.ts';
import type { LogProcessorReport } from '../core/usage/decode.ts';
import { logProcessorCounts, type SourceCounts } from '../core/usage/log-processor-counts.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Agents' usage-metrics reports (migration 015; table types in schema.ts): what LP No Logs Read and
// LP No Logs Parsed are evaluated from (src/core/health/log-processors.ts).

/** Windows kept per machine: a week, more than the 48 h the rules look back. */
export const WINDOWS_KEPT_MS = 7 * 24 * 3600_000;

/** Keeps an agent's report: its summary row, and its window's counts. `machineId` is machines.id. */
export async function recordLogProcessorUsage(store: Store, machineId: number, receivedAt: number, report: LogProcessorReport): Promise<void> {
  const db = dbOf(store);
  const counts = logProcessorCounts(report);
  const window = (report.metrics ?? []).reduce((s, m) => Math.max(s, m.meta.window_size_seconds), 0);
  const readAt = counts.read > 0 ? receivedAt : null;
  const parsedAt = counts.parsed > 0 ? receivedAt : null;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('machine_usage_metrics')
      .values({
        machine_id: machineId,
        first_report_at: receivedAt,
        received_at: receivedAt,
        last_read_at: readAt,
        last_parsed_at: parsedAt,
        report: JSON.stringify(report),
      })
      .onConflict((oc) =>
        oc.column('machine_id').doUpdateSet({
          received_at: receivedAt,
          report: JSON.stringify(report),
          // Only a report that read (or parsed) lines moves these: an empty window keeps the last one.
          ...(readAt !== null ? { last_read_at: readAt } : {}),
          ...(parsedAt !== null ? { last_parsed_at: parsedAt } : {}),
        }),
      )
      .execute();
    await trx
      .insertInto('machine_usage_windows')
      .values({
        machine_id: machineId,
        received_at: receivedAt,
        window_seconds: window,
        lines_read: counts.read,
        lines_parsed: counts.parsed,
        lines_unparsed: counts.unparsed,
        sources: JSON.stringify(counts.bySource),
      })
      .execute();
    await trx
      .deleteFrom('machine_usage_windows')
      .where('machine_id', '=', machineId)
      .where('received_at', '<', receivedAt - WINDOWS_KEPT_MS)
      .execute();
  });
}

/** Every machine's usage summary, with its windows received since `since` (oldest first). */
export async function logProcessorUsage(store: Store, since: number): Promise<LogProcessorUsageInput[]> {
  const db = dbOf(store);
  const rows = await db.selectFrom('machine_usage_metrics').selectAll().execute();
  if (rows.length === 0) return [];
  const windows = await db.selectFrom('machine_usage_windows').selectAll().where('received_at', '>=', since).orderBy('received_at').execute();
  const byMachine = new Map<number, LogProcessorWindow[]>();
  for (const w of windows) {
    const id = Number(w.machine_id);
    let list = byMachine.get(id);
    if (!list) byMachine.set(id, (list = []));
    list.push({
      at: Number(w.received_at),
      windowSeconds: Number(w.window_seconds),
      read: Number(w.lines_read),
      parsed: Number(w.lines_parsed),
      unparsed: Number(w.lines_unparsed),
      bySource: JSON.parse(w.sources) as Record<string, SourceCounts>,
    });
  }
  return rows.map((r) => {
    const report = JSON.parse(r.report) as LogProcessorReport;
    return {
      machineId: Number(r.machine_id),
      firstReportAt: Number(r.first_report_at),
      lastReportAt: Number(r.received_at),
      lastReadAt: r.last_read_at === null ? null : Number(r.last_read_at),
      lastParsedAt: r.last_parsed_at === null ? null : Number(r.last_parsed_at),
      datasources: report.datasources ?? {},
      version: report.version,
      windows: byMachine.get(Number(r.machine_id)) ?? [],
    };
  });
}

/** The latest report of one machine, as received. */
export async function latestLogProcessorUsage(store: Store, machineId: number): Promise<{ receivedAt: number; report: LogProcessorReport } | undefined> {
  const row = await dbOf(store).selectFrom('machine_usage_metrics').selectAll().where('machine_id', '=', machineId).executeTakeFirst();
  return row ? { receivedAt: Number(row.received_at), report: JSON.parse(row.report) as LogProcessorReport } : undefined;
}
