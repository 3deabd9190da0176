/**
 * An isolated, real MariaDB (Debian's mariadb-server, installed by scripts/install-mariadb.sh; the
 * packaged service is never started) for tests: its own data dir, socket and free loopback port,
 * one database and one password user.
 *
 *   const m = mariadbAvailable();
 *   describe.skipIf(!m.available && !process.env.CI)(…, () => {
 *     const db = await startMariadb({ workDir });   // db.url = mysql://vigil:…@127.0.0.1:PORT/crowdsec
 *     …
 *     await db.destroy();
 *   });
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, loggedProcess } from './processes.ts';
import { until } from './wait.ts';

const SERVER_CANDIDATES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'];
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const CLIENT = '/usr/bin/mariadb';

export function mariadbAvailable(): { available: boolean; reason?: string } {
  const server = SERVER_CANDIDATES.find((p) => fs.existsSync(p));
  if (!server || !fs.existsSync(INSTALL_DB) || !fs.existsSync(CLIENT)) {
    return { available: false, reason: 'mariadb-server not installed (run: sudo bash scripts/install-mariadb.sh)' };
  }
  return { available: true };
}

export interface MariadbInstance {
  /** mysql://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  logs(): string;
  destroy(): Promise<void>;
}

export async function startMariadb(opts: { workDir?: string; database?: string; startTimeoutMs?: number } = {}): Promise<MariadbInstance> {
  const avail = mariadbAvailable();
  if (!avail.available) throw new Error(avail.reason);
  const server = SERVER_CANDIDATES.find((p) => fs.existsSync(p))!;
  const workDir = opts.workDir ?? os.tmpdir();
  fs.mkdirSync(workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(workDir, 'mariadb-'));
  const dataDir = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const port = await freePort();
  const runAs = process.getuid?.() === 0 ? ['--user=root'] : [];
  const init = spawnSync(INSTALL_DB, ['--no-defaults', `--datadir=${dataDir}`, ...runAs, '--auth-root-authentication-method=normal', '--skip-test-db'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout}`);

  const proc = loggedProcess(
    server,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      ...runAs,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
    ],
    { killAfterMs: 15_000 },
  );
  proc.spawn();
  const destroy = async () => {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const sql = (statement: string) => spawnSync(CLIENT, ['--no-defaults', '-S', socket, '-uroot', '-e', statement], { encoding: 'utf8', timeout: 10_000 });
  try {
    await until(
      'mariadbd to answer on its socket',
      () => {
        if (!proc.running()) throw new Error(`mariadbd exited during startup:\n${proc.logs().slice(-3000)}`);
        return (fs.existsSync(socket) && sql('SELECT 1').status === 0) || undefined;
      },
      () => proc.logs().slice(-3000),
      opts.startTimeoutMs ?? 30_000,
      100,
    );
  } catch (e) {
    await destroy();
    throw e;
  }
  const database = opts.database ?? 'crowdsec';
  const user = 'vigil';
  const password = crypto.randomBytes(12).toString('hex');
  const created = sql(
    `CREATE DATABASE \`${database}\`; CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'; GRANT ALL ON \`${database}\`.* TO '${user}'@'%';`,
  );
  if (created.status !== 0) {
    await destroy();
    throw new Error(`creating the database failed: ${created.stderr}`);
  }
  return { url: `mysql://${user}:${password}@127.0.0.1:${port}/${database}`, host: '127.0.0.1', port, user, password, database, logs: proc.logs, destroy };
}
