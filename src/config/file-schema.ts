// The YAML file's shape: every key vigil.yaml may hold, its default and its documentation
// (docs/configuration.md is generated from it), and the reading of the file. config.ts resolves it.
import { flushFileSchema } from './flush.ts';
import { z } from 'zod';
import { formatGoDuration } from '../lib/duration.ts';
import { DEFAULT_EVALUATE_EVERY_MS, DEFAULT_RULES } from '../core/health/evaluate.ts';
import { NO_LOGS_PARSED_AFTER_MS, NO_LOGS_READ_AFTER_MS } from '../core/health/log-processors.ts';
import { DEFAULT_FAIL_OPEN_AFTER_MS } from '../core/health/fail-open.ts';
import { watchFileSchema } from './watch-file-schema.ts';
import { DEFAULT_LIMITS } from './listener-limits.ts';
import { DEFAULT_MAX_INSTANCES_PER_KEY } from '../core/bouncers/key-sharing.ts';
import { notificationsFileSchema } from '../notify/config.ts';
import { apiFileSchema, profilesFileSchema } from './watcher-config.ts';
import { canariesFileSchema } from './canaries.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** CrowdSec's `api.server.tls.client_verification` names (Go's tls.ClientAuthType). */
export const CLIENT_VERIFICATIONS = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientVerification = (typeof CLIENT_VERIFICATIONS)[number];

/** A TLS proxy on the same host works without configuration; any other peer's forwarding headers are ignored. */
export const DEFAULT_ADMIN_TRUSTED_PROXIES: readonly string[] = ['127.0.0.1', '::1'];

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
      description:
        "The Local API's `api.server` settings: the watcher (machine) side, registration and alert deletion (docs/local-api.md, Watchers), and the client address behind a load balancer (docs/operations.md).",
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

export type FileConfig = z.infer<typeof fileSchema>;
