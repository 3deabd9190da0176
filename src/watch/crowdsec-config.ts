/**
 * Where CrowdSec keeps its bouncers, from its own config.yaml (`db_config`, with `config.yaml.local`
 * merged over it as CrowdSec does) or from a `--crowdsec-db` URL. Parsing is pure; `readCrowdsecConfig`
 * only reads the files.
 */
import fs from 'node:fs';
import { redactUrl } from '../lib/redact-url.ts';
import { mergeYamlPatch, parseYaml } from '../lib/yaml.ts';
import { VigilError } from '../lib/errors.ts';

export { DEFAULT_CROWDSEC_CONFIG } from '../lib/crowdsec-paths.ts';
const DEFAULT_SQLITE_PATH = '/var/lib/crowdsec/data/crowdsec.db';

export type CrowdsecDbLocation =
  | { type: 'sqlite'; path: string }
  | { type: 'postgres'; host: string; port: number; user: string; password: string; database: string; sslmode: string }
  | { type: 'mysql'; host: string; port: number; user: string; password: string; database: string };

export interface CrowdsecSetup {
  db: CrowdsecDbLocation;
  /** The Local API's URL for runbooks, from api.server.listen_uri (null when the file has none). */
  lapiUrl: string | null;
  /** Where CrowdSec logs: `common.log_media` (file, stdout) and `common.log_dir` (default /var/log/). */
  logs: { media: string; dir: string };
  /** Its Prometheus endpoint when `prometheus.enabled` (listen_addr:listen_port, default 127.0.0.1:6060), else null. */
  prometheusUrl: string | null;
  /** False with `api.server.enable: false`: this CrowdSec runs no Local API (an agent of another one, or of Vigil). */
  lapiEnabled: boolean;
}

/**
 * node-postgres's settings for CrowdSec's PostgreSQL (read by `vigil watch`, written by `vigil export`):
 * `sslmode` disable (or empty) is plain TCP, verify-ca and verify-full check the server's
 * certificate, any other mode encrypts without checking it.
 */
export function postgresConnection(loc: Extract<CrowdsecDbLocation, { type: 'postgres' }>) {
  const ssl =
    loc.sslmode === 'disable' || loc.sslmode === ''
      ? false
      : loc.sslmode === 'verify-full' || loc.sslmode === 'verify-ca'
        ? true
        : { rejectUnauthorized: false };
  return { host: loc.host, port: loc.port, user: loc.user, password: loc.password, database: loc.database, ssl };
}

/** For logs, messages and issue text: never the password. */
export function describeDb(db: CrowdsecDbLocation): string {
  if (db.type === 'sqlite') return `sqlite:${db.path}`;
  const scheme = db.type === 'postgres' ? 'postgres' : 'mysql';
  return `${scheme}://${db.user ? `${encodeURIComponent(db.user)}@` : ''}${db.host.includes(':') ? `[${db.host}]` : db.host}:${db.port}/${db.database}`;
}

/**
 * Go's os.ExpandEnv, which CrowdSec 1.4 applies to its config file before parsing: `${VAR}` and
 * `$VAR` are replaced, unset ones by nothing.
 */
export function expandEnvLikeGo(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, braced: string | undefined, bare: string | undefined) => env[(braced ?? bare)!] ?? '',
  );
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseCrowdsecYaml(text: string, file: string): unknown {
  return parseYaml(text, 'E_CROWDSEC_CONFIG', (at) => `CrowdSec config ${file}: YAML syntax error at ${at}; fix the file or pass --crowdsec-db`);
}

