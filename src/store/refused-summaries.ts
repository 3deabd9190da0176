import { bookkeepingTransaction, dbOf } from './store-db.ts';
import type { Store } from './store.ts';
import { sql } from 'kysely';
import type { NewRefusedRequest } from './refused-requests.ts';
import type { RefusedSummary } from '../core/model/records.ts';

/**
 * Refused and misrouted requests summed per (peer address, User-Agent, reason): migration 006.
 * The raw record (refused_requests) keeps the last 10k requests for display; a flood of random
 * keys fills it in seconds. These summaries are what the health engine reads: a flood of 100k keys
 * from one address is one row, so it cannot push a real bouncer's refusals out.
 */

export type { RefusedSummary };

/** Rows kept; past it, the rows with the fewest requests (then the oldest) are deleted first. */
export const REFUSED_SUMMARIES_KEPT = 50_000;
/** Rows not updated for this long are deleted (the health engine looks back 7 days at most). */
export const REFUSED_SUMMARIES_KEPT_MS = 30 * 24 * 3600_000;
/** Distinct rows gathered in memory between two flushes; new ones past it are counted as dropped. */
export const REFUSED_SUMMARIES_PENDING = 10_000;
/** User-Agents kept apart per address; more are summed as OTHER_AGENTS (one address, many agents = a scan). */
export const AGENTS_PER_PEER = 8;
export const OTHER_AGENTS = '(other User-Agents)';
// 11 bound values per row: far below SQLite's and PostgreSQL's limits.
const UPSERT_CHUNK = 1000;

/** Summaries gathered in memory between two activity flushes: O(distinct) writes, whatever the request rate. */
export class RefusedSummaryCounts {
  #pending = new Map<string, RefusedSummary>();
  /** User-Agents seen per address (bounded: forgotten past 10k addresses). */
  #agents = new Map<string, Set<string>>();
  #dropped = 0;

  add(r: NewRefusedRequest): void {
    this.#merge({
      peerIp: r.peerIp,
      userAgent: this.#agentOf(r.peerIp, r.userAgent.slice(0, 256)),
      reason: r.reason,
      keyFingerprint: r.keyFingerprint,
      severalKeys: false,
      bouncerName: r.bouncerName,
      method: r.method,
      path: r.path.slice(0, 256),
      firstAt: r.at,
      lastAt: r.at,
      count: 1,
    });
  }

  #agentOf(peer: string, ua: string): string {
    let seen = this.#agents.get(peer);
    if (!seen) {
      if (this.#agents.size >= 10_000) this.#agents.clear();
      this.#agents.set(peer, (seen = new Set()));
    }
    if (seen.has(ua)) return ua;
    if (seen.size >= AGENTS_PER_PEER) return OTHER_AGENTS;
    seen.add(ua);
    return ua;
  }

  #merge(s: RefusedSummary): void {
    const key = `${s.peerIp}\0${s.userAgent}\0${s.reason}`;
    const cur = this.#pending.get(key);
    if (!cur) {
      if (this.#pending.size >= REFUSED_SUMMARIES_PENDING) {
        this.#dropped += s.count;
        return;
      }
      this.#pending.set(key, { ...s });
      return;
    }
    mergeInto(cur, s);
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Requests not summed since the last take because too many distinct rows were pending. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Hands over what was gathered and starts afresh. */
  take(): RefusedSummary[] {
    const out = [...this.#pending.values()];
    this.#pending = new Map();
    this.#dropped = 0;
    return out;
  }

  /** Puts summaries back after a failed write, so the next flush retries them. */
  restore(rows: RefusedSummary[]): void {
    for (const r of rows) this.#merge(r);
  }
}

/** Adds `s` to `into` (same address, agent and reason). */
export function mergeInto(into: RefusedSummary, s: RefusedSummary): void {
  if (s.severalKeys || s.keyFingerprint !== into.keyFingerprint) into.severalKeys = true;
  if (s.lastAt >= into.lastAt) {
    into.lastAt = s.lastAt;
    into.method = s.method;
    into.path = s.path;
    if (s.bouncerName) into.bouncerName = s.bouncerName;
  }
  if (s.firstAt < into.firstAt) into.firstAt = s.firstAt;
  into.count += s.count;
}

