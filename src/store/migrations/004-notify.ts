import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

/** Notifications: the durable outbox, what each channel was told about each issue, silences, acknowledgements. */
export function notify(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('notify_outbox')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        // Sent with every attempt (header and body): receivers drop what they already have.
        .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        // pending → sent, or failed after repeated permanent refusals.
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        // The replica sending it, until when: a crashed sender's lease runs out and another takes over.
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('answer', 'text')
        .addColumn('sent_at', 'bigint')
        .execute();
      await db.schema.createIndex('notify_outbox_queue').on('notify_outbox').columns(['channel', 'status', 'id']).execute();
      await db.schema.createIndex('notify_outbox_created').on('notify_outbox').column('created_at').execute();

      await db.schema
        .createTable('notify_issue_state')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('issue_id', 'bigint', (c) => c.notNull())
        .addColumn('open_outbox_id', 'bigint', (c) => c.notNull())
        .addColumn('open_queued_at', 'bigint', (c) => c.notNull())
        .addColumn('reminders_queued', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('resolve_outbox_id', 'bigint')
        .addColumn('resolve_queued_at', 'bigint')
        .addPrimaryKeyConstraint('notify_issue_state_pk', ['channel', 'issue_id'])
        .execute();
      // The planner reads only announced issues whose resolve is still to come: a handful.
      await db.schema
        .createIndex('notify_issue_state_unresolved')
        .on('notify_issue_state')
        .column('issue_id')
        .where(sql.ref('resolve_queued_at'), 'is', null)
        .execute();

      await db.schema
        .createTable('notify_silences')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('issue_id', 'bigint')
        .addColumn('bouncer_name', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('ends_at', 'bigint', (c) => c.notNull())
        .addColumn('removed_at', 'bigint')
        .execute();
      await db.schema.createIndex('notify_silences_ends_at').on('notify_silences').column('ends_at').execute();

      await db.schema
        .createTable('notify_acks')
        .addColumn('issue_id', 'bigint', (c) => c.primaryKey())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['notify_acks', 'notify_silences', 'notify_issue_state', 'notify_outbox']) await db.schema.dropTable(t).ifExists().execute();
    },
  };
}
