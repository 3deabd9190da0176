import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseYaml } from '../lib/yaml.ts';
import { z } from 'zod';
import { VigilError } from '../lib/errors.ts';
import { parseListen, type ListenAddress } from '../lib/listen-address.ts';
import { formatGoDuration, parseDuration } from '../lib/duration.ts';
import { DEFAULT_EVALUATE_EVERY_MS, DEFAULT_RULES } from '../core/health/evaluate.ts';
import { NO_LOGS_PARSED_AFTER_MS, NO_LOGS_READ_AFTER_MS } from '../core/health/log-processors.ts';
import { DEFAULT_FAIL_OPEN_AFTER_MS } from '../core/health/fail-open.ts';
import type { HealthRules } from '../core/health/types.ts';
import { parseStoreUrl } from '../store/database.ts';
import { watchFileSchema, type WatchFileSection } from './watch-file-schema.ts';
import { DEFAULT_LIMITS, type ListenerLimits } from './listener-limits.ts';
import { DEFAULT_MAX_INSTANCES_PER_KEY } from '../core/bouncers/key-sharing.ts';
import { loadNotificationsConfig, notificationsFileSchema, type NotificationsConfig } from '../notify/config.ts';
import { TrustedProxies } from '../remediation/client-ip.ts';
import { apiFileSchema, loadWatcherApiConfig, profilesFileSchema, type WatcherApiConfig } from './watcher-config.ts';
import { canariesFileSchema, loadCanaries, type CanaryConfig } from './canaries.ts';
import { flushFileSchema, loadFlushConfig, type FlushConfig } from './flush.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type { ListenAddress };

/** CrowdSec's `api.server.tls.client_verification` names (Go's tls.ClientAuthType). */
export const CLIENT_VERIFICATIONS = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientVerification = (typeof CLIENT_VERIFICATIONS)[number];

/** HTTPS on the Local API listener and client certificates (`tls:`, CrowdSec's `api.server.tls`). */
export interface LapiTlsConfig {
  certFile: string;
  keyFile: string;
  clientVerification: ClientVerification;
  caCertPath: string | null;
  bouncersAllowedOu: string[];
  agentsAllowedOu: string[];
  crlPath: string | null;
}

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
/** A TLS proxy on the same host works without configuration; any other peer's forwarding headers are ignored. */
export const DEFAULT_ADMIN_TRUSTED_PROXIES: readonly string[] = ['127.0.0.1', '::1'];
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

const duration = z.string().meta({ format: 'duration' });

/** What docs/configuration.md says of a key (generated from this schema: src/config/config-docs.ts). */
export interface KeyDoc {
  description: string;
  default?: string;
  env?: string;
  flag?: string;
}
const doc = <T extends z.ZodType>(schema: T, meta: KeyDoc): T => schema.meta({ ...meta });
// `24h`, `5m`, `1m5s`: Go's form without its trailing zero units.
const ms = (n: number) =>
  formatGoDuration(n)
    .replace(/(\D)0s$/, '$1')
    .replace(/(\D)0m$/, '$1');

/** The defaults of the keys below, written once: loadConfig applies them and the docs print them. */
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

export const CONFIG_DEFAULTS = {
  listen: '127.0.0.1:8080',
  // Not CrowdSec's 6060 (its Prometheus): Vigil beside a running CrowdSec must start. 6070 is vigil watch's.
  metrics_listen: '127.0.0.1:6071',
  admin_listen: 'lapi',
  log_level: 'info',
  admin_session_ttl: '12h',
  decisions_sync_every: '250ms',
  activity_flush_every: '1s',
  store_timeout: '5s',
} as const;

