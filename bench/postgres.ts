// A private PostgreSQL for a benchmark (test/support/embedded-postgres.ts, as the tests start it in
// test/support/global-setup.ts): its own data folder under the system temp dir, a free loopback port,
// stopped and deleted by `stop`. Never an installed server.
import crypto from 'node:crypto';
import pg from 'pg';
import { freePort } from './support.ts';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.ts';

export interface BenchPostgres {
  /** The admin URL (database `postgres`). */
  adminUrl: string;
  /** A new empty database on it, by URL. */
  createDatabase(): Promise<string>;
  /** Wait events of the sessions on `database`, counted (sampled by the caller). */
  waitEvents(database: string): Promise<Array<{ event: string; query: string; sessions: number }>>;
  stop(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const server = await startEmbeddedPostgres({ tmpPrefix: 'vigil-bench-pg-', port: await freePort() });
  const { adminUrl, port } = server;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  return {
    adminUrl,
    async createDatabase() {
      const name = `vigil_bench_${crypto.randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return `postgres://vigil:vigil@127.0.0.1:${port}/${name}`;
    },
    async waitEvents(database) {
      const r = await admin.query<{ event: string; query: string; sessions: string }>(
        `select coalesce(wait_event_type || ':' || wait_event, case when state = 'active' then 'CPU' else state end) as event,
                regexp_replace(left(query, 70), '\\s+', ' ', 'g') as query, count(*) as sessions
           from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and state <> 'idle' group by 1, 2`,
        [database],
      );
      return r.rows.map((x) => ({ event: x.event, query: x.query, sessions: Number(x.sessions) }));
    },
    async stop() {
      await admin.end().catch(() => {});
      await server.stop();
    },
  };
}
