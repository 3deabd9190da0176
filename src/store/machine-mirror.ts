/**
 * Keeps `vigil watch`'s store in step with CrowdSec's machines (log processors), as bouncer-mirror.ts
 * does for bouncers: `vigil machines list|inspect --db <watch store>`, the dashboard and the admin API
 * then show the watched agents, with the heartbeat cadence watch learnt (CrowdSec keeps none).
 *
 * Mirrored rows carry no password (an empty hash, which no scrypt hash equals): nothing can log in
 * with them. Heartbeat times are merged from CrowdSec's `last_heartbeat` (read each poll) and the
 * access log's `GET /v1/heartbeat` lines; the cadence is the same median serve computes
 * (machines.ts: HEARTBEATS_KEPT, pullCadence), kept in the store so a restarted watch keeps it.
 */
import { pullCadence } from '../core/health/cadence.ts';
import type { MachineHealthInput } from '../core/health/types.ts';
import { HEARTBEATS_KEPT, parseHeartbeatTimes } from './machines.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

/**
 * One heartbeat seen twice (CrowdSec's database to the microsecond, the access log to the second)
 * is one: times closer than this merge into the later.
 */
const SAME_BEAT_MS = 1000;

/** Heartbeat times, sorted, near-duplicates merged, the last HEARTBEATS_KEPT. */
export function mergeHeartbeats(...series: ReadonlyArray<readonly number[]>): number[] {
  const all = series
    .flat()
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const out: number[] = [];
  for (const t of all) {
    if (out.length > 0 && t - out[out.length - 1]! < SAME_BEAT_MS) out[out.length - 1] = t;
    else out.push(t);
  }
  return out.slice(-HEARTBEATS_KEPT);
}

/**
 * Mirrors `machines` (CrowdSec's rows as read now) with the heartbeats seen since the last poll
 * (`beats`, per machine_id); deletes rows CrowdSec no longer has. Returns the inputs with their
 * learnt heartbeat cadence.
 */
export async function syncMachineMirror(
  store: Store,
  machines: readonly MachineHealthInput[],
  beats: ReadonlyMap<string, readonly number[]>,
  now: number,
): Promise<MachineHealthInput[]> {
  const db = dbOf(store);
  const existing = new Map((await db.selectFrom('machines').selectAll().execute()).map((r) => [r.machine_id, r]));
  const out: MachineHealthInput[] = [];
  await db.transaction().execute(async (trx) => {
    for (const m of machines) {
      const old = existing.get(m.machineId);
      const times = mergeHeartbeats(
        old ? parseHeartbeatTimes(old.recent_heartbeats) : [],
        beats.get(m.machineId) ?? [],
        m.lastHeartbeatAt === null ? [] : [m.lastHeartbeatAt],
      );
      const cadence = pullCadence(times);
      const values = {
        ip_address: m.ipAddress,
        version: m.version,
        is_validated: m.isValidated ? 1 : 0,
        auth_type: m.authType,
        created_at: old ? Math.min(Number(old.created_at), m.createdAt) : m.createdAt,
        last_login_at: m.lastLoginAt,
        last_heartbeat_at: times.length > 0 ? Math.max(times[times.length - 1]!, m.lastHeartbeatAt ?? 0) : m.lastHeartbeatAt,
        last_push_at: m.lastPushAt,
        heartbeat_cadence_ms: cadence,
        recent_heartbeats: JSON.stringify(times),
      };
      if (!old) {
        await trx
          .insertInto('machines')
          .values({ machine_id: m.machineId, password_hash: '', scenarios: '', updated_at: now, ...values })
          .execute();
      } else {
        const same =
          old.ip_address === values.ip_address &&
          old.version === values.version &&
          Number(old.is_validated) === values.is_validated &&
          old.auth_type === values.auth_type &&
          Number(old.created_at) === values.created_at &&
          nullableEq(old.last_login_at, values.last_login_at) &&
          nullableEq(old.last_heartbeat_at, values.last_heartbeat_at) &&
          nullableEq(old.last_push_at, values.last_push_at) &&
          nullableEq(old.heartbeat_cadence_ms, values.heartbeat_cadence_ms) &&
          old.recent_heartbeats === values.recent_heartbeats;
        if (!same)
          await trx
            .updateTable('machines')
            .set({ ...values, updated_at: now })
            .where('id', '=', old.id)
            .execute();
      }
      out.push({ ...m, createdAt: values.created_at, lastHeartbeatAt: values.last_heartbeat_at, heartbeatCadenceMs: cadence });
    }
    const gone = [...existing.keys()].filter((id) => !machines.some((m) => m.machineId === id));
    if (gone.length > 0) await trx.deleteFrom('machines').where('machine_id', 'in', gone).execute();
  });
  return out;
}

function nullableEq(a: number | string | null, b: number | null): boolean {
  return a === null || b === null ? a === b : Number(a) === b;
}
