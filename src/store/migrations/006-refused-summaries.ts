import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { idColumn, type Dialect } from '../dialect.ts';

/**
 * Refused and misrouted requests summed per peer address, User-Agent and reason, so a flood of
 * random keys cannot push a real bouncer's refusals out of the bounded raw record
 * (refused_requests keeps the last 10k for display). One row per (peer, agent, reason), not per
 * key: 100k random keys from one address are one row. `key_fingerprint` is the key those requests
 * carried while they all carried the same one; `several_keys` = 1 once two different keys came.
 * Bounded by REFUSED_SUMMARIES_KEPT (src/store/store.ts): the rows with the fewest requests go first.
 */
export function refusedSummaries(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('refused_summaries')
        .addColumn('id', idColumn(dialect), (c) => c.primaryKey())
        .addColumn('peer_ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('key_fingerprint', 'text', (c) => c.notNull())
        .addColumn('several_keys', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('bouncer_name', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('refused_summaries_key').on('refused_summaries').columns(['peer_ip', 'user_agent', 'reason']).unique().execute();
      // Eviction order: fewest requests, then oldest.
      await db.schema.createIndex('refused_summaries_evict').on('refused_summaries').columns(['count', 'last_at']).execute();
      await db.schema.createIndex('refused_summaries_last').on('refused_summaries').column('last_at').execute();
      // What the raw record already holds is summed once, so an upgrade keeps today's evidence.
      await sql`INSERT INTO refused_summaries (peer_ip, user_agent, reason, key_fingerprint, several_keys, bouncer_name, method, path, first_at, last_at, count)
        SELECT peer_ip, user_agent, reason, min(key_fingerprint), CASE WHEN count(DISTINCT key_fingerprint) > 1 THEN 1 ELSE 0 END,
          max(bouncer_name), max(method), max(path), min(at), max(at), count(*)
        FROM refused_requests GROUP BY peer_ip, user_agent, reason`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('refused_summaries').ifExists().execute();
    },
  };
}
