import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

/**
 * Centralized allowlists (CrowdSec 1.6.6+, docs/reference/crowdsec-1.6-1.7.md §3; src/store/allowlists.ts):
 * - `allowlists`: one row per named list, its description, whether the Console manages it
 *   (`from_console`, with the Console's `allowlist_id`), created and updated times.
 * - `allowlist_items`: its IPs and ranges, each with a comment and an optional expiry. An item
 *   belongs to one list (CrowdSec's many-to-many edge is only ever used one to one); deleting a
 *   list deletes its items in the same transaction.
 */
export function allowlists(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('allowlists')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('allowlist_id', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('from_console', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('allowlist_items')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('allowlist', 'bigint', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
        // Epoch ms; null: never expires.
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('allowlist_items_allowlist').on('allowlist_items').column('allowlist').execute();
      await db.schema.createIndex('allowlist_items_expires_at').on('allowlist_items').column('expires_at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('allowlist_items').ifExists().execute();
      await db.schema.dropTable('allowlists').ifExists().execute();
    },
  };
}
