import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

/**
 * Watchers ("machines": CrowdSec agents and cscli) for the watcher side of the Local API
 * (docs/reference/crowdsec-1.6-1.7.md §8), and what CrowdSec's alerts carry that 001's `alerts`
 * lacks, so a pushed alert reads back as it was sent (`cscli alerts inspect`).
 */
export function machines(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('machines')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('machine_id', 'text', (c) => c.notNull().unique())
        // bcrypt, as CrowdSec stores it; '' for TLS machines.
        .addColumn('password_hash', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('ip_address', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('version', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('scenarios', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('is_validated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('auth_type', 'text', (c) => c.notNull().defaultTo('password'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login_at', 'bigint')
        .addColumn('last_heartbeat_at', 'bigint')
        .addColumn('last_push_at', 'bigint')
        .addColumn('heartbeat_cadence_ms', 'bigint')
        // JSON array of the last heartbeat times (epoch ms), so every replica computes the same cadence.
        .addColumn('recent_heartbeats', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      await db.schema.createIndex('machines_last_heartbeat_at').on('machines').column('last_heartbeat_at').execute();

      // Defaults keep the CLI's own inserts (src/store/store.ts addDecisions) valid unchanged.
      await db.schema
        .alterTable('alerts')
        .addColumn('capacity', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('alerts')
        .addColumn('scenario_hash', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .alterTable('alerts')
        .addColumn('scenario_version', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .alterTable('alerts')
        .addColumn('remediation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('alerts')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      // JSON: labels, events, meta and the source's as_name/as_number/cn/range/latitude/longitude;
      // round-tripped, never queried.
      await db.schema
        .alterTable('alerts')
        .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('alerts_machine_id').on('alerts').column('machine_id').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('alerts_machine_id').ifExists().execute();
      for (const c of ['extra', 'kind', 'remediation', 'scenario_version', 'scenario_hash', 'capacity']) {
        await db.schema.alterTable('alerts').dropColumn(c).execute();
      }
      await db.schema.dropTable('machines').ifExists().execute();
    },
  };
}
