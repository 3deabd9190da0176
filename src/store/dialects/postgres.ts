import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { VigilError } from '../../lib/errors.ts';
import { redactSecretsOf, redactUrl } from '../../lib/redact-url.ts';
import type { Database } from '../schema.ts';
import type { OpenOptions } from '../database.ts';

// pg returns BIGINT (int8) as strings; every BIGINT here is an epoch-ms time, id or counter (< 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

/** Waits this long for a PostgreSQL server that does not answer (closed port, black hole); libpq's `connect_timeout` (seconds) in the URL overrides it. */
export const PG_CONNECT_TIMEOUT_MS = 5000;

/**
 * PostgreSQL, the shared store of several replicas: a pool with bounded waits, checked with one
 * query before it is used. What differs from SQLite lives here.
 */
export async function openPostgres(target: string, opts: OpenOptions): Promise<Kysely<Database>> {
  const timeoutMs = opts.timeoutMs;
  const pool = new pg.Pool({
    connectionString: target,
    max: 10,
    keepAlive: true,
    connectionTimeoutMillis: timeoutMs ?? pgConnectTimeoutMs(target),
    // The server's bounded waits (the CLI's long imports keep none): a frozen or unreachable
    // server fails calls after timeoutMs instead of holding them.
    ...(timeoutMs ? { query_timeout: timeoutMs, statement_timeout: timeoutMs, idle_in_transaction_session_timeout: Math.max(10_000, 2 * timeoutMs) } : {}),
  });
  // An idle connection the server closes (restart, failover) must not crash the process;
  // the pool replaces it and the next query reports any real problem.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
  } catch (e) {
    await db.destroy();
    const why = redactSecretsOf(target, (e as Error).message || (e as NodeJS.ErrnoException).code || String(e));
    throw new VigilError('E_DB_OPEN', `db "${redactUrl(target)}": cannot connect (${why})`);
  }
  return db;
}

function pgConnectTimeoutMs(url: string): number {
  try {
    const s = new URL(url).searchParams.get('connect_timeout');
    if (s !== null && /^\d+$/.test(s) && Number(s) > 0) return Number(s) * 1000;
  } catch {
    // parseStoreUrl validated it already
  }
  return PG_CONNECT_TIMEOUT_MS;
}
