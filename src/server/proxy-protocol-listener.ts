import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { parseProxyHeader, V2_MAX_LENGTH } from '../core/net/proxy-protocol.ts';
import { foldPeerAddress } from '../lib/ip.ts';
import type { TrustedProxies } from '../remediation/client-ip.ts';
import { setProxiedPeer } from './client-address.ts';

export interface ProxyProtocolOptions {
  trusted: TrustedProxies;
  /** A connection that has not finished its header (or its first bytes) within this is closed. */
  headerTimeoutMs: number;
  /** Connections still waiting for their first bytes, at most; past it a new one is closed. */
  maxWaiting: number;
  log: Logger;
}

/**
 * `api.proxy_protocol`: a PROXY header (v1 or v2, told apart by its first bytes) at the start of a
 * connection is read before HTTP or TLS sees a byte. A trusted balancer's header names the client for
 * everything after (client-address.ts); an untrusted peer's header is read and dropped, its own address
 * stands. A connection without a header (a bouncer on the same host, a health check) is served as is.
 *
 * Runs before every other 'connection' listener (the connection guard, TLS), which it calls itself
 * once the header is read: so the guard counts the balancer's client, not the balancer. Call it after
 * those listeners are attached, before the server listens.
 */
export function acceptProxyProtocol(server: net.Server, opts: ProxyProtocolOptions): { waiting: () => number } {
  const inner = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  let waiting = 0;
  const isTls = server instanceof tls.Server;
  // Untrusted peers whose header was ignored, each logged once (at most this many remembered).
  const untrustedLogged = new Set<string>();
  const UNTRUSTED_LOGGED_MAX = 1000;
  server.on('connection', (socket: net.Socket) => {
    if (waiting >= opts.maxWaiting) {
      socket.destroy();
      return;
    }
    waiting++;
    // Read now: once the peer has closed (a client that sent its header and went), Node reports no address.
    const peer = foldPeerAddress(socket.remoteAddress);
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      done = true;
      waiting--;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      socket.destroy();
    }, opts.headerTimeoutMs);
    timer.unref();
    const onClose = () => {
      if (!done) finish();
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete' && buf.length <= V2_MAX_LENGTH) return;
      finish();
      socket.pause();
      if (r.kind === 'invalid' || r.kind === 'incomplete') {
        opts.log.warn({ ip: peer }, `connection closed: bad PROXY protocol header (${r.kind === 'invalid' ? r.reason : 'too long'})`);
        socket.destroy();
        return;
      }
      let rest = buf;
      if (r.kind === 'header') {
        rest = buf.subarray(r.length);
        if (r.source !== null && opts.trusted.hasText(peer)) setProxiedPeer(socket, foldPeerAddress(r.source.address));
        else if (r.source !== null && !untrustedLogged.has(peer) && untrustedLogged.size < UNTRUSTED_LOGGED_MAX) {
          // Its header could name anyone: the socket's address stands (logged once per peer).
          untrustedLogged.add(peer);
          opts.log.warn({ ip: peer }, `PROXY protocol header from ${peer} ignored: not in api.trusted_proxies; add the balancer's address there`);
        }
      }
      if (rest.length > 0) socket.unshift(rest);
      for (const listener of inner) listener.call(server, socket);
      // node:http reads the socket as a stream: it must flow again. TLS took the socket's handle over
      // (the bytes unshifted above included): a stream read now would steal its handshake (observed).
      if (!isTls) socket.resume();
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onClose);
  });
  return { waiting: () => waiting };
}
