import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration, type Table } from './tables.ts';

const notifyOutbox: Table = {
  name: 'notify_outbox',
  columns: {
    id: 'id',
    // Sent with every attempt (header and body): receivers drop what they already have.
    delivery_id: { type: 'text', unique: true },
    channel: 'text',
    event: 'text',
    content: 'text',
    created_at: 'bigint',
    // pending → sent, or failed after repeated permanent refusals.
    status: 'text',
    attempts: { type: 'integer', default: 0 },
    next_attempt_at: 'bigint',
    // The replica sending it, until when: a crashed sender's lease runs out and another takes over.
    lease_owner: { type: 'text', nullable: true },
    lease_until: { type: 'bigint', nullable: true },
    last_error: { type: 'text', nullable: true },
    answer: { type: 'text', nullable: true },
    sent_at: { type: 'bigint', nullable: true },
  },
  indexes: [
    { name: 'notify_outbox_queue', columns: ['channel', 'status', 'id'] },
    { name: 'notify_outbox_created', columns: ['created_at'] },
  ],
};

const notifyIssueState: Table = {
  name: 'notify_issue_state',
  columns: {
    channel: 'text',
    issue_id: 'bigint',
    open_outbox_id: 'bigint',
    open_queued_at: 'bigint',
    reminders_queued: { type: 'integer', default: 0 },
    resolve_outbox_id: { type: 'bigint', nullable: true },
    resolve_queued_at: { type: 'bigint', nullable: true },
  },
  primaryKey: ['channel', 'issue_id'],
  // The planner reads only announced issues whose resolve is still to come: a handful.
  indexes: [{ name: 'notify_issue_state_unresolved', columns: ['issue_id'], whereNull: 'resolve_queued_at' }],
};

const notifySilences: Table = {
  name: 'notify_silences',
  columns: {
    id: 'id',
    issue_id: { type: 'bigint', nullable: true },
    bouncer_name: { type: 'text', nullable: true },
    reason: 'text',
    created_by: 'text',
    created_at: 'bigint',
    ends_at: 'bigint',
    removed_at: { type: 'bigint', nullable: true },
  },
  indexes: [{ name: 'notify_silences_ends_at', columns: ['ends_at'] }],
};

const notifyAcks: Table = {
  name: 'notify_acks',
  columns: { issue_id: { type: 'bigint', primaryKey: true }, reason: 'text', created_by: 'text', created_at: 'bigint' },
};

/** Notifications: the durable outbox, what each channel was told about each issue, silences, acknowledgements. */
export function notify(dialect: Dialect): Migration {
  return tablesMigration(dialect, [notifyOutbox, notifyIssueState, notifySilences, notifyAcks]);
}
