import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { VigilError } from '../errors.ts';
import { parseDuration } from '../decisions/duration.ts';
import { parseStoreUrl } from '../store/database.ts';
import { DEFAULT_LIMITS, type ListenerLimits } from '../server/limits.ts';
import { watchFileSchema, type WatchFileSection } from '../watch/watch-file-schema.ts';
import { loadNotificationsConfig, notificationsFileSchema, type NotificationsConfig } from '../notify/config.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ListenAddress {
  host: string;
  port: number;
}

export interface VigilConfig {
  /** Where the bouncer-facing Local API listens. */
  listen: ListenAddress;
  /** `sqlite:PATH` or `postgres://…`. */
  db: string;
  logLevel: LogLevel;
  /** Prometheus metrics listener; null when off. */
  metricsListen: ListenAddress | null;
  /** Admin API and dashboard: their own listener, 'lapi' (on the Local API listener), or null (off). */
  adminListen: ListenAddress | 'lapi' | null;
  /** Dashboard sessions end this long after login. */
  adminSessionTtlMs: number;
  /** How often a server re-reads decisions written by the CLI or by other replicas. */
  decisionsSyncEveryMs: number;
  /** How often buffered bouncer activity (last pull, last request) is written. */
  activityFlushEveryMs: number;
  health: {
    offlineAfterMs: number;
    lateAfterFactor: number;
    lateAfterMinMs: number;
    evaluateEveryMs: number;
  };
  /** Listener timeouts and connection caps (`limits:`), and how long a store call may take. */
  limits: ListenerLimits & { storeTimeoutMs: number };
  /** Channels and delivery settings; secrets (`${VAR}`) are resolved when notifications start. */
  notifications: NotificationsConfig;
  /** `vigil watch`'s block as written (resolved with its flags by src/watch/watch-config.ts). */
  watch: WatchFileSection;
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

const duration = z.string();
// The YAML file: snake_case keys, every one optional, unknown keys refused (a typo must not pass silently).
const fileSchema = z
  .object({
    listen: z.string().optional(),
    db: z.string().optional(),
    log_level: z.enum(LOG_LEVELS).optional(),
    metrics_listen: z.string().optional(),
    admin_listen: z.string().optional(),
    admin_session_ttl: duration.optional(),
    decisions_sync_every: duration.optional(),
    activity_flush_every: duration.optional(),
    health: z
      .object({
        offline_after: duration.optional(),
        late_after_factor: z.number().positive().optional(),
        late_after_min: duration.optional(),
        evaluate_every: duration.optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        header_timeout: duration.optional(),
        request_timeout: duration.optional(),
        keep_alive_timeout: duration.optional(),
        idle_timeout: duration.optional(),
        max_connections: z.number().int().min(16).optional(),
        max_connections_per_peer: z.number().int().min(1).optional(),
        store_timeout: duration.optional(),
      })
      .strict()
      .optional(),
    notifications: notificationsFileSchema.optional(),
    watch: watchFileSchema.optional(),
  })
  .strict();

type FileConfig = z.infer<typeof fileSchema>;

/**
 * Flags > environment (VIGIL_*) > YAML file > defaults. Every command calls this, so the server
 * and the CLI always agree on the store. A bad value fails with the file, the key and the reason.
 */
export function loadConfig(opts: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; cwd?: string } = {}): VigilConfig {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();

  const explicit = flags.config ?? env.VIGIL_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, DEFAULT_CONFIG_FILE);
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
  // As CrowdSec serves Prometheus on 127.0.0.1:6060; `off` disables it.
  const metricsListen = metricsText === 'off' ? null : parseListen(metricsText ?? '127.0.0.1:6060', metricsWhere);
  // On the Local API listener unless told otherwise, as the admin API always was; `off` disables both.
  const [adminText, adminWhere] = pick('admin_listen', flags.adminListen, fromFile.admin_listen);
  const adminListen = adminText === 'off' ? null : adminText === undefined || adminText === 'lapi' ? 'lapi' : parseAdminListen(adminText, adminWhere);

  const listen = parseListen(listenText ?? '127.0.0.1:8080', listenWhere);
  const db = dbText ?? 'sqlite:./data/vigil.db';
  parseStoreUrl(db, dbWhere);
  const logLevel = (levelText ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new VigilError('E_CONFIG', `${levelWhere} "${levelText}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  const dur = (key: string, text: string | undefined, fallback: string) => parseDuration(text ?? fallback, usedFile && text ? `${usedFile}: ${key}` : key);
  const h = fromFile.health ?? {};
  const l = fromFile.limits ?? {};
  // A zero timeout would mean "never" to node:http: refuse it rather than silently turn a limit off.
  const positive = (key: string, ms: number) => {
    if (ms > 0) return ms;
    throw new VigilError('E_CONFIG', `${usedFile ?? 'config'}: ${key}: must be more than 0 (e.g. 10s)`);
  };
  return {
    listen,
    db,
    logLevel,
    metricsListen,
    adminListen,
    adminSessionTtlMs: dur('admin_session_ttl', fromFile.admin_session_ttl, '12h'),
    decisionsSyncEveryMs: dur('decisions_sync_every', fromFile.decisions_sync_every, '250ms'),
    activityFlushEveryMs: dur('activity_flush_every', fromFile.activity_flush_every, '1s'),
    health: {
      offlineAfterMs: dur('health.offline_after', h.offline_after, '24h'),
      lateAfterFactor: h.late_after_factor ?? 10,
      lateAfterMinMs: dur('health.late_after_min', h.late_after_min, '5m'),
      evaluateEveryMs: dur('health.evaluate_every', h.evaluate_every, '30s'),
    },
    limits: {
      headerTimeoutMs: positive('limits.header_timeout', dur('limits.header_timeout', l.header_timeout, `${DEFAULT_LIMITS.headerTimeoutMs}ms`)),
      requestTimeoutMs: positive('limits.request_timeout', dur('limits.request_timeout', l.request_timeout, `${DEFAULT_LIMITS.requestTimeoutMs}ms`)),
      keepAliveTimeoutMs: positive('limits.keep_alive_timeout', dur('limits.keep_alive_timeout', l.keep_alive_timeout, `${DEFAULT_LIMITS.keepAliveTimeoutMs}ms`)),
      idleTimeoutMs: positive('limits.idle_timeout', dur('limits.idle_timeout', l.idle_timeout, `${DEFAULT_LIMITS.idleTimeoutMs}ms`)),
      maxConnections: l.max_connections ?? DEFAULT_LIMITS.maxConnections,
      maxConnectionsPerPeer: l.max_connections_per_peer ?? DEFAULT_LIMITS.maxConnectionsPerPeer,
      storeTimeoutMs: positive('limits.store_timeout', dur('limits.store_timeout', l.store_timeout, '5s')),
    },
    notifications: loadNotificationsConfig(fromFile.notifications, usedFile),
    watch: fromFile.watch ?? {},
    file: usedFile,
  };
}

function readConfigFile(file: string): FileConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new VigilError('E_CONFIG', `config file ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const pos = err.linePos?.[0];
    const at = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
    throw new VigilError('E_CONFIG', `config file ${file}: YAML syntax error at ${at}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const data = doc.toJS() ?? {};
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? '' : '(top level)');
    const unknown = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys.join(', ') : '';
    const reason = issue.code === 'unrecognized_keys' ? `unknown key ${unknown}; see the README for the keys Vigil reads` : issue.message;
    throw new VigilError('E_CONFIG', `config file ${file}: ${key ? `${key}: ` : ''}${reason}`);
  }
  return parsed.data;
}

function parseAdminListen(text: string, where: string): ListenAddress {
  try {
    return parseListen(text, where);
  } catch {
    throw new VigilError('E_CONFIG', `${where} "${text}": use HOST:PORT for a listener of its own (e.g. 127.0.0.1:8081), lapi to share the Local API listener, or off`);
  }
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (all interfaces). */
export function parseListen(text: string, where = 'listen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) {
    throw new VigilError('E_CONFIG', `${where} "${text}": use HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
