/**
 * CrowdSec's database opened for writing, for `vigil export crowdsec` (the only Vigil code that
 * writes there; `vigil watch` and `vigil import` only read it). One small interface over SQLite,
 * PostgreSQL and MySQL/MariaDB: each turns times, booleans and 64-bit integers into what ent
 * (CrowdSec's ORM) writes on that database, so CrowdSec reads the rows as its own.
 */
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { describeDb, postgresConnection, type CrowdsecDbLocation } from './crowdsec-config.ts';
import { errorText, SourceError } from './sources/source.ts';

/** A column value; `{ time }` is epoch ms, written as the database's timestamp. */
export type TargetValue = string | number | bigint | boolean | null | { time: number };

export interface TargetWriter {
  /** Inserts one row and returns its id. */
  insert(table: string, row: Record<string, TargetValue>): Promise<number>;
  /** Inserts rows of the same columns (a few statements, not one per row: PostgreSQL and MySQL are a round trip each). */
  insertMany(table: string, rows: readonly Record<string, TargetValue>[]): Promise<void>;
  update(table: string, set: Record<string, TargetValue>, id: number): Promise<void>;
  /** The same change on many rows, a chunk of ids per statement. */
  updateMany(table: string, set: Record<string, TargetValue>, ids: readonly number[]): Promise<void>;
}

/** Rows per multi-row INSERT: 16 columns × 1,000 stays under PostgreSQL's 65,535 parameters. */
const ROWS_PER_INSERT = 1000;

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) out.push(rows.slice(i, i + ROWS_PER_INSERT));
  return out;
}

export interface CrowdsecTarget {
  readonly description: string;
  columnsOf(table: string): Promise<Set<string>>;
  /** `SELECT cols FROM table` over the columns it has (none: []). */
  selectAll(table: string, columns: readonly string[]): Promise<Record<string, unknown>[]>;
  /** Everything `fn` writes lands at once or not at all. */
  transaction<T>(fn: (w: TargetWriter) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Go's `2006-01-02 15:04:05.999999999-07:00` in UTC: what ent's SQLite driver writes and compares as text. */
export function goSqliteTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-07T21:08:29.027Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''}+00:00`;
}

const mysqlTime = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

export function crowdsecTarget(db: CrowdsecDbLocation): CrowdsecTarget {
  switch (db.type) {
    case 'sqlite':
      return sqliteTarget(db.path);
    case 'postgres':
      return postgresTarget(db);
    case 'mysql':
      return mysqlTarget(db);
  }
}

function fail(description: string, e: unknown): never {
  if (e instanceof SourceError) throw e;
  throw new SourceError(`${description}: write failed (${errorText(e)}); nothing was written`);
}

function sqliteTarget(path: string): CrowdsecTarget {
  const description = `sqlite:${path}`;
  let db: SqliteDatabase.Database;
  try {
    // Never created: a path that does not exist is a mistake, not a new CrowdSec.
    db = new SqliteDatabase(path, { fileMustExist: true, timeout: 5000 });
  } catch (e) {
    throw new SourceError(`${description}: cannot open for writing (${errorText(e)}); check the path and that this user can write it and its folder`);
  }
  const value = (v: TargetValue): unknown => (v === null ? null : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'object' ? goSqliteTime(v.time) : v);
  const writer: TargetWriter = {
    async insert(table, row) {
      const cols = Object.keys(row);
      const r = db
        .prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
        .run(...cols.map((c) => value(row[c]!)));
      return Number(r.lastInsertRowid);
    },
    async insertMany(table, rows) {
      if (rows.length === 0) return;
      const cols = Object.keys(rows[0]!);
      // One prepared statement, run per row: SQLite has no round trip to save.
      const stmt = db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
      for (const row of rows) stmt.run(...cols.map((c) => value(row[c]!)));
    },
    async update(table, set, id) {
      const cols = Object.keys(set);
      db.prepare(`UPDATE "${table}" SET ${cols.map((c) => `"${c}" = ?`).join(', ')} WHERE id = ?`).run(...cols.map((c) => value(set[c]!)), id);
    },
    async updateMany(table, set, ids) {
      for (const id of ids) await writer.update(table, set, id);
    },
  };
  return {
    description,
    async columnsOf(table) {
      return new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name));
    },
    async selectAll(table, columns) {
      if (columns.length === 0) return [];
      return db.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" ORDER BY id`).all() as Record<string, unknown>[];
    },
    async transaction(fn) {
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (e) {
        throw new SourceError(`${description}: cannot write (${errorText(e)}); stop CrowdSec's Local API first (systemctl stop crowdsec)`);
      }
      try {
        const out = await fn(writer);
        db.exec('COMMIT');
        return out;
      } catch (e) {
        db.exec('ROLLBACK');
        fail(description, e);
      }
    },
    async close() {
      db.close();
    },
  };
}