// The YAML file: snake_case keys, every one optional, unknown keys refused (a typo must not pass silently).
export const fileSchema = z
  .object({
    listen: doc(z.string().optional(), {
      description: 'Where the Local API listens for bouncers: `HOST:PORT`, `[V6]:PORT` or `:PORT` (all interfaces); port 0 picks a free one.',
      default: CONFIG_DEFAULTS.listen,
      env: 'VIGIL_LISTEN',
      flag: '--listen (serve)',
    }),
    db: doc(z.string().optional(), {
      description:
        'The store: `sqlite:PATH` or `postgres://USER:PASSWORD@HOST:5432/DB` (several replicas on one PostgreSQL). A relative path in this file is relative to the file; from a flag or the environment, to the working directory.',
      default: '`vigil.db` in the data directory: `$VIGIL_DATA_DIR`, else `/var/lib/vigil` as root, else `${XDG_DATA_HOME:-~/.local/share}/vigil`',
      env: 'VIGIL_DB',
      flag: '--db',
    }),
    log_level: doc(z.enum(LOG_LEVELS).optional(), {
      description: 'Log level of `vigil serve` and `vigil watch` (JSON lines on stdout).',
      default: CONFIG_DEFAULTS.log_level,
      env: 'VIGIL_LOG_LEVEL',
      flag: '--log-level',
    }),
    metrics_listen: doc(z.string().optional(), {
      description:
        "Prometheus `/metrics` listener; `off` disables it. Not CrowdSec's 6060: beside a running CrowdSec (Prometheus 6060, LAPI 8080, AppSec 7422, bouncers 60601/60602) both must start.",
      default: CONFIG_DEFAULTS.metrics_listen,
      env: 'VIGIL_METRICS_LISTEN',
    }),
    admin_listen: doc(z.string().optional(), {
      description:
        'The admin API (`/admin/v1`) and the dashboard (`/ui/`): `lapi` (on the Local API listener), `HOST:PORT` (a listener of their own) or `off`.',
      default: CONFIG_DEFAULTS.admin_listen,
      env: 'VIGIL_ADMIN_LISTEN',
    }),
    admin_session_ttl: doc(duration.optional(), { description: 'A dashboard session ends this long after login.', default: CONFIG_DEFAULTS.admin_session_ttl }),
    admin_trusted_proxies: doc(z.array(z.string()).optional(), {
      description:
        'Reverse proxies (addresses or CIDRs) whose `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` the dashboard believes; `[]` trusts none.',
      default: `[${DEFAULT_ADMIN_TRUSTED_PROXIES.join(', ')}]`,
    }),
    decisions_sync_every: doc(duration.optional(), {
      description: 'How often a server re-reads decisions written by the CLI or another replica.',
      default: CONFIG_DEFAULTS.decisions_sync_every,
    }),
    activity_flush_every: doc(duration.optional(), {
      description: 'How often buffered bouncer activity (last pull, last request, refused requests) is written; a `kill -9` loses at most this much.',
      default: CONFIG_DEFAULTS.activity_flush_every,
    }),
    health: doc(
      z
        .object({
          mode: doc(z.enum(['vigil', 'console']).optional(), {
            description:
              "`vigil`: steady bouncers and agents are judged on their cadence (late, then offline, in minutes). `console`: CrowdSec Console's rule alone, offline after `offline_after`.",
            default: DEFAULT_RULES.mode!,
          }),
          offline_after: doc(duration.optional(), {
            description:
              'Anything silent for longer is offline: RC / Firewall Integration Offline, LP Offline (Critical). The only rule for bouncers without a steady cadence (live mode, HEAD-only).',
            default: ms(DEFAULT_RULES.offlineAfterMs),
          }),
          late_after_factor: doc(z.number().positive().optional(), {
            description: 'A bouncer with a steady pull cadence raises Integration Late (Warning) after this many missed pulls …',
            default: String(DEFAULT_RULES.lateAfterFactor),
          }),
          late_after_min: doc(duration.optional(), { description: '… but never before this silence.', default: ms(DEFAULT_RULES.lateAfterMinMs) }),
          offline_after_factor: doc(z.number().positive().optional(), {
            description: 'A bouncer with a steady pull cadence is offline (Critical; the late issue escalates) after this many missed pulls …',
            default: String(DEFAULT_RULES.offlineAfterFactor),
          }),
          offline_after_min: doc(duration.optional(), {
            description: '… but never before this silence (and never after `offline_after`).',
            default: ms(DEFAULT_RULES.offlineAfterMinMs!),
          }),
          fail_open_after: doc(duration.optional(), {
            description:
              'A bouncer whose requests have all been refused (key, certificate) for this long since its last success, tied to it by its own key or its address and User-Agent, is raised Critical: it fails open or is blocked from updates.',
            default: ms(DEFAULT_FAIL_OPEN_AFTER_MS),
          }),
          evaluate_every: doc(duration.optional(), { description: 'How often the health engine evaluates the fleet.', default: ms(DEFAULT_EVALUATE_EVERY_MS) }),
          no_logs_read_after: doc(duration.optional(), {
            description: "An agent whose usage reports count no line read for longer raises LP No Logs Read (Critical; CrowdSec Console's 24 h).",
            default: ms(NO_LOGS_READ_AFTER_MS),
          }),
          no_logs_parsed_after: doc(duration.optional(), {
            description: "An agent that reads lines but has parsed none for longer raises LP No Logs Parsed (Critical; the Console's 48 h).",
            default: ms(NO_LOGS_PARSED_AFTER_MS),
          }),
        })
        .strict()
        .optional(),
      { description: 'Health thresholds (docs/health.md).' },
    ),
    tls: doc(
      z
        .object({
          cert_file: doc(z.string().optional(), {
            description: 'PEM certificate (chain) the Local API listener serves HTTPS with; give `key_file` too.',
          }),
          key_file: doc(z.string().optional(), { description: 'PEM private key of `cert_file`.' }),
          client_verification: doc(z.enum(CLIENT_VERIFICATIONS).optional(), {
            description:
              "Client certificates, by CrowdSec's names: `NoClientCert`, `RequestClientCert`, `RequireAnyClientCert`, `VerifyClientCertIfGiven` or `RequireAndVerifyClientCert`.",
            default: 'VerifyClientCertIfGiven',
          }),
          ca_cert_path: doc(z.string().optional(), {
            description: "PEM CA certificate(s) client certificates are verified against, added to the system's CAs (as CrowdSec does).",
          }),
          bouncers_allowed_ou: doc(z.array(z.string()).optional(), {
            description: 'A client certificate with one of these OUs authenticates a bouncer, named `CN@IP`, instead of an API key.',
            default: '[bouncer-ou]',
          }),
          agents_allowed_ou: doc(z.array(z.string()).optional(), {
            description: 'A client certificate with one of these OUs may log an agent in (`POST /v1/watchers/login`).',
            default: '[agent-ou]',
          }),
          crl_path: doc(z.string().optional(), {
            description:
              'PEM file with one or more CRLs; re-read when it changes (checked at most every 5 s); a file that does not parse keeps the previous CRLs.',
          }),
        })
        .strict()
        .optional(),
      { description: "HTTPS on the Local API listener and client-certificate authentication (CrowdSec's `api.server.tls`, docs/local-api.md)." },
    ),
    limits: doc(
      z
        .object({
          header_timeout: doc(duration.optional(), {
            description:
              'The request line and headers must arrive within this; also the longest a new connection may take to send its first request, TLS handshake included.',
            default: ms(DEFAULT_LIMITS.headerTimeoutMs),
          }),
          request_timeout: doc(duration.optional(), {
            description: 'The whole request, body included, must arrive within this.',
            default: ms(DEFAULT_LIMITS.requestTimeoutMs),
          }),
          keep_alive_timeout: doc(duration.optional(), {
            description: "An idle keep-alive connection is closed after this (Go's http.Server default; bouncers pull every 10 s).",
            default: ms(DEFAULT_LIMITS.keepAliveTimeoutMs),
          }),
          idle_timeout: doc(duration.optional(), {
            description: 'A connection with no traffic either way (a client that stopped reading) is closed after this.',
            default: ms(DEFAULT_LIMITS.idleTimeoutMs),
          }),
          max_connections: doc(z.number().int().min(16).optional(), {
            description:
              'Open connections at most; lowered to the open-file limit minus 128, with a warning naming the fix. When full, a new connection takes the place of the oldest idle one that never authenticated.',
            default: String(DEFAULT_LIMITS.maxConnections),
          }),
          max_connections_per_peer: doc(z.number().int().min(1).optional(), {
            description:
              "Connections per client address that have not authenticated (a key, token or certificate accepted); once ¾ of max_connections are open, 1/16 of them. Past it a new one takes the place of the address's oldest idle one.",
            default: String(DEFAULT_LIMITS.maxConnectionsPerPeer),
          }),
          max_instances_per_key: doc(z.number().int().min(1).optional(), {
            description:
              'Rows (addresses) one bouncer API key may have: a shared key gets a NAME@IP row per address. Past it a new address is refused (403), logged, and raised once as Key Used From Many Addresses. Raise it for a DaemonSet with more nodes.',
            default: String(DEFAULT_MAX_INSTANCES_PER_KEY),
          }),
          store_timeout: doc(duration.optional(), {
            description: "PostgreSQL connection, query and statement timeout of the server (the CLI's long imports keep none).",
            default: CONFIG_DEFAULTS.store_timeout,
          }),
        })
        .strict()
        .optional(),
      { description: "The Local API listener's limits (README.md, Security and limits)." },
    ),
    notifications: doc(notificationsFileSchema.optional(), { description: 'Notification channels and delivery (docs/notifications.md).' }),
    api: doc(apiFileSchema.optional(), {
      description: 'The watcher (machine) side of the Local API: registration and alert deletion (docs/local-api.md, Watchers).',
    }),
    profiles: doc(profilesFileSchema.optional(), {
      description:
        "How an agent's alerts become decisions, a structured subset of CrowdSec's profiles.yaml: each item has `name`, `filters` (`scopes`, `remediation`, `scenarios` (exact or `prefix*`), `origins`; all given must match), `decisions` (`type`, `duration`, optional `scope: Range`) and `on_success` (`break` or `continue`). Given, it replaces the default.",
      default: "remediation: true and scope Ip → ban 4h, break (CrowdSec's default)",
    }),
    canaries: doc(canariesFileSchema.optional(), {
      description:
        "Proof of enforcement (docs/canaries.md): each item has `url`, `bouncer`, `expect`, `every`, `address`, `via`, `timeout`, `origin`; on schedule Vigil adds a short-lived decision for the documentation address, waits for the bouncer's pull, expects the URL to block it, and removes it.",
      default: '[] (none)',
    }),
    flush: doc(flushFileSchema.optional(), {
      description: "How long the store keeps expired decisions, alerts and Vigil's own history (CrowdSec's `db_config.flush`; docs/retention.md).",
    }),
    watch: doc(watchFileSchema.optional(), {
      description: "`vigil watch` over an existing CrowdSec (docs/watch.md); `VIGIL_WATCH_<KEY>` variables and the command's flags override each key.",
    }),
  })
  .strict();

