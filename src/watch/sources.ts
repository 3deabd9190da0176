/**
 * The adapters `vigil watch` reads CrowdSec's bouncers through. Each returns plain rows for the pure
 * parser (crowdsec-bouncer.ts) and throws a `SourceError` when it cannot read: the watcher turns that
 * into one "source unavailable" issue instead of every bouncer going offline.
 *
 * - CrowdSec's SQLite database, opened read-only per poll (never holding a read snapshot between
 *   polls, so CrowdSec's WAL checkpoints proceed); a lock held past the busy timeout is a failure.
 * - PostgreSQL and MySQL/MariaDB through one pooled connection.
 * - `cscli bouncers list -o json` through a command prefix (docker exec, kubectl exec, ssh…), run
 *   with execFile, never a shell.
 * Only columns that exist are selected: 1.4 has no `auto_created`, 1.6.3+ has a `metrics` table.
 */
import { execFile } from 'node:child_process';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { VigilError } from '../lib/errors.ts';
import { parseBouncerRow, parseCrowdsecTime, parseCscliBouncersJson, type CrowdsecBouncer } from '../core/model/crowdsec-bouncer.ts';
import { parseCscliMachinesJson, parseMachineRow } from '../core/model/crowdsec-machine.ts';
import type { MachineHealthInput } from '../core/health/types.ts';
import { describeDb, type CrowdsecDbLocation } from './crowdsec-config.ts';

export interface SourceRead {
  bouncers: CrowdsecBouncer[];
  /** Latest usage-metrics report per bouncer name (CrowdSec 1.6.3+), epoch ms. */
  usageMetricsAt: Map<string, number>;
  /** CrowdSec's machines (log processors); absent when they could not be listed. */
  machines?: MachineHealthInput[];
}

export interface BouncerSource {
  /** What it reads, for messages (no password). */
  readonly description: string;
  /** `cscli` for the command source; the database sources name the database. */
  readonly kind: 'sqlite' | 'postgres' | 'mysql' | 'cscli';
  read(): Promise<SourceRead>;
  close(): Promise<void>;
}

/** A read that failed; the message is for an operator (no secrets). */
export class SourceError extends VigilError {
  constructor(message: string) {
    super('E_WATCH_SOURCE', message);
    this.name = 'SourceError';
  }
}

const BOUNCER_COLUMNS = ['name', 'ip_address', 'type', 'version', 'revoked', 'auth_type', 'created_at', 'last_pull', 'auto_created'] as const;
const MACHINE_COLUMNS = [
  'id',
  'machine_id',
  'ip_address',
  'version',
  'is_validated',
  'auth_type',
  'created_at',
  'updated_at',
  'last_push',
  'last_heartbeat',
] as const;

/** The machines query over the columns this version has, or null without a machines table. */
function machinesQuery(columns: Set<string>, q: (id: string) => string): string | null {
  if (!columns.has('machine_id')) return null;
  return `SELECT ${MACHINE_COLUMNS.filter((c) => columns.has(c))
    .map(q)
    .join(', ')} FROM ${q('machines')} ORDER BY ${q('id')}`;
}

const toMachines = (rows: Record<string, unknown>[]): MachineHealthInput[] =>
  rows.flatMap((r, i) => {
    const m = parseMachineRow(r, i + 1);
    return m ? [m] : [];
  });

function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = (err?.message ?? String(e)).split('\n')[0]!;
  return err?.code && !msg.includes(err.code) ? `${err.code}: ${msg}` : msg;
}

/** What to select from the `metrics` table, or null when it has no RC reports (CrowdSec < 1.6.3). */
function metricsQuery(columns: Set<string>, q: (id: string) => string): string | null {
  const at = columns.has('received_at') ? 'received_at' : columns.has('collected_at') ? 'collected_at' : null;
  if (!at || !columns.has('generated_by') || !columns.has('generated_type')) return null;
  return `SELECT ${q('generated_by')} AS name, MAX(${q(at)}) AS at FROM ${q('metrics')} WHERE ${q('generated_type')} = 'RC' GROUP BY ${q('generated_by')}`;
}

function toRead(rows: Record<string, unknown>[], metrics: Record<string, unknown>[], where: string, machines: Record<string, unknown>[] | null): SourceRead {
  const usageMetricsAt = new Map<string, number>();
  for (const m of metrics) {
    const at = parseCrowdsecTime(m.at);
    if (at !== null && typeof m.name === 'string') usageMetricsAt.set(m.name, at);
  }
  return { bouncers: rows.map((r) => parseBouncerRow(r, where)), usageMetricsAt, ...(machines ? { machines: toMachines(machines) } : {}) };
}

/** What `vigil import crowdsec` copies: rows as the database has them, with their secrets' hashes. */
export interface CrowdsecImportRows {
  bouncers: Record<string, unknown>[];
  machines: Record<string, unknown>[];
  decisions: Record<string, unknown>[];
}

