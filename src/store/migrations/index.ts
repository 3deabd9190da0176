import type { Migration, MigrationProvider } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { init } from './001-init.ts';
import { health } from './002-health.ts';
import { usageMetrics } from './003-usage-metrics.ts';
import { notify } from './004-notify.ts';
import { pullHistory } from './006-pull-history.ts';
import { refusedSummaries } from './007-refused-summaries.ts';
import { endedSessions } from './008-ended-sessions.ts';

/** Explicit, ordered list: a migration is added here, never edited once released. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001-init': init(dialect),
        '002-health': health(dialect),
        '003-usage-metrics': usageMetrics(),
        '004-notify': notify(dialect),
        '006-pull-history': pullHistory(dialect),
        '007-refused-summaries': refusedSummaries(dialect),
        '008-ended-sessions': endedSessions(),
      };
    },
  };
}
