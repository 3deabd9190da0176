import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration } from './tables.ts';

/**
 * Dashboard sessions ended by a logout, so a replayed cookie stays refused after a restart and on
 * every replica. Only the SHA-256 of the session id; a row goes once the session would have expired
 * anyway (src/store/ended-sessions.ts).
 */
export function endedSessions(dialect: Dialect): Migration {
  return tablesMigration(dialect, [
    {
      name: 'dashboard_ended_sessions',
      columns: {
        session_id_sha256: { type: 'text', primaryKey: true },
        // Epoch ms: the session's own expiry, after which the cookie is refused anyway.
        expires_at: 'bigint',
      },
      indexes: [{ name: 'dashboard_ended_sessions_expires', columns: ['expires_at'] }],
    },
  ]);
}
