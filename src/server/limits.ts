import fs from 'node:fs';
import type http from 'node:http';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { socketPeer } from './client-address.ts';
import { ConnectionTable, type ConnectionState, type RefusalReason } from './connection-table.ts';
import { DEFAULT_LIMITS, type ListenerLimits } from '../config/listener-limits.ts';

export { DEFAULT_LIMITS, type ListenerLimits };

/** Descriptors kept out of the connection budget: the store, logs, the metrics and admin listeners, outgoing notifications. */
export const RESERVED_FDS = 128;
/** Request headers: as many as a browser or proxy sends, far fewer than Node's 2,000. */
const MAX_HEADERS_COUNT = 100;
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Options for http.createServer (and https: a TLS handshake gets the header timeout too, not
 * Node's 120 s): the timeouts are checked every second so a deadline is kept to about a second.
 */
export function serverOptions(limits: ListenerLimits): http.ServerOptions & { handshakeTimeout: number } {
  return {
    handshakeTimeout: limits.headerTimeoutMs,
    headersTimeout: Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headerTimeoutMs),
    maxHeaderSize: MAX_HEADER_BYTES,
  };
}

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** The process's open-file limit (Linux: /proc/self/limits); null where it cannot be read. */
export function readOpenFileLimit(text?: string): OpenFileLimit | null {
  let limits = text;
  if (limits === undefined) {
    try {
      limits = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return null;
  const num = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}

/**
 * The connection cap for an open-file limit, and a warning with the fix when that limit is what
 * caps it. Node raises its soft limit to the hard one at start, so the hard limit is the one to raise.
 */
export function connectionBudget(limits: ListenerLimits, fd: OpenFileLimit | null): { maxConnections: number; warning: string | null } {
  if (fd === null || fd.soft === Infinity) return { maxConnections: limits.maxConnections, warning: null };
  const fits = Math.max(16, fd.soft - RESERVED_FDS);
  if (fits >= limits.maxConnections) return { maxConnections: limits.maxConnections, warning: null };
  return {
    maxConnections: fits,
    warning:
      `open-file limit ${fd.soft} allows only ${fits} connections (limits.max_connections is ${limits.maxConnections}): ` +
      'raise it with LimitNOFILE=65536 in the systemd unit, ulimit -n 65536 before vigil serve, or --ulimit nofile=65536 for docker',
  };
}

const guarded = new WeakSet<http.Server>();

/** Timeouts only (for listeners without connection caps, e.g. the admin listener); a guarded listener keeps its own. */
export function applyTimeouts(server: http.Server, limits: ListenerLimits = DEFAULT_LIMITS): void {
  if (guarded.has(server)) return;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.headersTimeout = Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs);
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  // Inactivity either way (a client that stopped reading a large answer): the socket is destroyed.
  server.setTimeout(limits.idleTimeoutMs, (socket: net.Socket) => socket.destroy());
}

export interface RefusalCounter {
  inc(labels: { reason: string }): void;
}

export type { RefusalReason };

/** The why of a shed connection, for the log and the metric. */
const SHED_LABEL: Record<ConnectionState, string> = { waiting: 'no_request', anonymous: 'unauthenticated', authenticated: 'authenticated' };

interface GuardDeps {
  log: Logger;
  refused?: RefusalCounter;
  shed?: RefusalCounter;
  fd?: OpenFileLimit | null;
  logEveryMs?: number;
  name?: string;
}

/**
 * Applies the limits to a listener: timeouts, the total and per-peer connection caps (a new
 * connection takes the place of the oldest idle unauthenticated one, else it is destroyed at once;
 * both counted and logged once per `logEveryMs`, aggregated), the first-request deadline (plain and
 * TLS alike), and the open-file check. Returns the cap it applied.
 */
export function guardListener(server: http.Server, limits: ListenerLimits, deps: GuardDeps): { maxConnections: number; stop(): void } {
  const { log } = deps;
  // Socket deadlines are real time, as node:http's own header timeout: a test's ManualClock moving
  // hours ahead must not close connections that have just opened.
  const now = () => performance.now();
  const name = deps.name ?? 'listen';
  applyTimeouts(server, limits);
  guarded.add(server);
  const fd = deps.fd === undefined ? readOpenFileLimit() : deps.fd;
  const budget = connectionBudget(limits, fd);
  if (budget.warning) log.warn({ listen: name }, budget.warning);
  else if (fd !== null && fd.soft !== Infinity) log.info({ listen: name, openFiles: fd.soft }, openFileLine(fd, budget.maxConnections));
  const table = new ConnectionTable<net.Socket>(budget.maxConnections, limits.maxConnectionsPerPeer);
  // Requests arrive on the TLS socket, connections on the TCP one under it: both are named by the
  // client's address and port, unique among open connections.
  const byEndpoint = new Map<string, net.Socket>();
  const authenticated = new WeakSet<net.Socket>();

  const tally = new RefusalTally({
    log,
    name,
    period: deps.logEveryMs ?? 10_000,
    perPeer: limits.maxConnectionsPerPeer,
    maxConnections: budget.maxConnections,
    open: () => table.open,
  });
  const endpoint = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;

  // Before the HTTP (or TLS) layer's own listener: a refused socket never gets a parser.
  server.prependListener('connection', (socket: net.Socket) => {
    const peer = socketPeer(socket);
    const admission = table.admit(socket, peer, now());
    if (!admission.admitted) {
      socket.destroy();
      deps.refused?.inc({ reason: admission.reason });
      return tally.refused(admission.reason, peer);
    }
    for (const victim of admission.shed) {
      victim.socket.destroy();
      const label = SHED_LABEL[victim.state];
      deps.shed?.inc({ reason: label });
      tally.shed(label, victim.peer);
    }
    const key = endpoint(socket);
    byEndpoint.set(key, socket);
    socket.once('close', () => {
      table.closed(socket);
      if (byEndpoint.get(key) === socket) byEndpoint.delete(key);
    });
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const outer = req.socket;
    // An authenticated connection is never counted nor shed again: nothing to track (the hot path).
    if (authenticated.has(outer)) return;
    const socket = byEndpoint.get(endpoint(outer));
    if (!socket) return;
    table.requestStarted(socket);
    res.once('close', () => {
      const ok = authenticatedAnswer(req, res.statusCode);
      if (ok) authenticated.add(outer);
      table.requestFinished(socket, ok);
    });
  });
  const sweep = sweepUnansweredConnections(table, limits.headerTimeoutMs, now);
  const stop = () => {
    clearInterval(sweep);
    tally.stop();
  };
  server.once('close', stop);
  return { maxConnections: budget.maxConnections, stop };
}

/**
 * node:http's header timeout starts at a request's first byte, and a TLS socket has none until its
 * handshake is done: a connection whose first request head has not arrived within the header
 * timeout of its opening is closed, plain or TLS, however slowly it dribbles.
 */
function sweepUnansweredConnections(table: ConnectionTable<net.Socket>, headerTimeoutMs: number, now: () => number): NodeJS.Timeout {
  const sweep = setInterval(
    () => {
      for (const s of table.expiredWaiting(now(), headerTimeoutMs)) {
        table.closed(s);
        s.destroy();
      }
    },
    Math.max(100, Math.min(1_000, Math.floor(headerTimeoutMs / 4))),
  );
  sweep.unref();
  return sweep;
}

interface RefusalTallyOptions {
  log: Logger;
  /** The listener, for the log line. */
  name: string;
  period: number;
  perPeer: number;
  maxConnections: number;
  open: () => number;
}

/** Refused and shed connections, counted and logged at most once per period: a flood is one line, not thousands. */
class RefusalTally {
  #refused = new Map<RefusalReason, number>();
  #shed = new Map<string, number>();
  #peers = new Set<string>();
  #lastLog = -Infinity;
  #pending: NodeJS.Timeout | undefined;
  #o: RefusalTallyOptions;

  constructor(o: RefusalTallyOptions) {
    this.#o = o;
  }

  refused(reason: RefusalReason, peer: string): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
    this.#later(peer);
  }

  shed(label: string, peer: string): void {
    this.#shed.set(label, (this.#shed.get(label) ?? 0) + 1);
    this.#later(peer);
  }

  stop(): void {
    if (this.#pending) clearTimeout(this.#pending);
    this.#pending = undefined;
  }

  #later(peer: string): void {
    if (this.#peers.size < 5) this.#peers.add(peer);
    // One line per period, a second after the first event.
    if (this.#pending === undefined) {
      this.#pending = setTimeout(() => this.#report(), Math.max(1_000, this.#lastLog + this.#o.period - Date.now()));
      this.#pending.unref();
    }
  }

  #report(): void {
    const { log, name, period, perPeer, maxConnections } = this.#o;
    this.#pending = undefined;
    this.#lastLog = Date.now();
    const parts: string[] = [];
    const total = [...this.#refused.values()].reduce((a, b) => a + b, 0);
    if (total > 0) parts.push(`${total} connections refused (${[...this.#refused].map(([r, n]) => `${n} ${r.replace('_', ' ')}`).join(', ')})`);
    const shed = [...this.#shed.values()].reduce((a, b) => a + b, 0);
    if (shed > 0) parts.push(`${shed} idle connections closed to make room (${[...this.#shed].map(([r, n]) => `${n} ${r.replace('_', ' ')}`).join(', ')})`);
    log.warn(
      {
        listen: name,
        refused: Object.fromEntries(this.#refused),
        shed: Object.fromEntries(this.#shed),
        peers: [...this.#peers],
        open: this.#o.open(),
        maxConnections,
      },
      `${parts.join('; ')}; limits.max_connections_per_peer is ${perPeer} unauthenticated connections, the listener holds at most ${maxConnections} (logged at most every ${Math.round(period / 1000)} s)`,
    );
    this.#refused.clear();
    this.#shed.clear();
    this.#peers.clear();
  }
}

/** Routes of /v1/ anyone may call (CrowdSec's register and login): their success proves nothing. */
const OPEN_ROUTES = new Set(['/v1/watchers', '/v1/watchers/login']);

/**
 * A request answered with success on a /v1/ route that checks credentials, carrying a bouncer's key,
 * a machine's token or a client certificate: the connection belongs to someone the Local API knows.
 * (An unknown key is 403, an expired token 401; /health or the dashboard prove nothing.)
 */
function authenticatedAnswer(req: http.IncomingMessage, status: number): boolean {
  if (status >= 400) return false;
  const url = req.url ?? '';
  if (!url.startsWith('/v1/')) return false;
  const q = url.indexOf('?');
  if (OPEN_ROUTES.has(q === -1 ? url : url.slice(0, q))) return false;
  if (req.headers['x-api-key'] !== undefined || req.headers.authorization !== undefined) return true;
  const socket = req.socket as Partial<tls.TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return false;
  const cert = socket.getPeerCertificate();
  return cert !== null && Object.keys(cert).length > 0;
}

function openFileLine(fd: OpenFileLimit, maxConnections: number): string {
  return `open-file limit ${fd.soft} (soft limit raised to the hard limit at start, as Go does): up to ${maxConnections} connections`;
}
