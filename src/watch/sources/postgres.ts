/** CrowdSec's PostgreSQL database, through one pooled connection. */
import pg from 'pg';
import { describeDb, postgresConnection, type CrowdsecDbLocation } from '../crowdsec-config.ts';
import { BOUNCER_COLUMNS, errorText, machinesQuery, metricsQuery, readImportRows, SourceError, toRead } from './source.ts';
import type { BouncerSource, CrowdsecImportRows, ImportPart, SourceRead } from './source.ts';

export class PostgresSource implements BouncerSource {
  readonly kind = 'postgres';
  readonly description: string;
  #pool: pg.Pool;

  constructor(loc: Extract<CrowdsecDbLocation, { type: 'postgres' }>, opts: { timeoutMs?: number } = {}) {
    this.description = describeDb(loc);
    const timeout = opts.timeoutMs ?? 10_000;
    this.#pool = new pg.Pool({
      ...postgresConnection(loc),
      max: 1,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      application_name: 'vigil-watch',
    });
    // An idle connection the server dropped must not crash the process; the next read reconnects.
    this.#pool.on('error', () => {});
  }

  async read(): Promise<SourceRead> {
    try {
      const columnsOf = (table: string) => this.#columnsOf(table);
      const bouncerColumns = await columnsOf('bouncers');
      if (bouncerColumns.size === 0) throw new SourceError(`${this.description}: no bouncers table; is this CrowdSec's database?`);
      const select = BOUNCER_COLUMNS.filter((c) => bouncerColumns.has(c)).map((c) => `"${c}"`);
      const rows = (await this.#pool.query(`SELECT ${select.join(', ')} FROM bouncers ORDER BY id`)).rows as Record<string, unknown>[];
      const mq = metricsQuery(await columnsOf('metrics'), (id) => `"${id}"`);
      const metrics = mq ? ((await this.#pool.query(mq)).rows as Record<string, unknown>[]) : [];
      const machq = machinesQuery(await columnsOf('machines'), (id) => `"${id}"`);
      const machines = machq ? ((await this.#pool.query(machq)).rows as Record<string, unknown>[]) : null;
      return toRead(rows, metrics, this.description, machines);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    }
  }

  async #columnsOf(table: string): Promise<Set<string>> {
    const res = await this.#pool.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
      [table],
    );
    return new Set(res.rows.map((r) => r.column_name));
  }

  async readForImport(part: ImportPart = 'all'): Promise<CrowdsecImportRows> {
    try {
      const columnsOf = (table: string) => this.#columnsOf(table);
      return await readImportRows(
        columnsOf,
        async (sql) => (await this.#pool.query(sql)).rows as Record<string, unknown>[],
        (id) => `"${id}"`,
        part,
      );
    } catch (e) {
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