type FileConfig = z.infer<typeof fileSchema>;

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

  // --config / VIGIL_CONFIG, else ./vigil.yaml, else /etc/vigil/vigil.yaml.
  const explicit = flags.config ?? env.VIGIL_CONFIG;
  const system = opts.systemConfigFile === undefined ? SYSTEM_CONFIG_FILE : opts.systemConfigFile;
  const local = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  const file = explicit ? path.resolve(cwd, explicit) : !fs.existsSync(local) && system && fs.existsSync(system) ? system : local;
  let fromFile: FileConfig = {};
  let usedFile: string | null = null;
  if (fs.existsSync(file)) {
    fromFile = readConfigFile(file);
    usedFile = file;
  } else if (explicit) {
    throw new VigilError('E_CONFIG', `config file ${file}: not found; pass an existing file with --config or VIGIL_CONFIG`);
  }
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
    health: {
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
    },
    limits: {
      headerTimeoutMs: positive('limits.header_timeout', dur('limits.header_timeout', l.header_timeout, `${DEFAULT_LIMITS.headerTimeoutMs}ms`)),
      requestTimeoutMs: positive('limits.request_timeout', dur('limits.request_timeout', l.request_timeout, `${DEFAULT_LIMITS.requestTimeoutMs}ms`)),
      keepAliveTimeoutMs: positive(
        'limits.keep_alive_timeout',
        dur('limits.keep_alive_timeout', l.keep_alive_timeout, `${DEFAULT_LIMITS.keepAliveTimeoutMs}ms`),
      ),
      idleTimeoutMs: positive('limits.idle_timeout', dur('limits.idle_timeout', l.idle_timeout, `${DEFAULT_LIMITS.idleTimeoutMs}ms`)),
      maxConnections: l.max_connections ?? DEFAULT_LIMITS.maxConnections,
      maxConnectionsPerPeer: l.max_connections_per_peer ?? DEFAULT_LIMITS.maxConnectionsPerPeer,
      storeTimeoutMs: positive('limits.store_timeout', dur('limits.store_timeout', l.store_timeout, CONFIG_DEFAULTS.store_timeout)),
      maxInstancesPerKey: l.max_instances_per_key ?? DEFAULT_MAX_INSTANCES_PER_KEY,
    },
    notifications: loadNotificationsConfig(fromFile.notifications, usedFile),
    watch: fromFile.watch ?? {},
    watcherApi: loadWatcherApiConfig(fromFile.api, fromFile.profiles, usedFile),
    canaries: loadCanaries(fromFile.canaries, usedFile),
    flush: loadFlushConfig(fromFile.flush, usedFile),
    file: usedFile,
  };
}

