import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

/** What the health engine needs: issues with history, LAPI starts, bouncer changes, pull cadence. */
export function health(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Median interval between stream pulls, when the bouncer pulls on a steady cadence; else null.
      await db.schema.alterTable('bouncers').addColumn('pull_cadence_ms', 'bigint').execute();

      await db.schema
        .createTable('health_issues')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('criticality', 'text', (c) => c.notNull())
        // 'bouncer:<name>' or 'fleet': one open issue per kind and subject.
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('bouncer_name', 'text')
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        // When the condition began (the last pull, or registration): earlier than opened_at.
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .execute();
      // Several replicas evaluate the same store: this index lets exactly one open an issue.
      await db.schema
        .createIndex('health_issues_open')
        .on('health_issues')
        .columns(['kind', 'subject'])
        .unique()
        .where(sql.ref('resolved_at'), 'is', null)
        .execute();
      await db.schema.createIndex('health_issues_opened_at').on('health_issues').column('opened_at').execute();

      await db.schema
        .createTable('lapi_starts')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('bouncer_changes')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('bouncer_id', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('old_value', 'text', (c) => c.notNull())
        .addColumn('new_value', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('bouncer_changes_at').on('bouncer_changes').column('at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['bouncer_changes', 'lapi_starts', 'health_issues']) await db.schema.dropTable(t).ifExists().execute();
      await db.schema.alterTable('bouncers').dropColumn('pull_cadence_ms').execute();
    },
  };
}
