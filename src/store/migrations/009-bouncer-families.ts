import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { columnsMigration } from './tables.ts';

/**
 * CrowdSec 1.6.4+ key sharing (docs/reference/crowdsec-1.6-1.7.md §1): one API key used from several
 * addresses gets one row per address, `NAME@IP`, created by the Local API with `auto_created` set.
 * The rows share the key hash, so its index stays non-unique (001-init's `bouncers_api_key_hash`);
 * the unique `name` is what makes two replicas creating the same child agree on one row.
 */
export function bouncerFamilies(dialect: Dialect): Migration {
  return columnsMigration(dialect, { bouncers: { auto_created: { type: 'integer', default: 0 } } });
}