/** The `tls:` block: both files or neither, OU lists without empty entries, paths from the file's folder. */
function lapiTls(t: FileConfig['tls'], usedFile: string | null): LapiTlsConfig | null {
  if (t === undefined) return null;
  const where = (key: string) => `${usedFile ?? 'config'}: tls.${key}`;
  const base = usedFile ? path.dirname(usedFile) : process.cwd();
  const file = (v: string | undefined) => (v === undefined || v === '' ? null : path.resolve(base, v));
  const cert = file(t.cert_file);
  const key = file(t.key_file);
  if (cert === null && key === null) {
    const other = Object.keys(t).filter((k) => t[k as keyof typeof t] !== undefined);
    if (other.length === 0) return null;
    throw new VigilError(
      'E_CONFIG',
      `${where('cert_file')}: missing; ${other.map((k) => `tls.${k}`).join(', ')} need HTTPS: give tls.cert_file and tls.key_file`,
    );
  }
  if (cert === null) throw new VigilError('E_CONFIG', `${where('cert_file')}: missing; tls.key_file is set: give both the certificate and its key, or neither`);
  if (key === null) throw new VigilError('E_CONFIG', `${where('key_file')}: missing; tls.cert_file is set: give both the certificate and its key, or neither`);
  const ous = (name: 'bouncers_allowed_ou' | 'agents_allowed_ou', fallback: string) => {
    const list = t[name] ?? [fallback];
    if (list.some((ou) => ou.trim() === '')) throw new VigilError('E_CONFIG', `${where(name)}: an empty OU; remove it or write the OU, e.g. ${fallback}`);
    return [...new Set(list)];
  };
  return {
    certFile: cert,
    keyFile: key,
    clientVerification: t.client_verification ?? 'VerifyClientCertIfGiven',
    caCertPath: file(t.ca_cert_path),
    bouncersAllowedOu: ous('bouncers_allowed_ou', 'bouncer-ou'),
    agentsAllowedOu: ous('agents_allowed_ou', 'agent-ou'),
    crlPath: file(t.crl_path),
  };
}

function readConfigFile(file: string): FileConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new VigilError('E_CONFIG', `config file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const data = parseYaml(text, 'E_CONFIG', (at, reason) => `config file ${file}: YAML syntax error at ${at}: ${reason}`);
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? '' : '(top level)');
    const unknown = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys.join(', ') : '';
    const reason = issue.code === 'unrecognized_keys' ? `unknown key ${unknown}; see docs/configuration.md for the keys Vigil reads` : issue.message;
    throw new VigilError('E_CONFIG', `config file ${file}: ${key ? `${key}: ` : ''}${reason}`);
  }
  return parsed.data;
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
