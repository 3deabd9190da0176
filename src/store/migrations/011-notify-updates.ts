import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { columnsMigration } from './tables.ts';

/**
 * What each channel was last told about an open issue, so the planner can send an update when its
 * criticality rises or its likely cause changes (src/core/notify/plan.ts): the criticality and cause
 * announced, and when the last update was queued (cause changes are rate-limited). Rows from before
 * have none: the planner adopts the issue's state then, without a message.
 */
export function notifyUpdates(dialect: Dialect): Migration {
  return columnsMigration(dialect, {
    notify_issue_state: {
      announced_criticality: { type: 'text', nullable: true },
      announced_cause: { type: 'text', nullable: true },
      update_queued_at: { type: 'bigint', nullable: true },
    },
  });
}