const IMPORT_COLUMNS = {
  bouncers: ['id', 'name', 'api_key', 'revoked', 'ip_address', 'type', 'version', 'auth_type', 'auto_created'],
  machines: ['id', 'machine_id', 'password', 'ip_address', 'version', 'is_validated', 'auth_type'],
  decisions: ['id', 'until', 'scenario', 'type', 'scope', 'value', 'origin', 'simulated'],
} as const;

/**
 * The import's three reads, over the columns this CrowdSec version has, through one database's
 * `columnsOf` and `all`. Decisions are all read (times are text on SQLite): the pure side keeps the active ones.
 */
async function readImportRows(
  columnsOf: (table: string) => Promise<Set<string>> | Set<string>,
  all: (sql: string) => Promise<Record<string, unknown>[]> | Record<string, unknown>[],
  q: (id: string) => string,
): Promise<CrowdsecImportRows> {
  const out: CrowdsecImportRows = { bouncers: [], machines: [], decisions: [] };
  for (const table of ['bouncers', 'machines', 'decisions'] as const) {
    const have = await columnsOf(table);
    const cols = IMPORT_COLUMNS[table].filter((c) => have.has(c));
    if (cols.length === 0) continue;
    out[table] = await all(`SELECT ${cols.map(q).join(', ')} FROM ${q(table)} ORDER BY ${q('id')}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SQLite

function sqliteColumns(db: SqliteDatabase.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
}

export class SqliteSource implements BouncerSource {
  readonly kind = 'sqlite';
  readonly description: string;
  #path: string;
  #busyTimeoutMs: number;

  constructor(path: string, opts: { busyTimeoutMs?: number } = {}) {
    this.#path = path;
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 2000;
    this.description = `sqlite:${path}`;
  }

  /** Read-only and never created: Vigil must not change CrowdSec's database in any way. */
  #open(): SqliteDatabase.Database {
    try {
      return new SqliteDatabase(this.#path, { readonly: true, fileMustExist: true, timeout: this.#busyTimeoutMs });
    } catch (e) {
      throw new SourceError(`${this.description}: cannot open (${errorText(e)}); check the path and that this user can read it and its -wal/-shm files`);
    }
  }

  async read(): Promise<SourceRead> {
    const db = this.#open();
    try {
      const columnsOf = (table: string) => sqliteColumns(db, table);
      const bouncerColumns = columnsOf('bouncers');
      if (bouncerColumns.size === 0) throw new SourceError(`${this.description}: no bouncers table; is this CrowdSec's database?`);
      const select = BOUNCER_COLUMNS.filter((c) => bouncerColumns.has(c)).map((c) => `"${c}"`);
      // One read transaction: bouncers and metrics from the same snapshot.
      const read = db.transaction(() => {
        const rows = db.prepare(`SELECT ${select.join(', ')} FROM bouncers ORDER BY id`).all() as Record<string, unknown>[];
        const mq = metricsQuery(columnsOf('metrics'), (id) => `"${id}"`);
        const metrics = mq ? (db.prepare(mq).all() as Record<string, unknown>[]) : [];
        const machq = machinesQuery(columnsOf('machines'), (id) => `"${id}"`);
        const machines = machq ? (db.prepare(machq).all() as Record<string, unknown>[]) : null;
        return { rows, metrics, machines };
      });
      const { rows, metrics, machines } = read();
      return toRead(rows, metrics, this.description, machines);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      const busy = /SQLITE_BUSY|locked/i.test(errorText(e));
      throw new SourceError(
        `${this.description}: ${busy ? `database is locked (SQLITE_BUSY after ${this.#busyTimeoutMs} ms)` : `read failed (${errorText(e)})`}`,
      );
    } finally {
      db.close();
    }
  }

  async readForImport(): Promise<CrowdsecImportRows> {
    const db = this.#open();
    try {
      const columnsOf = (table: string) => sqliteColumns(db, table);
      return await readImportRows(
        columnsOf,
        (sql) => db.prepare(sql).all() as Record<string, unknown>[],
        (id) => `"${id}"`,
      );
    } catch (e) {
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    } finally {
      db.close();
    }
  }

  async close(): Promise<void> {}
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export class PostgresSource implements BouncerSource {
  readonly kind = 'postgres';
  readonly description: string;
  #pool: pg.Pool;

  constructor(loc: Extract<CrowdsecDbLocation, { type: 'postgres' }>, opts: { timeoutMs?: number } = {}) {
    this.description = describeDb(loc);
    const timeout = opts.timeoutMs ?? 10_000;
    const ssl =
      loc.sslmode === 'disable' || loc.sslmode === ''
        ? false
        : loc.sslmode === 'verify-full' || loc.sslmode === 'verify-ca'
          ? true
          : { rejectUnauthorized: false };
    this.#pool = new pg.Pool({
      host: loc.host,
      port: loc.port,
      user: loc.user,
      password: loc.password,
      database: loc.database,
      ssl,
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

  async readForImport(): Promise<CrowdsecImportRows> {
    try {
      const columnsOf = (table: string) => this.#columnsOf(table);
      return await readImportRows(
        columnsOf,
        async (sql) => (await this.#pool.query(sql)).rows as Record<string, unknown>[],
        (id) => `"${id}"`,
      );
    } catch (e) {
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB

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

  async readForImport(): Promise<CrowdsecImportRows> {
    try {
      const pool = await this.#connect();
      const columnsOf = (table: string) => this.#columnsOf(pool, table);
      const all = async (sql: string) => (await pool.query({ sql, timeout: this.#timeoutMs }))[0] as Record<string, unknown>[];
      return await readImportRows(columnsOf, all, (id) => `\`${id}\``);
    } catch (e) {
      throw new SourceError(`${this.description}: read failed (${errorText(e)})`);
    }
  }

  async close(): Promise<void> {
    await this.#pool?.end();
    this.#pool = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// cscli through a command prefix

export class CscliSource implements BouncerSource {
  readonly kind = 'cscli';
  readonly description: string;
  #prefix: string[];
  #argv: string[];
  #timeoutMs: number;
  #env: NodeJS.ProcessEnv | undefined;

  /** `prefix` already split into words (shell-words.ts), e.g. ['docker', 'exec', 'crowdsec', 'cscli']. */
  constructor(prefix: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
    if (prefix.length === 0) throw new VigilError('E_USAGE', '--cscli is empty: give the command that runs cscli, e.g. "docker exec crowdsec cscli"');
    this.#prefix = prefix;
    this.#argv = [...prefix, 'bouncers', 'list', '-o', 'json'];
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#env = opts.env;
    this.description = `'${this.#argv.join(' ')}'`;
  }

  async read(): Promise<SourceRead> {
    const [read, machines] = await Promise.all([this.#readBouncers(), this.#readMachines()]);
    return machines ? { ...read, machines } : read;
  }

  /** `PREFIX machines list -o json`; null when it fails (bouncers are still read: machines are extra). */
  #readMachines(): Promise<MachineHealthInput[] | null> {
    return new Promise((resolve) => {
      const p = this.#prefix;
      execFile(
        p[0]!,
        [...p.slice(1), 'machines', 'list', '-o', 'json'],
        { timeout: this.#timeoutMs, maxBuffer: 64 * 1024 * 1024, env: this.#env ?? process.env, windowsHide: true },
        (err, stdout) => {
          if (err) return resolve(null);
          try {
            resolve(parseCscliMachinesJson(String(stdout)));
          } catch {
            resolve(null);
          }
        },
      );
    });
  }

  #readBouncers(): Promise<SourceRead> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#argv[0]!,
        this.#argv.slice(1),
        { timeout: this.#timeoutMs, maxBuffer: 256 * 1024 * 1024, env: this.#env ?? process.env, windowsHide: true },
        (err, stdout, stderr) => {
          if (err) {
            const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string };
            // cscli logs through logrus: its last line is the reason (`level=fatal msg="…"`).
            const last = String(stderr).trim().split('\n').filter(Boolean).pop() ?? '';
            const why =
              e.code === 'ENOENT'
                ? `command not found: ${this.#argv[0]}`
                : e.killed && e.signal
                  ? `no answer within ${this.#timeoutMs} ms (killed)`
                  : `exit ${e.code ?? e.signal}${last ? `: ${last.slice(0, 300)}` : ''}`;
            reject(new SourceError(`${this.description} failed (${why})`));
            return;
          }
          try {
            resolve({ bouncers: parseCscliBouncersJson(String(stdout), this.description), usageMetricsAt: new Map() });
          } catch (pe) {
            reject(pe instanceof SourceError ? pe : new SourceError((pe as Error).message));
          }
        },
      );
    });
  }

  /**
   * The Local API's listen address as CrowdSec itself reports it
   * (`cscli config show --key Config.API.Server.ListenURI`), for runbooks; null when it cannot tell.
   */
  lapiListenUri(): Promise<string | null> {
    return new Promise((resolve) => {
      const prefix = this.#prefix;
      execFile(
        prefix[0]!,
        [...prefix.slice(1), 'config', 'show', '--key', 'Config.API.Server.ListenURI'],
        { timeout: 10_000, env: this.#env ?? process.env },
        (err, stdout) => {
          const v = String(stdout ?? '').trim();
          resolve(!err && /^[\w.\-[\]:]+:\d+$/.test(v) ? v : null);
        },
      );
    });
  }

  async close(): Promise<void> {}
}

/** A source on CrowdSec's database itself: it can also hand over what `vigil import crowdsec` copies. */
export type DatabaseSource = BouncerSource & { readForImport(): Promise<CrowdsecImportRows> };

export function sourceFor(db: CrowdsecDbLocation, opts: { busyTimeoutMs?: number; timeoutMs?: number } = {}): DatabaseSource {
  switch (db.type) {
    case 'sqlite':
      return new SqliteSource(db.path, opts);
    case 'postgres':
      return new PostgresSource(db, opts);
    case 'mysql':
      return new MysqlSource(db, opts);
  }
}
