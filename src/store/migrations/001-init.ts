import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration, type Table } from './tables.ts';

/** The bouncers and their keys. */
const bouncers: Table = {
  name: 'bouncers',
  columns: {
    id: 'id',
    name: { type: 'text', unique: true },
    api_key_hash: 'text',
    revoked: { type: 'integer', default: 0 },
    ip_address: { type: 'text', default: '' },
    type: { type: 'text', default: '' },
    version: { type: 'text', default: '' },
    auth_type: { type: 'text', default: 'api-key' },
    created_at: 'bigint',
    updated_at: 'bigint',
    last_pull_at: { type: 'bigint', nullable: true },
    // Stream delta cursor: the decisions revision the last pull had seen (see store.ts).
    last_pull_rev: { type: 'bigint', nullable: true },
    last_request_at: { type: 'bigint', nullable: true },
    kind_override: { type: 'text', nullable: true },
  },
  indexes: [{ name: 'bouncers_api_key_hash', columns: ['api_key_hash'] }],
};

/** Alerts and the decisions they carry. */
const alerts: Table = {
  name: 'alerts',
  columns: {
    id: 'id',
    created_at: 'bigint',
    scenario: 'text',
    message: { type: 'text', default: '' },
    machine_id: { type: 'text', default: '' },
    source_scope: { type: 'text', default: '' },
    source_value: { type: 'text', default: '' },
    source_ip: { type: 'text', default: '' },
    events_count: { type: 'integer', default: 0 },
    leakspeed: { type: 'text', default: '' },
    start_at: 'bigint',
    stop_at: 'bigint',
    simulated: { type: 'integer', default: 0 },
  },
};

const decisions: Table = {
  name: 'decisions',
  columns: {
    id: 'id',
    alert_id: { type: 'bigint', nullable: true, references: { column: 'alerts.id', onDelete: 'cascade' } },
    origin: 'text',
    type: 'text',
    scope: 'text',
    value: 'text',
    scenario: 'text',
    created_at: 'bigint',
    until: 'bigint',
    deleted_at: { type: 'bigint', nullable: true },
    simulated: { type: 'integer', default: 0 },
    rev: 'bigint',
  },
  // Stream startup/deltas read by expiry and creation time; replicas follow `rev`;
  // `value` serves exact-value filters and CLI deletes. IP matching is in memory (DecisionIndex).
  indexes: [
    { name: 'decisions_until', columns: ['until'] },
    { name: 'decisions_created_at', columns: ['created_at'] },
    { name: 'decisions_rev', columns: ['rev'] },
    { name: 'decisions_value', columns: ['value'] },
    { name: 'decisions_alert_id', columns: ['alert_id'] },
  ],
};

const refusedRequests: Table = {
  name: 'refused_requests',
  columns: {
    id: 'id',
    at: 'bigint',
    peer_ip: 'text',
    user_agent: 'text',
    method: 'text',
    path: 'text',
    reason: 'text',
    key_fingerprint: 'text',
    bouncer_name: { type: 'text', default: '' },
  },
  indexes: [{ name: 'refused_requests_at', columns: ['at'] }],
};

/** Settings. */
const vigilMeta: Table = { name: 'vigil_meta', columns: { key: { type: 'text', primaryKey: true }, value: 'text' } };

/** Named counters, starting with the decisions revision. */
const vigilCounters: Table = { name: 'vigil_counters', columns: { name: { type: 'text', primaryKey: true }, value: 'bigint' } };

export function init(dialect: Dialect): Migration {
  return tablesMigration(dialect, [bouncers, alerts, decisions, refusedRequests, vigilMeta, vigilCounters], async (db) => {
    await db.insertInto('vigil_counters').values({ name: 'decisions_rev', value: 0 }).execute();
  });
}
