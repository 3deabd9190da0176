import type { Logger } from 'pino';
import type { EnvRegistrations } from '../config/env-registrations.ts';
import { hashApiKey, hashesEqual } from '../core/bouncers/api-key.ts';
import { VigilError } from '../lib/errors.ts';
import { hashMachinePassword, verifyMachinePassword } from '../lib/password.ts';
import { createBouncer, getBouncer, replaceBouncerKey } from '../store/bouncers.ts';
import { createMachine, getMachine, setMachinePassword } from '../store/machines.ts';
import type { Store } from '../store/store.ts';

export interface RegistrationOutcome {
  name: string;
  kind: 'bouncer' | 'machine';
  change: 'added' | 'updated' | 'unchanged';
}

/**
 * Writes what the environment registers (config/env-registrations.ts) into the store at start: a
 * bouncer that is absent is added, one whose key differs gets the new key (a rotated secret applies,
 * where CrowdSec's image skips a name that exists), one that matches is left alone; the machine is
 * added validated or given its password, as CrowdSec's `cscli machines add --force`. Only names and
 * where they came from are logged.
 */
export async function applyEnvRegistrations(store: Store, regs: EnvRegistrations, now: number, log: Logger): Promise<RegistrationOutcome[]> {
  const out: RegistrationOutcome[] = [];
  for (const b of regs.bouncers) {
    const hash = hashApiKey(b.key);
    const change = await registerBouncer(store, b.name, hash, now).catch(async (e: unknown) => {
      // Another replica added it between our read and our write: compare again.
      if (e instanceof VigilError && e.code === 'E_BOUNCER_EXISTS') return registerBouncer(store, b.name, hash, now);
      throw e;
    });
    if (change !== 'unchanged')
      log.info({ bouncer: b.name, from: b.from }, `bouncer '${b.name}' ${change === 'added' ? 'registered' : 'given its new key'} from ${b.from}`);
    out.push({ name: b.name, kind: 'bouncer', change });
  }
  const m = regs.machine;
  if (m !== null) {
    const existing = await getMachine(store, m.name);
    let change: RegistrationOutcome['change'] = 'unchanged';
    if (!existing) {
      await createMachine(store, { machineId: m.name, passwordHash: await hashMachinePassword(m.password), now, isValidated: true });
      change = 'added';
    } else if (!(await verifyMachinePassword(m.password, existing.passwordHash))) {
      await setMachinePassword(store, m.name, await hashMachinePassword(m.password), now);
      change = 'updated';
    }
    if (change !== 'unchanged')
      log.info({ machine: m.name, from: m.from }, `machine '${m.name}' ${change === 'added' ? 'registered' : 'given its new password'} from ${m.from}`);
    out.push({ name: m.name, kind: 'machine', change });
  }
  return out;
}

async function registerBouncer(store: Store, name: string, hash: string, now: number): Promise<RegistrationOutcome['change']> {
  const existing = await getBouncer(store, name);
  if (!existing) {
    await createBouncer(store, { name, apiKeyHash: hash, now });
    return 'added';
  }
  if (existing.apiKeyHash !== '' && hashesEqual(existing.apiKeyHash, hash)) return 'unchanged';
  await replaceBouncerKey(store, name, hash, now);
  return 'updated';
}
