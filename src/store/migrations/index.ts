import type { Migration, MigrationProvider } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { init } from './001-init.ts';
import { health } from './002-health.ts';
import { usageMetrics } from './003-usage-metrics.ts';
import { notify } from './004-notify.ts';
import { pullHistory } from './005-pull-history.ts';
import { refusedSummaries } from './006-refused-summaries.ts';
import { endedSessions } from './007-ended-sessions.ts';
import { machines } from './008-machines.ts';
import { bouncerFamilies } from './009-bouncer-families.ts';
import { canaries } from './010-canaries.ts';
import { notifyUpdates } from './011-notify-updates.ts';
import { bouncersRev } from './012-bouncers-rev.ts';
import { bouncerProbes } from './013-bouncer-probes.ts';
import { lapiAlive } from './014-lapi-alive.ts';
import { logProcessorUsage } from './015-log-processor-usage.ts';
import { retention } from './016-retention.ts';
import { allowlists } from './017-allowlists.ts';
import { silenceMatchers } from './018-silence-matchers.ts';

/**
 * Names a released store may have recorded for a migration that was renumbered since (the list was
 * made gapless: 005 had been left free by parallel work). `migrate` renames them before running.
 */
export const LEGACY_MIGRATION_NAMES: Readonly<Record<string, string>> = { '006-pull-history': '005-pull-history' };

/** Explicit, ordered list, numbered without gaps: a migration is added here, never edited once released. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001-init': init(dialect),
        '002-health': health(dialect),
        '003-usage-metrics': usageMetrics(dialect),
        '004-notify': notify(dialect),
        '005-pull-history': pullHistory(dialect),
        '006-refused-summaries': refusedSummaries(dialect),
        '007-ended-sessions': endedSessions(dialect),
        '008-machines': machines(dialect),
        '009-bouncer-families': bouncerFamilies(dialect),
        '010-canaries': canaries(dialect),
        '011-notify-updates': notifyUpdates(dialect),
        '012-bouncers-rev': bouncersRev(dialect),
        '013-bouncer-probes': bouncerProbes(dialect),
        '014-lapi-alive': lapiAlive(dialect),
        '015-log-processor-usage': logProcessorUsage(dialect),
        '016-retention': retention(),
        '017-allowlists': allowlists(dialect),
        '018-silence-matchers': silenceMatchers(dialect),
      };
    },
  };
}
