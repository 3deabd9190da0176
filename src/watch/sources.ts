/**
 * The adapters `vigil watch` reads CrowdSec's bouncers through, one module each in sources/. Each
 * returns plain rows for the pure parser (crowdsec-bouncer.ts) and throws a `SourceError` when it
 * cannot read: the watcher turns that into one "source unavailable" issue instead of every bouncer
 * going offline.
 *
 * - CrowdSec's SQLite database (sources/sqlite.ts), opened read-only per poll.
 * - PostgreSQL and MySQL/MariaDB through one pooled connection (sources/postgres.ts, sources/mysql.ts).
 * - `cscli bouncers list -o json` through a command prefix (sources/cscli.ts).
 * Only columns that exist are selected (sources/source.ts).
 */
import type { CrowdsecDbLocation } from './crowdsec-config.ts';
import { MysqlSource } from './sources/mysql.ts';
import { PostgresSource } from './sources/postgres.ts';
import type { BouncerSource, CrowdsecImportRows, ImportPart } from './sources/source.ts';
import { SqliteSource } from './sources/sqlite.ts';

export { CscliSource } from './sources/cscli.ts';
export { MysqlSource } from './sources/mysql.ts';
export { PostgresSource } from './sources/postgres.ts';
export { SourceError, type BouncerSource, type CrowdsecImportRows, type SourceRead } from './sources/source.ts';
export { SqliteSource } from './sources/sqlite.ts';

/** A source on CrowdSec's database itself: it can also hand over what `vigil import crowdsec` copies. */
export type DatabaseSource = BouncerSource & { readForImport(part?: ImportPart): Promise<CrowdsecImportRows> };

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
