/**
 * How long the listener waits for clients and how many sockets it holds, so idle or slow
 * connections (slowloris) cannot exhaust file descriptors and keep real bouncers out.
 * The defaults suit real bouncers: go-cs-bouncer pulls every 10 s on a keep-alive connection.
 */
export interface ListenerLimits {
  /** Whole request head (request line + headers) must arrive within this (`limits.header_timeout`). */
  headerTimeoutMs: number;
  /** Whole request, body included, must arrive within this (`limits.request_timeout`). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, as Go's http.Server idle timeout (`limits.keep_alive_timeout`). */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed, e.g. a client that stopped reading (`limits.idle_timeout`). */
  idleTimeoutMs: number;
  /** Open connections at most; lowered to fit the open-file limit (`limits.max_connections`). */
  maxConnections: number;
  /** Open connections per client address at most (`limits.max_connections_per_peer`). */
  maxConnectionsPerPeer: number;
}

export const DEFAULT_LIMITS: ListenerLimits = {
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
  maxConnections: 10_000,
  maxConnectionsPerPeer: 256,
};

/**
 * Request body caps, in bytes, written once: the Local API listener's body guard
 * (server/body-guard.ts) and the dashboard's own listener (web/dashboard.ts) apply the same ones.
 */
export const BODY_CAPS = {
  /** The dashboard login form: a secret (<= 1 KiB) and a `next` (<= 2 KiB); nobody is logged in yet. */
  login: 16 * 1024,
  /** Admin API JSON and dashboard forms: one decision, one silence, a logout; a few hundred bytes each. */
  admin: 64 * 1024,
  /**
   * Watcher register and login, read before anyone is authenticated, after gzip too: a name, a
   * password and the agent's scenario list (a full hub is ~25 KB). CrowdSec 1.7 allows 2 MiB; that
   * many never-ending logins would hold 2 MiB each, so 128 KiB.
   */
  watcherLogin: 128 * 1024,
  /** Allowlist checks (a machine's token checked first), after gzip too: CrowdSec 1.7's 2 MiB. */
  watcher: 2 * 1024 * 1024,
  /** POST /v1/alerts: `cscli decisions import` of 100k+ rows is one alert of ~15 MB; after gzip too. */
  alerts: 64 * 1024 * 1024,
  /** Routes that read no body: a 404/405 never needs more. CrowdSec 1.7 allows 2 MiB unauthenticated; less is plenty here. */
  other: 64 * 1024,
} as const;
