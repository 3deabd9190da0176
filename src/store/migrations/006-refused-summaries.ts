import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration, type Table } from './tables.ts';

/**
 * Refused and misrouted requests summed per peer address, User-Agent and reason, so a flood of
 * random keys cannot push a real bouncer's refusals out of the bounded raw record
 * (refused_requests keeps the last 10k for display). One row per (peer, agent, reason), not per
 * key: 100k random keys from one address are one row. `key_fingerprint` is the key those requests
 * carried while they all carried the same one; `several_keys` = 1 once two different keys came.
 * Bounded by REFUSED_SUMMARIES_KEPT (src/store/store.ts): the rows with the fewest requests go first.
 */
const summaries: Table = {
  name: 'refused_summaries',
  columns: {
    id: 'id',
    peer_ip: 'text',
    user_agent: 'text',
    reason: 'text',
    key_fingerprint: 'text',
    several_keys: { type: 'integer', default: 0 },
    bouncer_name: 'text',
    method: 'text',
    path: 'text',
    first_at: 'bigint',
    last_at: 'bigint',
    count: 'bigint',
  },
  indexes: [
    { name: 'refused_summaries_key', columns: ['peer_ip', 'user_agent', 'reason'], unique: true },
    // Eviction order: fewest requests, then oldest.
    { name: 'refused_summaries_evict', columns: ['count', 'last_at'] },
    { name: 'refused_summaries_last', columns: ['last_at'] },
  ],
};

export function refusedSummaries(dialect: Dialect): Migration {
  return tablesMigration(dialect, [summaries], async (db) => {
    // What the raw record already holds is summed once, so an upgrade keeps today's evidence.
    await sql`INSERT INTO refused_summaries (peer_ip, user_agent, reason, key_fingerprint, several_keys, bouncer_name, method, path, first_at, last_at, count)
      SELECT peer_ip, user_agent, reason, min(key_fingerprint), CASE WHEN count(DISTINCT key_fingerprint) > 1 THEN 1 ELSE 0 END,
        max(bouncer_name), max(method), max(path), min(at), max(at), count(*)
      FROM refused_requests GROUP BY peer_ip, user_agent, reason`.execute(db);
  });
}
