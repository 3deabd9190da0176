import type { Migration } from 'kysely/migration';
import type { Dialect } from '../dialect.ts';
import { tablesMigration } from './tables.ts';

/**
 * The last probe of each bouncer's key (issue 24): a request with its key that was not its own
 * traffic (`vigil doctor`, a runbook's `curl -I`; src/core/bouncers/probe.ts). Kept as evidence
 * ("key accepted at 17:01, from vigil doctor"), apart from the bouncer's row so a probe can never
 * move its last request or pull. One row per bouncer, overwritten.
 */
export function bouncerProbes(dialect: Dialect): Migration {
  return tablesMigration(dialect, [
    {
      name: 'bouncer_probes',
      columns: { bouncer_id: { type: 'bigint', primaryKey: true }, at: 'bigint', user_agent: 'text', peer_ip: 'text', method: 'text', path: 'text' },
    },
  ]);
}
