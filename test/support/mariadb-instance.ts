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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
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

  let log = '';
  const child: ChildProcess = spawn(
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
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const destroy = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    process.off('exit', killOnExit);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const sql = (statement: string) => spawnSync(CLIENT, ['--no-defaults', '-S', socket, '-uroot', '-e', statement], { encoding: 'utf8', timeout: 10_000 });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      await destroy();
      throw new Error(`mariadbd exited during startup:\n${log.slice(-3000)}`);
    }
    if (fs.existsSync(socket) && sql('SELECT 1').status === 0) break;
    if (Date.now() > deadline) {
      await destroy();
      throw new Error(`mariadbd did not start in time:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
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
  return { url: `mysql://${user}:${password}@127.0.0.1:${port}/${database}`, host: '127.0.0.1', port, user, password, database, logs: () => log, destroy };
}
