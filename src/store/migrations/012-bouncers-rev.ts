import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';

/**
 * A revision of what decides a bouncer's authentication: its rows, keys, names, revocation and
 * addresses. Triggers bump it on every such change, whoever makes it (the CLI, another replica, an
 * import), so a server can trust the keys it checked for as long as the revision holds and read one
 * counter a second instead of the key's rows on every pull (src/server/auth.ts). Filling in an
 * unclaimed address ('' → IP) and recording pulls do not move it: a cached key without that
 * address already asks the store.
 */
export function bouncersRev(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.insertInto('vigil_counters').values({ name: 'bouncers_rev', value: 0 }).execute();
      const bump = "UPDATE vigil_counters SET value = value + 1 WHERE name = 'bouncers_rev'";
      if (dialect === 'postgres') {
        await sql.raw(`CREATE FUNCTION vigil_bump_bouncers_rev() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${bump}; RETURN NULL; END $$`).execute(db);
        await sql
          .raw('CREATE TRIGGER bouncers_rev_rows AFTER INSERT OR DELETE ON bouncers FOR EACH STATEMENT EXECUTE FUNCTION vigil_bump_bouncers_rev()')
          .execute(db);
        await sql
          .raw(
            `CREATE TRIGGER bouncers_rev_update AFTER UPDATE OF api_key_hash, revoked, name, auth_type, ip_address ON bouncers FOR EACH ROW
             WHEN (OLD.api_key_hash IS DISTINCT FROM NEW.api_key_hash OR OLD.revoked IS DISTINCT FROM NEW.revoked OR OLD.name IS DISTINCT FROM NEW.name
               OR OLD.auth_type IS DISTINCT FROM NEW.auth_type OR (OLD.ip_address <> '' AND OLD.ip_address IS DISTINCT FROM NEW.ip_address))
             EXECUTE FUNCTION vigil_bump_bouncers_rev()`,
          )
          .execute(db);
        return;
      }
      await sql.raw(`CREATE TRIGGER bouncers_rev_insert AFTER INSERT ON bouncers BEGIN ${bump}; END`).execute(db);
      await sql.raw(`CREATE TRIGGER bouncers_rev_delete AFTER DELETE ON bouncers BEGIN ${bump}; END`).execute(db);
      await sql
        .raw(
          `CREATE TRIGGER bouncers_rev_update AFTER UPDATE OF api_key_hash, revoked, name, auth_type, ip_address ON bouncers
           WHEN OLD.api_key_hash IS NOT NEW.api_key_hash OR OLD.revoked IS NOT NEW.revoked OR OLD.name IS NOT NEW.name
             OR OLD.auth_type IS NOT NEW.auth_type OR (OLD.ip_address <> '' AND OLD.ip_address IS NOT NEW.ip_address)
           BEGIN ${bump}; END`,
        )
        .execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') {
        await sql.raw('DROP TRIGGER IF EXISTS bouncers_rev_update ON bouncers').execute(db);
        await sql.raw('DROP TRIGGER IF EXISTS bouncers_rev_rows ON bouncers').execute(db);
        await sql.raw('DROP FUNCTION IF EXISTS vigil_bump_bouncers_rev()').execute(db);
      } else {
        for (const t of ['bouncers_rev_update', 'bouncers_rev_delete', 'bouncers_rev_insert']) await sql.raw(`DROP TRIGGER IF EXISTS ${t}`).execute(db);
      }
      await db.deleteFrom('vigil_counters').where('name', '=', 'bouncers_rev').execute();
    },
  };
}