/** The database and LAPI URL from the text of config.yaml (and config.yaml.local when present). */
export function parseCrowdsecConfig(main: string, local: string | null, file: string, env: NodeJS.ProcessEnv = {}): CrowdsecSetup {
  let data = parseCrowdsecYaml(expandEnvLikeGo(main, env), file);
  if (local !== null) data = mergeYamlPatch(data, parseCrowdsecYaml(expandEnvLikeGo(local, env), `${file}.local`));
  if (!isMap(data)) throw new VigilError('E_CROWDSEC_CONFIG', `CrowdSec config ${file}: not a YAML mapping; is it CrowdSec's config.yaml?`);
  const where = (key: string) => `CrowdSec config ${file}: ${key}`;
  const dbc = data.db_config ?? {};
  if (!isMap(dbc)) throw new VigilError('E_CROWDSEC_CONFIG', `${where('db_config')}: expected a mapping`);
  const str = (key: string, fallback = ''): string => {
    const v = dbc[key];
    return v === undefined || v === null ? fallback : String(v);
  };
  const port = (fallback: number): number => {
    const v = dbc.port;
    if (v === undefined || v === null || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new VigilError('E_CROWDSEC_CONFIG', `${where('db_config.port')} "${String(v)}": expected a port number`);
    return n;
  };
  const type = str('type', 'sqlite').toLowerCase();
  let db: CrowdsecDbLocation;
  switch (type) {
    case 'sqlite':
      db = { type: 'sqlite', path: str('db_path', DEFAULT_SQLITE_PATH) };
      break;
    case 'postgresql':
    case 'postgres':
    case 'pgx':
      db = {
        type: 'postgres',
        host: str('host', '127.0.0.1'),
        port: port(5432),
        user: str('user'),
        password: str('password'),
        database: str('db_name', 'crowdsec'),
        sslmode: str('sslmode', 'disable'),
      };
      break;
    case 'mysql':
      db = {
        type: 'mysql',
        host: str('host', '127.0.0.1'),
        port: port(3306),
        user: str('user'),
        password: str('password'),
        database: str('db_name', 'crowdsec'),
      };
      break;
    default:
      throw new VigilError(
        'E_CROWDSEC_CONFIG',
        `${where('db_config.type')} "${type}": Vigil reads sqlite, postgresql and mysql; pass --crowdsec-db or --cscli otherwise`,
      );
  }
  const server = isMap(data.api) && isMap(data.api.server) ? data.api.server : {};
  const lapiEnabled = server.enable !== false && server.enable !== 'false';
  return { db, lapiUrl: lapiUrlOf(data), logs: logsOf(data), prometheusUrl: prometheusUrlOf(data), lapiEnabled };
}

function logsOf(data: Record<string, unknown>): CrowdsecSetup['logs'] {
  const common = isMap(data.common) ? data.common : {};
  const media = typeof common.log_media === 'string' && common.log_media ? common.log_media : 'stdout';
  const dir = typeof common.log_dir === 'string' && common.log_dir ? common.log_dir : '/var/log/';
  return { media, dir };
}

function prometheusUrlOf(data: Record<string, unknown>): string | null {
  const p = isMap(data.prometheus) ? data.prometheus : null;
  if (!p || (p.enabled !== true && p.enabled !== 'true')) return null;
  let host = typeof p.listen_addr === 'string' && p.listen_addr ? p.listen_addr : '127.0.0.1';
  // Listening on every address: reach it on loopback.
  if (host === '0.0.0.0' || host === '::' || host === '[::]') host = '127.0.0.1';
  const port = p.listen_port === undefined || p.listen_port === null || p.listen_port === '' ? 6060 : Number(p.listen_port);
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/metrics`;
}

function lapiUrlOf(data: Record<string, unknown>): string | null {
  const server = isMap(data.api) && isMap(data.api.server) ? data.api.server : undefined;
  const listen = server && typeof server.listen_uri === 'string' ? server.listen_uri.trim() : '';
  if (!listen) return null;
  const tls = isMap(server!.tls) && Boolean(server!.tls.cert_file);
  const hostPort = listen.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  return `${tls ? 'https' : 'http'}://${hostPort.startsWith(':') ? `0.0.0.0${hostPort}` : hostPort}/`;
}

/** Reads CrowdSec's config file (and its `.local` override); a missing or unreadable file is a clear error. */
export function readCrowdsecConfig(file: string, env: NodeJS.ProcessEnv): CrowdsecSetup {
  let main: string;
  try {
    main = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VigilError(
      'E_CROWDSEC_CONFIG',
      `CrowdSec config ${file}: ${code === 'ENOENT' ? 'not found' : `cannot read (${code ?? (e as Error).message})`}; pass --crowdsec-config FILE, --crowdsec-db URL or --cscli COMMAND`,
    );
  }
  let local: string | null = null;
  try {
    local = fs.readFileSync(`${file}.local`, 'utf8');
  } catch {
    // no override
  }
  return parseCrowdsecConfig(main, local, file, env);
}

/** A URL for a message: its password (userinfo or query) hidden, by the one shared rule. */
export const maskCredentials = redactUrl;

/** `sqlite:PATH`, `postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…]`, `mysql://USER:PASSWORD@HOST:PORT/DB`. */
export function parseCrowdsecDbUrl(url: string, field = '--crowdsec-db'): CrowdsecDbLocation {
  const text = url.trim();
  const usage = 'use sqlite:PATH, postgres://USER:PASSWORD@HOST:5432/DB or mysql://USER:PASSWORD@HOST:3306/DB';
  if (text.startsWith('sqlite:')) {
    const p = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!p) throw new VigilError('E_USAGE', `${field} "sqlite:": give the database file, e.g. sqlite:/var/lib/crowdsec/data/crowdsec.db`);
    return { type: 'sqlite', path: p };
  }
  const m = /^(postgres|postgresql|mysql|mariadb):\/\//i.exec(text);
  if (!m) throw new VigilError('E_USAGE', `${field} "${maskCredentials(text)}": ${usage}`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new VigilError('E_USAGE', `${field} "${maskCredentials(text)}": not a valid URL; ${usage}`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new VigilError('E_USAGE', `${field} "${maskCredentials(text)}": name the database in the path, e.g. …/crowdsec`);
  const common = {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'mysql' || scheme === 'mariadb') return { type: 'mysql', port: Number(u.port || 3306), ...common };
  return { type: 'postgres', port: Number(u.port || 5432), sslmode: u.searchParams.get('sslmode') ?? 'disable', ...common };
}
