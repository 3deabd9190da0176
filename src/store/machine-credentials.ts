import { VigilError } from '../lib/errors.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

/**
 * `machines add NAME --force` on an existing machine: a new password, everything else kept (its
 * validation, its history), as cscli's CreateMachine with force does. Tokens it holds stay valid
 * until they expire; its next login needs the new password.
 */
export async function setMachinePassword(store: Store, machineId: string, passwordHash: string, now: number): Promise<void> {
  const res = await dbOf(store)
    .updateTable('machines')
    .set({ password_hash: passwordHash, updated_at: now })
    .where('machine_id', '=', machineId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new VigilError('E_NO_MACHINE', `machine '${machineId}' doesn't exist`);
}
