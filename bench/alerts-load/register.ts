import crypto from 'node:crypto';
import { hashApiKey } from '../../src/core/bouncers/api-key.ts';
import { hashMachinePassword } from '../../src/lib/password.ts';
import { createBouncer } from '../../src/store/bouncers.ts';
import { createMachine } from '../../src/store/machines.ts';
import { Store } from '../../src/store/store.ts';

/**
 * Writes the run's machines (bcrypt, as `vigil machines add`, all with one password) and bouncers
 * `rc-0…` into the store before the server starts; answers the password and each bouncer's API key.
 */
export async function registerFleet(dbUrl: string, machineIds: string[], bouncers: number): Promise<{ password: string; keys: string[] }> {
  const store = await Store.open(dbUrl);
  const password = crypto.randomBytes(24).toString('hex');
  const passwordHash = await hashMachinePassword(password);
  for (const machineId of machineIds) await createMachine(store, { machineId, passwordHash, now: Date.now(), isValidated: true });
  const keys: string[] = [];
  for (let i = 0; i < bouncers; i++) {
    const key = crypto.randomBytes(16).toString('hex');
    keys.push(key);
    await createBouncer(store, { name: `rc-${i}`, apiKeyHash: hashApiKey(key), now: Date.now() });
  }
  await store.close();
  return { password, keys };
}
