import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { columnsMigration } from './tables.ts';

/**
 * Each Local API process marks itself alive in its `lapi_starts` row every few seconds (and once more
 * when it stops), so the gaps between runs are known: Vigil's own downtime, which is never counted as
 * a bouncer's or an agent's silence (core/health/downtime.ts). Rows from before have none: their end
 * is unknown and no downtime is claimed for them.
 */
export function lapiAlive(dialect: Dialect): Migration {
  return columnsMigration(dialect, { lapi_starts: { alive_until: { type: 'bigint', nullable: true } } });
}
