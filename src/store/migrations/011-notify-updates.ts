import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What each channel was last told about an open issue, so the planner can send an update when its
 * criticality rises or its likely cause changes (src/core/notify/plan.ts): the criticality and cause
 * announced, and when the last update was queued (cause changes are rate-limited). Rows from before
 * have none: the planner adopts the state then, without a message. One ADD COLUMN per
 * statement (SQLite).
 */
export function notifyUpdates(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('notify_issue_state').addColumn('announced_criticality', 'text').execute();
      await db.schema.alterTable('notify_issue_state').addColumn('announced_cause', 'text').execute();
      await db.schema.alterTable('notify_issue_state').addColumn('update_queued_at', 'bigint').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const c of ['update_queued_at', 'announced_cause', 'announced_criticality']) {
        await db.schema.alterTable('notify_issue_state').dropColumn(c).execute();
      }
    },
  };
}
