/**
 * An isolated, REAL CrowdSec 1.4.6 Local API for tests (the Debian package, installed by
 * `scripts/install-crowdsec.sh`; `.ci/run` installs it). Each instance has its own temp config dir,
 * its own database, its own free loopback port, LAPI only (`-no-cs -no-capi`, no online_client, no
 * Prometheus listener), and never touches /etc/crowdsec's state or the system instance that
 * an operator runs.
 *
 *   import { crowdsecAvailable, startCrowdsec } from './support/crowdsec-instance.ts';
 *   const cs = crowdsecAvailable();
 *   describe.skipIf(!cs.available && !process.env.CI)(`… ${cs.reason ?? ''}`, () => {
 *     let lapi: CrowdsecInstance;
 *     beforeAll(async () => { lapi = await startCrowdsec({ workDir }); });   // SQLite, started
 *     afterAll(async () => { await lapi?.destroy(); });                        // stop + remove its dir
 *     it('…', async () => {
 *       const key = await lapi.addBouncer('my-bouncer');          // cscli bouncers add -o raw
 *       await lapi.addDecision({ ip: '192.0.2.1', duration: '5m' }); // cscli decisions add (via its LAPI)
 *       const rows = await lapi.listBouncers();                    // cscli bouncers list -o json
 *       await fetch(`${lapi.url}v1/decisions?ip=192.0.2.1`, { headers: { 'X-Api-Key': key } });
 *       await lapi.cscli(['bouncers', 'delete', 'my-bouncer']);    // any cscli command, -c <its config>
 *     });
 *   });
 *
 * Options: `db: { type: 'postgresql', url }` runs it on PostgreSQL (a database of its own, e.g.
 * `freshDbUrl('postgres')` from databases.ts, on the tests' embedded PostgreSQL `inject('pgUrl')`);
 * `db: { type: 'mysql', url }` on MySQL/MariaDB (e.g. `startMariadb()` from mariadb-instance.ts).
 * CrowdSec creates its schema there itself. `start: false` creates config, DB and machine without
 * starting the LAPI (cscli bouncers/machines commands work on the DB directly; `decisions add` needs
 * the LAPI). `stop()` / `start()` restart it on the same port and DB.
 *
 * `cscliWrapper` is an executable script that runs `cscli -c <its config> "$@"`, for code that
 * takes a cscli command (e.g. `vigil watch --cscli <wrapper>`).
 *
 * Tests skip only outside CI when it is absent (`!available && !process.env.CI`): in CI it must run.
 */
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import YAML from 'yaml';
import { findExecutable } from '../../src/doctor/host.ts';
import { awaitHealthy, freePort, loggedProcess, shellQuote, startOrRemove, stopAndRemove } from './processes.ts';

const execFileAsync = promisify(execFile);
/** Read-only things we borrow from the package's install (never written). */
const SYSTEM_CONFIG_DIR = '/etc/crowdsec';
const SYSTEM_HUB_DIR = '/var/lib/crowdsec/hub/';

export interface CrowdsecAvailability {
  available: boolean;
  /** Why not, when unavailable. */
  reason?: string;
  version?: string;
}

let availability: CrowdsecAvailability | undefined;

/** Whether a real CrowdSec (crowdsec + cscli binaries) can be started here. */
export function crowdsecAvailable(): CrowdsecAvailability {
  if (availability) return availability;
  const crowdsec = findExecutable('crowdsec');
  const cscli = findExecutable('cscli');
  if (!crowdsec || !cscli) {
    availability = { available: false, reason: 'crowdsec not installed (run: sudo bash scripts/install-crowdsec.sh)' };
    return availability;
  }
  let version = '';
  try {
    const out = execFileSync(crowdsec, ['-version']);
    version = /version:\s*(\S+)/i.exec(out)?.[1] ?? out.split('\n')[0]!.trim();
  } catch {
    // a version we cannot read is not a reason to skip
  }
  availability = { available: true, version };
  return availability;
}

