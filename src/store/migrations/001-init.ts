import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

export function init(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await bouncersTable(db, dialect);
      await decisionsTables(db, dialect);
      await refusedAndMetaTables(db, dialect);
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['refused_requests', 'decisions', 'alerts', 'bouncers', 'vigil_meta', 'vigil_counters']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}

/** The bouncers and their keys. */
async function bouncersTable(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('bouncers')
    .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('api_key_hash', 'text', (c) => c.notNull())
    .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ip_address', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('type', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('version', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('auth_type', 'text', (c) => c.notNull().defaultTo('api-key'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_pull_at', 'bigint')
    // Stream delta cursor: the decisions revision the last pull had seen (see store.ts).
    .addColumn('last_pull_rev', 'bigint')
    .addColumn('last_request_at', 'bigint')
    .addColumn('kind_override', 'text')
    .execute();
  await db.schema.createIndex('bouncers_api_key_hash').on('bouncers').column('api_key_hash').execute();
}

/** Alerts and the decisions they carry, with the indexes a pull reads by. */
async function decisionsTables(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('alerts')
    .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('scenario', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('machine_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('source_scope', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('source_value', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('source_ip', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('events_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('leakspeed', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('start_at', 'bigint', (c) => c.notNull())
    .addColumn('stop_at', 'bigint', (c) => c.notNull())
    .addColumn('simulated', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('decisions')
    .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
    .addColumn('alert_id', 'bigint', (c) => c.references('alerts.id').onDelete('cascade'))
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('scenario', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .addColumn('simulated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rev', 'bigint', (c) => c.notNull())
    .execute();
  // Stream startup/deltas read by expiry and creation time; replicas follow `rev`;
  // `value` serves exact-value filters and CLI deletes. IP matching is in memory (DecisionIndex).
  await db.schema.createIndex('decisions_until').on('decisions').column('until').execute();
  await db.schema.createIndex('decisions_created_at').on('decisions').column('created_at').execute();
  await db.schema.createIndex('decisions_rev').on('decisions').column('rev').execute();
  await db.schema.createIndex('decisions_value').on('decisions').column('value').execute();
  await db.schema.createIndex('decisions_alert_id').on('decisions').column('alert_id').execute();
}

/** Refused requests, settings, and the decisions revision counter. */
async function refusedAndMetaTables(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('refused_requests')
    .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('peer_ip', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('key_fingerprint', 'text', (c) => c.notNull())
    .addColumn('bouncer_name', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.createIndex('refused_requests_at').on('refused_requests').column('at').execute();

  await db.schema
    .createTable('vigil_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('vigil_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('vigil_counters').values({ name: 'decisions_rev', value: 0 }).execute();
}
