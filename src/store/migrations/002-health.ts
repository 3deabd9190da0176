import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { addColumns, createTable, dropColumns, dropTables, type Columns, type Table } from './tables.ts';

const bouncerColumns: Columns = {
  // Median interval between stream pulls, when the bouncer pulls on a steady cadence; else null.
  pull_cadence_ms: { type: 'bigint', nullable: true },
};

const healthIssues: Table = {
  name: 'health_issues',
  columns: {
    id: 'id',
    kind: 'text',
    criticality: 'text',
    // 'bouncer:<name>' or 'fleet': one open issue per kind and subject.
    subject: 'text',
    bouncer_name: { type: 'text', nullable: true },
    opened_at: 'bigint',
    last_seen_at: 'bigint',
    resolved_at: { type: 'bigint', nullable: true },
    // When the condition began (the last pull, or registration): earlier than opened_at.
    since: 'bigint',
    summary: 'text',
    evidence: 'text',
  },
  indexes: [
    // Several replicas evaluate the same store: this index lets exactly one open an issue.
    { name: 'health_issues_open', columns: ['kind', 'subject'], unique: true, whereNull: 'resolved_at' },
    { name: 'health_issues_opened_at', columns: ['opened_at'] },
  ],
};

const lapiStarts: Table = { name: 'lapi_starts', columns: { id: 'id', at: 'bigint', instance: 'text' } };

const bouncerChanges: Table = {
  name: 'bouncer_changes',
  columns: { id: 'id', bouncer_id: 'bigint', at: 'bigint', field: 'text', old_value: 'text', new_value: 'text' },
  indexes: [{ name: 'bouncer_changes_at', columns: ['at'] }],
};

const TABLES = [healthIssues, lapiStarts, bouncerChanges];

/** What the health engine needs: issues with history, LAPI starts, bouncer changes, pull cadence. */
export function health(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addColumns(db, dialect, 'bouncers', bouncerColumns);
      for (const table of TABLES) await createTable(db, dialect, table);
    },
    async down(db: Kysely<any>): Promise<void> {
      await dropTables(db, TABLES);
      await dropColumns(db, 'bouncers', bouncerColumns);
    },
  };
}
