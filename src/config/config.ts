import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VigilError } from '../lib/errors.ts';
import { parseListen, type ListenAddress } from '../lib/listen-address.ts';
import { parseDuration } from '../lib/duration.ts';
import { DEFAULT_EVALUATE_EVERY_MS, DEFAULT_RULES } from '../core/health/evaluate.ts';
import { NO_LOGS_PARSED_AFTER_MS, NO_LOGS_READ_AFTER_MS } from '../core/health/log-processors.ts';
import { DEFAULT_FAIL_OPEN_AFTER_MS } from '../core/health/fail-open.ts';
import type { HealthRules } from '../core/health/types.ts';
import { parseStoreUrl } from '../store/database.ts';
import type { WatchFileSection } from './watch-file-schema.ts';
import { DEFAULT_LIMITS, type ListenerLimits } from './listener-limits.ts';
import { DEFAULT_MAX_INSTANCES_PER_KEY } from '../core/bouncers/key-sharing.ts';
import { loadNotificationsConfig, type NotificationsConfig } from '../notify/config.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { loadWatcherApiConfig, type WatcherApiConfig } from './watcher-config.ts';
import { loadCanaries, type CanaryConfig } from './canaries.ts';
import { CONFIG_DEFAULTS, DEFAULT_ADMIN_TRUSTED_PROXIES, fileSchema, LOG_LEVELS, type FileConfig, type LogLevel } from './file-schema.ts';
import { readConfigFile } from './config-file.ts';
import { loadLapiProxy, type LapiProxyConfig } from './lapi-proxy.ts';
import { lapiTls, type LapiTlsConfig } from './tls.ts';
import { loadFlushConfig, type FlushConfig } from './flush.ts';

// The file's keys and the TLS block live beside this module; it stays the one others import.
export {
  CLIENT_VERIFICATIONS,
  CONFIG_DEFAULTS,
  DEFAULT_ADMIN_TRUSTED_PROXIES,
  fileSchema,
  LOG_LEVELS,
  type ClientVerification,
  type KeyDoc,
  type LogLevel,
} from './file-schema.ts';
export type { LapiTlsConfig } from './tls.ts';
export type { ListenAddress };

export interface VigilConfig {
  /** Where the bouncer-facing Local API listens. */
  listen: ListenAddress;
  /** HTTPS and client certificates on that listener; null for plain HTTP. */
  tls: LapiTlsConfig | null;
  /** `sqlite:/ABSOLUTE/PATH` (resolved, see resolveDb) or `postgres://…`. */
  db: string;
  /** Where `db` came from, for messages: `--db`, `VIGIL_DB`, `FILE: db` or `default`. */
  dbSource: string;
  logLevel: LogLevel;
  /** Prometheus metrics listener; null when off. */
  metricsListen: ListenAddress | null;
  /** Admin API and dashboard: their own listener, 'lapi' (on the Local API listener), or null (off). */
  adminListen: ListenAddress | 'lapi' | null;
  /** Dashboard sessions end this long after login. */
  adminSessionTtlMs: number;
  /** Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-Proto/Host/For the dashboard believes. */
  adminTrustedProxies: string[];
  /** How often a server re-reads decisions written by the CLI or by other replicas. */
  decisionsSyncEveryMs: number;
  /** How often buffered bouncer activity (last pull, last request) is written. */
  activityFlushEveryMs: number;
  health: {
    offlineAfterMs: number;
    lateAfterFactor: number;
    lateAfterMinMs: number;
    offlineAfterFactor: number;
    offlineAfterMinMs: number;
    failOpenAfterMs: number;
    mode: 'vigil' | 'console';
    evaluateEveryMs: number;
    noLogsReadAfterMs: number;
    noLogsParsedAfterMs: number;
  };
  /** Listener timeouts and connection caps (`limits:`), and how long a store call may take. */
  limits: ListenerLimits & { storeTimeoutMs: number; maxInstancesPerKey: number };
  /** Channels and delivery settings; secrets (`${VAR}`) are resolved when notifications start. */
  notifications: NotificationsConfig;
  /** `vigil watch`'s block as written (resolved with its flags by src/watch/watch-config.ts). */
  watch: WatchFileSection;
  /** The watcher API: registration, alert deletion, profiles (`api:`, `profiles:`). */
  watcherApi: WatcherApiConfig;
  /** Who names the client behind a load balancer (`api.use_forwarded_for_headers`, `api.proxy_protocol`, `api.trusted_proxies`). */
  proxy: LapiProxyConfig;
  /** Sites whose enforcement is proven on a schedule (`canaries:`, docs/canaries.md). */
  canaries: CanaryConfig[];
  /** What the store keeps and how long (`flush:`, docs/retention.md). */
  flush: FlushConfig;
  /** The file the configuration came from, if any (for messages). */
  file: string | null;
}

