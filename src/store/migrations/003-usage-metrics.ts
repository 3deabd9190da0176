import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration } from './tables.ts';

/**
 * The latest usage-metrics report of each bouncer (`POST /v1/usage-metrics`). One row per bouncer:
 * the health engine only needs "when did it last report", the dashboard shows the last report.
 */
export function usageMetrics(dialect: Dialect): Migration {
  return tablesMigration(dialect, [
    {
      name: 'bouncer_usage_metrics',
      columns: {
        bouncer_id: { type: 'bigint', primaryKey: true },
        received_at: 'bigint',
        // The remediation_components[0] item as received (validated), JSON text.
        report: 'text',
      },
    },
  ]);
}
