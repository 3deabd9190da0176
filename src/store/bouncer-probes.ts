import type { LastProbe } from '../core/bouncers/probe.ts';
import { bookkeepingTransaction, dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// The last probe of each bouncer's key (migration 013; src/core/bouncers/probe.ts says what a probe is).

export interface ProbeRow extends LastProbe {
  bouncerId: number;
}

/** Keeps the newest probe per bouncer; an older one (another replica's, late) never overwrites it. */
export async function recordProbes(store: Store, rows: readonly ProbeRow[]): Promise<void> {
  if (rows.length === 0) return;
  // By bouncer: two replicas writing the same bouncers lock them in the same order (no deadlock).
  await bookkeepingTransaction(store, async (trx) => {
    for (const r of [...rows].sort((a, b) => a.bouncerId - b.bouncerId)) {
      const values = { at: r.at, user_agent: r.userAgent.slice(0, 512), peer_ip: r.peerIp, method: r.method, path: r.path.slice(0, 512) };
      await trx
        .insertInto('bouncer_probes')
        .values({ bouncer_id: r.bouncerId, ...values })
        .onConflict((oc) => oc.column('bouncer_id').doUpdateSet(values).where('bouncer_probes.at', '<=', r.at))
        .execute();
    }
  });
}

/** The last probe of each bouncer that had one, by bouncer id (of the given ids, or all). */
export async function lastProbes(store: Store, bouncerIds?: readonly number[]): Promise<Map<number, LastProbe>> {
  let q = dbOf(store).selectFrom('bouncer_probes').selectAll();
  if (bouncerIds !== undefined) {
    if (bouncerIds.length === 0) return new Map();
    q = q.where('bouncer_id', 'in', bouncerIds.slice(0, 1000));
  }
  const out = new Map<number, LastProbe>();
  for (const r of await q.execute()) {
    out.set(Number(r.bouncer_id), { at: Number(r.at), userAgent: r.user_agent, peerIp: r.peer_ip, method: r.method, path: r.path });
  }
  return out;
}
