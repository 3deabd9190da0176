/** CrowdSec's MySQL/MariaDB database, through one pooled connection (mysql2 loaded only when used). */
import { describeDb, type CrowdsecDbLocation } from '../crowdsec-config.ts';
import { BOUNCER_COLUMNS, errorText, machinesQuery, metricsQuery, readImportRows, SourceError, toRead } from './source.ts';
import type { BouncerSource, CrowdsecImportRows, ImportPart, SourceRead } from './source.ts';

export class MysqlSource implements BouncerSource {
  readonly kind = 'mysql';
  readonly description: string;
  #loc: Extract<CrowdsecDbLocation, { type: 'mysql' }>;
  #timeoutMs: number;
  #pool: import('mysql2/promise').Pool | undefined;

  constructor(loc: Extract<CrowdsecDbLocation, { type: 'mysql' }>, opts: { timeoutMs?: number } = {}) {
    this.#loc = loc;
    this.description = describeDb(loc);
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async #connect(): Promise<import('mysql2/promise').Pool> {
    if (this.#pool) return this.#pool;
    const mysql = await import('mysql2/promise');
    const pool = mysql.createPool({
      host: this.#loc.host,
      port: this.#loc.port,
      user: this.#loc.user,
      password: this.#loc.password,
      database: this.#loc.database,
      connectionLimit: 1,
      connectTimeout: this.#timeoutMs,
      // CrowdSec (Go's MySQL driver, loc=UTC) writes UTC; read the text in a UTC session.
      dateStrings: true,
      timezone: 'Z',
      supportBigNumbers: true,
    });
    pool.pool.on('connection', (conn) => {
      conn.query("SET time_zone = '+00:00'");
    });
    this.#pool = pool;
    return pool;
  }

  async read(): Promise<SourceRead> {
    try {
      const pool = await this.#connect();
      const columnsOf = (table: string) => this.#columnsOf(pool, table);
      const bouncerColumns = await columnsOf('bouncers');
      if (bouncerColumns.size === 0) throw new SourceError(`${this.description}: no bouncers table; is this CrowdSec's database?`);
      const select = BOUNCER_COLUMNS.filter((c) => bouncerColumns.has(c)).map((c) => `\`${c}\``);
      const [rows] = await pool.query({ sql: `SELECT ${select.join(', ')} FROM bouncers ORDER BY id`, timeout: this.#timeoutMs });
      const mq = metricsQuery(await columnsOf('metrics'), (id) => `\`${id}\``);
      const metrics = mq ? ((await pool.query({ sql: mq, timeout: this.#timeoutMs }))[0] as Record<string, unknown>[]) : [];
      const machq = machinesQuery(await columnsOf('machines'), (id) => `\`${id}\``);
      const machines = machq ? ((await pool.query({ sql: machq, timeout: this.#timeoutMs }))[0] as Record<string, unknown>[]) : null;
      return toRead(rows as Record<string, unknown>[], metrics, this.description, machines);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    }
  }

  async #columnsOf(pool: import('mysql2/promise').Pool, table: string): Promise<Set<string>> {
    const [rows] = await pool.query({
      sql: 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?',
      values: [table],
      timeout: this.#timeoutMs,
    });
    return new Set((rows as Array<{ c: string }>).map((r) => r.c));
  }

  async readForImport(part: ImportPart = 'all'): Promise<CrowdsecImportRows> {
    try {
      const pool = await this.#connect();
      const columnsOf = (table: string) => this.#columnsOf(pool, table);
      const all = async (sql: string) => (await pool.query({ sql, timeout: this.#timeoutMs }))[0] as Record<string, unknown>[];
      return await readImportRows(columnsOf, all, (id) => `\`${id}\``, part);
    } catch (e) {
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    }
  }

  async close(): Promise<void> {
    await this.#pool?.end();
    this.#pool = undefined;
  }
}
