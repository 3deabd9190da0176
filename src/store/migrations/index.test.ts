import { dbOf } from '../store-db.ts';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshDbUrl } from '../../../test/support/databases.ts';
import { Store } from '../store.ts';
import { LEGACY_MIGRATION_NAMES, migrationProvider } from './index.ts';

describe('migrations', () => {
  it('are numbered 001, 002, … without gaps', async () => {
    const names = Object.keys(await migrationProvider('sqlite').getMigrations());
    expect(names.map((n) => Number(n.slice(0, 3)))).toEqual(names.map((_, i) => i + 1));
  });

  for (const dialect of DIALECTS) {
    it(`${dialect}: a store migrated under the old numbers opens, its records renamed, nothing re-run`, async () => {
      const { url, cleanup } = await freshDbUrl(dialect);
      try {
        const first = await Store.open(url);
        const db = dbOf(first);
        // As a store migrated before the renumbering recorded it.
        for (const [old, current] of Object.entries(LEGACY_MIGRATION_NAMES)) {
          await sql`UPDATE kysely_migration SET name = ${old} WHERE name = ${current}`.execute(db);
        }
        await first.close();
        const again = await Store.open(url);
        const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(dbOf(again));
        await again.close();
        const names = rows.rows.map((r) => r.name);
        expect(names).toEqual(Object.keys(await migrationProvider(dialect).getMigrations()).sort());
        for (const old of Object.keys(LEGACY_MIGRATION_NAMES)) expect(names).not.toContain(old);
      } finally {
        await cleanup();
      }
    });
  }
});
