import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Dashboard sessions ended by a logout, so a replayed cookie stays refused after a restart and on
 * every replica. Only the SHA-256 of the session id; a row goes once the session would have expired
 * anyway (src/store/ended-sessions.ts).
 */
export function endedSessions(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('dashboard_ended_sessions')
        .addColumn('session_id_sha256', 'text', (c) => c.primaryKey())
        // Epoch ms: the session's own expiry, after which the cookie is refused anyway.
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dashboard_ended_sessions_expires').on('dashboard_ended_sessions').column('expires_at').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('dashboard_ended_sessions').ifExists().execute();
    },
  };
}
