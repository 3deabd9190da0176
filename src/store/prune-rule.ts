import { sql, type RawBuilder } from 'kysely';

/**
 * cscli's prune rule, for bouncers (by their last pull) and machines (by their last heartbeat)
 * alike: last seen before `cutoff`, or never seen and created before it.
 */
export function idleBefore(lastSeen: 'last_pull_at' | 'last_heartbeat_at', cutoff: number): RawBuilder<boolean> {
  const seen = sql.ref(lastSeen);
  return sql<boolean>`(${seen} < ${cutoff} OR (${seen} IS NULL AND created_at < ${cutoff}))`;
}
