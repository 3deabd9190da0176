import type { ImportedBouncer, ImportedMachine } from '../core/model/crowdsec-import.ts';
import { dbOf } from './store-db.ts';
import { newBouncerRow } from './bouncers.ts';
import type { Store } from './store.ts';

/**
 * Writes the bouncers and machines of `vigil import crowdsec` in one transaction, each row whole
 * (key hash, address, type, version, revoked; bcrypt hash, validation), so an import either lands
 * or leaves the store as it was. A name Vigil already has is kept as it is; the names written are returned.
 */
export async function insertImportedIdentities(
  store: Store,
  rows: { bouncers: readonly ImportedBouncer[]; machines: readonly ImportedMachine[] },
  now: number,
): Promise<{ bouncers: string[]; machines: string[] }> {
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      const written = { bouncers: [] as string[], machines: [] as string[] };
      for (const b of rows.bouncers) {
        const inserted = await trx
          .insertInto('bouncers')
          .values(newBouncerRow({ ...b, now }))
          .onConflict((oc) => oc.column('name').doNothing())
          .returning('name')
          .executeTakeFirst();
        if (inserted) written.bouncers.push(inserted.name);
      }
      for (const m of rows.machines) {
        const inserted = await trx
          .insertInto('machines')
          .values({
            machine_id: m.machineId,
            password_hash: m.passwordHash,
            ip_address: m.ipAddress,
            version: m.version,
            scenarios: '',
            is_validated: m.isValidated ? 1 : 0,
            auth_type: m.authType,
            created_at: now,
            updated_at: now,
            last_login_at: null,
            last_heartbeat_at: null,
            last_push_at: null,
            heartbeat_cadence_ms: null,
            recent_heartbeats: '[]',
          })
          .onConflict((oc) => oc.column('machine_id').doNothing())
          .returning('machine_id')
          .executeTakeFirst();
        if (inserted) written.machines.push(inserted.machine_id);
      }
      return written;
    });
}
