import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration, type Table } from './tables.ts';

const machineUsageMetrics: Table = {
  name: 'machine_usage_metrics',
  columns: {
    machine_id: { type: 'bigint', primaryKey: true },
    first_report_at: 'bigint',
    received_at: 'bigint',
    last_read_at: { type: 'bigint', nullable: true },
    last_parsed_at: { type: 'bigint', nullable: true },
    // The log_processors[0] item as decoded, JSON text.
    report: 'text',
  },
};

const machineUsageWindows: Table = {
  name: 'machine_usage_windows',
  columns: {
    machine_id: 'bigint',
    received_at: 'bigint',
    window_seconds: 'bigint',
    lines_read: 'bigint',
    lines_parsed: 'bigint',
    lines_unparsed: 'bigint',
    // {source: {type, read, parsed, unparsed}}, JSON text.
    sources: 'text',
  },
  indexes: [{ name: 'machine_usage_windows_at', columns: ['machine_id', 'received_at'] }],
};

/**
 * Agents' usage-metrics reports (`POST /v1/usage-metrics` with a JWT, CrowdSec 1.6.3+), for CrowdSec's
 * LP No Logs Read and LP No Logs Parsed (src/core/health/log-processors.ts):
 * - `machine_usage_metrics`: one row per machine (machines.id): its first and last report, the last
 *   report that read lines and the last that parsed some, and the latest report as received.
 * - `machine_usage_windows`: one row per report, its window's lines read, parsed and unparsed, in
 *   total and per source; pruned after a week (src/store/usage-log-processors.ts).
 */
export function logProcessorUsage(dialect: Dialect): Migration {
  return tablesMigration(dialect, [machineUsageMetrics, machineUsageWindows]);
}
