import type { Selectable } from 'kysely';
import type { Bouncer, RefusedRequest } from '../core/model/records.ts';
import { newestFirst } from './newest-first.ts';
import type { RefusedRequestsTable } from './schema.ts';
import { bookkeepingTransaction, dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Refused requests (a wrong or revoked key, a blocked address): what an attacker or a careless
// operator tried, kept bounded; they explain a bouncer's silence.

export type NewRefusedRequest = Omit<RefusedRequest, 'id'>;

/** Keep the refused-request record bounded: enough to explain a silence, never a disk filler. */
export const REFUSED_REQUESTS_KEPT = 10_000;

export async function recordRefused(store: Store, batch: NewRefusedRequest[]): Promise<void> {
  if (batch.length === 0) return;
  await bookkeepingTransaction(store, async (trx) => {
    await trx
      .insertInto('refused_requests')
      .values(
        batch.map((r) => ({
          at: r.at,
          peer_ip: r.peerIp,
          user_agent: r.userAgent.slice(0, 256),
          method: r.method,
          path: r.path.slice(0, 256),
          reason: r.reason,
          key_fingerprint: r.keyFingerprint,
          bouncer_name: r.bouncerName,
        })),
      )
      .execute();
    const cut = await trx.selectFrom('refused_requests').select('id').orderBy('id', 'desc').offset(REFUSED_REQUESTS_KEPT).limit(1).executeTakeFirst();
    if (cut) await trx.deleteFrom('refused_requests').where('id', '<=', cut.id).execute();
  });
}

/**
 * Refused requests that concern a bouncer: with its (revoked) key, from its last address, or with
 * its exact User-Agent. Newest first.
 */
export async function refusedRequestsFor(store: Store, b: Bouncer, limit: number): Promise<RefusedRequest[]> {
  const ua = b.type ? `${b.type}/${b.version}` : null;
  const q = dbOf(store)
    .selectFrom('refused_requests')
    .selectAll()
    .where((eb) =>
      eb.or([eb('bouncer_name', '=', b.name), ...(b.ipAddress ? [eb('peer_ip', '=', b.ipAddress)] : []), ...(ua ? [eb('user_agent', '=', ua)] : [])]),
    );
  const rows = await newestFirst(q, limit);
  return rows.map(toRefused);
}

export async function refusedRequests(store: Store, opts: { since?: number; limit?: number } = {}): Promise<RefusedRequest[]> {
  let q = dbOf(store).selectFrom('refused_requests').selectAll();
  if (opts.since !== undefined) q = q.where('at', '>=', opts.since);
  const rows = await newestFirst(q, opts.limit ?? 100);
  return rows.map(toRefused);
}

export function toRefused(r: Selectable<RefusedRequestsTable>): RefusedRequest {
  return {
    id: Number(r.id),
    at: Number(r.at),
    peerIp: r.peer_ip,
    userAgent: r.user_agent,
    method: r.method,
    path: r.path,
    reason: r.reason,
    keyFingerprint: r.key_fingerprint,
    bouncerName: r.bouncer_name,
  };
}