/** Flags as the CLI parsed them (only those given). */
export interface ConfigFlags {
  config?: string;
  listen?: string;
  metricsListen?: string;
  adminListen?: string;
  db?: string;
  logLevel?: string;
}

export const DEFAULT_CONFIG_FILE = 'vigil.yaml';
/** Read when neither --config, VIGIL_CONFIG nor ./vigil.yaml names a file (a service's configuration). */
export const SYSTEM_CONFIG_FILE = '/etc/vigil/vigil.yaml';
/** The default store's file name inside the data directory (see defaultDataDir). */
export const DEFAULT_STORE_FILE = 'vigil.db';

/**
 * Where the default store lives when no `db` is given: $VIGIL_DATA_DIR, else /var/lib/vigil for
 * root (a service), else $XDG_DATA_HOME/vigil or ~/.local/share/vigil. Never the working directory:
 * the CLI run from another folder must find the store `vigil serve` uses.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, cwd: string, uid: number | undefined = process.getuid?.()): string {
  if (env.VIGIL_DATA_DIR) return path.resolve(cwd, env.VIGIL_DATA_DIR);
  if (uid === 0) return '/var/lib/vigil';
  const home = env.HOME || os.homedir();
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return path.join(xdg, 'vigil');
}

/** A relative SQLite path is made absolute against `base` (the config file's folder, or the working directory for flags and environment). */
export function resolveDb(url: string, base: string, where: string): string {
  const loc = parseStoreUrl(url, where);
  if (loc.dialect !== 'sqlite' || path.isAbsolute(loc.target)) return loc.dialect === 'sqlite' ? `sqlite:${loc.target}` : url.trim();
  return `sqlite:${path.resolve(base, loc.target)}`;
}

/** The health engine's rules from `health:` (every command that judges health builds them here). */
export function healthRules(h: VigilConfig['health']): HealthRules {
  return {
    offlineAfterMs: h.offlineAfterMs,
    lateAfterFactor: h.lateAfterFactor,
    lateAfterMinMs: h.lateAfterMinMs,
    offlineAfterFactor: h.offlineAfterFactor,
    offlineAfterMinMs: h.offlineAfterMinMs,
    failOpenAfterMs: h.failOpenAfterMs,
    mode: h.mode,
    noLogsReadAfterMs: h.noLogsReadAfterMs,
    noLogsParsedAfterMs: h.noLogsParsedAfterMs,
  };
}

/**
 * Flags > environment (VIGIL_*) > YAML file > defaults. Every command calls this, so the server
 * and the CLI always agree on the store. A bad value fails with the file, the key and the reason.
 */
