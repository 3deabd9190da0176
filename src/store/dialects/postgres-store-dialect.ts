import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Decision, NewAlertWithDecisions, NewDecision } from '../../core/model/records.ts';
import { alertRow, INSERT_CHUNK, nextRev, storedDecision, toDecision } from '../alert-rows.ts';
import type { BouncersTable, Database, DecisionsTable } from '../schema.ts';
import type { AlertsPush, BouncerActivity, DialectDb, MirroredBouncerUpdate, StoreDialect, WrittenAlerts } from './store-dialect.ts';

/** Rows per mirrored-bouncer UPDATE: 500 × 8 values stays far below PostgreSQL's parameter limit. */
const UPDATE_CHUNK = 500;

/**
 * PostgreSQL, the shared store of several replicas: every query through Kysely's pool; replicas
 * are kept in order by row locks (the revision counter) and advisory locks.
 */
export class PostgresStoreDialect implements StoreDialect {
  readonly name = 'postgres' as const;
  readonly groupsCommits = false;
  readonly preparedReads = false;
  readonly writesOnEventLoop = false;
  readonly #db: DialectDb;

  constructor(db: DialectDb) {
    this.#db = db;
  }

  later(column: string, value: number) {
    return sql<number>`greatest(coalesce(${sql.ref(column)}, 0), ${value})`;
  }

  async lockForTransaction(trx: Transaction<Database>, key: number): Promise<void> {
    await sql`select pg_advisory_xact_lock(${key})`.execute(trx);
  }

  async skipWalFlush(trx: Transaction<Database>): Promise<void> {
    await sql`SET LOCAL synchronous_commit = off`.execute(trx);
  }