function execFileSync(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

export type CrowdsecDb = { type: 'sqlite' } | { type: 'postgresql'; url: string } | { type: 'mysql'; url: string };

export interface CrowdsecOptions {
  /** A directory the instance may write into (it makes its own subdirectory); default os.tmpdir(). */
  workDir?: string;
  /** Default SQLite in the instance's own dir. */
  db?: CrowdsecDb;
  /** Start the LAPI now (default true). */
  start?: boolean;
  /** ms to wait for GET /health; default 30 000. */
  startTimeoutMs?: number;
  logLevel?: 'info' | 'debug' | 'trace' | 'warning' | 'error';
  /**
   * `file`: CrowdSec writes its logs as the package does, crowdsec.log and the Local API's access
   * log crowdsec_api.log in `<dir>/logs/` (`logDir`); default `stdout` (captured by `logs()`).
   */
  logMedia?: 'stdout' | 'file';
  /** Turn on its Prometheus listener on a free loopback port (`prometheusUrl`); default off. */
  prometheus?: boolean;
}

/** One row of `cscli bouncers list -o json` (1.4.6). */
export interface CscliBouncerRow {
  id: number;
  created_at: string;
  updated_at: string;
  name: string;
  api_key: string;
  revoked: boolean;
  ip_address: string;
  type: string;
  version: string;
  until?: string;
  last_pull: string | null;
  auth_type: string;
}

export interface CrowdsecInstance {
  /** `http://127.0.0.1:PORT/` (trailing slash, as bouncers want api_url). */
  url: string;
  /** `127.0.0.1:PORT` */
  listen: string;
  dir: string;
  /** Its config.yaml: pass to `cscli -c`, or to `vigil watch --crowdsec-config`. */
  configPath: string;
  /** SQLite file, or null on PostgreSQL/MySQL. */
  dbPath: string | null;
  /** `<dir>/logs`: common.log_dir (crowdsec.log, crowdsec_api.log with `logMedia: 'file'`). */
  logDir: string;
  /** `http://127.0.0.1:PORT/metrics` with `prometheus: true`, else null. */
  prometheusUrl: string | null;
  db: CrowdsecDb;
  /** Executable script: `cscli -c <configPath> "$@"`. */
  cscliWrapper: string;
  /** Runs `cscli -c <config> ...args`; rejects with stderr on a non-zero exit. */
  cscli(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** `cscli bouncers add NAME [-k KEY] -o raw` → the key. */
  addBouncer(name: string, key?: string): Promise<string>;
  deleteBouncer(name: string): Promise<void>;
  listBouncers(): Promise<CscliBouncerRow[]>;
  /** `cscli decisions add` (needs the LAPI running: cscli posts an alert to it). */
  addDecision(d: { ip?: string; range?: string; duration?: string; reason?: string; type?: string }): Promise<void>;
  start(): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
  running(): boolean;
  /** The LAPI's process id while it runs. */
  pid(): number | undefined;
  /** The LAPI's stdout/stderr since it was created (all starts). */
  logs(): string;
  /** stop() and remove its directory (its PostgreSQL database is the caller's to drop). */
  destroy(): Promise<void>;
}

function serverDbConfig(type: 'postgresql' | 'mysql', url: string): Record<string, unknown> {
  const u = new URL(url);
  return {
    type,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    db_name: decodeURIComponent(u.pathname.replace(/^\//, '')),
    host: u.hostname,
    port: Number(u.port || (type === 'mysql' ? 3306 : 5432)),
    ...(type === 'postgresql' ? { sslmode: 'disable' } : {}),
  };
}

/** Creates an isolated CrowdSec (config, DB, local machine) and, unless `start: false`, starts its LAPI. */
export async function startCrowdsec(opts: CrowdsecOptions = {}): Promise<CrowdsecInstance> {
  const avail = crowdsecAvailable();
  if (!avail.available) throw new Error(avail.reason);
  const workDir = opts.workDir ?? os.tmpdir();
  fs.mkdirSync(workDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(workDir, 'crowdsec-'));
  const db = opts.db ?? { type: 'sqlite' };
  const port = await freePort();
  const promPort = opts.prometheus ? await freePort() : 6060;
  const listen = `127.0.0.1:${port}`;
  const url = `http://${listen}/`;
  const configPath = path.join(dir, 'config.yaml');
  const credentialsPath = path.join(dir, 'local_api_credentials.yaml');
  const dataDir = path.join(dir, 'data');
  const dbPath = db.type === 'sqlite' ? path.join(dataDir, 'crowdsec.db') : null;
  for (const d of [dataDir, path.join(dir, 'logs'), path.join(dir, 'notifications'), path.join(dir, 'acquis.d')]) fs.mkdirSync(d, { recursive: true });

  // profiles.yaml from the package (read-only there), else the package's default profile.
  const profiles = path.join(SYSTEM_CONFIG_DIR, 'profiles.yaml');
  fs.writeFileSync(
    path.join(dir, 'profiles.yaml'),
    fs.existsSync(profiles)
      ? fs.readFileSync(profiles)
      : 'name: default_ip_remediation\nfilters:\n - Alert.Remediation == true && Alert.GetScope() == "Ip"\ndecisions:\n - type: ban\n   duration: 4h\non_success: break\n',
  );
  fs.writeFileSync(path.join(dir, 'simulation.yaml'), 'simulation: off\nexclusions: []\n');
  fs.writeFileSync(path.join(dir, 'acquis.yaml'), '');

  // The package's config.yaml, rewritten: every path that is written to is ours; LAPI only.
  const config = {
    common: {
      daemonize: false,
      log_media: opts.logMedia ?? 'stdout',
      log_level: opts.logLevel ?? 'info',
      log_dir: path.join(dir, 'logs') + '/',
      working_dir: '.',
    },
    config_paths: {
      config_dir: dir + '/',
      data_dir: dataDir + '/',
      simulation_path: path.join(dir, 'simulation.yaml'),
      hub_dir: SYSTEM_HUB_DIR,
      index_path: path.join(SYSTEM_HUB_DIR, '.index.json'),
      notification_dir: path.join(dir, 'notifications') + '/',
      plugin_dir: '/usr/lib/crowdsec/plugins/',
    },
    crowdsec_service: { acquisition_path: path.join(dir, 'acquis.yaml'), acquisition_dir: path.join(dir, 'acquis.d'), parser_routines: 1 },
    cscli: { output: 'human', color: 'no' },
    db_config:
      db.type === 'sqlite'
        ? { log_level: 'info', type: 'sqlite', db_path: dbPath, use_wal: true, flush: { max_items: 5000, max_age: '7d' } }
        : { log_level: 'info', ...serverDbConfig(db.type, db.url), flush: { max_items: 5000, max_age: '7d' } },
    plugin_config: { user: 'nobody', group: 'nogroup' },
    api: {
      client: { insecure_skip_verify: false, credentials_path: credentialsPath },
      // No online_client: no Central API.
      server: {
        log_level: opts.logLevel ?? 'info',
        listen_uri: listen,
        profiles_path: path.join(dir, 'profiles.yaml'),
        console_path: path.join(dir, 'console.yaml'),
        trusted_ips: ['127.0.0.1', '::1'],
      },
    },
    // Off unless asked for (then on a port of its own): the system instance (and CrowdSec's default) use 127.0.0.1:6060.
    prometheus: { enabled: opts.prometheus === true, level: 'full', listen_addr: '127.0.0.1', listen_port: promPort },
  };
  fs.writeFileSync(configPath, YAML.stringify(config));

  const cscliBin = findExecutable('cscli')!;
  const crowdsecBin = findExecutable('crowdsec')!;
  const cscliWrapper = path.join(dir, 'cscli');
  fs.writeFileSync(cscliWrapper, `#!/bin/sh\n# cscli on the test CrowdSec in ${dir}\nexec ${shellQuote(cscliBin)} -c ${shellQuote(configPath)} "$@"\n`, {
    mode: 0o755,
  });

  const cscli = async (args: string[]) => {
    try {
      const r = await execFileAsync(cscliBin, ['-c', configPath, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
      return { stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as Error & { stderr?: string; stdout?: string };
      throw new Error(`cscli ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
    }
  };

  if (db.type === 'postgresql') await shimPgSettingsForOldEnt(db.url);

  // The local machine, as the package's postinst registers it (cscli decisions add logs in with it).
  await cscli([
    'machines',
    'add',
    'vigil-test-machine',
    '--password',
    crypto.randomBytes(16).toString('hex'),
    '-f',
    credentialsPath,
    '-u',
    `http://${listen}`,
    '--force',
  ]);

  const proc = loggedProcess(crowdsecBin, ['-c', configPath, '-no-cs', '-no-capi'], { cwd: dir });

  const start = async () => {
    if (proc.running()) return;
    proc.spawn();
    await awaitHealthy(proc, url, opts.startTimeoutMs ?? 30_000, `crowdsec (config ${configPath})`);
  };

  const instance: CrowdsecInstance = {
    url,
    listen,
    dir,
    configPath,
    dbPath,
    logDir: path.join(dir, 'logs'),
    prometheusUrl: opts.prometheus ? `http://127.0.0.1:${promPort}/metrics` : null,
    db,
    cscliWrapper,
    cscli,
    async addBouncer(name, key) {
      const r = await cscli(['bouncers', 'add', name, ...(key ? ['-k', key] : []), '-o', 'raw']);
      return r.stdout.trim();
    },
    async deleteBouncer(name) {
      await cscli(['bouncers', 'delete', name]);
    },
    async listBouncers() {
      const r = await cscli(['bouncers', 'list', '-o', 'json']);
      return (JSON.parse(r.stdout) ?? []) as CscliBouncerRow[];
    },
    async addDecision(d) {
      const args = ['decisions', 'add'];
      if (d.ip) args.push('--ip', d.ip);
      if (d.range) args.push('--range', d.range);
      args.push('--duration', d.duration ?? '4h', '--reason', d.reason ?? 'test', '--type', d.type ?? 'ban');
      await cscli(args);
    },
    start,
    stop: proc.stop,
    running: proc.running,
    pid: proc.pid,
    logs: proc.logs,
    destroy: () => stopAndRemove(proc, dir),
  };
  await startOrRemove(opts.start !== false, start, dir);
  return instance;
}

/**
 * CrowdSec 1.4.6's ent/atlas cannot create its schema on PostgreSQL >= 16: it expects
 * `lc_collate` and `lc_ctype` rows in pg_settings, which PG 16 removed ("postgres: unexpected number
 * of rows: 1", ent/ent#3752; fixed in later CrowdSec). Debian bookworm pairs 1.4.6 with PG 15. On a
 * newer server (the tests' embedded PG 18) this database gets a `public.pg_settings` view that adds
 * those two rows, found first through the database's search_path, so CrowdSec still creates its own
 * schema. Only this database is touched.
 */
async function shimPgSettingsForOldEnt(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const v = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
    if (v < 160000) return;
    await client.query(`CREATE OR REPLACE VIEW public.pg_settings AS
      SELECT name, setting FROM pg_catalog.pg_settings
      UNION ALL SELECT 'lc_collate', datcollate FROM pg_catalog.pg_database WHERE datname = current_database()
      UNION ALL SELECT 'lc_ctype', datctype FROM pg_catalog.pg_database WHERE datname = current_database()`);
    const dbName = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    await client.query(`ALTER DATABASE "${dbName.replace(/"/g, '""')}" SET search_path = "$user", public, pg_catalog`);
  } finally {
    await client.end();
  }
}
