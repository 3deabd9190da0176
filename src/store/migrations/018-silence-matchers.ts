import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { columnsMigration } from './tables.ts';

/**
 * Silences beyond one issue or one exact bouncer (issue 31 item 2): `bouncer_name` may now be a
 * glob; a silence may match an issue kind, a machine (glob) and labels (JSON text `{name: glob}`),
 * start in the future (`starts_at`; null on older rows: they started when created) and hold only
 * inside a recurring window (`schedule`, JSON text: core/notify/schedule.ts). And
 * `notify_issue_state.ack_queued_at`: an acknowledgement told to a channel that announces them.
 */
export function silenceMatchers(dialect: Dialect): Migration {
  return columnsMigration(dialect, {
    notify_silences: {
      starts_at: { type: 'bigint', nullable: true },
      issue_kind: { type: 'text', nullable: true },
      machine_name: { type: 'text', nullable: true },
      labels: { type: 'text', nullable: true },
      schedule: { type: 'text', nullable: true },
    },
    notify_issue_state: {
      // When the channel was told the issue was acknowledged (channels that say so: PagerDuty's acknowledge).
      ack_queued_at: { type: 'bigint', nullable: true },
    },
  });
}