export function loadConfig(
  opts: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; cwd?: string; systemConfigFile?: string | null; uid?: number } = {},
): VigilConfig {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();

  const { fromFile, usedFile } = readChosenFile(flags, env, cwd, opts.systemConfigFile);
  const where = (key: string, source: 'flag' | 'env' | 'file') =>
    source === 'flag' ? `--${key.replace(/_/g, '-')}` : source === 'env' ? `VIGIL_${key.toUpperCase()}` : `${usedFile}: ${key}`;

  const pick = (key: string, flag: string | undefined, fileValue: string | undefined): [string | undefined, string] => {
    const envValue = env[`VIGIL_${key.toUpperCase()}`];
    if (flag !== undefined) return [flag, where(key, 'flag')];
    if (envValue !== undefined && envValue !== '') return [envValue, where(key, 'env')];
    return [fileValue, where(key, 'file')];
  };

  const [listenText, listenWhere] = pick('listen', flags.listen, fromFile.listen);
  const [dbText, dbWhere] = pick('db', flags.db, fromFile.db);
  const [levelText, levelWhere] = pick('log_level', flags.logLevel, fromFile.log_level);
  const [metricsText, metricsWhere] = pick('metrics_listen', flags.metricsListen, fromFile.metrics_listen);
  // Its own port (CrowdSec's Prometheus keeps 6060); `off` disables it.
  const metricsListen = metricsText === 'off' ? null : parseListen(metricsText ?? CONFIG_DEFAULTS.metrics_listen, metricsWhere);
  // On the Local API listener unless told otherwise, as the admin API always was; `off` disables both.
  const [adminText, adminWhere] = pick('admin_listen', flags.adminListen, fromFile.admin_listen);
  const adminListen = adminText === 'off' ? null : adminText === undefined || adminText === 'lapi' ? 'lapi' : parseAdminListen(adminText, adminWhere);

  const listen = parseListen(listenText ?? CONFIG_DEFAULTS.listen, listenWhere);
  // A path in vigil.yaml is relative to that file, one from a flag or VIGIL_DB to the working directory.
  const dbFromFile = dbText !== undefined && !dbWhere.startsWith('--') && !dbWhere.startsWith('VIGIL_');
  const dbSource = dbText === undefined ? 'default' : dbWhere;
  const db =
    dbText === undefined
      ? `sqlite:${path.join(defaultDataDir(env, cwd, opts.uid), DEFAULT_STORE_FILE)}`
      : resolveDb(dbText, dbFromFile && usedFile ? path.dirname(usedFile) : cwd, dbWhere);
  const logLevel = (levelText ?? CONFIG_DEFAULTS.log_level) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new VigilError('E_CONFIG', `${levelWhere} "${levelText}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  const dur = (key: string, text: string | undefined, fallback: string) => parseDuration(text ?? fallback, usedFile && text ? `${usedFile}: ${key}` : key);
  const h = fromFile.health ?? {};
  const adminTrustedProxies = fromFile.admin_trusted_proxies ?? [...DEFAULT_ADMIN_TRUSTED_PROXIES];
  // Compiled here only to refuse a bad entry at load, naming it; the dashboard compiles its own.
  new TrustedProxies(adminTrustedProxies, usedFile ? `${usedFile}: admin_trusted_proxies` : 'admin_trusted_proxies');
  const l = fromFile.limits ?? {};
  // A zero timeout would mean "never" to node:http: refuse it rather than silently turn a limit off.
  const positive = (key: string, ms: number) => {
    if (ms > 0) return ms;
    throw new VigilError('E_CONFIG', `${usedFile ?? 'config'}: ${key}: must be more than 0 (e.g. 10s)`);
  };
  return {
    listen,
    tls: lapiTls(fromFile.tls, usedFile),
    db,
    dbSource,
    logLevel,
    metricsListen,
    adminListen,
    adminSessionTtlMs: dur('admin_session_ttl', fromFile.admin_session_ttl, CONFIG_DEFAULTS.admin_session_ttl),
    adminTrustedProxies,
    decisionsSyncEveryMs: dur('decisions_sync_every', fromFile.decisions_sync_every, CONFIG_DEFAULTS.decisions_sync_every),
    activityFlushEveryMs: dur('activity_flush_every', fromFile.activity_flush_every, CONFIG_DEFAULTS.activity_flush_every),
    health: healthSettings(h, dur),
    limits: limitSettings(l, dur, positive),
    notifications: loadNotificationsConfig(fromFile.notifications, usedFile),
    watch: fromFile.watch ?? {},
    watcherApi: loadWatcherApiConfig(fromFile.api, fromFile.profiles, usedFile),
    proxy: loadLapiProxy(fromFile.api, usedFile),
    canaries: loadCanaries(fromFile.canaries, usedFile),
    flush: loadFlushConfig(fromFile.flush, usedFile),
    file: usedFile,
  };
}

/** --config / VIGIL_CONFIG, else ./vigil.yaml, else /etc/vigil/vigil.yaml; none is fine unless one was named. */
function readChosenFile(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
  systemConfigFile: string | null | undefined,
): { fromFile: FileConfig; usedFile: string | null } {
  const explicit = flags.config ?? env.VIGIL_CONFIG;
  const system = systemConfigFile === undefined ? SYSTEM_CONFIG_FILE : systemConfigFile;
  const local = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  const file = explicit ? path.resolve(cwd, explicit) : !fs.existsSync(local) && system && fs.existsSync(system) ? system : local;
  let fromFile: FileConfig = {};
  let usedFile: string | null = null;
  if (fs.existsSync(file)) {
    fromFile = readConfigFile(file, fileSchema, env);
    usedFile = file;
  } else if (explicit) {
    throw new VigilError('E_CONFIG', `config file ${file}: not found; pass an existing file with --config or VIGIL_CONFIG`);
  }
  return { fromFile, usedFile };
}

/** Reads a duration key: the file's text, else the fallback; a bad value names the file and the key. */
type ReadDuration = (key: string, text: string | undefined, fallback: string) => number;

/** The `health:` block, each key defaulting to the engine's own default. */
function healthSettings(h: NonNullable<FileConfig['health']>, dur: ReadDuration): VigilConfig['health'] {
  return {
    offlineAfterMs: h.offline_after === undefined ? DEFAULT_RULES.offlineAfterMs : dur('health.offline_after', h.offline_after, ''),
    lateAfterFactor: h.late_after_factor ?? DEFAULT_RULES.lateAfterFactor,
    lateAfterMinMs: h.late_after_min === undefined ? DEFAULT_RULES.lateAfterMinMs : dur('health.late_after_min', h.late_after_min, ''),
    offlineAfterFactor: h.offline_after_factor ?? DEFAULT_RULES.offlineAfterFactor!,
    offlineAfterMinMs: h.offline_after_min === undefined ? DEFAULT_RULES.offlineAfterMinMs! : dur('health.offline_after_min', h.offline_after_min, ''),
    failOpenAfterMs: h.fail_open_after === undefined ? DEFAULT_FAIL_OPEN_AFTER_MS : dur('health.fail_open_after', h.fail_open_after, ''),
    mode: h.mode ?? DEFAULT_RULES.mode!,
    evaluateEveryMs: h.evaluate_every === undefined ? DEFAULT_EVALUATE_EVERY_MS : dur('health.evaluate_every', h.evaluate_every, ''),
    noLogsReadAfterMs: h.no_logs_read_after === undefined ? NO_LOGS_READ_AFTER_MS : dur('health.no_logs_read_after', h.no_logs_read_after, ''),
    noLogsParsedAfterMs: h.no_logs_parsed_after === undefined ? NO_LOGS_PARSED_AFTER_MS : dur('health.no_logs_parsed_after', h.no_logs_parsed_after, ''),
  };
}

/** The `limits:` block; every timeout must be more than 0. */
function limitSettings(l: NonNullable<FileConfig['limits']>, dur: ReadDuration, positive: (key: string, ms: number) => number): VigilConfig['limits'] {
  return {
    headerTimeoutMs: positive('limits.header_timeout', dur('limits.header_timeout', l.header_timeout, `${DEFAULT_LIMITS.headerTimeoutMs}ms`)),
    requestTimeoutMs: positive('limits.request_timeout', dur('limits.request_timeout', l.request_timeout, `${DEFAULT_LIMITS.requestTimeoutMs}ms`)),
    keepAliveTimeoutMs: positive('limits.keep_alive_timeout', dur('limits.keep_alive_timeout', l.keep_alive_timeout, `${DEFAULT_LIMITS.keepAliveTimeoutMs}ms`)),
    idleTimeoutMs: positive('limits.idle_timeout', dur('limits.idle_timeout', l.idle_timeout, `${DEFAULT_LIMITS.idleTimeoutMs}ms`)),
    maxConnections: l.max_connections ?? DEFAULT_LIMITS.maxConnections,
    maxConnectionsPerPeer: l.max_connections_per_peer ?? DEFAULT_LIMITS.maxConnectionsPerPeer,
    storeTimeoutMs: positive('limits.store_timeout', dur('limits.store_timeout', l.store_timeout, CONFIG_DEFAULTS.store_timeout)),
    maxInstancesPerKey: l.max_instances_per_key ?? DEFAULT_MAX_INSTANCES_PER_KEY,
  };
}

function parseAdminListen(text: string, where: string): ListenAddress {
  try {
    return parseListen(text, where);
  } catch {
    throw new VigilError(
      'E_CONFIG',
      `${where} "${text}": use HOST:PORT for a listener of its own (e.g. 127.0.0.1:8081), lapi to share the Local API listener, or off`,
    );
  }
}
