import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Each Local API process marks itself alive in its `lapi_starts` row every few seconds (and once more
 * when it stops), so the gaps between runs are known: Vigil's own downtime, which is never counted as
 * a bouncer's or an agent's silence (core/health/downtime.ts). Rows from before have none: their end
 * is unknown and no downtime is claimed for them.
 */
export function lapiAlive(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('lapi_starts').addColumn('alive_until', 'bigint').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('lapi_starts').dropColumn('alive_until').execute();
    },
  };
}