function postgresTarget(loc: Extract<CrowdsecDbLocation, { type: 'postgres' }>): CrowdsecTarget {
  const description = describeDb(loc);
  const pool = new pg.Pool({
    ...postgresConnection(loc),
    max: 1,
    connectionTimeoutMillis: 10_000,
    application_name: 'vigil-export',
  });
  pool.on('error', () => {});
  const value = (v: TargetValue): unknown =>
    v === null ? null : typeof v === 'bigint' ? v.toString() : typeof v === 'object' ? new Date(v.time).toISOString() : v;
  return {
    description,
    async columnsOf(table) {
      const res = await pool.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
        [table],
      );
      return new Set(res.rows.map((r) => r.column_name));
    },
    async selectAll(table, columns) {
      if (columns.length === 0) return [];
      return (await pool.query(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" ORDER BY id`)).rows as Record<string, unknown>[];
    },
    async transaction(fn) {
      const client = await pool.connect().catch((e) => fail(description, e));
      try {
        await client.query('BEGIN');
        const writer = postgresWriter(client, value);
        const out = await fn(writer);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        fail(description, e);
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

function mysqlTarget(loc: Extract<CrowdsecDbLocation, { type: 'mysql' }>): CrowdsecTarget {
  const description = describeDb(loc);
  let poolPromise: Promise<import('mysql2/promise').Pool> | undefined;
  const connect = () =>
    (poolPromise ??= import('mysql2/promise').then((mysql) => {
      const pool = mysql.createPool({
        host: loc.host,
        port: loc.port,
        user: loc.user,
        password: loc.password,
        database: loc.database,
        connectionLimit: 1,
        connectTimeout: 10_000,
        dateStrings: true,
        timezone: 'Z',
        supportBigNumbers: true,
      });
      // CrowdSec (Go's driver, loc=UTC) writes UTC: so do we.
      pool.pool.on('connection', (conn) => {
        conn.query("SET time_zone = '+00:00'");
      });
      return pool;
    }));
  const value = (v: TargetValue): unknown =>
    v === null ? null : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'bigint' ? v.toString() : typeof v === 'object' ? mysqlTime(v.time) : v;
  return {
    description,
    async columnsOf(table) {
      const [rows] = await (await connect()).query({
        sql: 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?',
        values: [table],
      });
      return new Set((rows as Array<{ c: string }>).map((r) => r.c));
    },
    async selectAll(table, columns) {
      if (columns.length === 0) return [];
      const [rows] = await (await connect()).query(`SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM \`${table}\` ORDER BY id`);
      return rows as Record<string, unknown>[];
    },
    async transaction(fn) {
      const conn = await (await connect()).getConnection().catch((e) => fail(description, e));
      try {
        await conn.beginTransaction();
        const writer = mysqlWriter(conn, value);
        const out = await fn(writer);
        await conn.commit();
        return out;
      } catch (e) {
        await conn.rollback().catch(() => {});
        fail(description, e);
      } finally {
        conn.release();
      }
    },
    async close() {
      if (poolPromise) await (await poolPromise).end();
      poolPromise = undefined;
    },
  };
}

/** Writes in one PostgreSQL transaction: `$n` parameters, `RETURNING id`, `= ANY($n::bigint[])`. */
function postgresWriter(client: pg.PoolClient, value: (v: TargetValue) => unknown): TargetWriter {
  return {
    async insert(table, row) {
      const cols = Object.keys(row);
      const r = await client.query<{ id: number }>(
        `INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
        cols.map((c) => value(row[c]!)),
      );
      return Number(r.rows[0]!.id);
    },
    async insertMany(table, rows) {
      if (rows.length === 0) return;
      const cols = Object.keys(rows[0]!);
      for (const chunk of chunks(rows)) {
        const tuples = chunk.map((_, r) => `(${cols.map((_, c) => `$${r * cols.length + c + 1}`).join(', ')})`);
        await client.query(
          `INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`,
          chunk.flatMap((row) => cols.map((c) => value(row[c]!))),
        );
      }
    },
    async update(table, set, id) {
      const cols = Object.keys(set);
      await client.query(`UPDATE "${table}" SET ${cols.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE id = $${cols.length + 1}`, [
        ...cols.map((c) => value(set[c]!)),
        id,
      ]);
    },
    async updateMany(table, set, ids) {
      const cols = Object.keys(set);
      for (const chunk of chunks(ids)) {
        if (chunk.length === 0) continue;
        await client.query(`UPDATE "${table}" SET ${cols.map((c, i) => `"${c}" = $${i + 1}`).join(', ')} WHERE id = ANY($${cols.length + 1}::bigint[])`, [
          ...cols.map((c) => value(set[c]!)),
          chunk,
        ]);
      }
    },
  };
}

/** Writes in one MySQL/MariaDB transaction: `?` parameters, `insertId`, `IN (…)`. */
function mysqlWriter(conn: import('mysql2/promise').PoolConnection, value: (v: TargetValue) => unknown): TargetWriter {
  return {
    async insert(table, row) {
      const cols = Object.keys(row);
      const [r] = await conn.query(
        `INSERT INTO \`${table}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        cols.map((c) => value(row[c]!)),
      );
      return Number((r as { insertId: number }).insertId);
    },
    async insertMany(table, rows) {
      if (rows.length === 0) return;
      const cols = Object.keys(rows[0]!);
      for (const chunk of chunks(rows)) {
        const tuples = chunk.map(() => `(${cols.map(() => '?').join(', ')})`);
        await conn.query(
          `INSERT INTO \`${table}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES ${tuples.join(', ')}`,
          chunk.flatMap((row) => cols.map((c) => value(row[c]!))),
        );
      }
    },
    async update(table, set, id) {
      const cols = Object.keys(set);
      await conn.query(`UPDATE \`${table}\` SET ${cols.map((c) => `\`${c}\` = ?`).join(', ')} WHERE id = ?`, [...cols.map((c) => value(set[c]!)), id]);
    },
    async updateMany(table, set, ids) {
      const cols = Object.keys(set);
      for (const chunk of chunks(ids)) {
        if (chunk.length === 0) continue;
        await conn.query(`UPDATE \`${table}\` SET ${cols.map((c) => `\`${c}\` = ?`).join(', ')} WHERE id IN (${chunk.map(() => '?').join(', ')})`, [
          ...cols.map((c) => value(set[c]!)),
          ...chunk,
        ]);
      }
    },
  };
}
