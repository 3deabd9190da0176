import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration } from './tables.ts';

/**
 * Pulls per bouncer per hour, for the dashboard's 24 h and 7 d pull timelines. Bounded: rows older
 * than PULL_HISTORY_KEPT_MS (src/store/pull-history.ts) are deleted as new hours are written.
 */
export function pullHistory(dialect: Dialect): Migration {
  return tablesMigration(dialect, [
    {
      name: 'bouncer_pull_hours',
      columns: {
        bouncer_id: 'bigint',
        // Start of the hour, epoch ms (UTC).
        hour: 'bigint',
        pulls: 'bigint',
      },
      primaryKey: ['bouncer_id', 'hour'],
      indexes: [{ name: 'bouncer_pull_hours_hour', columns: ['hour'] }],
    },
  ]);
}
