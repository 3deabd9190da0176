/**
 * The Local API listener's open connections, and who makes way when it is full. Pure: the
 * listener (limits.ts) tells it what happened on each socket and does what it answers.
 *
 * A connection is `waiting` until its first request head arrives, `anonymous` while none of its
 * requests authenticated, `authenticated` after one did. The per-address caps count only the
 * first two, so a bouncer behind the attacker's address (a NATed office, the same host) is never
 * refused for the attacker's sockets. When a cap or the table is full, the new connection takes the
 * place of the oldest idle one that is not authenticated (a `waiting` or an idle `anonymous` one);
 * only when there is none is the new one refused. An attacker so keeps at most the cap, and a
 * bouncer's fresh connection, which sends its request at once, is never the oldest.
 */
export type RefusalReason = 'peer_cap' | 'fair_share' | 'listener_full';
export type ConnectionState = 'waiting' | 'anonymous' | 'authenticated';

interface Entry<S> {
  socket: S;
  peer: string;
  openedAt: number;
  state: ConnectionState;
  /** Requests read and not yet answered: such a connection is never shed. */
  inFlight: number;
}

interface Peer<S> {
  /** Connections of this address that are not authenticated. */
  unauthenticated: number;
  /** Its idle unauthenticated connections, least recently active first. */
  idle: Set<Entry<S>>;
}

export type Admission<S> = { admitted: true; shed: Array<{ socket: S; peer: string; state: ConnectionState }> } | { admitted: false; reason: RefusalReason };

export class ConnectionTable<S> {
  readonly maxConnections: number;
  readonly maxPerPeer: number;
  readonly #entries = new Map<S, Entry<S>>();
  readonly #peers = new Map<string, Peer<S>>();
  /** Every idle unauthenticated connection, least recently active first: the first to make way. */
  readonly #idle = new Set<Entry<S>>();
  /** Connections still waiting for their first request, in the order they opened (for the header timeout). */
  readonly #waiting = new Set<Entry<S>>();

  constructor(maxConnections: number, maxPerPeer: number) {
    this.maxConnections = maxConnections;
    this.maxPerPeer = maxPerPeer;
  }

  get open(): number {
    return this.#entries.size;
  }

  /** Unauthenticated connections of `peer`. */
  unauthenticated(peer: string): number {
    return this.#peers.get(peer)?.unauthenticated ?? 0;
  }

  state(socket: S): ConnectionState | undefined {
    return this.#entries.get(socket)?.state;
  }

  /**
   * A new connection from `peer`. Past three quarters of the table an address holding more than
   * its fair share (1/16 of it) is held to that share, so a few hostile addresses never take the
   * last places from bouncers. The sockets in `shed` are forgotten here: the caller closes them.
   */
  admit(socket: S, peer: string, now: number): Admission<S> {
    const p = this.#peers.get(peer);
    const fromPeer = p?.unauthenticated ?? 0;
    const fairShare = Math.max(8, Math.floor(this.maxConnections / 16));
    let victim: Entry<S> | undefined;
    if (fromPeer >= this.maxPerPeer || (this.open >= Math.floor(this.maxConnections * 0.75) && fromPeer >= fairShare)) {
      victim = first(p?.idle);
      if (!victim) return { admitted: false, reason: fromPeer >= this.maxPerPeer ? 'peer_cap' : 'fair_share' };
    } else if (this.open >= this.maxConnections) {
      victim = first(this.#idle);
      if (!victim) return { admitted: false, reason: 'listener_full' };
    }
    const shed = victim ? [{ socket: victim.socket, peer: victim.peer, state: victim.state }] : [];
    if (victim) this.closed(victim.socket);
    const entry: Entry<S> = { socket, peer, openedAt: now, state: 'waiting', inFlight: 0 };
    this.#entries.set(socket, entry);
    // Looked up again: shedding the peer's last connection forgot its record.
    let peerEntry = this.#peers.get(peer);
    if (!peerEntry) this.#peers.set(peer, (peerEntry = { unauthenticated: 0, idle: new Set<Entry<S>>() }));
    peerEntry.unauthenticated++;
    peerEntry.idle.add(entry);
    this.#idle.add(entry);
    this.#waiting.add(entry);
    return { admitted: true, shed };
  }

  /** A request head arrived on `socket`: it is busy until answered. */
  requestStarted(socket: S): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    e.inFlight++;
    if (e.state === 'waiting') e.state = 'anonymous';
    this.#waiting.delete(e);
    this.#idle.delete(e);
    this.#peers.get(e.peer)?.idle.delete(e);
  }

  /** A request on `socket` was answered; `authenticated` when it carried a key, token or certificate that was accepted. */
  requestFinished(socket: S, authenticated: boolean): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    e.inFlight = Math.max(0, e.inFlight - 1);
    const p = this.#peers.get(e.peer)!;
    if (authenticated && e.state !== 'authenticated') {
      e.state = 'authenticated';
      if (--p.unauthenticated === 0) this.#peers.delete(e.peer);
      return;
    }
    // Re-added at the end: the least recently active make way first.
    if (e.state !== 'authenticated' && e.inFlight === 0) {
      this.#idle.add(e);
      p.idle.add(e);
    }
  }

  /** The socket closed (or was shed): forgotten. Closing twice is harmless. */
  closed(socket: S): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    this.#entries.delete(socket);
    this.#idle.delete(e);
    this.#waiting.delete(e);
    if (e.state === 'authenticated') return;
    const p = this.#peers.get(e.peer)!;
    p.idle.delete(e);
    p.unauthenticated--;
    // Only unauthenticated connections are counted per address: a peer with none needs no record.
    if (p.unauthenticated === 0) this.#peers.delete(e.peer);
  }

  /** Connections that opened `timeoutMs` or longer before `now` and still sent no request head: the caller closes them. */
  expiredWaiting(now: number, timeoutMs: number): S[] {
    const out: S[] = [];
    for (const e of this.#waiting) {
      if (now - e.openedAt < timeoutMs) break;
      out.push(e.socket);
    }
    return out;
  }
}

function first<T>(set: Set<T> | undefined): T | undefined {
  if (!set) return undefined;
  for (const v of set) return v;
  return undefined;
}
