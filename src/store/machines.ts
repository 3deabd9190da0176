import type { Selectable } from 'kysely';
import { pullCadence } from '../core/health/cadence.ts';
import type { Machine, MachineAuthType } from '../core/model/records.ts';
import { VigilError } from '../lib/errors.ts';
import { isUniqueViolationError } from './dialects/store-dialect.ts';
import { idleBefore } from './prune-rule.ts';
import type { MachinesTable } from './schema.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Watchers (CrowdSec agents, cscli) (migration 008; table type in schema.ts): registered, validated,
// logged in, heartbeating and pushing alerts (docs/reference/crowdsec-1.6-1.7.md §8).

/** Heartbeat times kept per machine for its cadence: enough for pullCadence, small enough to rewrite each minute. */
export const HEARTBEATS_KEPT = 12;

export async function createMachine(
  store: Store,
  input: { machineId: string; passwordHash: string; now: number; isValidated?: boolean; authType?: MachineAuthType; ipAddress?: string },
): Promise<Machine> {
  const db = dbOf(store);
  try {
    const row = await db
      .insertInto('machines')
      .values({
        machine_id: input.machineId,
        password_hash: input.passwordHash,
        ip_address: input.ipAddress ?? '',
        version: '',
        scenarios: '',
        is_validated: input.isValidated ? 1 : 0,
        auth_type: input.authType ?? 'password',
        created_at: input.now,
        updated_at: input.now,
        last_login_at: null,
        last_heartbeat_at: null,
        last_push_at: null,
        heartbeat_cadence_ms: null,
        recent_heartbeats: '[]',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toMachine(row);
  } catch (e) {
    // The unique index decides, so two replicas registering one name cannot both succeed.
    if (isUniqueViolationError(e)) throw new VigilError('E_MACHINE_EXISTS', `user '${input.machineId}': user already exist`);
    throw e;
  }
}

export async function getMachine(store: Store, machineId: string): Promise<Machine | undefined> {
  const row = await dbOf(store).selectFrom('machines').selectAll().where('machine_id', '=', machineId).executeTakeFirst();
  return row ? toMachine(row) : undefined;
}

export async function listMachines(store: Store): Promise<Machine[]> {
  const rows = await dbOf(store).selectFrom('machines').selectAll().orderBy('id').execute();
  return rows.map(toMachine);
}

/** Deletes machines by name; returns how many existed. */
export async function deleteMachines(store: Store, machineIds: readonly string[]): Promise<number> {
  if (machineIds.length === 0) return 0;
  return await dbOf(store)
    .transaction()
    .execute(async (trx) => {
      // Its usage reports go with it: a deleted agent is not one whose logs stopped (LP No Logs Read).
      const ids = trx
        .selectFrom('machines')
        .select('id')
        .where('machine_id', 'in', [...machineIds]);
      await trx.deleteFrom('machine_usage_windows').where('machine_id', 'in', ids).execute();
      await trx.deleteFrom('machine_usage_metrics').where('machine_id', 'in', ids).execute();
      const res = await trx
        .deleteFrom('machines')
        .where('machine_id', 'in', [...machineIds])
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    });
}

export async function validateMachine(store: Store, machineId: string, now: number): Promise<void> {
  const res = await dbOf(store).updateTable('machines').set({ is_validated: 1, updated_at: now }).where('machine_id', '=', machineId).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw noMachine(machineId);
}

/** A successful login: where from, which version, which scenarios (CrowdSec updates all three on login). */
export async function recordLogin(
  store: Store,
  machineId: string,
  login: { ipAddress: string; version: string; scenarios: string; now: number },
): Promise<void> {
  await dbOf(store)
    .updateTable('machines')
    .set({ ip_address: login.ipAddress, version: login.version, scenarios: login.scenarios, last_login_at: login.now, updated_at: login.now })
    .where('machine_id', '=', machineId)
    .execute();
}

/**
 * A heartbeat: its time, and the cadence over the last HEARTBEATS_KEPT heartbeats (kept in the
 * store, so every replica a machine reaches adds to one series).
 */
export async function recordHeartbeat(store: Store, machineId: string, now: number): Promise<void> {
  const db = dbOf(store);
  await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('machines').select('recent_heartbeats').where('machine_id', '=', machineId).executeTakeFirst();
    if (!row) return;
    const times = [...parseHeartbeatTimes(row.recent_heartbeats), now].sort((a, b) => a - b).slice(-HEARTBEATS_KEPT);
    await trx
      .updateTable('machines')
      .set({ last_heartbeat_at: now, recent_heartbeats: JSON.stringify(times), heartbeat_cadence_ms: pullCadence(times) })
      .where('machine_id', '=', machineId)
      .execute();
  });
}

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

/** Unvalidated machines (registered, waiting for validation): in all, and from `ipAddress`. */
export async function countPendingMachines(store: Store, ipAddress: string): Promise<{ total: number; fromAddress: number }> {
  const rows = await dbOf(store)
    .selectFrom('machines')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('total'),
      eb.fn.sum<number | string | null>(eb.case().when('ip_address', '=', ipAddress).then(1).else(0).end()).as('mine'),
    ])
    .where('is_validated', '=', 0)
    .executeTakeFirst();
  return { total: Number(rows?.total ?? 0), fromAddress: Number(rows?.mine ?? 0) };
}

/** Deletes unvalidated machines registered before `before` (they could never log in); returns how many. */
export async function deleteExpiredPending(store: Store, before: number): Promise<number> {
  const res = await dbOf(store).deleteFrom('machines').where('is_validated', '=', 0).where('created_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Machines `machines prune` would remove: last heartbeat before `cutoff`, or none ever and created
 * before it (as cscli machines prune does).
 */
export async function machinesToPrune(store: Store, cutoff: number): Promise<Machine[]> {
  const rows = await dbOf(store).selectFrom('machines').selectAll().where(idleBefore('last_heartbeat_at', cutoff)).orderBy('id').execute();
  return rows.map(toMachine);
}

/** A machine's `recent_heartbeats` column (a JSON array of epoch ms); anything else reads as none. */
export function parseHeartbeatTimes(json: string): number[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)) : [];
  } catch {
    return [];
  }
}

function noMachine(machineId: string): VigilError {
  return new VigilError('E_NO_MACHINE', `machine '${machineId}' doesn't exist`);
}

export function toMachine(r: Selectable<MachinesTable>): Machine {
  const ms = (v: number | null): number | null => (v === null ? null : Number(v));
  return {
    id: Number(r.id),
    machineId: r.machine_id,
    passwordHash: r.password_hash,
    ipAddress: r.ip_address,
    version: r.version,
    scenarios: r.scenarios,
    isValidated: Number(r.is_validated) === 1,
    authType: r.auth_type === 'tls' ? 'tls' : 'password',
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastLoginAt: ms(r.last_login_at),
    lastHeartbeatAt: ms(r.last_heartbeat_at),
    lastPushAt: ms(r.last_push_at),
    heartbeatCadenceMs: ms(r.heartbeat_cadence_ms),
  };
}
