import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The latest usage-metrics report of each bouncer (`POST /v1/usage-metrics`). One row per bouncer:
 * the health engine only needs "when did it last report", the dashboard shows the last report.
 */
export function usageMetrics(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('bouncer_usage_metrics')
        .addColumn('bouncer_id', 'bigint', (c) => c.primaryKey())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        // The remediation_components[0] item as received (validated), JSON text.
        .addColumn('report', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('bouncer_usage_metrics').ifExists().execute();
    },
  };
}
