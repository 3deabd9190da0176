import type http from 'node:http';
import type net from 'node:net';
import { foldPeerAddress, formatWords, parseIp } from '../lib/ip.ts';
import { resolveClientIp, type TrustedProxies } from '../remediation/client-ip.ts';

/**
 * The client's address as everything on the Local API listener sees it (name@ip rows, refused-request
 * attribution, trusted_ips, registration limits, the connection table): the socket's peer, unless a
 * trusted load balancer said who its client is, by a PROXY protocol header on the connection
 * (proxy-protocol-listener.ts) or by X-Forwarded-For on the request (`api.use_forwarded_for_headers`).
 */

// Keyed by the connection's endpoints, as the connection guard does (limits.ts): a request arrives on
// the TLS socket, the PROXY header on the TCP socket under it, and both share these.
const proxied = new Map<string, string>();
const resolved = new WeakMap<http.IncomingMessage, string>();

/** What a socket is to this module (node's Socket, TLSSocket, or Hono's view of the incoming request's socket). */
type PeerSocket = { readonly remoteAddress?: string; readonly remotePort?: number; readonly localPort?: number };

const endpointOf = (s: PeerSocket) => `${s.localPort}|${s.remoteAddress}|${s.remotePort}`;

/** Records the client a trusted balancer named in the connection's PROXY header, until the connection closes. */
export function setProxiedPeer(socket: net.Socket, address: string): void {
  const key = endpointOf(socket);
  proxied.set(key, address);
  socket.once('close', () => {
    if (proxied.get(key) === address) proxied.delete(key);
  });
}

/** The connection's client: the PROXY header's source when a trusted balancer sent one, else the socket's peer. */
export function socketPeer(socket: PeerSocket | undefined): string {
  if (socket === undefined) return '';
  if (proxied.size > 0) {
    const p = proxied.get(endpointOf(socket));
    if (p !== undefined) return p;
  }
  return foldPeerAddress(socket.remoteAddress);
}

/** The request's client: X-Forwarded-For's when trusted (resolved once per request), else its connection's. */
export function requestPeer(req: { socket?: PeerSocket } | undefined): string {
  if (req === undefined) return '';
  return resolved.get(req as http.IncomingMessage) ?? socketPeer(req.socket);
}

/**
 * CrowdSec's `use_forwarded_for_headers` with `trusted_proxies` (gin's ClientIP): from a trusted peer,
 * the first address from the right of X-Forwarded-For (else X-Real-IP) that is not itself a trusted
 * proxy. An untrusted peer's headers are never read. A header that does not parse leaves the peer.
 */
export function forwardedForResolver(trusted: TrustedProxies): (req: http.IncomingMessage) => void {
  return (req) => {
    const peer = socketPeer(req.socket);
    if (!trusted.hasText(peer)) return;
    const xff = req.headers['x-forwarded-for'];
    const client =
      xff !== undefined
        ? resolveClientIp(peer, 'x-forwarded-for', xff, trusted)
        : req.headers['x-real-ip'] !== undefined
          ? resolveClientIp(peer, 'x-real-ip', req.headers['x-real-ip'], trusted)
          : peer;
    if (client === null || client === peer) return;
    // One spelling per address (2001:DB8::1, ::ffff:192.0.2.1): it names a NAME@IP row.
    const normal = normalAddress(client);
    if (normal !== null && normal !== peer) resolved.set(req, normal);
  };
}

function normalAddress(text: string): string | null {
  try {
    const ip = parseIp(text);
    return formatWords(ip.family, ip.words);
  } catch {
    return null;
  }
}
