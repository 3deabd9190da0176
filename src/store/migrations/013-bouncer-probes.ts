import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The last probe of each bouncer's key (issue 24): a request with its key that was not its own
 * traffic (`vigil doctor`, a runbook's `curl -I`; src/core/bouncers/probe.ts). Kept as evidence
 * ("key accepted at 17:01, from vigil doctor"), apart from the bouncer's row so a probe can never
 * move its last request or pull. One row per bouncer, overwritten.
 */
export function bouncerProbes(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('bouncer_probes')
        .addColumn('bouncer_id', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .addColumn('peer_ip', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('bouncer_probes').ifExists().execute();
    },
  };
}
