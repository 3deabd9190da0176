import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The retention purge (src/store/retention.ts) looks for alerts by age and resolved issues by
 * resolution time in every run: without these indexes each batch would scan the whole table.
 */
export function retention(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('alerts_created_at').on('alerts').column('created_at').execute();
      await db.schema.createIndex('health_issues_resolved_at').on('health_issues').column('resolved_at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('health_issues_resolved_at').ifExists().execute();
      await db.schema.dropIndex('alerts_created_at').ifExists().execute();
    },
  };
}
