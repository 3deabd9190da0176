import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration, type Table } from './tables.ts';

const allowlistsTable: Table = {
  name: 'allowlists',
  columns: {
    id: 'id',
    name: { type: 'text', unique: true },
    description: { type: 'text', default: '' },
    allowlist_id: { type: 'text', default: '' },
    from_console: { type: 'integer', default: 0 },
    created_at: 'bigint',
    updated_at: 'bigint',
  },
};

const allowlistItems: Table = {
  name: 'allowlist_items',
  columns: {
    id: 'id',
    allowlist: 'bigint',
    value: 'text',
    comment: { type: 'text', default: '' },
    // Epoch ms; null: never expires.
    expires_at: { type: 'bigint', nullable: true },
    created_at: 'bigint',
    updated_at: 'bigint',
  },
  indexes: [
    { name: 'allowlist_items_allowlist', columns: ['allowlist'] },
    { name: 'allowlist_items_expires_at', columns: ['expires_at'] },
  ],
};

/**
 * Centralized allowlists (CrowdSec 1.6.6+, docs/reference/crowdsec-1.6-1.7.md §3; src/store/allowlists.ts):
 * - `allowlists`: one row per named list, its description, whether the Console manages it
 *   (`from_console`, with the Console's `allowlist_id`), created and updated times.
 * - `allowlist_items`: its IPs and ranges, each with a comment and an optional expiry. An item
 *   belongs to one list (CrowdSec's many-to-many edge is only ever used one to one); deleting a
 *   list deletes its items in the same transaction.
 */
export function allowlists(dialect: Dialect): Migration {
  return tablesMigration(dialect, [allowlistsTable, allowlistItems]);
}
