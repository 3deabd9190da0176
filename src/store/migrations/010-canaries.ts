import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

/**
 * Proof of enforcement (docs/canaries.md):
 * - `canary_runs`: each scheduled run of a canary (the `vigil verify` flow), its verdict, the step
 *   that failed and its timings; pruned to the last CANARY_RUNS_KEPT per canary (src/store/canaries.ts).
 * - `bouncer_stream_filters`: the filters of a bouncer's last stream pull (scopes, origins,
 *   scenarios), so what it should hold can be compared with what it reports holding.
 * - `bouncer_drift_observations`: per usage-metrics report, what the bouncer reported holding and
 *   what the Local API held for its filters; two in a row that disagree raise remediation_drift.
 */
export function canaries(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('canary_runs')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('canary', 'text', (c) => c.notNull())
        .addColumn('bouncer_name', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('expect', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint', (c) => c.notNull())
        // pass | fail | aborted
        .addColumn('verdict', 'text', (c) => c.notNull())
        // baseline | add | wait | check | remove; null when the run passed
        .addColumn('failed_step', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('fix', 'text')
        .addColumn('decision_id', 'text')
        .addColumn('decision_removed', 'integer', (c) => c.notNull())
        // The last HTTP status the URL answered the test address with (null: no answer).
        .addColumn('answer_status', 'integer')
        .addColumn('pulled_after_ms', 'bigint')
        .addColumn('enforced_after_ms', 'bigint')
        .addColumn('total_ms', 'bigint', (c) => c.notNull())
        // The steps as vigil verify reports them, JSON text.
        .addColumn('steps', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('canary_runs_canary').on('canary_runs').columns(['canary', 'started_at']).execute();
      await db.schema.createIndex('canary_runs_bouncer').on('canary_runs').columns(['bouncer_name', 'started_at']).execute();
      await db.schema
        .createTable('bouncer_stream_filters')
        .addColumn('bouncer_id', 'bigint', (c) => c.primaryKey())
        .addColumn('seen_at', 'bigint', (c) => c.notNull())
        // {scopes, origins?, scenariosContaining?, scenariosNotContaining?, dedup}, JSON text.
        .addColumn('filters', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('bouncer_drift_observations')
        .addColumn('bouncer_id', 'bigint', (c) => c.notNull())
        // The usage-metrics report's receipt time: one observation per report.
        .addColumn('report_at', 'bigint', (c) => c.notNull())
        .addColumn('observed_at', 'bigint', (c) => c.notNull())
        .addColumn('reported', 'bigint', (c) => c.notNull())
        .addColumn('expected', 'bigint', (c) => c.notNull())
        // Per origin: {origin: {reported, expected}}, JSON text.
        .addColumn('by_origin', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('bouncer_drift_observations_pk', ['bouncer_id', 'report_at'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('bouncer_drift_observations').ifExists().execute();
      await db.schema.dropTable('bouncer_stream_filters').ifExists().execute();
      await db.schema.dropTable('canary_runs').ifExists().execute();
    },
  };
}
