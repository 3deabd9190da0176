/**
 * CrowdSec's machines (log processors, cscli) as its database and `cscli machines list -o json`
 * hold them (docs/reference/crowdsec-wire-protocol.md §2 schema: machine_id, ip_address, version,
 * is_validated, auth_type, created_at, updated_at, last_push, last_heartbeat), for the machine half
 * of the health evaluator. Pure.
 *
 * - cscli's JSON names two of them in camelCase (`machineId`, `isValidated`; `ipAddress` too) and
 *   leaves empty ones out.
 * - 1.4 writes last_push and last_heartbeat at registration, as it does a bouncer's last_pull: a
 *   machine that never logged in has no address, and those times are placeholders.
 * - CrowdSec keeps no login time: a machine that logged in (it has an address) counts its last
 *   heartbeat, else its last update, as its last login.
 */
import type { MachineHealthInput } from '../health/types.ts';
import { parseCrowdsecTime } from './crowdsec-bouncer.ts';

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true' || v.toLowerCase() === 't';
  return false;
}

/** One row (database column names, or cscli's JSON keys) → the evaluator's input; null without a name. */
export function parseMachineRow(row: Record<string, unknown>, fallbackId: number): MachineHealthInput | null {
  const machineId = text(row.machine_id ?? row.machineId);
  if (!machineId) return null;
  const ipAddress = text(row.ip_address ?? row.ipAddress);
  const createdAt = parseCrowdsecTime(row.created_at) ?? 0;
  const updatedAt = parseCrowdsecTime(row.updated_at);
  const loggedIn = ipAddress !== '';
  const heartbeat = loggedIn ? parseCrowdsecTime(row.last_heartbeat) : null;
  const push = loggedIn ? parseCrowdsecTime(row.last_push) : null;
  const id = Number(row.id);
  return {
    id: Number.isSafeInteger(id) && id > 0 ? id : fallbackId,
    machineId,
    ipAddress,
    version: text(row.version),
    isValidated: bool(row.is_validated ?? row.isValidated),
    authType: text(row.auth_type) === 'tls' ? 'tls' : 'password',
    createdAt,
    lastLoginAt: loggedIn ? (heartbeat ?? updatedAt) : null,
    lastHeartbeatAt: heartbeat,
    lastPushAt: push,
    heartbeatCadenceMs: null,
  };
}

/** `cscli machines list -o json`: an array (`null` or nothing when there are none). */
export function parseCscliMachinesJson(stdout: string): MachineHealthInput[] {
  const trimmed = stdout.trim();
  if (trimmed === '' || trimmed === 'null') return [];
  const data: unknown = JSON.parse(trimmed);
  if (!Array.isArray(data)) return [];
  return data.flatMap((row, i) => {
    const m = row && typeof row === 'object' ? parseMachineRow(row as Record<string, unknown>, i + 1) : null;
    return m ? [m] : [];
  });
}