/**
 * Adds the summaries to the stored ones (several replicas may write the same row: the upsert adds,
 * it never overwrites), then keeps the table within REFUSED_SUMMARIES_KEPT rows and 30 days.
 */
export async function recordRefusedSummaries(store: Store, rows: RefusedSummary[]): Promise<void> {
  if (rows.length === 0) return;
  // In key order: two replicas upserting the same summaries lock them in the same order (no deadlock).
  rows = [...rows].sort((a, b) => cmp(a.peerIp, b.peerIp) || cmp(a.userAgent, b.userAgent) || cmp(a.reason, b.reason));
  const newest = rows.reduce((m, r) => Math.max(m, r.lastAt), 0);
  const t = (col: string) => sql.ref(`refused_summaries.${col}`);
  const x = (col: string) => sql.ref(`excluded.${col}`);
  const newer = sql`${x('last_at')} >= ${t('last_at')}`;
  await bookkeepingTransaction(store, async (trx) => {
    for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
      await trx
        .insertInto('refused_summaries')
        .values(
          rows.slice(i, i + UPSERT_CHUNK).map((r) => ({
            peer_ip: r.peerIp,
            user_agent: r.userAgent,
            reason: r.reason,
            key_fingerprint: r.keyFingerprint,
            several_keys: r.severalKeys ? 1 : 0,
            bouncer_name: r.bouncerName,
            method: r.method,
            path: r.path,
            first_at: r.firstAt,
            last_at: r.lastAt,
            count: r.count,
          })) as never,
        )
        .onConflict((oc) =>
          oc.columns(['peer_ip', 'user_agent', 'reason']).doUpdateSet({
            count: sql`${t('count')} + ${x('count')}`,
            several_keys: sql`CASE WHEN ${t('several_keys')} = 1 OR ${x('several_keys')} = 1 OR ${t('key_fingerprint')} <> ${x('key_fingerprint')} THEN 1 ELSE 0 END`,
            first_at: sql`CASE WHEN ${x('first_at')} < ${t('first_at')} THEN ${x('first_at')} ELSE ${t('first_at')} END`,
            last_at: sql`CASE WHEN ${newer} THEN ${x('last_at')} ELSE ${t('last_at')} END`,
            method: sql`CASE WHEN ${newer} THEN ${x('method')} ELSE ${t('method')} END`,
            path: sql`CASE WHEN ${newer} THEN ${x('path')} ELSE ${t('path')} END`,
            bouncer_name: sql`CASE WHEN ${newer} AND ${x('bouncer_name')} <> '' THEN ${x('bouncer_name')} ELSE ${t('bouncer_name')} END`,
          } as never),
        )
        .execute();
    }
    await trx
      .deleteFrom('refused_summaries')
      .where('last_at', '<', newest - REFUSED_SUMMARIES_KEPT_MS)
      .execute();
    const { n } = await trx
      .selectFrom('refused_summaries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const excess = Number(n) - REFUSED_SUMMARIES_KEPT;
    if (excess > 0) {
      // One-shot rows (a random key, a scanner's agent) go first; a bouncer retrying its stale key every 10 s has thousands.
      const victims = trx.selectFrom('refused_summaries').select('id').orderBy('count', 'asc').orderBy('last_at', 'asc').limit(excess);
      await trx.deleteFrom('refused_summaries').where('id', 'in', victims).execute();
    }
  });
}

/** Summaries updated since `since`, most recent first. */
export async function refusedSummaries(store: Store, opts: { since: number; limit?: number }): Promise<RefusedSummary[]> {
  const db = dbOf(store);
  const rows = await db
    .selectFrom('refused_summaries')
    .selectAll()
    .where('last_at', '>=', opts.since)
    .orderBy('last_at', 'desc')
    .limit(opts.limit ?? REFUSED_SUMMARIES_KEPT)
    .execute();
  return rows.map((r) => ({
    peerIp: r.peer_ip,
    userAgent: r.user_agent,
    reason: r.reason,
    keyFingerprint: r.key_fingerprint,
    severalKeys: Number(r.several_keys) === 1,
    bouncerName: r.bouncer_name,
    method: r.method,
    path: r.path,
    firstAt: Number(r.first_at),
    lastAt: Number(r.last_at),
    count: Number(r.count),
  }));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
