import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';

/**
 * Pulls per bouncer per hour, for the dashboard's 24 h and 7 d pull timelines. Bounded: rows older
 * than PULL_HISTORY_KEPT_MS (src/store/pull-history.ts) are deleted as new hours are written.
 */
export function pullHistory(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('bouncer_pull_hours')
        .addColumn('bouncer_id', 'bigint', (c) => c.notNull())
        // Start of the hour, epoch ms (UTC).
        .addColumn('hour', 'bigint', (c) => c.notNull())
        .addColumn('pulls', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('bouncer_pull_hours_pk', ['bouncer_id', 'hour'])
        .execute();
      await db.schema.createIndex('bouncer_pull_hours_hour').on('bouncer_pull_hours').column('hour').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('bouncer_pull_hours').ifExists().execute();
    },
  };
}
