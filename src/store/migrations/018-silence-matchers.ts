import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Silences beyond one issue or one exact bouncer (issue 31 item 2): `bouncer_name` may now be a
 * glob; a silence may match an issue kind, a machine (glob) and labels (JSON text `{name: glob}`),
 * start in the future (`starts_at`; null on older rows: they started when created) and hold only
 * inside a recurring window (`schedule`, JSON text: core/notify/schedule.ts). And
 * `notify_issue_state.ack_queued_at`: an acknowledgement told to a channel that announces them.
 */
export function silenceMatchers(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('notify_silences').addColumn('starts_at', 'bigint').execute();
      await db.schema.alterTable('notify_silences').addColumn('issue_kind', 'text').execute();
      await db.schema.alterTable('notify_silences').addColumn('machine_name', 'text').execute();
      await db.schema.alterTable('notify_silences').addColumn('labels', 'text').execute();
      await db.schema.alterTable('notify_silences').addColumn('schedule', 'text').execute();
      // When the channel was told the issue was acknowledged (channels that say so: PagerDuty's acknowledge).
      await db.schema.alterTable('notify_issue_state').addColumn('ack_queued_at', 'bigint').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('notify_issue_state').dropColumn('ack_queued_at').execute();
      for (const c of ['schedule', 'labels', 'machine_name', 'issue_kind', 'starts_at']) await db.schema.alterTable('notify_silences').dropColumn(c).execute();
    },
  };
}
