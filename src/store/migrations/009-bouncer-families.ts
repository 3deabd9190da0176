import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * CrowdSec 1.6.4+ key sharing (docs/reference/crowdsec-1.6-1.7.md §1): one API key used from several
 * addresses gets one row per address, `NAME@IP`, created by the Local API with `auto_created` set.
 * The rows share the key hash, so its index stays non-unique (001-init's `bouncers_api_key_hash`);
 * the unique `name` is what makes two replicas creating the same child agree on one row.
 */
export function bouncerFamilies(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('bouncers')
        .addColumn('auto_created', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('bouncers').dropColumn('auto_created').execute();
    },
  };
}
