import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { addColumns, createIndex, createTable, dropColumns, type Columns, type Table } from './tables.ts';

const machinesTable: Table = {
  name: 'machines',
  columns: {
    id: 'id',
    machine_id: { type: 'text', unique: true },
    // bcrypt, as CrowdSec stores it; '' for TLS machines.
    password_hash: { type: 'text', default: '' },
    ip_address: { type: 'text', default: '' },
    version: { type: 'text', default: '' },
    scenarios: { type: 'text', default: '' },
    is_validated: { type: 'integer', default: 0 },
    auth_type: { type: 'text', default: 'password' },
    created_at: 'bigint',
    updated_at: 'bigint',
    last_login_at: { type: 'bigint', nullable: true },
    last_heartbeat_at: { type: 'bigint', nullable: true },
    last_push_at: { type: 'bigint', nullable: true },
    heartbeat_cadence_ms: { type: 'bigint', nullable: true },
    // JSON array of the last heartbeat times (epoch ms), so every replica computes the same cadence.
    recent_heartbeats: { type: 'text', default: '[]' },
  },
  indexes: [{ name: 'machines_last_heartbeat_at', columns: ['last_heartbeat_at'] }],
};

// Defaults keep the CLI's own inserts (src/store/store.ts addDecisions) valid unchanged.
const alertColumns: Columns = {
  capacity: { type: 'integer', default: 0 },
  scenario_hash: { type: 'text', default: '' },
  scenario_version: { type: 'text', default: '' },
  remediation: { type: 'integer', default: 0 },
  kind: { type: 'text', default: '' },
  // JSON: labels, events, meta and the source's as_name/as_number/cn/range/latitude/longitude;
  // round-tripped, never queried.
  extra: { type: 'text', default: '{}' },
};

/**
 * Watchers ("machines": CrowdSec agents and cscli) for the watcher side of the Local API
 * (docs/reference/crowdsec-1.6-1.7.md §8), and what CrowdSec's alerts carry that 001's `alerts`
 * lacks, so a pushed alert reads back as it was sent (`cscli alerts inspect`).
 */
export function machines(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await createTable(db, dialect, machinesTable);
      await addColumns(db, dialect, 'alerts', alertColumns);
      await createIndex(db, 'alerts', { name: 'alerts_machine_id', columns: ['machine_id'] });
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('alerts_machine_id').ifExists().execute();
      await dropColumns(db, 'alerts', alertColumns);
      await db.schema.dropTable('machines').ifExists().execute();
    },
  };
}
