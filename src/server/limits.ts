import fs from 'node:fs';
import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from 'pino';
import { foldPeerAddress } from '../lib/ip.ts';
import { DEFAULT_LIMITS, type ListenerLimits } from '../config/listener-limits.ts';

export { DEFAULT_LIMITS, type ListenerLimits };

/** Descriptors kept out of the connection budget: the store, logs, the metrics and admin listeners, outgoing notifications. */
export const RESERVED_FDS = 128;
/** Request headers: as many as a browser or proxy sends, far fewer than Node's 2,000. */
const MAX_HEADERS_COUNT = 100;
const MAX_HEADER_BYTES = 16 * 1024;

/** Options for http.createServer: the timeouts are checked every second so a deadline is kept to about a second. */
export function serverOptions(limits: ListenerLimits): http.ServerOptions {
  return {
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

export type RefusalReason = 'peer_cap' | 'fair_share' | 'listener_full';

/**
 * Decides whether a new connection from a peer is taken. Pure: the caller keeps the counts.
 * Past three quarters of the cap a peer holding more than its fair share (1/16 of the cap) is
 * refused, so a few hostile addresses can never take the last sockets from bouncers.
 */
export function admitConnection(open: number, fromPeer: number, maxConnections: number, maxPerPeer: number): RefusalReason | null {
  if (open >= maxConnections) return 'listener_full';
  if (fromPeer >= maxPerPeer) return 'peer_cap';
  if (open >= Math.floor(maxConnections * 0.75) && fromPeer >= Math.max(8, Math.floor(maxConnections / 16))) return 'fair_share';
  return null;
}

/**
 * Applies the limits to a listener: timeouts, the total and per-peer connection caps (a refused
 * socket is destroyed at once, counted, and logged once per `logEveryMs`, aggregated), and the
 * open-file check. Returns the cap it applied.
 */
export function guardListener(
  server: http.Server,
  limits: ListenerLimits,
  deps: { log: Logger; refused?: RefusalCounter; fd?: OpenFileLimit | null; logEveryMs?: number; name?: string },
): { maxConnections: number; stop(): void } {
  const { log } = deps;
  const name = deps.name ?? 'listen';
  applyTimeouts(server, limits);
  guarded.add(server);
  const budget = connectionBudget(limits, deps.fd === undefined ? readOpenFileLimit() : deps.fd);
  if (budget.warning) log.warn({ listen: name }, budget.warning);

  const perPeer = new Map<string, number>();
  let open = 0;
  const refused = new Map<RefusalReason, number>();
  const refusedPeers = new Set<string>();
  const period = deps.logEveryMs ?? 10_000;
  let lastLog = -Infinity;
  let pending: NodeJS.Timeout | undefined;
  const report = () => {
    pending = undefined;
    lastLog = Date.now();
    const total = [...refused.values()].reduce((a, b) => a + b, 0);
    const why = [...refused].map(([r, n]) => `${n} ${r.replace('_', ' ')}`).join(', ');
    log.warn(
      { listen: name, refused: Object.fromEntries(refused), peers: [...refusedPeers], open, maxConnections: budget.maxConnections },
      `${total} connections refused (${why}); limits.max_connections_per_peer is ${limits.maxConnectionsPerPeer}, the listener holds at most ${budget.maxConnections} (logged at most every ${Math.round(period / 1000)} s)`,
    );
    refused.clear();
    refusedPeers.clear();
  };
  const refuse = (socket: net.Socket, peer: string, reason: RefusalReason) => {
    socket.destroy();
    deps.refused?.inc({ reason });
    refused.set(reason, (refused.get(reason) ?? 0) + 1);
    if (refusedPeers.size < 5) refusedPeers.add(peer);
    // One line per period, a second after the first refusal: a flood is one line, not thousands.
    if (pending === undefined) {
      pending = setTimeout(report, Math.max(1_000, lastLog + period - Date.now()));
      pending.unref();
    }
  };
  // Before the HTTP layer's own listener: a refused socket never gets a parser.
  server.prependListener('connection', (socket: net.Socket) => {
    const peer = foldPeerAddress(socket.remoteAddress);
    const fromPeer = perPeer.get(peer) ?? 0;
    const reason = admitConnection(open, fromPeer, budget.maxConnections, limits.maxConnectionsPerPeer);
    if (reason) return refuse(socket, peer, reason);
    open++;
    perPeer.set(peer, fromPeer + 1);
    socket.once('close', () => {
      open--;
      const n = perPeer.get(peer)! - 1;
      if (n === 0) perPeer.delete(peer);
      else perPeer.set(peer, n);
    });
  });
  // node:http's header timeout starts at a request's first byte: a socket that never sends one
  // would stay forever. Until its first request it gets the header timeout as its idle timeout
  // (set after the HTTP layer's listener, which sets its own); from then on the idle timeout.
  server.on('connection', (socket: net.Socket) => {
    if (!socket.destroyed) socket.setTimeout(limits.headerTimeoutMs);
  });
  server.on('request', (req: http.IncomingMessage) => {
    const socket = req.socket;
    if (socket.timeout === limits.headerTimeoutMs && limits.headerTimeoutMs !== limits.idleTimeoutMs) socket.setTimeout(limits.idleTimeoutMs);
  });
  const stop = () => {
    if (pending) clearTimeout(pending);
    pending = undefined;
  };
  server.once('close', stop);
  return { maxConnections: budget.maxConnections, stop };
}
