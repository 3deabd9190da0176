import { sql, type Kysely } from 'kysely';
import { Migrator, NO_MIGRATIONS } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../../../test/support/databases.ts';
import { dbOf } from '../store-db.ts';
import { Store } from '../store.ts';
import { migrationProvider } from './index.ts';

/**
 * The whole schema after every migration, as the database itself describes it. The snapshots were
 * taken before the migrations were rewritten as table definitions (schema.ts): a released store and
 * a new one must end up with the same tables, columns, defaults, indexes, keys and triggers.
 */
async function sqliteSchema(db: Kysely<any>): Promise<string[]> {
  const lines: string[] = [];
  const objects = await sql<{ type: string; name: string; tbl_name: string; sql: string | null }>`
    SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name`.execute(db);
  for (const o of objects.rows) lines.push(`${o.type} ${o.name} on ${o.tbl_name}: ${o.sql ?? '(implicit)'}`);
  for (const t of objects.rows.filter((o) => o.type === 'table')) {
    const columns = await sql.raw<Record<string, unknown>>(`PRAGMA table_info('${t.name}')`).execute(db);
    for (const c of columns.rows) lines.push(`column ${t.name}: ${JSON.stringify(c)}`);
    const indexes = await sql.raw<Record<string, unknown>>(`PRAGMA index_list('${t.name}')`).execute(db);
    for (const i of indexes.rows.sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
      const { seq: _seq, ...index } = i;
      const parts = await sql.raw<Record<string, unknown>>(`PRAGMA index_info('${String(i.name)}')`).execute(db);
      lines.push(`index ${t.name}: ${JSON.stringify(index)} on ${parts.rows.map((p) => p.name).join(',')}`);
    }
  }
  return lines;
}

async function postgresSchema(db: Kysely<any>): Promise<string[]> {
  const lines: string[] = [];
  const columns = await sql<Record<string, unknown>>`
    SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default
    FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`.execute(db);
  for (const c of columns.rows) lines.push(`column ${JSON.stringify(c)}`);
  const indexes = await sql<{ indexname: string; indexdef: string }>`
    SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`.execute(db);
  for (const i of indexes.rows) lines.push(`index ${i.indexname}: ${i.indexdef}`);
  const constraints = await sql<{ conname: string; table: string; def: string }>`
    SELECT c.conname, c.conrelid::regclass::text AS table, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = 'public' ORDER BY 2, 1`.execute(db);
  for (const c of constraints.rows) lines.push(`constraint ${c.table}.${c.conname}: ${c.def}`);
  const triggers = await sql<{ tgname: string; def: string }>`
    SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname`.execute(db);
  for (const t of triggers.rows) lines.push(`trigger ${t.tgname}: ${t.def}`);
  const functions = await sql<{ proname: string; def: string }>`
    SELECT p.proname, pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' ORDER BY 1`.execute(db);
  for (const f of functions.rows) lines.push(`function ${f.proname}: ${f.def}`);
  return lines;
}

async function schemaOf(db: Kysely<any>, dialect: string): Promise<string> {
  const lines = dialect === 'sqlite' ? await sqliteSchema(db) : await postgresSchema(db);
  // Rows the migrations themselves insert.
  const counters = await sql<{ name: string }>`SELECT name FROM vigil_counters ORDER BY name`.execute(db);
  lines.push(`counters: ${counters.rows.map((r) => r.name).join(',')}`);
  return `${lines.join('\n')}\n`;
}

describe('the schema after all migrations', () => {
  it.each(DIALECTS)('%s: is the one the snapshot recorded', async (dialect) => {
    const { url, cleanup } = await freshDbUrl(dialect);
    try {
      const store = await Store.open(url);
      try {
        const db = dbOf(store);
        const snapshot = `./__snapshots__/schema-${dialect}.txt`;
        await expect(await schemaOf(db, dialect)).toMatchFileSnapshot(snapshot);
        // Every down undoes its up: all the way down and up again gives the same schema.
        const migrator = new Migrator({ db, provider: migrationProvider(dialect), allowUnorderedMigrations: true });
        expect((await migrator.migrateTo(NO_MIGRATIONS)).error).toBeUndefined();
        expect((await migrator.migrateToLatest()).error).toBeUndefined();
        await expect(await schemaOf(db, dialect)).toMatchFileSnapshot(snapshot);
      } finally {
        await store.close();
      }
    } finally {
      await cleanup();
    }
  });
});
