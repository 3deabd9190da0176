import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Agents' usage-metrics reports (`POST /v1/usage-metrics` with a JWT, CrowdSec 1.6.3+), for CrowdSec's
 * LP No Logs Read and LP No Logs Parsed (src/core/health/log-processors.ts):
 * - `machine_usage_metrics`: one row per machine (machines.id): its first and last report, the last
 *   report that read lines and the last that parsed some, and the latest report as received.
 * - `machine_usage_windows`: one row per report, its window's lines read, parsed and unparsed, in
 *   total and per source; pruned after a week (src/store/usage-log-processors.ts).
 */
export function logProcessorUsage(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('machine_usage_metrics')
        .addColumn('machine_id', 'bigint', (c) => c.primaryKey())
        .addColumn('first_report_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('last_read_at', 'bigint')
        .addColumn('last_parsed_at', 'bigint')
        // The log_processors[0] item as decoded, JSON text.
        .addColumn('report', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('machine_usage_windows')
        .addColumn('machine_id', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('window_seconds', 'bigint', (c) => c.notNull())
        .addColumn('lines_read', 'bigint', (c) => c.notNull())
        .addColumn('lines_parsed', 'bigint', (c) => c.notNull())
        .addColumn('lines_unparsed', 'bigint', (c) => c.notNull())
        // {source: {type, read, parsed, unparsed}}, JSON text.
        .addColumn('sources', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('machine_usage_windows_at').on('machine_usage_windows').columns(['machine_id', 'received_at']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('machine_usage_windows').ifExists().execute();
      await db.schema.dropTable('machine_usage_metrics').ifExists().execute();
    },
  };
}