  async tryLockForTransaction(trx: Transaction<Database>, key: number): Promise<boolean> {
    const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${key}) as ok`.execute(trx);
    return rows[0]?.ok === true;
  }

  async deleteLimited(trx: Transaction<Database>, table: string, where: RawBuilder<unknown>, limit: number): Promise<number> {
    const t = sql.table(table);
    const res = await sql`DELETE FROM ${t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${t} WHERE ${where} LIMIT ${limit}))`.execute(trx);
    return Number(res.numAffectedRows ?? 0n);
  }

  async vacuumTables(tables: readonly string[], lockKey: number): Promise<'vacuumed' | 'busy'> {
    if (tables.length === 0) return 'vacuumed';
    // One connection for the session lock, the VACUUM and the unlock. Outside a transaction
    // (VACUUM refuses to run in one); the purge's batches on other replicas find the key taken and
    // stop. SKIP_LOCKED: a table autovacuum is busy with is left to it rather than waited for.
    return await this.#db.connection().execute(async (conn) => {
      const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${lockKey}) as ok`.execute(conn);
      if (rows[0]?.ok !== true) return 'busy';
      try {
        await sql`VACUUM (ANALYZE, SKIP_LOCKED) ${sql.join(tables.map((t) => sql.table(t)))}`.execute(conn);
        return 'vacuumed';
      } finally {
        await sql`select pg_advisory_unlock(${lockKey})`.execute(conn);
      }
    });
  }

  async claimBouncerAddress(id: number, ip: string, now: number): Promise<{ claimed: boolean; row: Selectable<BouncersTable> | undefined }> {
    // One round trip: 10k new bouncers starting at once are 1,000 claims a second. set_config(…, true)
    // is SET LOCAL for the statement's own transaction: its COMMIT does not wait for the WAL flush.
    const claimed = await sql<Selectable<BouncersTable>>`WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
      UPDATE bouncers SET ip_address = ${ip}, updated_at = ${now} FROM relaxed WHERE id = ${id} AND ip_address = '' RETURNING bouncers.*`.execute(this.#db);
    if (claimed.rows[0]) return { claimed: true, row: claimed.rows[0] };
    return { claimed: false, row: await this.#db.selectFrom('bouncers').selectAll().where('id', '=', id).executeTakeFirst() };
  }

  async bouncerRowsByKeyHash(apiKeyHash: string): Promise<Selectable<BouncersTable>[]> {
    return await this.#db.selectFrom('bouncers').selectAll().where('api_key_hash', '=', apiKeyHash).orderBy('id').execute();
  }

  async expiredDecisionRows(now: number, since?: number): Promise<Selectable<DecisionsTable>[]> {
    let q = this.#db.selectFrom('decisions').selectAll().where('until', '<=', now);
    if (since !== undefined) q = q.where('until', '>=', since);
    return await q.orderBy('until').orderBy('id').execute();
  }

  async activeDecisionsPage(now: number, afterId: number, limit: number): Promise<Decision[]> {
    const rows = await this.#db.selectFrom('decisions').selectAll().where('id', '>', afterId).where('until', '>', now).orderBy('id').limit(limit).execute();
    return rows.map(toDecision);
  }

  async decisionRowsChangedSince(rev: number): Promise<Selectable<DecisionsTable>[]> {
    return await this.#db.selectFrom('decisions').selectAll().where('rev', '>', rev).orderBy('id').execute();
  }

  async counter(name: 'decisions_rev' | 'bouncers_rev'): Promise<number | undefined> {
    const row = await this.#db.selectFrom('vigil_counters').select('value').where('name', '=', name).executeTakeFirst();
    return row ? Number(row.value) : undefined;
  }

  async applyBouncerActivity(batch: readonly BouncerActivity[], now: number): Promise<void> {
    if (batch.length === 0) return;
    // Ordered by id: two replicas writing overlapping bouncers take their row locks in the same
    // order, so one waits for the other and neither deadlocks.
    const rows = [...batch].sort((a, b) => a.id - b.id);
    const col = <T>(pick: (a: BouncerActivity) => T | undefined): (T | null)[] => rows.map((a) => pick(a) ?? null);
    await this.#db.transaction().execute(async (trx) => {
      // Bookkeeping only (last pull, last request, address, type, version, cadence): the COMMIT does
      // not wait for the WAL flush, so a crash may lose the last ~0.6 s of it (wal_writer_delay × 3),
      // never a decision, alert or registration, which commit durably on their own transactions
      // (docs/operations.md, "What a crash can lose"). 1,000 pulls/s made this wait the pull path's.
      await this.skipWalFlush(trx);
      await sql`SELECT 1 FROM bouncers WHERE id = ANY(${rows.map((a) => a.id)}::bigint[]) ORDER BY id FOR NO KEY UPDATE`.execute(trx);
      // One statement per flush, whatever its size: arrays bind as nine parameters (unnest).
      // Another replica may have recorded a later pull already: greatest() keeps times moving
      // forward (and ignores the NULL of a field this batch does not set).
      await sql`UPDATE bouncers AS b SET
          updated_at = ${now}::bigint,
          last_pull_at = greatest(b.last_pull_at, v.last_pull_at),
          last_pull_rev = greatest(b.last_pull_rev, v.last_pull_rev),
          last_request_at = greatest(b.last_request_at, v.last_request_at),
          ip_address = coalesce(v.ip_address, b.ip_address),
          type = coalesce(v.type, b.type),
          version = coalesce(v.version, b.version),
          pull_cadence_ms = CASE WHEN v.set_cadence THEN v.pull_cadence_ms ELSE b.pull_cadence_ms END
        FROM unnest(
          ${rows.map((a) => a.id)}::bigint[], ${col((a) => a.lastPullAt)}::bigint[], ${col((a) => a.lastPullRev)}::bigint[],
          ${col((a) => a.lastRequestAt)}::bigint[], ${col((a) => a.ipAddress)}::text[], ${col((a) => a.type)}::text[],
          ${col((a) => a.version)}::text[], ${rows.map((a) => a.pullCadenceMs !== undefined)}::boolean[], ${col((a) => a.pullCadenceMs)}::bigint[]
        ) AS v(id, last_pull_at, last_pull_rev, last_request_at, ip_address, type, version, set_cadence, pull_cadence_ms)
        WHERE b.id = v.id`.execute(trx);
    });
  }

  async writeAlerts(batch: readonly NewAlertWithDecisions[], onProgress?: (done: number) => void, pushed?: AlertsPush): Promise<WrittenAlerts> {
    return await this.#db.transaction().execute(async (trx) => {
      const rev = await nextRev(trx);
      if (pushed) await trx.updateTable('machines').set({ last_push_at: pushed.at }).where('machine_id', '=', pushed.machineId).execute();
      const alertIds: number[] = [];
      const stored: Decision[] = [];
      for (const { alert, decisions } of batch) {
        const a = await trx.insertInto('alerts').values(alertRow(alert)).returning('id').executeTakeFirstOrThrow();
        alertIds.push(a.id);
        for (let i = 0; i < decisions.length; i += INSERT_CHUNK) {
          const chunk = decisions.slice(i, i + INSERT_CHUNK);
          // One array per column (unnest) instead of a VALUES list of 11 parameters a row: PostgreSQL
          // plans 8 parameters instead of 11,000 (an import, a year of blocklists: about twice as fast).
          // The sequence numbers the rows in unnest's order, as it did the VALUES list's.
          const col = <T>(f: (d: NewDecision) => T) => chunk.map(f);
          const { rows } = await sql<{
            id: string;
          }>`INSERT INTO decisions (alert_id, origin, type, scope, value, scenario, created_at, until, deleted_at, simulated, rev)
            SELECT ${a.id}::bigint, v.origin, v.type, v.scope, v.value, v.scenario, v.created_at, v.until, NULL, v.simulated, ${rev}::bigint
              FROM unnest(${col((d) => d.origin)}::text[], ${col((d) => d.type)}::text[], ${col((d) => d.scope)}::text[], ${col((d) => d.value)}::text[],
                          ${col((d) => d.scenario)}::text[], ${col((d) => d.createdAt)}::bigint[], ${col((d) => d.until)}::bigint[], ${col((d) => (d.simulated ? 1 : 0))}::int[])
                AS v(origin, type, scope, value, scenario, created_at, until, simulated)
            RETURNING id`.execute(trx);
          for (const [j, r] of rows.entries()) stored.push(storedDecision(chunk[j]!, Number(r.id), a.id));
          onProgress?.(stored.length);
        }
      }
      return { alertIds, decisions: stored, rev };
    });
  }

  async updateBouncerRows(trx: Transaction<Database>, updates: readonly MirroredBouncerUpdate[], now: number): Promise<void> {
    // One statement per chunk: a fleet whose every last_pull moved must not cost a round trip per bouncer.
    for (let i = 0; i < updates.length; i += UPDATE_CHUNK) {
      const rows = updates
        .slice(i, i + UPDATE_CHUNK)
        .map(
          (u) =>
            sql`(${u.id}::bigint, ${u.revoked}::int, ${u.ip_address}::text, ${u.type}::text, ${u.version}::text, ${u.auth_type}::text, ${u.created_at}::bigint, ${u.last_pull_at}::bigint)`,
        );
      await sql`UPDATE bouncers AS b SET revoked = v.revoked, ip_address = v.ip_address, type = v.type, version = v.version, auth_type = v.auth_type,
          created_at = v.created_at, last_pull_at = v.last_pull_at, updated_at = ${now}
        FROM (VALUES ${sql.join(rows)}) AS v(id, revoked, ip_address, type, version, auth_type, created_at, last_pull_at)
        WHERE b.id = v.id`.execute(trx);
    }
  }

  async close(): Promise<void> {}
}
